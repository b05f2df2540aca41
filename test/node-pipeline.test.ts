// RaftNode Ready pipeline (issue #8): what may overlap the Ready's write.
// Committed entries already durable here are applied while the write runs;
// an entry committed in the same Ready that first writes it (a single voter
// commits by its own append) must wait for that write before it is applied
// or acknowledged.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { SaveRequest } from '../src/storage/storage.ts';
import { Cluster, enc } from './node-harness.ts';

const seed = Number(process.env.SEED ?? 11);

test('issue #8: a single voter applies and acknowledges its entry only after the write holding it is durable (Raft §5.3)', async (t) => {
  t.diagnostic(`seed=${seed}`);
  const c = new Cluster([1], {}, seed);
  await c.start();
  const l = await c.electLeader();
  await c.wait(l.propose(enc('warm-up')));
  const storage = c.storages.get(1)!;
  const save = storage.save.bind(storage);
  let release: () => void = () => undefined;
  const gate = new Promise<void>((r) => (release = r));
  let held = 0;
  storage.save = async (req: SaveRequest): Promise<void> => {
    if ((req.entries?.length ?? 0) > 0) {
      held++;
      await gate;
    }
    return save(req);
  };
  const before = l.appliedIndex;
  let settled = false;
  const p = l.propose(enc('x'));
  void p.then(() => (settled = true), () => (settled = true));
  await c.advance(50);
  assert.ok(held > 0, 'the write holding the entry is in flight');
  assert.ok((l.coreState()?.commit ?? 0) > before, 'the entry is committed by the single voter');
  assert.equal(l.appliedIndex, before, 'not applied before it is durable here');
  assert.equal(settled, false, 'not acknowledged before it is durable here');
  release();
  const r = await c.wait(p);
  assert.ok(r.index > before);
  assert.ok(l.appliedIndex >= r.index);
});

test('issue #8: writes from every member of a 3-node cluster are applied identically while commit and write overlap', async (t) => {
  t.diagnostic(`seed=${seed}`);
  const c = new Cluster([1, 2, 3], {}, seed);
  await c.start();
  await c.electLeader();
  const ps = [];
  for (let i = 0; i < 60; i++) ps.push(c.node((i % 3) + 1).propose(enc(`v${i}`)));
  const rs = await c.wait(Promise.all(ps));
  assert.equal(new Set(rs.map((r) => r.index)).size, 60, 'every write got its own index');
  const top = Math.max(...rs.map((r) => r.index));
  await c.until(() => [1, 2, 3].every((id) => c.node(id).appliedIndex >= top));
  const digests = [1, 2, 3].map((id) => c.sm(id).digest());
  assert.equal(new Set(digests).size, 1, 'same state everywhere');
});
