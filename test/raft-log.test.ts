// Unit tests: LogStore (etcd's MemoryStorage), the unstable tail and RaftLog.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { LogStore, bootstrapSnapshot, EntryType, isLeaveJoint } from '../src/raft/index.ts';
import type { Entry } from '../src/raft/index.ts';
import { Unstable } from '../src/raft/log-unstable.ts';
import { RaftLog } from '../src/raft/log.ts';
import { isStrataError } from '../src/errors.ts';

const ent = (index: number, term: number, size = 0): Entry => ({ index, term, type: EntryType.Normal, data: new Uint8Array(size) });
const ents = (from: number, terms: number[]): Entry[] => terms.map((t, i) => ent(from + i, t));
const idxTerms = (es: readonly Entry[]): [number, number][] => es.map((e) => [e.index, e.term]);

function storeOf(snapIndex: number, snapTerm: number, terms: number[]): LogStore {
  const s = new LogStore();
  s.applySnapshot({ metadata: { index: snapIndex, term: snapTerm, confState: bootstrapSnapshot([1]).metadata.confState }, data: new Uint8Array() });
  s.append(ents(snapIndex + 1, terms));
  return s;
}

test('LogStore: first/last index, term, dummy entry at the snapshot (issue #2)', () => {
  const s = storeOf(3, 3, [4, 5]);
  assert.equal(s.firstIndex(), 4);
  assert.equal(s.lastIndex(), 5);
  assert.equal(s.term(3), 3);
  assert.equal(s.term(5), 5);
  assert.throws(() => s.term(2), (e) => isStrataError(e, 'ErrCompacted'));
});

test('LogStore: entries(lo, hi, maxSize) caps by size but returns at least one (issue #2)', () => {
  const s = new LogStore();
  s.append([ent(1, 1, 100), ent(2, 1, 100), ent(3, 1, 100), ent(4, 1, 100)]);
  assert.deepEqual(idxTerms(s.entries(1, 5)), [[1, 1], [2, 1], [3, 1], [4, 1]]);
  assert.equal(s.entries(1, 5, 250).length, 2); // 116 + 116 <= 250 < 348
  assert.equal(s.entries(1, 5, 1).length, 1);
  assert.throws(() => s.entries(0, 2), (e) => isStrataError(e, 'ErrCompacted'));
});

test('LogStore: append overwrites a conflicting suffix and ignores compacted entries (issue #2)', () => {
  const s = storeOf(3, 3, [3, 4, 5]); // 4:3 5:4 6:5
  s.append(ents(5, [6, 6]));
  assert.deepEqual(idxTerms(s.entries(4, 7)), [[4, 3], [5, 6], [6, 6]]);
  s.append(ents(2, [3, 3, 3]));
  assert.deepEqual(idxTerms(s.entries(4, 5)), [[4, 3]]);
  assert.equal(s.lastIndex(), 4);
  assert.throws(() => s.append(ents(9, [9])), (e) => isStrataError(e, 'ErrInvalidArgument'));
});

test('LogStore: compact, createSnapshot, applySnapshot ordering (issue #2)', () => {
  const s = storeOf(0, 0, [1, 1, 2, 2, 3]);
  const snap = s.createSnapshot(3, bootstrapSnapshot([1, 2]).metadata.confState, new Uint8Array([9]));
  assert.deepEqual([snap.metadata.index, snap.metadata.term], [3, 2]);
  assert.deepEqual(s.snapshot().metadata.confState.voters, [1, 2]);
  s.compact(3);
  assert.equal(s.firstIndex(), 4);
  assert.equal(s.term(3), 2);
  assert.throws(() => s.compact(2), (e) => isStrataError(e, 'ErrCompacted'));
  assert.throws(() => s.createSnapshot(2, snap.metadata.confState, new Uint8Array()), (e) => isStrataError(e, 'ErrCompacted'));
  assert.throws(() => s.applySnapshot(bootstrapSnapshot([1])), (e) => isStrataError(e, 'ErrCompacted'));
  s.applySnapshot({ metadata: { index: 10, term: 4, confState: snap.metadata.confState }, data: new Uint8Array() });
  assert.equal(s.firstIndex(), 11);
  assert.equal(s.lastIndex(), 10);
  assert.equal(s.term(10), 4);
});

test('LogStore: initialState reflects setHardState and setConfState (issue #2)', () => {
  const s = new LogStore();
  s.applySnapshot(bootstrapSnapshot([3, 1, 2], [4]));
  s.setHardState({ term: 2, vote: 1, commit: 0 });
  assert.deepEqual(s.initialState().hardState, { term: 2, vote: 1, commit: 0 });
  assert.deepEqual(s.initialState().confState.voters, [1, 2, 3]);
  assert.deepEqual(s.initialState().confState.learners, [4]);
  s.setConfState({ ...s.initialState().confState, voters: [1, 2] });
  assert.deepEqual(s.initialState().confState.voters, [1, 2]);
  assert.deepEqual(s.snapshot().metadata.confState.voters, [1, 2, 3], 'the snapshot keeps the config at its index');
});

test('Unstable: truncateAndAppend, stableTo and in-progress tracking (issue #2)', () => {
  const u = new Unstable(5);
  u.truncateAndAppend(ents(5, [1, 1, 1]));
  assert.equal(u.maybeLastIndex(), 7);
  assert.deepEqual(idxTerms(u.nextEntries()), [[5, 1], [6, 1], [7, 1]]);
  u.acceptInProgress();
  assert.deepEqual(u.nextEntries(), []);
  u.truncateAndAppend(ents(6, [2])); // overwrite 6..7
  assert.deepEqual(idxTerms(u.entries), [[5, 1], [6, 2]]);
  assert.deepEqual(idxTerms(u.nextEntries()), [[6, 2]]);
  u.stableTo(6, 1); // stale term: ignored
  assert.equal(u.offset, 5);
  u.stableTo(5, 1);
  assert.equal(u.offset, 6);
  assert.deepEqual(idxTerms(u.entries), [[6, 2]]);
  u.truncateAndAppend(ents(3, [3])); // before offset: replace all
  assert.equal(u.offset, 3);
  assert.deepEqual(idxTerms(u.entries), [[3, 3]]);
  assert.equal(u.maybeTerm(2), undefined);
});

test('Unstable: restore to a snapshot (issue #2)', () => {
  const u = new Unstable(5);
  u.truncateAndAppend(ents(5, [1]));
  u.restore({ metadata: { index: 9, term: 4, confState: bootstrapSnapshot([1]).metadata.confState }, data: new Uint8Array() });
  assert.equal(u.maybeFirstIndex(), 10);
  assert.equal(u.maybeLastIndex(), 9);
  assert.equal(u.maybeTerm(9), 4);
  assert.deepEqual(u.entries, []);
  u.stableSnapTo(9);
  assert.equal(u.snapshot, undefined);
});

test('RaftLog: maybeAppend consistency check and conflict truncation (§5.3)', () => {
  const l = new RaftLog(storeOf(0, 0, [1, 2, 3]));
  l.committed = 1;
  assert.equal(l.maybeAppend(3, 2, 3, ents(4, [4])), -1, 'mismatched previous term rejected');
  assert.equal(l.maybeAppend(4, 3, 3, []), -1, 'missing previous entry rejected');
  assert.equal(l.maybeAppend(3, 3, 3, []), 3);
  assert.equal(l.committed, 3);
  assert.equal(l.maybeAppend(1, 1, 4, ents(2, [4, 4])), -1, 'a conflict at or below commit is refused');
  assert.deepEqual([l.term(2), l.term(3), l.lastIndex(), l.committed], [2, 3, 3, 3], 'committed entries are not rewritten');
  const l2 = new RaftLog(storeOf(0, 0, [1, 2, 3]));
  assert.equal(l2.maybeAppend(1, 1, 2, ents(2, [4, 4])), 3);
  assert.deepEqual([l2.term(2), l2.term(3), l2.committed], [4, 4, 2]);
  assert.deepEqual(idxTerms(l2.unstable.entries), [[2, 4], [3, 4]]);
});

test('RaftLog: isUpToDate compares last term, then last index (§5.4.1)', () => {
  const l = new RaftLog(storeOf(0, 0, [1, 2, 2]));
  assert.equal(l.isUpToDate(1, 3), true);
  assert.equal(l.isUpToDate(3, 2), true);
  assert.equal(l.isUpToDate(2, 2), false);
  assert.equal(l.isUpToDate(5, 1), false);
});

test('RaftLog: findConflictByTerm for fast backtracking (issue #2)', () => {
  const l = new RaftLog(storeOf(2, 1, [1, 3, 3, 5])); // 3:1 4:3 5:3 6:5
  assert.deepEqual(l.findConflictByTerm(6, 4), { index: 5, term: 3 });
  assert.deepEqual(l.findConflictByTerm(6, 5), { index: 6, term: 5 });
  assert.deepEqual(l.findConflictByTerm(5, 2), { index: 3, term: 1 });
  assert.deepEqual(l.findConflictByTerm(1, 0), { index: 1, term: 0 }, 'compacted: unknown term');
});

test('RaftLog: maybeCommit only entries of the given term (§5.4.2)', () => {
  const l = new RaftLog(storeOf(0, 0, [1, 2, 3]));
  assert.equal(l.maybeCommit(2, 3), false);
  assert.equal(l.committed, 0);
  assert.equal(l.maybeCommit(3, 3), true);
  assert.equal(l.committed, 3);
  assert.equal(l.maybeCommit(2, 2), false, 'never backwards');
});

test('RaftLog: slice spans stable and unstable, capped by size (issue #2)', () => {
  const s = storeOf(0, 0, [1, 1]);
  const l = new RaftLog(s);
  l.append([ent(3, 2, 84), ent(4, 2, 84)]);
  assert.deepEqual(idxTerms(l.slice(1, 5)), [[1, 1], [2, 1], [3, 2], [4, 2]]);
  assert.deepEqual(idxTerms(l.slice(2, 5, 16 + 100)), [[2, 1], [3, 2]]);
  assert.deepEqual(idxTerms(l.slice(3, 5, 100)), [[3, 2]]);
  assert.deepEqual(idxTerms(l.entries(5)), []);
  assert.throws(() => l.slice(0, 2), (e) => isStrataError(e, 'ErrCompacted'));
});

test('RaftLog: committed entries handed out once, none while a snapshot is pending (issue #2)', () => {
  const l = new RaftLog(storeOf(0, 0, [1, 1, 1]));
  l.commitTo(2);
  assert.deepEqual(idxTerms(l.nextCommittedEnts()), [[1, 1], [2, 1]]);
  l.applying = 2;
  assert.equal(l.hasNextCommittedEnts(), false);
  l.appliedTo(2);
  assert.equal(l.applied, 2);
  l.restore({ metadata: { index: 10, term: 2, confState: bootstrapSnapshot([1]).metadata.confState }, data: new Uint8Array() });
  assert.equal(l.committed, 10);
  assert.equal(l.hasNextCommittedEnts(), false);
  assert.equal(l.lastIndex(), 10);
  assert.equal(isLeaveJoint({ transition: 0, changes: [] }), true);
});
