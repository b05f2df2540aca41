// Issue #8: bounded simulation sweep, 3-node clusters, swarm fault profiles (drop, duplicate,
// delay, reorder, partitions incl. one-way, crash+restart losing unsynced writes, pauses,
// slow disk, clock skew), snapshots + compaction on (issue #4), liveness phase after faults.
// Invariants (Raft §5.2–§5.4): election safety, leader append-only, log matching, leader
// completeness, state-machine safety, commit monotonic, no acknowledged write lost.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { LIGHT, sweep } from './sim-harness.ts';

test('issue #8: 200 seeds × 3 nodes, swarm faults, every invariant holds and the healed core makes progress', async (t) => {
  const rs = await sweep(t, 200, { nodes: 3, snapshotCount: 50, snapshotCatchUpEntries: 10, workloadSpec: LIGHT }, 150);
  const commits = rs.reduce((a, r) => a + r.stats.proposalsCommitted, 0);
  const crashes = rs.reduce((a, r) => a + r.stats.crashes, 0);
  const snaps = rs.reduce((a, r) => a + r.stats.snapshotsInstalled, 0);
  t.diagnostic(`commits=${commits} crashes=${crashes} snapshotsInstalled=${snaps}`);
  // The sweep must actually exercise the system.
  assert.ok(commits > 1000 && crashes > 10, 'faults and replication were exercised');
});
