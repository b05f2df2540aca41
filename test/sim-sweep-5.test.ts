// Issue #8 / #5: bounded simulation sweep, 5-node clusters with swarm faults, plus a
// membership sweep (random learner adds, promotions, removals under faults).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { LIGHT, sweep, baseSeed } from './sim-harness.ts';

test('issue #8: 200 seeds × 5 nodes, swarm faults, every invariant holds and the healed core makes progress', async (t) => {
  const rs = await sweep(t, 200, { nodes: 5, snapshotCount: 50, snapshotCatchUpEntries: 10, workloadSpec: LIGHT }, 150, baseSeed + 10_000);
  const commits = rs.reduce((a, r) => a + r.stats.proposalsCommitted, 0);
  const partitions = rs.reduce((a, r) => a + r.stats.partitions, 0);
  t.diagnostic(`commits=${commits} partitions=${partitions}`);
  assert.ok(commits > 1000 && partitions > 10, 'faults and replication were exercised');
});

test('issue #5: 40 seeds × 5 nodes with membership changes (incl. joint-consensus replacements) under faults', async (t) => {
  const rs = await sweep(t, 40, { nodes: 5, membership: true, snapshotCount: 50, snapshotCatchUpEntries: 10, workloadSpec: LIGHT }, 200, baseSeed + 20_000);
  const changes = rs.reduce((a, r) => a + r.stats.membershipChanges, 0);
  t.diagnostic(`membershipChanges=${changes}`);
  assert.ok(changes > 5, 'membership changes were applied');
});
