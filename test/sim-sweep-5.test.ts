// Issue #8 / #5: bounded simulation sweep, 5-node clusters with swarm faults, plus a
// membership sweep (random learner adds, promotions, removals under faults).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { proposeWorkload } from '../src/sim/workload.ts';
import { sweep, baseSeed } from './sim-harness.ts';

// A lighter client load than the default keeps the sweep inside the test budget.
const workload = proposeWorkload({ clients: 2, idleShare: 0.4, maxThinkTicks: 2 });

test('issue #8: 120 seeds × 5 nodes, swarm faults, every invariant holds and the healed core makes progress', async (t) => {
  const rs = await sweep(t, 120, { nodes: 5, snapshotCount: 50, snapshotCatchUpEntries: 10, workload }, 150, baseSeed + 10_000);
  const commits = rs.reduce((a, r) => a + r.stats.proposalsCommitted, 0);
  const partitions = rs.reduce((a, r) => a + r.stats.partitions, 0);
  t.diagnostic(`commits=${commits} partitions=${partitions}`);
  assert.ok(commits > 1000 && partitions > 10, 'faults and replication were exercised');
});

test('issue #5: 25 seeds × 5 nodes with membership changes under faults', async (t) => {
  const rs = await sweep(t, 25, { nodes: 5, membership: true, snapshotCount: 50, snapshotCatchUpEntries: 10, workload }, 150, baseSeed + 20_000);
  const changes = rs.reduce((a, r) => a + r.stats.membershipChanges, 0);
  t.diagnostic(`membershipChanges=${changes}`);
  assert.ok(changes > 5, 'membership changes were applied');
});
