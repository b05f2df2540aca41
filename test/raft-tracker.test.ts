// Unit tests: inflights window, per-follower progress, quorum arithmetic
// (majority and joint; learners never counted) and membership transitions.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Inflights } from '../src/raft/inflights.ts';
import { Progress } from '../src/raft/progress.ts';
import { ProgressTracker } from '../src/raft/progress-tracker.ts';
import {
  Changer,
  ConfChangeTransition,
  ConfChangeType,
  jointCommittedIndex,
  jointVoteResult,
  majorityCommittedIndex,
  majorityVoteResult,
  restoreConfig,
} from '../src/raft/index.ts';
import type { ConfChangeSingle, ConfState } from '../src/raft/index.ts';
import { isStrataError } from '../src/errors.ts';

test('Inflights: add until full, freeLE frees in order, wraps around (issue #2)', () => {
  const inf = new Inflights(3);
  inf.add(5, 10);
  inf.add(7, 10);
  inf.add(9, 10);
  assert.equal(inf.full(), true);
  assert.throws(() => inf.add(10, 1));
  inf.freeLE(4);
  assert.equal(inf.count(), 3);
  inf.freeLE(7);
  assert.equal(inf.count(), 1);
  assert.equal(inf.inflightBytes(), 10);
  inf.add(11, 1);
  inf.add(12, 1); // wraps
  assert.equal(inf.full(), true);
  inf.freeLE(11);
  assert.equal(inf.count(), 1);
  inf.freeLE(100);
  assert.equal(inf.count(), 0);
  inf.add(13, 1);
  assert.equal(inf.count(), 1);
  inf.reset();
  assert.equal(inf.count(), 0);
});

test('Inflights: byte budget makes the window full (issue #2)', () => {
  const inf = new Inflights(10, 100);
  inf.add(1, 60);
  assert.equal(inf.full(), false);
  inf.add(2, 60);
  assert.equal(inf.full(), true);
  inf.freeLE(1);
  assert.equal(inf.full(), false);
});

const newPr = (match: number, next: number, size = 4): Progress => new Progress(match, next, new Inflights(size), false);

test('Progress: probe sends one message at a time; replicate streams within the window (issue #2)', () => {
  const pr = newPr(0, 5);
  assert.equal(pr.state, 'probe');
  pr.sentEntries(3, 30);
  assert.equal(pr.isPaused(), true, 'probe pauses after one MsgApp');
  assert.equal(pr.next, 5, 'probe does not advance next optimistically');
  assert.equal(pr.maybeUpdate(4), true);
  assert.equal(pr.isPaused(), false);
  pr.becomeReplicate();
  assert.deepEqual([pr.state, pr.match, pr.next], ['replicate', 4, 5]);
  for (let i = 0; i < 4; i++) pr.sentEntries(2, 20);
  assert.equal(pr.next, 13);
  assert.equal(pr.isPaused(), true, 'window full');
  pr.maybeUpdate(8);
  pr.inflights.freeLE(8);
  assert.equal(pr.inflights.count(), 2);
  assert.equal(pr.maybeUpdate(6), false, 'stale ack');
});

test('Progress: maybeDecrTo in replicate and probe, stale rejections ignored (issue #2)', () => {
  const pr = newPr(5, 10);
  pr.becomeReplicate();
  pr.next = 10;
  assert.equal(pr.maybeDecrTo(4, 4), false, 'rejection at or below match is stale');
  assert.equal(pr.maybeDecrTo(8, 3), true);
  assert.equal(pr.next, 6, 'replicate falls back to match+1');
  const p2 = newPr(0, 10);
  assert.equal(p2.maybeDecrTo(7, 2), false, 'probe: only next-1 may be rejected');
  assert.equal(p2.maybeDecrTo(9, 2), true);
  assert.equal(p2.next, 3, 'jumps to the hint + 1');
  const p3 = newPr(4, 10);
  p3.maybeDecrTo(9, 1);
  assert.equal(p3.next, 5, 'never below match+1');
});

test('Progress: snapshot state pauses; becomeProbe resumes after the snapshot (issue #2)', () => {
  const pr = newPr(2, 3);
  pr.becomeSnapshot(20);
  assert.equal(pr.isPaused(), true);
  pr.becomeProbe();
  assert.deepEqual([pr.state, pr.next], ['probe', 21]);
});

const set = (...ids: number[]): Set<number> => new Set(ids);
const acked = (m: Record<number, number>) => (id: number): number | undefined => m[id];

test('Quorum: majority commit index is the highest index held by a majority (issue #2)', () => {
  assert.equal(majorityCommittedIndex(set(1, 2, 3), acked({ 1: 5, 2: 3, 3: 1 })), 3);
  assert.equal(majorityCommittedIndex(set(1, 2, 3, 4), acked({ 1: 5, 2: 3, 3: 1, 4: 7 })), 3);
  assert.equal(majorityCommittedIndex(set(1, 2, 3), acked({ 1: 5 })), 0, 'unknown counts as 0');
  assert.equal(majorityCommittedIndex(set(1), acked({ 1: 9 })), 9);
  assert.equal(majorityCommittedIndex(set(), acked({})), Infinity, 'empty config never limits');
});

test('Quorum: majority vote result won/lost/pending (issue #2)', () => {
  const v = (m: Record<number, boolean>): Map<number, boolean> => new Map(Object.entries(m).map(([k, b]) => [Number(k), b]));
  assert.equal(majorityVoteResult(set(1, 2, 3), v({ 1: true, 2: true })), 'won');
  assert.equal(majorityVoteResult(set(1, 2, 3), v({ 1: true, 2: false })), 'pending');
  assert.equal(majorityVoteResult(set(1, 2, 3), v({ 1: false, 2: false })), 'lost');
  assert.equal(majorityVoteResult(set(1, 2, 3, 4), v({ 1: true, 2: true })), 'pending');
  assert.equal(majorityVoteResult(set(), v({})), 'won');
});

test('Quorum: joint commit index is the minimum of both halves; joint votes need both (issue #2, #5)', () => {
  const cfg = { incoming: set(1, 2, 3), outgoing: set(3, 4, 5) };
  assert.equal(jointCommittedIndex(cfg, acked({ 1: 9, 2: 9, 3: 4, 4: 2, 5: 1 })), 2);
  assert.equal(jointCommittedIndex({ incoming: set(1, 2, 3), outgoing: set() }, acked({ 1: 9, 2: 9, 3: 4 })), 9);
  const v = (m: Record<number, boolean>): Map<number, boolean> => new Map(Object.entries(m).map(([k, b]) => [Number(k), b]));
  assert.equal(jointVoteResult(cfg, v({ 1: true, 2: true })), 'pending', 'incoming won, outgoing pending');
  assert.equal(jointVoteResult(cfg, v({ 1: true, 2: true, 4: true, 5: true })), 'won');
  assert.equal(jointVoteResult(cfg, v({ 1: true, 2: true, 4: false, 5: false })), 'lost');
});

test('Quorum: learners are tracked but never counted for commit or votes (issue #2)', () => {
  const trk = new ProgressTracker(4);
  const { config, progress } = restoreConfig(trk, 10, cs([1, 2, 3], [4, 5]));
  trk.config = config;
  trk.progress = progress;
  for (const [id, pr] of trk.progress) pr.match = id >= 4 ? 100 : id === 1 ? 7 : 1;
  assert.equal(trk.committed(), 1, 'two learners at 100 do not make 100 committed');
  trk.recordVote(4, true);
  trk.recordVote(5, true);
  trk.recordVote(1, true);
  assert.deepEqual(trk.tallyVotes(), { granted: 1, rejected: 0, result: 'pending' });
  for (const pr of trk.progress.values()) pr.recentActive = pr.isLearner;
  assert.equal(trk.quorumActive(1), false, 'active learners do not keep a leader alive');
});

function cs(voters: number[], learners: number[] = [], votersOutgoing: number[] = [], learnersNext: number[] = [], autoLeave = false): ConfState {
  return { voters, learners, votersOutgoing, learnersNext, autoLeave };
}

function trackerOf(state: ConfState, lastIndex = 10): ProgressTracker {
  const trk = new ProgressTracker(4);
  const r = restoreConfig(trk, lastIndex, state);
  trk.config = r.config;
  trk.progress = r.progress;
  return trk;
}

function applyTo(trk: ProgressTracker, f: (c: Changer) => ReturnType<Changer['simple']>): ConfState {
  const r = f(new Changer(trk, 10));
  trk.config = r.config;
  trk.progress = r.progress;
  return trk.confState();
}

const add = (nodeId: number): ConfChangeSingle => ({ type: ConfChangeType.AddNode, nodeId });
const addL = (nodeId: number): ConfChangeSingle => ({ type: ConfChangeType.AddLearnerNode, nodeId });
const rm = (nodeId: number): ConfChangeSingle => ({ type: ConfChangeType.RemoveNode, nodeId });

test('ConfChange: simple add voter, add learner, promote, remove (issue #5)', () => {
  const trk = trackerOf(cs([1]));
  assert.deepEqual(applyTo(trk, (c) => c.simple([add(2)])), cs([1, 2]));
  assert.equal(trk.progress.get(2)!.next, 10, 'new member probed from the last index');
  assert.equal(trk.progress.get(2)!.recentActive, true);
  assert.deepEqual(applyTo(trk, (c) => c.simple([addL(3)])), cs([1, 2], [3]));
  assert.deepEqual(applyTo(trk, (c) => c.simple([add(3)])), cs([1, 2, 3]), 'promotion');
  assert.equal(trk.progress.get(3)!.isLearner, false);
  assert.deepEqual(applyTo(trk, (c) => c.simple([rm(2)])), cs([1, 3]));
  assert.equal(trk.progress.has(2), false);
  assert.deepEqual(applyTo(trk, (c) => c.simple([addL(3)])), cs([1], [3]), 'demotion');
});

test('ConfChange: simple changes refuse two voter changes, joint state and zero voters (issue #5)', () => {
  const trk = trackerOf(cs([1]));
  const before = trk.confState();
  const bad = (f: (c: Changer) => unknown): void => assert.throws(() => f(new Changer(trk, 10)), (e) => isStrataError(e, 'ErrInvalidArgument'));
  bad((c) => c.simple([add(2), add(3)]));
  bad((c) => c.simple([rm(1)]));
  bad((c) => c.leaveJoint());
  assert.deepEqual(trk.confState(), before, 'a refused change alters nothing');
  applyTo(trk, (c) => c.enterJoint(true, [add(2), add(3)]));
  bad((c) => c.simple([add(4)]));
  bad((c) => c.enterJoint(false, [add(4)]));
});

test('ConfChange: enter and leave joint, demoted voters staged in learnersNext (issue #5)', () => {
  const trk = trackerOf(cs([1, 2, 3]));
  const joint = applyTo(trk, (c) => c.enterJoint(true, [rm(1), addL(1), add(4), rm(3)]));
  assert.deepEqual(joint, cs([2, 4], [], [1, 2, 3], [1], true));
  assert.equal(trk.progress.has(3), true, 'still an outgoing voter: progress kept');
  assert.equal(trk.progress.get(1)!.isLearner, false, 'staged, not yet a learner');
  const left = applyTo(trk, (c) => c.leaveJoint());
  assert.deepEqual(left, cs([2, 4], [1]));
  assert.equal(trk.progress.has(3), false);
  assert.equal(trk.progress.get(1)!.isLearner, true);
});

test('ConfChange: restore rebuilds joint configs from a ConfState (issue #5)', () => {
  const state = cs([1, 2, 3], [5], [1, 2, 4, 6], [4], true);
  assert.deepEqual(trackerOf(state).confState(), state);
  assert.deepEqual(trackerOf(cs([3, 1], [2])).confState(), cs([1, 3], [2]));
  assert.deepEqual(trackerOf(cs([])).confState(), cs([]));
  void ConfChangeTransition;
});
