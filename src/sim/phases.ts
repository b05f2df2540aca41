/**
 * The two driven phases of a run: the clients (during the fault phase) and
 * the liveness phase (VOPR's pattern: heal a quorum core, stop faults, and
 * require progress within a bound).
 */
import type { NodeId } from '../raft/types.ts';
import { StateRole } from '../raft/types.ts';
import type { SeededRandom } from '../util/rng.ts';
import { hashBytes } from './hash.ts';
import type { NodeHost } from './host.ts';
import type { Simulation } from './simulation.ts';
import type { Workload } from './workload.ts';

function sleep(sim: Simulation, ms: number): Promise<void> {
  return new Promise((resolve) => sim.clock.setTimer(resolve, ms));
}

function liveHosts(sim: Simulation): NodeHost[] {
  return [...sim.hosts.values()].filter((h) => h.alive && !h.paused && !h.removed && h.node !== undefined);
}

async function client(sim: Simulation, w: Workload, k: number, rng: SeededRandom): Promise<void> {
  let issued = 0;
  const timeoutMs = (w.timeoutTicks ?? 30) * sim.tickMs;
  while (sim.clientsActive) {
    const op = w.next(rng, { client: k, tick: sim.tick, issued });
    if (op.type === 'idle') {
      await sleep(sim, Math.max(1, op.ticks) * sim.tickMs);
      continue;
    }
    issued++;
    const live = liveHosts(sim);
    const host = op.node !== undefined ? sim.hosts.get(op.node) : live.length > 0 ? rng.pick(live) : undefined;
    const node = host?.alive === true ? host.node : undefined;
    if (host === undefined || node === undefined) {
      await sleep(sim, sim.tickMs);
      continue;
    }
    const ac = new AbortController();
    const timer = sim.clock.setTimer(() => ac.abort(), timeoutMs);
    let failed = false;
    try {
      if (op.type === 'propose') {
        const r = await node.propose(op.data, { signal: ac.signal });
        sim.clientAck(host.id, r.index, r.term);
      } else {
        await node.readIndex({ signal: ac.signal });
        sim.stats.readsServed++;
      }
    } catch {
      sim.stats.proposalsFailed++;
      failed = true;
    } finally {
      sim.clock.clearTimer(timer);
    }
    if (failed) await sleep(sim, sim.tickMs);
  }
}

/** Run the workload's clients until `sim.clientsActive` turns false. */
export function runClients(sim: Simulation, w: Workload): Promise<void> {
  const n = w.clients ?? 3;
  const all: Array<Promise<void>> = [];
  for (let k = 0; k < n; k++) all.push(client(sim, w, k, sim.workloadRng.fork()));
  return Promise.all(all).then(() => undefined);
}

/**
 * Liveness: choose a quorum core of the latest configuration, heal it
 * (restart, resume, reconnect), isolate everyone else, stop faults, then
 * within `bound` ticks require exactly one leader in the core, a probe
 * proposal through every core member committed, and identical applied
 * states across the core.
 */
export async function runLiveness(sim: Simulation, bound: number, everyone = false): Promise<void> {
  sim.calmNetwork();
  let most: NodeHost | undefined;
  for (const h of sim.hosts.values()) {
    if (h.node !== undefined && (most === undefined || h.node.appliedIndex > (most.node?.appliedIndex ?? -1))) most = h;
  }
  const cfg = most?.node?.configuration;
  const rng = sim.livenessRng;
  const pickMajority = (ids: readonly NodeId[]): NodeId[] => {
    const order = rng.shuffle([...ids]);
    order.sort((a, b) => Number(sim.hosts.get(b)?.alive === true) - Number(sim.hosts.get(a)?.alive === true));
    return order.slice(0, Math.floor(ids.length / 2) + 1);
  };
  const voters = cfg?.voters ?? [...sim.hosts.keys()];
  // With membership changes in flight the configuration in force is a moving
  // target: heal every member still in the cluster instead of a core.
  const core = everyone
    ? new Set<NodeId>([...sim.hosts.values()].filter((h) => !h.removed).map((h) => h.id))
    : new Set<NodeId>([...pickMajority(voters), ...pickMajority(cfg?.votersOutgoing ?? [])]);
  const coreIds = [...core].sort((a, b) => a - b);
  sim.trace.record(sim.clock.now(), 0, 'liveness', { core: coreIds.join(',') });
  sim.act({ tick: sim.tick, kind: 'heal' }, false);
  for (const id of sim.hosts.keys()) if (!core.has(id)) sim.network.isolate(id);
  for (const id of coreIds) {
    const h = sim.hosts.get(id);
    if (h === undefined) continue;
    if (h.paused) sim.act({ tick: sim.tick, kind: 'resume', node: id }, false);
    if (!h.alive) sim.act({ tick: sim.tick, kind: 'restart', node: id }, false);
  }
  await sim.settle();

  const probes = new Map<NodeId, number>();
  let active = true;
  const probe = async (id: NodeId): Promise<void> => {
    let attempt = 0;
    const data = (n: number): Uint8Array => new TextEncoder().encode(`probe-${id}-${n}`);
    while (active && !probes.has(id)) {
      const h = sim.hosts.get(id);
      const node = h?.alive === true ? h.node : undefined;
      if (node === undefined) {
        await sleep(sim, sim.tickMs);
        continue;
      }
      const ac = new AbortController();
      const t = sim.clock.setTimer(() => ac.abort(), 30 * sim.tickMs);
      try {
        const r = await node.propose(data(attempt++), { signal: ac.signal });
        sim.clientAck(id, r.index, r.term);
        probes.set(id, r.index);
      } catch {
        await sleep(sim, sim.tickMs);
      } finally {
        sim.clock.clearTimer(t);
      }
    }
  };
  const probing = Promise.all(coreIds.map((id) => probe(id)));

  const deadline = sim.tick + bound;
  let why = 'not started';
  let lastCheckTick = -1;
  while (sim.ok) {
    if (sim.tick !== lastCheckTick) {
      lastCheckTick = sim.tick;
      const members: NodeId[] = [];
      why = checkCore(sim, coreIds, probes, members);
      if (why === '') {
        const digests = new Set<string>();
        for (const id of members) {
          const sm = sim.hosts.get(id)?.stateMachine;
          if (sm !== undefined) digests.add(hashBytes(await sm.snapshot()));
        }
        if (digests.size <= 1) break;
        why = `core states differ: ${[...digests].join(' ')}`;
        sim.checker.fail('liveness-state', `core [${coreIds.join(',')}] applied the same index but states differ`);
        break;
      }
      if (sim.tick >= deadline) {
        sim.checker.fail('liveness', `within ${bound} ticks after healing core [${coreIds.join(',')}]: ${why}`);
        break;
      }
    }
    if (!(await sim.step())) break;
  }
  active = false;
  sim.trace.record(sim.clock.now(), 0, 'liveness-end', { ok: sim.ok, why });
  await sim.settle();
  void probing;
}

/** '' when the core is live and converged (filling `members` with the members checked), else why not. */
function checkCore(sim: Simulation, candidates: readonly NodeId[], probes: ReadonlyMap<NodeId, number>, members: NodeId[]): string {
  let leader: NodeId = 0;
  let leaders = 0;
  let leaderCommit = 0;
  let core = candidates;
  for (const id of core) {
    const h = sim.hosts.get(id);
    const st = h?.alive === true ? h.node?.raftStatus() : undefined;
    if (st === undefined) return `member ${id} not running`;
    if (st.role === StateRole.Leader) {
      leaders++;
      leader = id;
      leaderCommit = st.commit;
    }
  }
  if (leaders !== 1) return `${leaders} leaders in the core`;
  const cfg = sim.hosts.get(leader)?.node?.configuration;
  const inConfig = new Set<NodeId>([...(cfg?.voters ?? []), ...(cfg?.learners ?? []), ...(cfg?.votersOutgoing ?? [])]);
  core = core.filter((id) => inConfig.has(id));
  for (const id of core) {
    const st = sim.hosts.get(id)?.node?.raftStatus();
    if (st?.lead !== leader) return `member ${id} follows ${st?.lead ?? 0}, not ${leader}`;
  }
  let maxProbe = 0;
  for (const id of core) {
    const ix = probes.get(id);
    if (ix === undefined) return `probe through ${id} not committed`;
    maxProbe = Math.max(maxProbe, ix);
  }
  if (leaderCommit < maxProbe) return `leader commit ${leaderCommit} < probe ${maxProbe}`;
  for (const id of core) {
    const applied = sim.hosts.get(id)?.node?.appliedIndex ?? 0;
    if (applied !== leaderCommit) return `member ${id} applied ${applied}, leader commit ${leaderCommit}`;
  }
  members.push(...core);
  return '';
}
