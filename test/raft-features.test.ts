// Scenario tests for pre-vote, check-quorum, ReadIndex, leader transfer and
// learners (issue #2), asserting exact states and messages.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MessageType as T, StateRole } from '../src/raft/index.ts';
import { isStrataError } from '../src/errors.ts';
import { Network, brief, dec, drainReady, enc, lone, msg, storeWith } from './raft-network.ts';

const V3 = [1, 2, 3];
const roles = (net: Network, ids: number[]): string[] => ids.map((id) => net.node(id).status().role);
const terms = (net: Network, ids: number[]): number[] => ids.map((id) => net.node(id).status().term);

function elected(ids = V3, opts = {}): Network {
  const net = new Network(ids, opts);
  net.campaign(1);
  assert.equal(net.node(1).status().role, StateRole.Leader);
  return net;
}

test('pre-vote (issue #2): a partitioned node does not bump its term and rejoins without disruption', () => {
  const net = elected();
  net.isolate(3);
  net.tick(100);
  assert.deepEqual([net.node(3).status().term, net.node(3).status().role], [1, StateRole.PreCandidate]);
  const preVotes = net.trace.filter((m) => m.from === 3 && m.type === T.MsgPreVote);
  assert.equal(preVotes.length, 0, 'nothing left the partition');
  net.heal();
  net.tick(1);
  assert.deepEqual(roles(net, V3), ['leader', 'follower', 'follower']);
  assert.deepEqual(terms(net, V3), [1, 1, 1]);
  net.propose(1, 'after');
  assert.deepEqual(net.appliedData(3), ['after']);
});

test('pre-vote (issue #2): without it the rejoining node bumps the term and deposes the leader', () => {
  const net = elected(V3, { preVote: false, checkQuorum: false });
  net.isolate(3);
  net.tick(100);
  assert.ok(net.node(3).status().term > 1);
  net.heal();
  net.tick(25);
  assert.ok(net.node(1).status().term > 1, 'leader forced to a new term');
});

test('pre-vote (issue #2): pre-vote requests carry term+1, grants do not change the voter\'s term, exact messages', () => {
  const n = lone(1, storeWith(V3, [1], { term: 1 }), { preVote: true });
  drainReady(n);
  n.node.campaign();
  const rd = n.node.ready();
  assert.equal(rd.hardState, undefined, 'pre-vote persists nothing');
  assert.deepEqual(rd.messages.map(brief), [
    { type: T.MsgPreVote, from: 1, to: 2, term: 2, index: 1, logTerm: 1 },
    { type: T.MsgPreVote, from: 1, to: 3, term: 2, index: 1, logTerm: 1 },
  ]);
  n.node.advance();
  const v = lone(2, storeWith(V3, [1], { term: 1 }), { preVote: true });
  drainReady(v);
  v.node.step(rd.messages[0]!);
  assert.deepEqual(drainReady(v).map(brief), [{ type: T.MsgPreVoteResp, from: 2, to: 1, term: 2 }]);
  assert.deepEqual([v.node.status().term, v.node.status().vote], [1, 0]);
  n.node.step(msg({ type: T.MsgPreVoteResp, from: 2, to: 1, term: 2 }));
  assert.equal(n.node.status().role, StateRole.Candidate);
  assert.deepEqual(drainReady(n).map(brief), [
    { type: T.MsgVote, from: 1, to: 2, term: 2, index: 1, logTerm: 1 },
    { type: T.MsgVote, from: 1, to: 3, term: 2, index: 1, logTerm: 1 },
  ]);
});

test('check-quorum (issue #2): a leader that hears from no quorum for an election timeout steps down', () => {
  const net = elected();
  net.isolate(1);
  // The first check (10 ticks) still counts the acks from before the
  // partition; the second finds no active follower.
  net.tick(19, [1]);
  assert.equal(net.node(1).status().role, StateRole.Leader);
  net.tick(1, [1]);
  assert.deepEqual([net.node(1).status().role, net.node(1).status().term, net.node(1).status().lead], [StateRole.Follower, 1, 0]);
  // With a live quorum the leader stays.
  const ok = elected();
  ok.isolate(3);
  ok.tick(50, [1, 2]);
  assert.equal(ok.node(1).status().role, StateRole.Leader);
});

test('check-quorum (issue #2): followers with a live leader ignore vote requests, except for a transfer', () => {
  const n = lone(3, storeWith(V3, [1], { term: 1 }), { checkQuorum: true, preVote: true });
  n.node.step(msg({ type: T.MsgHeartbeat, from: 1, to: 3, term: 1 }));
  drainReady(n);
  n.node.step(msg({ type: T.MsgVote, from: 2, to: 3, term: 2, index: 5, logTerm: 1 }));
  n.node.step(msg({ type: T.MsgPreVote, from: 2, to: 3, term: 2, index: 5, logTerm: 1 }));
  assert.deepEqual(drainReady(n), [], 'no answer at all');
  assert.deepEqual([n.node.status().term, n.node.status().lead], [1, 1]);
  n.node.step(msg({ type: T.MsgVote, from: 2, to: 3, term: 2, index: 5, logTerm: 1, context: enc('CampaignTransfer') }));
  assert.deepEqual(drainReady(n).map(brief), [{ type: T.MsgVoteResp, from: 3, to: 2, term: 2 }]);
  assert.deepEqual([n.node.status().term, n.node.status().vote], [2, 2]);
  // Once the election timeout passes without the leader, votes are considered again.
  const m = lone(3, storeWith(V3, [1], { term: 1 }), { checkQuorum: true });
  m.node.step(msg({ type: T.MsgHeartbeat, from: 1, to: 3, term: 1 }));
  for (let i = 0; i < 10; i++) m.node.raft.electionElapsed++;
  drainReady(m);
  m.node.step(msg({ type: T.MsgVote, from: 2, to: 3, term: 2, index: 5, logTerm: 1 }));
  assert.deepEqual(drainReady(m).map(brief), [{ type: T.MsgVoteResp, from: 3, to: 2, term: 2 }]);
});

test('ReadIndex (issue #2): the leader confirms leadership with a heartbeat round before answering', () => {
  const net = elected();
  const commit = net.node(1).status().commit;
  assert.equal(commit, 1);
  const start = net.trace.length;
  net.node(1).readIndex(enc('r1'));
  net.settle();
  const round = net.trace.slice(start).map(brief);
  assert.deepEqual(round, [
    { type: T.MsgHeartbeat, from: 1, to: 2, term: 1, commit: 1, context: 'r1' },
    { type: T.MsgHeartbeat, from: 1, to: 3, term: 1, commit: 1, context: 'r1' },
    { type: T.MsgHeartbeatResp, from: 2, to: 1, term: 1, context: 'r1' },
    { type: T.MsgHeartbeatResp, from: 3, to: 1, term: 1, context: 'r1' },
  ]);
  assert.deepEqual(net.get(1).readStates.map((r) => [r.index, dec(r.requestCtx)]), [[1, 'r1']]);
  // Without a quorum of acks nothing is answered.
  net.isolate(1);
  net.node(1).readIndex(enc('r2'));
  net.settle();
  assert.equal(net.get(1).readStates.length, 1);
});

test('ReadIndex (issue #2): a follower forwards to the leader and gets a read state back', () => {
  const net = elected();
  net.propose(1, 'x');
  const start = net.trace.length;
  net.node(2).readIndex(enc('f1'));
  net.settle();
  const t = net.trace.slice(start).map(brief);
  assert.deepEqual(t[0], { type: T.MsgReadIndex, from: 2, to: 1, term: 0, context: 'f1' });
  assert.deepEqual(t[t.length - 1], { type: T.MsgReadIndexResp, from: 1, to: 2, term: 1, index: 2, context: 'f1' });
  assert.deepEqual(net.get(2).readStates.map((r) => [r.index, dec(r.requestCtx)]), [[2, 'f1']]);
});

test('ReadIndex (issue #2): a new leader holds reads until it commits an entry of its term', () => {
  const n = lone(1, storeWith(V3, [1], { term: 1 }));
  n.node.campaign();
  n.node.step(msg({ type: T.MsgVoteResp, from: 2, to: 1, term: 2 }));
  drainReady(n);
  n.node.readIndex(enc('early'));
  assert.deepEqual(drainReady(n), [], 'no heartbeat round yet');
  n.node.step(msg({ type: T.MsgAppResp, from: 2, to: 1, term: 2, index: 2 }));
  const out = drainReady(n).map(brief).filter((m) => m.type === T.MsgHeartbeat);
  assert.deepEqual(out, [
    { type: T.MsgHeartbeat, from: 1, to: 2, term: 2, commit: 2, context: 'early' },
    { type: T.MsgHeartbeat, from: 1, to: 3, term: 2, context: 'early' },
  ]);
  n.node.step(msg({ type: T.MsgHeartbeatResp, from: 3, to: 1, term: 2, context: enc('early') }));
  drainReady(n);
  assert.deepEqual(n.readStates.map((r) => [r.index, dec(r.requestCtx)]), [[2, 'early']]);
});

test('leader transfer (issue #2): an up-to-date target gets MsgTimeoutNow and wins without pre-vote', () => {
  const net = elected();
  const start = net.trace.length;
  net.node(1).transferLeader(2);
  net.settle();
  const t = net.trace.slice(start).map(brief);
  assert.deepEqual(t[0], { type: T.MsgTimeoutNow, from: 1, to: 2, term: 1 });
  assert.deepEqual(t[1], { type: T.MsgVote, from: 2, to: 1, term: 2, index: 1, logTerm: 1, context: 'CampaignTransfer' });
  assert.deepEqual(roles(net, V3), ['follower', 'leader', 'follower']);
  assert.deepEqual(terms(net, V3), [2, 2, 2]);
  assert.equal(net.node(1).status().lead, 2);
});

test('leader transfer (issue #2): a target that is behind catches up first; proposals are refused meanwhile', () => {
  const net = elected();
  net.cut.add('1->3');
  net.propose(1, 'a');
  net.propose(1, 'b');
  assert.equal(net.node(3).status().lastIndex, 1);
  net.node(1).transferLeader(3);
  net.settle();
  assert.equal(net.node(1).status().leadTransferee, 3);
  assert.throws(() => net.node(1).propose(enc('refused')), (e) => isStrataError(e, 'ErrProposalDropped'));
  net.heal();
  net.tick(1); // heartbeat -> 3 answers -> leader appends -> caught up -> MsgTimeoutNow
  assert.deepEqual(roles(net, V3), ['follower', 'follower', 'leader']);
  assert.equal(net.node(3).status().term, 2);
  net.propose(3, 'c');
  for (const id of V3) assert.deepEqual(net.appliedData(id), ['a', 'b', 'c']);
  const timeoutNow = net.trace.filter((m) => m.type === T.MsgTimeoutNow).map(brief);
  assert.deepEqual(timeoutNow, [{ type: T.MsgTimeoutNow, from: 1, to: 3, term: 1 }], 'sent only once the target matched');
});

test('leader transfer (issue #2): aborted after an election timeout; proposals accepted again', () => {
  const net = elected();
  net.isolate(3);
  net.node(1).transferLeader(3);
  net.settle();
  assert.equal(net.node(1).status().leadTransferee, 3);
  net.tick(9, [1, 2]);
  assert.equal(net.node(1).status().leadTransferee, 3);
  net.tick(1, [1, 2]);
  assert.equal(net.node(1).status().leadTransferee, 0);
  assert.equal(net.node(1).status().role, StateRole.Leader);
  net.propose(1, 'ok');
  assert.deepEqual(net.appliedData(2), ['ok']);
});

test('leader transfer (issue #2): a follower forwards the request; transfer to self or a learner is ignored', () => {
  const net = new Network(V3, {}, 1, [4]);
  net.campaign(1);
  net.node(3).transferLeader(3);
  net.settle();
  assert.equal(net.node(3).status().role, StateRole.Leader);
  net.node(3).transferLeader(3);
  net.node(3).transferLeader(4);
  net.settle();
  assert.equal(net.node(3).status().leadTransferee, 0);
  assert.equal(net.node(3).status().role, StateRole.Leader);
});

test('learners (issue #2): replicate the log, never campaign, never vote-count or commit-count', () => {
  const net = new Network([1, 2], { preVote: false }, 1, [3]);
  assert.deepEqual(net.node(3).status().config, { voters: [1, 2], votersOutgoing: [], learners: [3], learnersNext: [] });
  net.tick(100, [3]);
  assert.deepEqual([net.node(3).status().role, net.node(3).status().term], [StateRole.Follower, 0], 'a learner never campaigns');
  // 2 is unreachable: only the learner answers 1's votes, which does not make 1 leader.
  net.isolate(2);
  net.campaign(1);
  assert.equal(net.node(1).status().role, StateRole.Candidate);
  assert.deepEqual(net.trace.filter((m) => m.type === T.MsgVote).map((m) => m.to), [], 'no vote request reaches the learner');
  net.node(1).step(msg({ type: T.MsgVoteResp, from: 3, to: 1, term: 1 }));
  assert.equal(net.node(1).status().role, StateRole.Candidate, 'a learner\'s grant is not counted');
  net.heal();
  net.campaign(1);
  assert.equal(net.node(1).status().role, StateRole.Leader);
  net.propose(1, 'x');
  assert.deepEqual(net.appliedData(3), ['x'], 'learner receives the log');
  net.cut.add('1->2');
  net.propose(1, 'y');
  assert.equal(net.node(3).status().lastIndex, 3);
  assert.equal(net.node(1).status().commit, 2, 'the learner\'s ack does not commit');
  const p = net.node(1).status().progress.get(3)!;
  assert.deepEqual([p.isLearner, p.match], [true, 3]);
});

/** A lone leader of {1,2,3} at term 2 with log [1] + no-op, after its first Ready. */
function loneLeader(opts = {}) {
  const n = lone(1, storeWith(V3, [1], { term: 1 }), opts);
  n.node.campaign();
  n.node.step(msg({ type: T.MsgVoteResp, from: 2, to: 1, term: 2 }));
  drainReady(n);
  return n;
}

test('flow control (issue #2): a probing follower gets one MsgApp per heartbeat round', () => {
  const n = loneLeader();
  for (const d of ['a', 'b', 'c']) n.node.propose(enc(d));
  assert.deepEqual(drainReady(n).filter((m) => m.to === 2), [], 'paused: the no-op MsgApp is still unanswered');
  n.node.step(msg({ type: T.MsgHeartbeatResp, from: 2, to: 1, term: 2 }));
  const out = drainReady(n).filter((m) => m.to === 2).map(brief);
  assert.deepEqual(out, [{ type: T.MsgApp, from: 1, to: 2, term: 2, index: 1, logTerm: 1, entries: [[2, 2], [3, 2], [4, 2], [5, 2]] }]);
  n.node.propose(enc('d'));
  assert.deepEqual(drainReady(n).filter((m) => m.to === 2), [], 'paused again until an answer');
  assert.equal(n.node.status().progress.get(2)!.state, 'probe');
});

test('flow control (issue #2): replicate streams within maxInflightMsgs; an ack reopens the window', () => {
  const n = loneLeader({ maxInflightMsgs: 2 });
  n.node.step(msg({ type: T.MsgAppResp, from: 3, to: 1, term: 2, index: 2 }));
  assert.equal(n.node.status().progress.get(3)!.state, 'replicate');
  drainReady(n);
  const sent: number[][] = [];
  for (const d of ['a', 'b', 'c', 'd']) {
    n.node.propose(enc(d));
    for (const m of drainReady(n)) if (m.to === 3 && m.type === T.MsgApp) sent.push(m.entries.map((e) => e.index));
  }
  assert.deepEqual(sent, [[3], [4]], 'two in flight, then the window is full');
  n.node.step(msg({ type: T.MsgAppResp, from: 3, to: 1, term: 2, index: 4 }));
  const more = drainReady(n).filter((m) => m.to === 3 && m.type === T.MsgApp).map((m) => m.entries.map((e) => e.index));
  assert.deepEqual(more, [[5, 6]], 'the rest goes in one MsgApp once the window opens');
});

test('flow control (issue #2): MsgApp batches are capped by maxSizePerMsg (data + 16 bytes per entry)', () => {
  const n = loneLeader({ maxSizePerMsg: 300 });
  n.node.step(msg({ type: T.MsgAppResp, from: 3, to: 1, term: 2, index: 2 }));
  drainReady(n);
  // Five 100-byte entries proposed together: 116 + 116 <= 300 < 3 * 116.
  n.node.proposeBatch(Array.from({ length: 5 }, () => new Uint8Array(100)));
  const batches = drainReady(n).filter((m) => m.to === 3 && m.type === T.MsgApp).map((m) => m.entries.map((e) => e.index));
  assert.deepEqual(batches, [[3, 4], [5, 6], [7]]);
});

test('flow control (issue #2): a follower whose MsgApp was reported unreachable falls back to probing', () => {
  const n = loneLeader();
  n.node.step(msg({ type: T.MsgAppResp, from: 3, to: 1, term: 2, index: 2 }));
  assert.equal(n.node.status().progress.get(3)!.state, 'replicate');
  n.node.reportUnreachable(3);
  assert.equal(n.node.status().progress.get(3)!.state, 'probe');
});

test('RawNode (issue #2): Ready/advance cycle — nothing is reported twice, ready() before advance() throws', () => {
  const n = lone(1, storeWith(V3, [1], { term: 1, commit: 1 }));
  assert.equal(n.node.hasReady(), true, 'committed entry 1 awaits applying');
  const rd = n.node.ready();
  assert.deepEqual(rd.committedEntries.map((e) => e.index), [1]);
  assert.throws(() => n.node.ready(), (e) => isStrataError(e, 'ErrInvalidArgument'));
  assert.equal(n.node.hasReady(), false, 'the outstanding Ready is not reported again');
  n.node.advance();
  assert.equal(n.node.status().applied, 1);
  assert.equal(n.node.hasReady(), false);
  n.node.campaign();
  const rd2 = n.node.ready();
  assert.deepEqual(rd2.softState, { lead: 0, role: StateRole.Candidate });
  assert.deepEqual(rd2.hardState, { term: 2, vote: 1, commit: 1 });
  assert.equal(rd2.mustSync, true);
  n.node.advance();
  assert.deepEqual(n.store.initialState().hardState, { term: 2, vote: 1, commit: 1 }, 'advance records the hard state in the LogStore');
  n.node.step(msg({ type: T.MsgVoteResp, from: 2, to: 1, term: 2 }));
  const rd3 = n.node.ready();
  assert.deepEqual(rd3.entries.map((e) => [e.index, e.term]), [[2, 2]], 'the no-op to persist');
  assert.equal(rd3.hardState, undefined, 'term and vote unchanged');
  n.node.advance();
  assert.deepEqual([n.store.lastIndex(), n.store.term(2)], [2, 2], 'advance appended it to the LogStore');
  assert.throws(() => n.node.readIndex(new Uint8Array(0)), (e) => isStrataError(e, 'ErrInvalidArgument'));
});

test('RawNode (issue #2): malformed or unknown-peer messages are dropped, never thrown', () => {
  const n = lone(1, storeWith(V3, [1], { term: 1 }));
  drainReady(n);
  n.node.step(msg({ type: T.MsgApp, from: 2, to: 1, term: 1, index: 1, logTerm: 1, entries: [{ index: 5, term: 1, type: 0, data: enc('gap') }] }));
  n.node.step(msg({ type: T.MsgApp, from: 2, to: 1, term: -1 }));
  n.node.step(msg({ type: T.MsgAppResp, from: 9, to: 1, term: 1, index: 1 }));
  n.node.step(msg({ type: T.MsgHup, from: 2, to: 1 }));
  n.node.step(msg({ type: T.MsgProp, from: 2, to: 1, entries: [{ index: 0, term: 0, type: 0, data: enc('x') }] }));
  assert.deepEqual(drainReady(n), []);
  assert.deepEqual([n.node.status().term, n.node.status().lastIndex, n.node.status().role], [1, 1, StateRole.Follower]);
});
