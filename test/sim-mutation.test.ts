// Issue #8 mutation check: a core broken on purpose through the test-only hooks must make the
// simulator report a violation within a small sweep; the shrinker then reduces the failing
// run's decision log and the reduced log still fails on replay.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { LIGHT, baseSeed, firstFailure, shrinkFirstFailure } from './sim-harness.ts';

const SAFETY = [
  'election-safety',
  'leader-completeness',
  'state-machine-safety',
  'log-matching',
  'leader-append-only',
  'commit-quorum',
  'acknowledged-lost',
];

test('issue #8 mutation: a node that votes twice in a term is caught (election safety, Raft §5.2)', async (t) => {
  const r = await firstFailure({ nodes: 5, workloadSpec: LIGHT, testFaults: { voteTwice: true } }, 60, 150);
  assert.ok(r !== undefined, 'no violation found for voteTwice');
  const v = r.violations[0]!;
  t.diagnostic(`seed=${r.seed}: ${v.invariant}: ${v.message}`);
  assert.ok(SAFETY.includes(v.invariant), v.invariant);
});

test('issue #8 mutation: a leader that commits without a quorum is caught, and the failure shrinks', async (t) => {
  const { result: r, shrunk: s, replay } = await shrinkFirstFailure({ nodes: 5, workloadSpec: LIGHT, testFaults: { commitWithoutQuorum: true } }, 60, 150);
  assert.ok(r !== undefined, 'no violation found for commitWithoutQuorum');
  const v = r.violations[0]!;
  t.diagnostic(`seed=${r.seed}: ${v.invariant}: ${v.message} (${r.schedule.length} fault actions)`);
  assert.ok(SAFETY.includes(v.invariant), v.invariant);
  assert.ok(s !== undefined && replay !== undefined);
  assert.ok(s.schedule.length <= r.schedule.length && s.ticks <= r.ticks);
  t.diagnostic(`shrunk to ${s.schedule.length} actions, ${s.ticks} ticks in ${s.runs} runs`);
  // The reduced decision log replays to the same kind of violation.
  assert.equal(replay.ok, false);
  assert.equal(replay.violations[0]!.invariant, v.invariant);
});

test('issue #8: the correct core passes the same seeds (the mutation tests are not vacuous)', async () => {
  const r = await firstFailure({ nodes: 5, workloadSpec: LIGHT }, 20, 150);
  assert.equal(r, undefined, r === undefined ? '' : `seed ${r.seed}: ${r.violations[0]!.message}`);
});

test('issue #8: every planted bug is caught within the sweep window, for 3-node clusters too', async (t) => {
  for (const testFaults of [{ voteTwice: true }, { commitWithoutQuorum: true }]) {
    const r = await firstFailure({ nodes: 3, workloadSpec: LIGHT, testFaults }, 100, 150, baseSeed + 500);
    assert.ok(r !== undefined, `no violation for ${JSON.stringify(testFaults)}`);
    t.diagnostic(`${JSON.stringify(testFaults)}: seed ${r.seed} ${r.violations[0]!.invariant}`);
  }
});
