/**
 * The deterministic simulator: a whole cluster of {@link RaftNode}s on one
 * {@link VirtualClock}, a fault-injecting {@link MemoryNetwork} and one
 * crashable {@link MemoryStorage} per member, driven by a seed. Every source
 * of nondeterminism — time, network, disk, faults, clients, Raft's election
 * jitter — has one seeded owner, so a seed reproduces a run event for event
 * (same seed ⇒ same `traceHash`).
 *
 * One step = fire the earliest timer or deliver the earliest message, then
 * let every member's async work (persist, apply, client callbacks) run to
 * quiescence, then check the safety invariants on the members the step
 * touched (and user invariants).
 */
import type { NodeObserver, RaftNodeOptions } from '../node/options.ts';
import type { Entry, HardState, NodeId, Snapshot } from '../raft/types.ts';
import { MessageType, StateRole } from '../raft/types.ts';
import { MemoryNetwork } from '../transport/memory.ts';
import { VirtualClock } from '../util/clock.ts';
import { log } from '../util/log.ts';
import { SeededRandom } from '../util/rng.ts';
import { describeAction, FaultScheduler } from './faults.ts';
import type { ClusterView, FaultAction } from './faults.ts';
import { NodeHost } from './host.ts';
import { SafetyChecker } from './invariants.ts';
import { describeProfile, drawProfile, NO_FAULTS, ALL_FAULTS } from './profile.ts';
import type { FaultProfile } from './profile.ts';
import { DigestStateMachine } from './state-machine.ts';
import { Trace } from './trace.ts';
import { proposeWorkload } from './workload.ts';
import { runClients, runLiveness } from './phases.ts';
import { applyAction } from './actions.ts';
import type { FaultsOption, NodeView, RunOptions, SimResult, SimStats, SimView, SimulationOptions } from './options.ts';

export type { FaultsOption, Invariant, NodeView, RunOptions, SimResult, SimStats, SimView, SimulationOptions } from './options.ts';

function resolveFaults(f: FaultsOption | undefined, rng: SeededRandom): FaultProfile {
  if (f === undefined || f === 'swarm') return drawProfile(rng);
  if (f === 'none') return { ...NO_FAULTS };
  if (f === 'all') return { ...ALL_FAULTS };
  return { ...NO_FAULTS, ...f };
}

/** A deterministic cluster simulation. See the module doc. */
export class Simulation {
  readonly seed: number;
  readonly clock = new VirtualClock();
  readonly network: MemoryNetwork;
  readonly checker: SafetyChecker;
  readonly trace: Trace;
  readonly stats: SimStats = {
    elections: 0,
    leaderChanges: 0,
    proposalsCommitted: 0,
    proposalsFailed: 0,
    readsServed: 0,
    messagesSent: 0,
    messagesDelivered: 0,
    messagesDropped: 0,
    crashes: 0,
    restarts: 0,
    partitions: 0,
    pauses: 0,
    snapshotsInstalled: 0,
    membershipChanges: 0,
    ticks: 0,
    steps: 0,
  };
  /** Members by id (ascending ids). */
  readonly hosts = new Map<NodeId, NodeHost>();
  /** The decision log so far. */
  readonly schedule: FaultAction[] = [];
  profile: FaultProfile;
  tickMs: number;
  /** Current simulated tick. */
  tick = 0;
  /** @internal clients keep going while true. */
  clientsActive = false;
  /** @internal */
  readonly workloadRng: SeededRandom;
  /** @internal */
  readonly livenessRng: SeededRandom;

  private readonly opts: SimulationOptions;
  private readonly faultRng: SeededRandom;
  private readonly nodeRng: SeededRandom;
  private readonly skewRng: SeededRandom;
  private scheduler: FaultScheduler;
  private faultsOn = true;
  private started = false;
  private touched = new Set<NodeId>();
  private touchAll = false;
  private simTimerOn = false;
  private readonly observer: NodeObserver;

  constructor(options: SimulationOptions) {
    if (!(options.nodes >= 1)) throw new RangeError('nodes must be >= 1');
    this.opts = options;
    this.seed = options.seed;
    this.tickMs = options.tickMs ?? 100;
    const root = new SeededRandom(options.seed);
    this.faultRng = root.fork();
    const netRng = root.fork();
    this.workloadRng = root.fork();
    this.nodeRng = root.fork();
    this.skewRng = root.fork();
    this.livenessRng = root.fork();
    const profileRng = root.fork();
    this.profile = resolveFaults(options.faults, profileRng);
    this.scheduler = new FaultScheduler(this.profile, this.faultRng, options.membership === true);
    this.network = new MemoryNetwork({ rng: netRng, clock: this.clock });
    this.applyNetworkFaults();
    this.trace = new Trace({ ...options.trace, tickMs: this.tickMs });
    this.checker = new SafetyChecker(
      () => ({ time: this.clock.now(), tick: this.tick }),
      () => this.describeStates(),
      (id) => this.hosts.get(id)?.node?.log,
    );
    this.observer = {
      persisted: (id: NodeId, hs: HardState | undefined, entries: readonly Entry[], snap: Snapshot | undefined) => {
        this.touched.add(id);
        const n = this.hosts.get(id)?.node;
        if (n !== undefined) this.checker.persisted(n, hs, entries, snap);
        if (hs !== undefined || entries.length > 0) {
          this.trace.record(this.clock.now(), id, 'persist', {
            term: hs?.term,
            vote: hs?.vote,
            commit: hs?.commit,
            from: entries[0]?.index,
            to: entries[entries.length - 1]?.index,
          });
        }
      },
      applied: (id: NodeId, entries: readonly Entry[]) => {
        this.touched.add(id);
        this.checker.appliedEntries(id, entries, this.hosts.get(id)?.node?.configuration);
        this.trace.record(this.clock.now(), id, 'apply', { from: entries[0]?.index, to: entries[entries.length - 1]?.index });
      },
      restored: (id: NodeId, snap: Snapshot) => {
        this.touched.add(id);
        this.stats.snapshotsInstalled++;
        this.checker.restored(id, snap);
        this.trace.record(this.clock.now(), id, 'restore', { index: snap.metadata.index, term: snap.metadata.term });
      },
    };
    const ids: NodeId[] = [];
    for (let i = 1; i <= options.nodes; i++) ids.push(i);
    for (const id of ids) this.createHost(id, ids);
  }

  // ------------------------------------------------------------ public API

  /** Start every member (idempotent). */
  async start(): Promise<void> {
    if (this.started) return;
    this.started = true;
    this.trace.record(0, 0, 'start', { seed: this.seed, nodes: this.opts.nodes, profile: describeProfile(this.profile) });
    for (const h of this.hosts.values()) void this.startHost(h);
    this.armSimTimer();
    await this.settle();
  }

  /**
   * Run: a fault phase of `ticks` ticks with the workload, then (by default)
   * the liveness phase. Stops at the first violation.
   */
  async run(options: RunOptions = {}): Promise<SimResult> {
    if (options.faults !== undefined) {
      this.profile = resolveFaults(options.faults, new SeededRandom(this.seed ^ 0x5eed));
      this.scheduler = new FaultScheduler(this.profile, this.faultRng, this.opts.membership === true);
      this.applyNetworkFaults();
    }
    const ticks = options.ticks ?? 400;
    await this.start();
    const workload = options.workload ?? this.opts.workload ?? proposeWorkload();
    this.clientsActive = true;
    const clients = runClients(this, workload);
    const end = this.tick + ticks;
    while (this.tick < end && this.ok) {
      if (!(await this.step())) break;
    }
    this.clientsActive = false;
    const live = options.liveness ?? true;
    if (live !== false && this.ok) {
      const bound = typeof live === 'object' && live.ticks !== undefined ? live.ticks : 40 * (this.opts.electionTick ?? 10);
      await runLiveness(this, bound, this.opts.membership === true);
    }
    this.faultsOn = false;
    // Clients still waiting on virtual time stay parked: nothing advances the clock any more.
    void clients.catch(() => undefined);
    return this.result(ticks);
  }

  /** True while no invariant is violated. */
  get ok(): boolean {
    return this.checker.violations.length === 0;
  }

  /** The result so far. */
  result(ticks = this.tick): SimResult {
    const ns = this.network.stats;
    this.stats.messagesSent = ns.sent;
    this.stats.messagesDelivered = ns.delivered;
    this.stats.messagesDropped = ns.dropped;
    this.stats.leaderChanges = this.checker.leaders.size;
    this.stats.proposalsCommitted = this.checker.ackedCount;
    this.stats.ticks = this.tick;
    return {
      ok: this.ok,
      seed: this.seed,
      violations: [...this.checker.violations],
      stats: { ...this.stats },
      traceHash: this.trace.hash(),
      profile: this.profile,
      profileText: describeProfile(this.profile),
      schedule: [...this.schedule],
      ticks,
      replay: this.replayCommand(ticks),
    };
  }

  /**
   * One event: the earliest timer or message. Returns false when nothing is
   * left to do. Runs all resulting async work, then checks invariants.
   */
  async step(): Promise<boolean> {
    await this.start();
    const tT = this.clock.nextTimerAt();
    const tM = this.network.nextDeliveryAt();
    if (tT === undefined && tM === undefined) return false;
    this.stats.steps++;
    if (tM === undefined || (tT !== undefined && tT <= tM)) {
      // Every timer due at this instant (the members' ticks of one simulated
      // tick, typically) fires in one step, in the clock's deterministic order.
      const at = tT as number;
      this.clock.runNext();
      for (let n = 1; n < 64 && this.clock.nextTimerAt() === at && (tM === undefined || tM > at); n++) this.clock.runNext();
    } else {
      if (tM > this.clock.now()) this.clock.advance(tM - this.clock.now());
      const f = this.network.deliverNext();
      if (f !== undefined) {
        const m = f.message;
        this.touched.add(f.to);
        this.trace.record(this.clock.now(), f.to, 'recv', {
          from: f.from,
          type: m.type,
          term: m.term,
          index: m.index,
          logTerm: m.logTerm,
          n: m.entries.length,
          commit: m.commit,
          reject: m.reject,
        });
      }
    }
    await this.settle();
    return true;
  }

  /** Run `n` ticks. */
  async tickN(n = 1): Promise<void> {
    const end = this.tick + n;
    while (this.tick < end && (await this.step()));
  }

  /** Step until `predicate` holds (true) or `maxTicks` pass (false). */
  async runUntil(predicate: (sim: Simulation) => boolean, options: { maxTicks?: number } = {}): Promise<boolean> {
    await this.start();
    const end = this.tick + (options.maxTicks ?? 1000);
    while (!predicate(this)) {
      if (this.tick >= end || !(await this.step())) return predicate(this);
    }
    return true;
  }

  /** Cut every link between groups `a` and `b`. */
  partition(a: readonly NodeId[], b: readonly NodeId[]): void {
    this.act({ tick: this.tick, kind: 'partition', a, b });
  }

  /** Cut `id` off from everyone. */
  isolate(id: NodeId): void {
    const others = [...this.hosts.keys()].filter((x) => x !== id);
    this.act({ tick: this.tick, kind: 'partition', a: [id], b: others });
  }

  /** Cut only `from` → `to`. */
  cutOneWay(from: NodeId, to: NodeId): void {
    this.act({ tick: this.tick, kind: 'cut', from, to });
  }

  /** Restore every cut link. */
  heal(): void {
    this.act({ tick: this.tick, kind: 'heal' });
  }

  /** Crash member `id` (losing unsynced writes). */
  crash(id: NodeId): void {
    this.act({ tick: this.tick, kind: 'crash', node: id });
  }

  /** Restart a crashed member from its durable state; resolves when it is running. */
  async restart(id: NodeId): Promise<void> {
    this.act({ tick: this.tick, kind: 'restart', node: id });
    await this.settle();
  }

  /** Pause member `id` (no timers, inbound messages held). */
  pause(id: NodeId): void {
    this.act({ tick: this.tick, kind: 'pause', node: id });
  }

  /** Resume a paused member. */
  resume(id: NodeId): void {
    this.act({ tick: this.tick, kind: 'resume', node: id });
  }

  /** Hold messages on the link `from` → `to` (inspect them with {@link inFlight}). */
  hold(from: NodeId, to: NodeId): void {
    this.network.hold(from, to);
  }

  /** Release a held link. */
  release(from: NodeId, to: NodeId): void {
    this.network.release(from, to);
  }

  /** Messages in flight (held ones included). */
  inFlight(): ReturnType<MemoryNetwork['inFlight']> {
    return this.network.inFlight();
  }

  /** Stop drawing new faults (the schedule of already-drawn repairs still runs). */
  stopFaults(): void {
    this.faultsOn = false;
  }

  /** The member `id`'s host. */
  host(id: NodeId): NodeHost {
    const h = this.hosts.get(id);
    if (h === undefined) throw new RangeError(`no member ${id}`);
    return h;
  }

  /** The current leader among live members (highest term), or undefined. */
  leader(): NodeHost | undefined {
    let best: NodeHost | undefined;
    let bestTerm = -1;
    for (const h of this.hosts.values()) {
      const st = h.alive ? h.node?.raftStatus() : undefined;
      if (st !== undefined && st.role === StateRole.Leader && st.term > bestTerm) {
        best = h;
        bestTerm = st.term;
      }
    }
    return best;
  }

  /** What invariants see. */
  view(): SimView {
    const nodes: NodeView[] = [];
    for (const h of this.hosts.values()) {
      nodes.push({ id: h.id, alive: h.alive, paused: h.paused, node: h.node, stateMachine: h.stateMachine });
    }
    return { tick: this.tick, time: this.clock.now(), nodes };
  }

  /** The CLI command replaying this run (custom state machines, workloads and invariants aside). */
  replayCommand(ticks = this.tick): string {
    const o = this.opts;
    const parts = ['npm run fuzz --', `--seed ${this.seed}`, `--nodes ${o.nodes}`, `--ticks ${ticks}`];
    if (typeof o.faults === 'string' && o.faults !== 'swarm') parts.push(`--faults ${o.faults}`);
    if (o.membership === true) parts.push('--membership');
    if (o.snapshotCount !== undefined && o.snapshotCount !== 200) parts.push(`--snapshot-count ${o.snapshotCount}`);
    if (o.snapshotCatchUpEntries !== undefined && o.snapshotCatchUpEntries !== 50) parts.push(`--catch-up ${o.snapshotCatchUpEntries}`);
    if (o.testFaults?.voteTwice === true) parts.push('--mutation voteTwice');
    if (o.testFaults?.commitWithoutQuorum === true) parts.push('--mutation commitWithoutQuorum');
    if (o.workload?.spec !== undefined && o.workload.spec !== proposeWorkload().spec) parts.push(`--workload ${o.workload.spec}`);
    if (o.workload !== undefined && o.workload.spec === undefined) parts.push('(custom workload)');
    if (o.stateMachine !== undefined || o.invariants !== undefined) parts.push('(custom state machine/invariants)');
    if (o.schedule !== undefined) parts.push('--schedule <decision-log.json>');
    return parts.join(' ');
  }

  /** Members' states, one line each (violation reports). */
  describeStates(): string {
    const lines: string[] = [];
    for (const h of this.hosts.values()) {
      const st = h.alive ? h.node?.raftStatus() : undefined;
      if (st === undefined) {
        lines.push(`  ${h.id}: down`);
        continue;
      }
      lines.push(
        `  ${h.id}: ${st.role} term=${st.term} vote=${st.vote} lead=${st.lead} commit=${st.commit} applied=${h.node?.appliedIndex} last=${st.lastIndex} first=${st.firstIndex} voters=[${st.config.voters.join(',')}]${h.paused ? ' paused' : ''}`,
      );
    }
    return lines.join('\n');
  }

  // ------------------------------------------------------------ internals

  /**
   * @internal Let the members' async work run to quiescence. Everything in a
   * simulation is promise work (no I/O, no real timers), so this only has to
   * yield microtask turns until no member's Ready loop is running — except
   * loops waiting on a slow disk, which wait for virtual time — plus a few
   * turns for client continuations. Deterministic: microtasks run in FIFO
   * order.
   */
  async settle(): Promise<void> {
    for (let i = 0; i < 4; i++) await null;
    for (let guard = 0; guard < 10_000 && this.anyBusy(); guard++) await null;
    for (let i = 0; i < 4; i++) await null;
    this.afterStep();
  }

  private anyBusy(): boolean {
    for (const h of this.hosts.values()) if (h.busy) return true;
    return false;
  }

  /** @internal Record a client outcome. */
  clientAck(id: NodeId, index: number, term: number): void {
    this.checker.acknowledged(id, index, term);
    this.trace.record(this.clock.now(), id, 'ack', { index, term });
  }

  /** @internal Apply (and log) one fault action; `record` adds it to the decision log. */
  act(a: FaultAction, record = true): void {
    if (record) this.schedule.push(a);
    this.trace.record(this.clock.now(), 0, 'fault', { action: describeAction(a) });
    log.sim('seed %d tick %d: %s', this.seed, this.tick, describeAction(a));
    this.touchAll = true;
    applyAction(this, a);
  }

  /** @internal Turn random faults off and heal for the liveness phase. */
  calmNetwork(): void {
    this.faultsOn = false;
    this.network.setFaults({ dropRate: 0, duplicateRate: 0, reorderRate: 0, maxDelay: Math.min(this.profile.maxDelay, 20) });
    this.profile = { ...this.profile, slowDiskRate: 0 };
  }

  /** @internal Create member `id` (not started). */
  addHost(id: NodeId, peers: readonly NodeId[]): NodeHost {
    return this.createHost(id, peers);
  }

  /** @internal Start (or restart) a member's next incarnation. */
  bootHost(h: NodeHost): void {
    void this.startHost(h);
  }

  private createHost(id: NodeId, peers: readonly NodeId[]): NodeHost {
    const skew = this.profile.clockSkew;
    const rate = skew > 0 ? 1 + (this.skewRng.next() * 2 - 1) * skew : 1;
    const nodeOptions: Partial<RaftNodeOptions<unknown>> = {
      electionTick: this.opts.electionTick ?? 10,
      heartbeatTick: this.opts.heartbeatTick ?? 1,
      tickMs: this.tickMs,
      preVote: this.opts.preVote ?? true,
      checkQuorum: this.opts.checkQuorum ?? true,
      snapshotCount: this.opts.snapshotCount ?? 200,
      snapshotCatchUpEntries: this.opts.snapshotCatchUpEntries ?? 50,
      maxSizePerMsg: 64 * 1024,
      ...(this.opts.testFaults !== undefined ? { testFaults: this.opts.testFaults } : {}),
    };
    const h = new NodeHost(
      id,
      peers,
      {
        clock: this.clock,
        network: this.network,
        stateMachine: this.opts.stateMachine ?? (() => new DigestStateMachine()),
        observer: this.observer,
        nodeOptions,
        onFire: (x) => {
          this.touched.add(x);
          this.trace.record(this.clock.now(), x, 'timer');
        },
      },
      rate,
      this.nodeRng.fork(),
      this.nodeRng.fork(),
      () => ({ rate: this.profile.slowDiskRate, maxMs: this.profile.slowDiskMs }),
    );
    this.hosts.set(id, h);
    return h;
  }

  private async startHost(h: NodeHost): Promise<void> {
    this.trace.record(this.clock.now(), h.id, 'boot', { incarnation: h.incarnation + 1 });
    // What the new incarnation will load: applying restarts after the durable snapshot.
    this.checker.restarted(h.id, h.storage.durableState().snapshot?.metadata.index ?? 0);
    const p = h.start();
    const node = h.node;
    if (node !== undefined) {
      node.on('roleChange', (role) => {
        if (role === StateRole.Candidate) this.stats.elections++;
        this.trace.record(this.clock.now(), h.id, 'role', { role });
      });
      node.on('leaderChange', (lead, term) => {
        this.trace.record(this.clock.now(), h.id, 'leader', { lead, term });
      });
    }
    try {
      await p;
    } catch (err) {
      if (h.node === node && h.alive) this.checker.fail('restart', `member ${h.id} failed to start: ${String(err)}`);
    }
  }

  private applyNetworkFaults(): void {
    const p = this.profile;
    this.network.setFaults({
      dropRate: p.dropRate,
      duplicateRate: p.duplicateRate,
      minDelay: p.minDelay,
      maxDelay: p.maxDelay,
      reorderRate: p.reorderRate,
    });
  }

  private armSimTimer(): void {
    if (this.simTimerOn) return;
    this.simTimerOn = true;
    const fire = (): void => {
      this.tick++;
      this.touchAll = true;
      this.clock.setTimer(fire, this.tickMs);
      if (!this.faultsOn) return;
      const actions = this.opts.schedule !== undefined
        ? this.opts.schedule.filter((a) => a.tick === this.tick)
        : this.scheduler.decide(this.tick, this.clusterView());
      for (const a of actions) this.act(a);
    };
    this.clock.setTimer(fire, this.tickMs);
  }

  private clusterView(): ClusterView {
    return {
      ids: () => [...this.hosts.keys()].filter((x) => !(this.hosts.get(x) as NodeHost).removed),
      alive: (id) => this.hosts.get(id)?.alive === true,
      paused: (id) => this.hosts.get(id)?.paused === true,
      leader: () => this.leader()?.id ?? 0,
      config: () => {
        const c = this.leader()?.node?.configuration;
        return { voters: c?.voters ?? [], learners: c?.learners ?? [] };
      },
      nextId: () => Math.max(...this.hosts.keys()) + 1,
    };
  }

  private afterStep(): void {
    const all = this.touchAll;
    this.touchAll = false;
    if (all) {
      for (const h of this.hosts.values()) if (h.alive) this.checker.check(h);
    } else {
      for (const id of this.touched) {
        const h = this.hosts.get(id);
        if (h !== undefined && h.alive) this.checker.check(h);
      }
    }
    this.touched.clear();
    const extra = this.opts.invariants;
    if (extra !== undefined && extra.length > 0) {
      const v = this.view();
      for (const inv of extra) {
        let msg: string | undefined | void;
        try {
          msg = inv(v);
        } catch (err) {
          msg = err instanceof Error ? err.message : String(err);
        }
        if (typeof msg === 'string') this.checker.fail(inv.name || 'user-invariant', msg);
      }
    }
  }
}

/** Message type names, for traces and reports. */
export const MESSAGE_NAMES: Record<number, string> = Object.fromEntries(
  Object.entries(MessageType).map(([k, v]) => [v, k]),
);
