// Issue #8: proposal envelope and the replicated exactly-once table (a network that duplicates a
// forwarded proposal must not make the state machine apply it twice; the decision must be the same
// on a member that applied the whole log and one that restored a snapshot).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DedupTable } from '../src/node/dedup.ts';
import { ENVELOPE_HEADER, isFrom, payloadOf, readId, seqOf, wrap } from '../src/node/envelope.ts';

test('issue #8: the envelope names proposer, nonce and sequence and strips cleanly', () => {
  const payload = new TextEncoder().encode('hello');
  const e = wrap(7, 0xdeadbeef, 42, payload);
  assert.equal(e.length, ENVELOPE_HEADER + payload.length);
  assert.deepEqual(readId(e), { proposer: 7, nonce: 0xdeadbeef, seq: 42 });
  assert.ok(isFrom(e, 7, 0xdeadbeef) && !isFrom(e, 8, 0xdeadbeef) && !isFrom(e, 7, 1));
  assert.equal(seqOf(e), 42);
  assert.deepEqual([...payloadOf(e)], [...payload]);
  // Data that is not enveloped passes through untouched.
  assert.equal(readId(payload), undefined);
  assert.equal(payloadOf(payload), payload);
  assert.equal(readId(new Uint8Array(0)), undefined);
});

test('issue #8: duplicates are refused, out-of-order sequences accepted once', () => {
  const t = new DedupTable();
  assert.equal(t.admit(1, 9, 1, 10), true);
  assert.equal(t.admit(1, 9, 1, 11), false);
  assert.equal(t.admit(1, 9, 3, 12), true);
  assert.equal(t.admit(1, 9, 2, 13), true);
  assert.equal(t.admit(1, 9, 3, 14), false);
  assert.equal(t.admit(1, 10, 1, 15), true, 'another incarnation of the same member is another session');
  assert.equal(t.admit(2, 9, 1, 16), true);
});

test('issue #8: the table survives a snapshot round trip and decides identically afterwards', () => {
  const a = new DedupTable();
  for (let i = 1; i <= 50; i++) a.admit(1 + (i % 3), 5, Math.ceil(i / 3) + (i % 2) * 100, i);
  const b = new DedupTable();
  b.load(a.toRecords());
  assert.deepEqual(b.toRecords(), a.toRecords());
  for (let i = 51; i <= 120; i++) {
    const args = [1 + (i % 4), 5, i % 37, i] as const;
    assert.equal(a.admit(...args), b.admit(...args), `entry ${i}`);
  }
  assert.deepEqual(b.toRecords(), a.toRecords());
});

test('issue #8: idle sessions are pruned at log-index boundaries, identically after a restore', () => {
  const a = new DedupTable();
  a.admit(5, 1, 1, 1);
  const snap = a.toRecords();
  a.admit(6, 1, 1, 1_100_000);
  const b = new DedupTable();
  b.load(snap);
  b.admit(6, 1, 1, 1_100_000);
  assert.deepEqual(b.toRecords(), a.toRecords());
  assert.equal(a.toRecords().some((r) => r[0] === 5), false, 'session idle past the TTL forgotten');
});
