/**
 * The KV simulation (issue #6): StrataNodes on memory storage, a
 * fault-injecting MemoryNetwork and one virtual clock, driven by concurrent
 * clients doing puts, gets, deletes, CAS txns and lease cycles. Faults
 * (message drop/delay/duplication/reordering, a slow disk, isolating a
 * member, crashing one — losing its unfinished writes — and restarting it)
 * follow a schedule drawn from the seed. Afterwards the
 * client-observed history must be linearizable (src/check, key-value model)
 * and every member's hashKV equal at the same revision.
 *
 * Everything runs on the virtual clock and promise turns, so a seed
 * reproduces a run; the event order within one turn is JavaScript's.
 */
import { checkLinearizability } from '../check/linearizability.ts';
import { createKvModel, type KvInput, type KvOutput } from '../check/models/kv.ts';
import type { Operation, Verdict } from '../check/types.ts';
import type { NodeId } from '../raft/types.ts';
import { MemoryStorage } from '../storage/memory.ts';
import type { Storage } from '../storage/storage.ts';
import { MemoryNetwork } from '../transport/memory.ts';
import { VirtualClock } from '../util/clock.ts';
import { log } from '../util/log.ts';
import { SeededRandom } from '../util/rng.ts';
import { nextOp, record, type ClientState } from './kv-sim-workload.ts';
import { MemberClock } from './member-clock.ts';
import { memberIdOf, type MemberSpec } from './members.ts';
import { StrataNode } from './strata-node.ts';

/** Options of {@link runKvSimulation}. */
export interface KvSimulationOptions {
  readonly seed: number;
  /** Members (default 3). */
  readonly nodes?: number;
  /** Concurrent clients (default 4). */
  readonly clients?: number;
  /** Shared keys (default 4). */
  readonly keys?: number;
  /** Virtual milliseconds of client traffic and faults (default 20,000). */
  readonly durationMs?: number;
  /** Inject faults (default true). */
  readonly faults?: boolean;
  /** Milliseconds per Raft tick (default 100). */
  readonly tickMs?: number;
  /** Per-operation client timeout in virtual ms (default 3,000). */
  readonly opTimeoutMs?: number;
  /** Search budget of the linearizability check in steps (default 2,000,000). */
  readonly maxCheckSteps?: number;
  /**
   * Test-only planted bug: serve client gets as serializable (local, possibly
   * stale) reads. The check must then find a violation under faults.
   */
  readonly staleReads?: boolean;
  /**
   * Change membership once during the run (add a learner, promote it, remove
   * another member). Default: on in about half of the seeds when faults are on.
   */
  readonly membership?: boolean;
}

/** What a run found. */
export interface KvSimulationResult {
  readonly ok: boolean;
  readonly seed: number;
  readonly violations: string[];
  readonly linearizable: Verdict;
  readonly stats: {
    /** Operations issued. */
    ops: number;
    succeeded: number;
    pending: number;
    definiteErrors: number;
    droppedReads: number;
    crashes: number;
    /** Membership changes applied (add, promote, remove). */
    memberChanges: number;
    /** Network faults: isolations, minority/majority partitions, one-way cuts. */
    isolations: number;
    revision: number;
    virtualMs: number;
  };
  readonly history: Operation<KvInput, KvOutput>[];
}

/** A StrataNode storage that survives the node's close (a crashed process's disk). */
function durable(inner: MemoryStorage): Storage {
  return { load: () => inner.load(), save: (r) => inner.save(r), compact: (i) => inner.compact(i), close: () => Promise.resolve() };
}

/** Let every promise chain run: one macrotask turn drains the microtask queue. */
function settle(): Promise<void> {
  return new Promise((r) => setImmediate(r));
}

interface Member {
  readonly name: string;
  readonly id: NodeId;
  /** Added after the start: opens as a joiner. */
  joined: boolean;
  readonly storage: MemoryStorage;
  node: StrataNode | undefined;
  clock: MemberClock | undefined;
}

/** Run one seeded KV simulation. */
export async function runKvSimulation(options: KvSimulationOptions): Promise<KvSimulationResult> {
  const seed = options.seed;
  const rng = new SeededRandom(seed);
  const faultRng = rng.fork();
  const clientRng = rng.fork();
  const clock = new VirtualClock(0);
  const tickMs = options.tickMs ?? 100;
  const duration = options.durationMs ?? 20_000;
  const opTimeout = options.opTimeoutMs ?? 3000;
  const faults = options.faults ?? true;
  const network = new MemoryNetwork({ rng: rng.fork(), clock });
  if (faults) {
    network.setFaults({
      dropRate: faultRng.next() * 0.05,
      duplicateRate: faultRng.next() * 0.02,
      minDelay: 1,
      maxDelay: 2 + faultRng.int(30),
      reorderRate: faultRng.next() * 0.05,
    });
  } else network.setFaults({ minDelay: 1, maxDelay: 3 });
  const n = options.nodes ?? 3;
  const specs: MemberSpec[] = Array.from({ length: n }, (_, i) => ({ name: `s${i + 1}`, peerURLs: [`sim://s${i + 1}`] }));
  // Slow disk: some saves complete only after a delay; a crash loses every save not yet complete.
  const slowRate = faults ? faultRng.next() * 0.3 : 0;
  const slowMaxMs = 1 + faultRng.int(10);
  const diskRng = faultRng.fork();
  const members: Member[] = specs.map((s) => {
    const storage = new MemoryStorage({ clock });
    storage.beforeSave = () => (diskRng.chance(slowRate) ? 1 + diskRng.int(slowMaxMs) : 0);
    return { name: s.name, id: memberIdOf(s.name, s.peerURLs), joined: false, storage, node: undefined, clock: undefined };
  });
  // A spare member the membership fault adds (as a learner, then promoted).
  const spareSpec: MemberSpec = { name: `s${n + 1}`, peerURLs: [`sim://s${n + 1}`] };
  const spareStorage = new MemoryStorage({ clock });
  const spare: Member = { name: spareSpec.name, id: memberIdOf(spareSpec.name, spareSpec.peerURLs), joined: true, storage: spareStorage, node: undefined, clock: undefined };
  const membership = options.membership ?? (faults && faultRng.chance(0.5));
  const violations: string[] = [];
  const stats = { ops: 0, succeeded: 0, pending: 0, definiteErrors: 0, droppedReads: 0, crashes: 0, memberChanges: 0, isolations: 0, revision: 0, virtualMs: 0 };

  const start = async (m: Member): Promise<void> => {
    const mc = new MemberClock(clock);
    m.clock = mc;
    network.up(m.id);
    m.node = await StrataNode.open({
      name: m.name,
      initialCluster: m.joined ? [...specs, spareSpec] : specs,
      initialClusterState: m.joined ? 'existing' : 'new',
      transport: network.transport(m.id),
      clock: mc,
      rng: rng.fork(),
      storage: durable(m.storage),
      tickMs,
    });
  };
  const crash = async (m: Member): Promise<void> => {
    const node = m.node;
    if (node === undefined) return;
    m.node = undefined;
    network.down(m.id);
    m.clock?.kill();
    node.raft.halt(); // a crash: no waiting for in-flight saves
    m.storage.crash(); // unfinished (slow) saves are lost
    await node.close();
  };

  // One event at a time: the earliest timer or message, then let promise work run.
  const step = async (): Promise<boolean> => {
    const tT = clock.nextTimerAt();
    const tM = network.nextDeliveryAt();
    if (tT === undefined && tM === undefined) return false;
    if (tM === undefined || (tT !== undefined && tT <= tM)) clock.runNext();
    else {
      if (tM > clock.now()) clock.advance(tM - clock.now());
      network.deliverDue(clock.now());
    }
    await settle();
    return true;
  };
  const runUntil = async (t: number, done?: () => boolean): Promise<void> => {
    while (clock.now() < t && !(done?.() ?? false)) {
      if (!(await step())) clock.advance(t - clock.now());
    }
  };
  const vsleep = (ms: number): Promise<void> => new Promise((r) => clock.setTimer(r, ms));

  // Start members while driving virtual time (a slow disk needs the clock to move).
  const startAll = async (ms: readonly Member[]): Promise<void> => {
    let started = 0;
    const all = Promise.all(ms.map((m) => start(m).then(() => started++)));
    while (started < ms.length) if (!(await step())) await settle();
    await all;
  };
  await startAll(members);

  // Faults: every 1–3 s maybe isolate one member or crash and later restart one (never two at once).
  let faultActive = false;
  if (faults) {
    const schedule = (): void => {
      clock.setTimer(() => {
        if (clock.now() < duration && !faultActive) {
          const m = faultRng.pick(members);
          const heal = 500 + faultRng.int(2500);
          if (faultRng.chance(0.4) && m.node !== undefined) {
            faultActive = true;
            stats.crashes++;
            log.sim('kv-sim %d: crash %s for %d ms', seed, m.name, heal);
            void crash(m).then(() => {
              clock.setTimer(() => {
                void start(m).then(() => {
                  faultActive = false;
                });
              }, heal);
            });
          } else if (faultRng.chance(0.6)) {
            faultActive = true;
            stats.isolations++;
            const kind = faultRng.int(3);
            if (kind === 0) network.isolate(m.id);
            else if (kind === 1) {
              // A minority / majority split.
              const shuffled = faultRng.shuffle(members.map((x) => x.id));
              const k = 1 + faultRng.int(Math.max(1, Math.floor((members.length - 1) / 2)));
              network.partition(shuffled.slice(0, k), shuffled.slice(k));
            } else {
              // A one-way cut: m hears nobody (or nobody hears m).
              for (const o of members) {
                if (o.id === m.id) continue;
                if (faultRng.chance(0.5)) network.cutOneWay(o.id, m.id);
                else network.cutOneWay(m.id, o.id);
              }
            }
            clock.setTimer(() => {
              network.heal();
              faultActive = false;
            }, heal);
          }
        }
        if (clock.now() < duration) schedule();
      }, 1000 + faultRng.int(2000));
    };
    schedule();
  }

  // Membership: once, add the spare as a learner, promote it, then remove another member.
  const leaderNode = (): StrataNode | undefined => members.find((m) => m.node?.isLeader === true)?.node;
  const changeMembership = async (): Promise<void> => {
    faultActive = true;
    try {
      const l0 = leaderNode();
      if (l0 === undefined) return;
      await l0.members.add({ name: spareSpec.name, peerURLs: spareSpec.peerURLs, isLearner: true });
      stats.memberChanges++;
      members.push(spare);
      await start(spare);
      let promoted = false;
      for (let i = 0; i < 30 && !promoted; i++) {
        await vsleep(200);
        try {
          await leaderNode()?.members.promote(spare.id);
          promoted = leaderNode()?.raft.configuration.voters.includes(spare.id) === true;
        } catch {
          // Not ready yet (ErrLearnerNotReady) or no leader: try again.
        }
      }
      if (!promoted) return;
      stats.memberChanges++;
      await vsleep(500);
      const l1 = leaderNode();
      const victims = members.filter((m) => m !== spare && m.node !== undefined && m.node !== l1);
      if (l1 === undefined || victims.length === 0) return;
      const victim = faultRng.pick(victims);
      await l1.members.remove(victim.id);
      stats.memberChanges++;
      members.splice(members.indexOf(victim), 1);
      await crash(victim);
    } catch (err) {
      log.sim('kv-sim %d: membership change failed: %O', seed, err);
    } finally {
      faultActive = false;
    }
  };
  if (membership) {
    clock.setTimer(() => {
      const tryChange = (): void => {
        if (faultActive) clock.setTimer(tryChange, 200);
        else void changeMembership();
      };
      tryChange();
    }, Math.floor(duration * (0.2 + 0.3 * faultRng.next())));
  }

  // Clients.
  const history: Operation<KvInput, KvOutput>[] = [];
  const keys = Array.from({ length: options.keys ?? 4 }, (_, i) => `/k${i}`);
  let running = 0;
  const client = async (state: ClientState): Promise<void> => {
    running++;
    try {
      await vsleep(500 + clientRng.int(500));
      while (clock.now() < duration) {
        const live = members.filter((m) => m.node !== undefined);
        const target = live.length > 0 ? clientRng.pick(live) : undefined;
        if (target?.node === undefined) {
          await vsleep(100);
          continue;
        }
        const op = nextOp(clientRng, state, keys, options.staleReads === true);
        const ac = new AbortController();
        const timer = clock.setTimer(() => ac.abort(), opTimeout);
        const call = clock.now();
        stats.ops++;
        let kind: string;
        try {
          const output = await op.run(target.node, ac.signal);
          kind = record(history, state.id, op, call, { ok: true, output, ret: clock.now() });
        } catch (err) {
          kind = record(history, state.id, op, call, { ok: false, err });
        }
        clock.clearTimer(timer);
        if (kind === 'ok') stats.succeeded++;
        else if (kind === 'pending') stats.pending++;
        else if (kind === 'definite') stats.definiteErrors++;
        else stats.droppedReads++;
        await vsleep(clientRng.int(50));
      }
    } finally {
      running--;
    }
  };
  const clients = Array.from({ length: options.clients ?? 4 }, (_, id) => client({ id, seq: 0, lease: 0, seen: new Map() }));
  await runUntil(duration + opTimeout + 1000, () => running === 0);
  await Promise.all(clients);

  // Heal everything and let the cluster converge.
  network.heal();
  network.setFaults({ dropRate: 0, duplicateRate: 0, reorderRate: 0, minDelay: 1, maxDelay: 3 });
  const settleEnd = clock.now() + 30_000;
  await runUntil(settleEnd, () => !faultActive);
  await startAll(members.filter((m) => m.node === undefined));
  // A spare that never got promoted leaves again (a learner serves no linearizable reads).
  if (members.includes(spare)) {
    let done = false;
    void (async () => {
      for (let i = 0; i < 50; i++) {
        const l = leaderNode();
        if (l !== undefined) {
          if (l.raft.configuration.voters.includes(spare.id)) break;
          try {
            await l.members.remove(spare.id);
            members.splice(members.indexOf(spare), 1);
            await crash(spare);
            break;
          } catch {
            // Retry below.
          }
        }
        await vsleep(200);
      }
      done = true;
    })();
    await runUntil(clock.now() + 20_000, () => done);
  }
  // A linearizable read on every member: all have applied everything committed.
  let reads = 0;
  const readAll = Promise.all(
    members.map(async (m) => {
      for (;;) {
        try {
          await m.node?.get('/k0');
          reads++;
          return;
        } catch {
          await vsleep(200);
        }
      }
    }),
  );
  await runUntil(clock.now() + 60_000, () => reads === members.length);
  if (reads < members.length) violations.push('liveness: the healed cluster did not serve linearizable reads within 60 s');
  else {
    await readAll;
    const revs = members.map((m) => m.node?.revision ?? 0);
    const rev = Math.min(...revs);
    stats.revision = rev;
    if (new Set(revs).size !== 1) violations.push(`members at different revisions after convergence: ${revs.join(', ')}`);
    const hashes: number[] = [];
    const hashing = Promise.all(members.map(async (m) => hashes.push((await (m.node as StrataNode).hashKV(rev)).hash)));
    await settle();
    await hashing;
    if (new Set(hashes).size !== 1) violations.push(`hashKV differs at revision ${rev}: ${hashes.map((h) => h.toString(16)).join(', ')}`);
  }
  stats.virtualMs = clock.now();
  for (const m of members) await crash(m);

  const check = checkLinearizability(createKvModel(), history, { maxSteps: options.maxCheckSteps ?? 2_000_000 });
  if (check.result === 'not-linearizable') violations.push('history is not linearizable');
  return { ok: violations.length === 0 && check.result !== 'not-linearizable', seed, violations, linearizable: check.result, stats, history };
}
