// Issue #8: manual control of the simulator for hand-written schedules (partition, isolate,
// heal, crash, restart, pause, resume, hold/release with in-flight inspection, runUntil),
// user state machines, workloads and invariants.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Simulation } from '../src/sim/simulation.ts';
import type { SimView } from '../src/sim/simulation.ts';
import { MessageType, StateRole } from '../src/raft/types.ts';
import type { Entry } from '../src/raft/types.ts';
import type { StateMachine } from '../src/node/state-machine.ts';
import { baseSeed } from './sim-harness.ts';

const quiet = { type: 'idle', ticks: 1000 } as const;

test('issue #8: isolating the leader elects another; healing converges (Raft §5.2, §5.3)', async (t) => {
  t.diagnostic(`seed=${baseSeed}`);
  const sim = new Simulation({ seed: baseSeed, nodes: 5, faults: 'none' });
  assert.ok(await sim.runUntil((s) => s.leader() !== undefined, { maxTicks: 100 }));
  const old = sim.leader()!.id;
  const oldTerm = sim.leader()!.node!.status().term;
  sim.isolate(old);
  assert.ok(
    await sim.runUntil(
      (s) => [...s.hosts.values()].some((h) => h.id !== old && h.node?.status().role === StateRole.Leader),
      { maxTicks: 100 },
    ),
  );
  const next = [...sim.hosts.values()].find((h) => h.id !== old && h.node?.status().role === StateRole.Leader)!;
  assert.ok(next.node!.status().term > oldTerm);
  sim.heal();
  assert.ok(await sim.runUntil((s) => [...s.hosts.values()].every((h) => h.node?.status().leader === next.id), { maxTicks: 100 }));
  // The old leader stepped down under check-quorum / the new term.
  assert.equal(sim.host(old).node!.status().role, StateRole.Follower);
  assert.ok(sim.ok, JSON.stringify(sim.result().violations));
});

test('issue #8: hold/release keeps messages in flight and inspectable; crash/restart and pause/resume', async () => {
  const sim = new Simulation({ seed: baseSeed, nodes: 3, faults: 'none' });
  await sim.runUntil((s) => s.leader() !== undefined, { maxTicks: 100 });
  const l = sim.leader()!.id;
  const f = [1, 2, 3].find((x) => x !== l)!;
  sim.hold(l, f);
  await sim.tickN(3);
  const held = sim.inFlight().filter((m) => m.from === l && m.to === f);
  assert.ok(held.length >= 2, 'heartbeats to the follower are held');
  assert.ok(held.every((m) => m.message.type === MessageType.MsgHeartbeat || m.message.type === MessageType.MsgApp));
  sim.release(l, f);
  await sim.tickN(2);
  assert.equal(sim.inFlight().filter((m) => m.from === l && m.to === f && m.deliverAt < sim.clock.now() - 10).length, 0);
  // Crash a follower, write, restart: it catches up from the leader.
  sim.crash(f);
  assert.equal(sim.host(f).alive, false);
  const p = sim.leader()!.node!.propose(new TextEncoder().encode('while-down'));
  await sim.tickN(5);
  const res = await p;
  await sim.restart(f);
  assert.ok(await sim.runUntil(() => (sim.host(f).node?.appliedIndex ?? 0) >= res.index, { maxTicks: 100 }));
  // Pause the leader: the others elect a new one; resume: it steps down.
  sim.pause(l);
  assert.ok(await sim.runUntil((s) => s.leader() !== undefined && s.leader()!.id !== l, { maxTicks: 200 }));
  sim.resume(l);
  assert.ok(await sim.runUntil(() => sim.host(l).node!.status().role !== StateRole.Leader, { maxTicks: 100 }));
  assert.ok(sim.ok, JSON.stringify(sim.result().violations));
  assert.equal(sim.result().stats.crashes, 1);
});

/** A user state machine: a counter of applied commands, snapshot = the count. */
class Counter implements StateMachine<number> {
  n = 0;
  apply(entries: readonly Entry[]): number[] {
    return entries.map(() => ++this.n);
  }
  snapshot(): Uint8Array {
    return new TextEncoder().encode(String(this.n));
  }
  restore(data: Uint8Array): void {
    this.n = Number(new TextDecoder().decode(data));
  }
}

test('issue #8: users fuzz their own state machine with their own workload and invariants', async () => {
  const seen: number[] = [];
  const monotonic = (v: SimView): string | undefined => {
    for (const n of v.nodes) {
      const sm = n.stateMachine as Counter | undefined;
      if (sm === undefined || !n.alive) continue;
      seen.push(sm.n);
      if (sm.n > (n.node?.appliedIndex ?? 0)) return `member ${n.id} counted ${sm.n} > applied ${n.node?.appliedIndex}`;
    }
    return undefined;
  };
  let issued = 0;
  const sim = new Simulation({
    seed: baseSeed,
    nodes: 3,
    faults: 'all',
    stateMachine: () => new Counter(),
    invariants: [monotonic],
    workload: {
      clients: 2,
      next: (rng, ctx) => (ctx.issued > 40 ? quiet : (issued++, { type: 'propose', data: new Uint8Array([rng.int(256)]) })),
    },
  });
  const r = await sim.run({ ticks: 150 });
  assert.ok(r.ok, JSON.stringify(r.violations[0]));
  assert.ok(issued > 0 && seen.length > 0 && Math.max(...seen) > 0);

  // A user invariant that fails is reported with its name.
  const never = function neverMoreThanFive(v: SimView): string | undefined {
    return v.nodes.some((n) => ((n.stateMachine as Counter | undefined)?.n ?? 0) > 5) ? 'counter exceeded 5' : undefined;
  };
  const bad = await new Simulation({ seed: baseSeed, nodes: 3, faults: 'none', stateMachine: () => new Counter(), invariants: [never] }).run({
    ticks: 100,
  });
  assert.equal(bad.ok, false);
  assert.equal(bad.violations[0]!.invariant, 'neverMoreThanFive');
});
