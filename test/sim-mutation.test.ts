// Issue #8 mutation check: a core broken on purpose through the test-only hooks must make the
// simulator report a violation within a small sweep; the shrinker then reduces the failing
// run's decision log and the reduced log still fails on replay.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Simulation } from '../src/sim/simulation.ts';
import type { SimResult, SimulationOptions } from '../src/sim/simulation.ts';
import { shrinkRun } from '../src/sim/shrink.ts';
import { proposeWorkload } from '../src/sim/workload.ts';
import { baseSeed } from './sim-harness.ts';

const workload = proposeWorkload({ clients: 2, idleShare: 0.4, maxThinkTicks: 2 });

async function firstFailure(options: Omit<SimulationOptions, 'seed'>, seeds: number, ticks: number): Promise<SimResult | undefined> {
  for (let seed = baseSeed; seed < baseSeed + seeds; seed++) {
    const r = await new Simulation({ workload, ...options, seed }).run({ ticks });
    if (!r.ok) return r;
  }
  return undefined;
}

test('issue #8 mutation: a node that votes twice in a term is caught (election safety, Raft §5.2)', async (t) => {
  const r = await firstFailure({ nodes: 5, testFaults: { voteTwice: true } }, 60, 150);
  assert.ok(r !== undefined, 'no violation found for voteTwice');
  t.diagnostic(`seed=${r.seed}: ${r.violations[0]!.invariant}: ${r.violations[0]!.message}`);
  assert.ok(['election-safety', 'leader-completeness', 'state-machine-safety', 'log-matching', 'leader-append-only', 'acknowledged-lost'].includes(r.violations[0]!.invariant));
});

test('issue #8 mutation: a leader that commits without a quorum is caught, and the failure shrinks', async (t) => {
  const options = { nodes: 5, workload, testFaults: { commitWithoutQuorum: true } } as const;
  const r = await firstFailure(options, 60, 150);
  assert.ok(r !== undefined, 'no violation found for commitWithoutQuorum');
  const v = r.violations[0]!;
  t.diagnostic(`seed=${r.seed}: ${v.invariant}: ${v.message} (${r.schedule.length} fault actions)`);
  const s = await shrinkRun({ ...options, seed: r.seed }, { ticks: 150 }, r, { maxRuns: 25 });
  assert.ok(s !== undefined);
  assert.ok(s.schedule.length <= r.schedule.length && s.ticks <= r.ticks);
  t.diagnostic(`shrunk to ${s.schedule.length} actions, ${s.ticks} ticks in ${s.runs} runs`);
  // The reduced decision log replays to the same kind of violation.
  const replay = await new Simulation({ ...options, seed: r.seed, faults: s.profile, schedule: s.schedule }).run({
    ticks: s.ticks,
    liveness: s.liveness,
  });
  assert.equal(replay.ok, false);
  assert.equal(replay.violations[0]!.invariant, v.invariant);
});

test('issue #8: the correct core passes the same seeds (the mutation tests are not vacuous)', async () => {
  const r = await firstFailure({ nodes: 5 }, 10, 150);
  assert.equal(r, undefined, r === undefined ? '' : `seed ${r.seed}: ${r.violations[0]!.message}`);
});
