/**
 * The leader's message handling: proposals (with the one-pending-conf-change
 * rule), acknowledgements and rejections from followers, check-quorum,
 * ReadIndex confirmation, snapshot status and leader transfer.
 */
import { strataError } from '../errors.ts';
import { log } from '../util/log.ts';
import { jointVoteResult } from './quorum.ts';
import type { Raft } from './raft.ts';
import { decodeConfChange } from './confchange.ts';
import { encodeRefusal } from './refusal.ts';
import { bcastHeartbeat, bcastHeartbeatWithCtx, maybeSendAppend, sendAppend } from './replication.ts';
import type { Entry, Message } from './types.ts';
import { EntryType, MessageType, NONE } from './types.ts';

const EMPTY_DATA = new Uint8Array(0);

/** Handle `m` as the leader. */
export function stepLeader(r: Raft, m: Message): void {
  switch (m.type) {
    case MessageType.MsgBeat:
      bcastHeartbeat(r);
      return;
    case MessageType.MsgCheckQuorum:
      if (!r.trk.quorumActive(r.id)) {
        log.raft('%d stepped down to follower: quorum is not active', r.id);
        r.becomeFollower(r.term, NONE);
      }
      // Everyone must show activity again before the next check.
      for (const [id, pr] of r.trk.progress) if (id !== r.id) pr.recentActive = false;
      return;
    case MessageType.MsgProp:
      stepProposal(r, m);
      return;
    case MessageType.MsgReadIndex:
      stepReadIndex(r, m);
      return;
    default:
      break;
  }

  const pr = r.trk.progress.get(m.from);
  if (pr === undefined) return;
  switch (m.type) {
    case MessageType.MsgAppResp: {
      pr.recentActive = true;
      if (m.reject) {
        // Fast backtracking: with the follower's (index, term) hint, skip to
        // the last index where our log could match theirs.
        let nextProbeIdx = m.rejectHint;
        if (m.logTerm > 0) nextProbeIdx = r.raftLog.findConflictByTerm(m.rejectHint, m.logTerm).index;
        if (pr.maybeDecrTo(m.index, nextProbeIdx)) {
          if (pr.state === 'replicate') pr.becomeProbe();
          sendAppend(r, m.from);
        }
        return;
      }
      const oldPaused = pr.isPaused();
      if (pr.maybeUpdate(m.index) || (pr.match === m.index && pr.state === 'probe')) {
        if (pr.state === 'probe') {
          pr.becomeReplicate();
        } else if (pr.state === 'snapshot' && pr.match + 1 >= r.raftLog.firstIndex()) {
          // The snapshot got the follower far enough to replicate from our log.
          pr.becomeProbe();
          pr.becomeReplicate();
        } else if (pr.state === 'snapshot' && pr.match >= pr.pendingSnapshot) {
          // The snapshot was applied but we compacted past it meanwhile:
          // probe again, which sends a newer snapshot (no report needed).
          pr.becomeProbe();
        } else if (pr.state === 'replicate') {
          pr.inflights.freeLE(m.index);
        }
        if (r.maybeCommit()) {
          releasePendingReadIndexMessages(r);
          // Tell everyone the new commit index at the next Ready, riding on
          // the MsgApps of any proposals that arrive before it.
          r.pendingBcast = true;
          r.pendingCommitBcast = true;
        } else if (oldPaused && m.from !== r.id) {
          // It may have missed the latest commit index while paused: send it
          // (an empty MsgApp if there is nothing new).
          sendAppend(r, m.from);
        }
        // The window may have opened: stream as much as it allows.
        if (m.from !== r.id) while (maybeSendAppend(r, m.from, false)) { /* keep sending */ }
        if (m.from === r.leadTransferee && pr.match === r.raftLog.lastIndex()) {
          log.raft('%d sends MsgTimeoutNow to %d after it caught up', r.id, m.from);
          sendTimeoutNow(r, m.from);
        }
      }
      return;
    }
    case MessageType.MsgHeartbeatResp: {
      pr.recentActive = true;
      pr.msgAppFlowPaused = false;
      // Even a full window gets an (empty) append, so lost messages cannot stall it.
      if (pr.match < r.raftLog.lastIndex()) sendAppend(r, m.from);
      if (m.context === undefined || m.context.length === 0) return;
      const acks = r.readOnly.recvAck(m.from, m.context);
      if (acks === undefined || jointVoteResult(r.trk.config.voters, acks) !== 'won') return;
      for (const rs of r.readOnly.advance(m.context)) respondToReadIndex(r, rs.req, rs.index);
      return;
    }
    case MessageType.MsgSnapStatus:
      if (pr.state !== 'snapshot') return;
      if (m.reject) pr.pendingSnapshot = 0;
      pr.becomeProbe();
      // After success wait for the follower's MsgAppResp; after failure wait a heartbeat.
      pr.msgAppFlowPaused = true;
      return;
    case MessageType.MsgUnreachable:
      // In replicate a MsgApp to an unreachable peer was most likely lost.
      if (pr.state === 'replicate') pr.becomeProbe();
      return;
    case MessageType.MsgTransferLeader: {
      if (pr.isLearner) {
        log.raft('%d ignores transfer to learner %d', r.id, m.from);
        return;
      }
      const transferee = m.from;
      if (r.leadTransferee !== NONE) {
        if (r.leadTransferee === transferee) return;
        r.abortLeaderTransfer();
      }
      if (transferee === r.id) return;
      // The transfer must finish within an election timeout.
      r.electionElapsed = 0;
      r.leadTransferee = transferee;
      if (pr.match === r.raftLog.lastIndex()) sendTimeoutNow(r, transferee);
      else sendAppend(r, transferee);
      return;
    }
    default:
      return;
  }
}

/** Tell the transferee to campaign now. A removed leader's hand-off is then done: it steps down. */
export function sendTimeoutNow(r: Raft, to: number): void {
  r.send({ type: MessageType.MsgTimeoutNow, to });
  // The transferee holds our whole log and we can append nothing more, so
  // it will win our vote even if this message is lost and it campaigns later.
  if (!r.isVoterSelf()) r.becomeFollower(r.term, NONE);
}

/**
 * A proposal. Refused (ErrProposalDropped) if we were removed or a transfer
 * runs. Conf changes: at most one unapplied at a time, and joint-state rules;
 * a local proposal that breaks them throws, a forwarded one is replaced by an
 * empty entry (the follower cannot be told synchronously).
 */
function stepProposal(r: Raft, m: Message): void {
  if (m.entries.length === 0) return;
  if (!r.trk.progress.has(r.id)) throw strataError('ErrProposalDropped', 'leader was removed from the configuration');
  if (r.leadTransferee !== NONE) throw strataError('ErrProposalDropped', `leader transfer to ${r.leadTransferee} in progress`);
  const local = m.from === r.id || m.from === NONE;
  let ents: readonly Entry[] = m.entries;
  for (let i = 0; i < m.entries.length; i++) {
    const e = m.entries[i]!;
    if (e.type !== EntryType.ConfChange) continue;
    const failure = confChangeRefusal(r, e.data);
    if (failure === undefined) {
      r.pendingConfIndex = r.raftLog.lastIndex() + i + 1;
      continue;
    }
    if (local) throw failure;
    log.raft('%d ignoring forwarded conf change: %s', r.id, failure.message);
    r.send({ type: MessageType.MsgPropReject, to: m.from, entries: [e], context: encodeRefusal(failure), reject: true });
    if (ents === m.entries) ents = m.entries.slice();
    (ents as Entry[])[i] = { term: 0, index: 0, type: EntryType.Normal, data: EMPTY_DATA };
  }
  r.appendEntry(ents);
  // Sent at the next Ready, together with any further proposals.
  r.pendingBcast = true;
}

function confChangeRefusal(r: Raft, data: Uint8Array): Error | undefined {
  const cc = decodeConfChange(data);
  if (cc === undefined) return strataError('ErrInvalidArgument', 'malformed conf change');
  // An earlier conf change in the same batch also makes this one pending.
  if (r.pendingConfIndex > r.raftLog.applied) {
    return strataError('ErrConfChangePending', `conf change at index ${r.pendingConfIndex} not yet applied (applied ${r.raftLog.applied})`);
  }
  const joint = r.trk.config.voters.outgoing.size > 0;
  const leave = cc.changes.length === 0;
  if (joint && !leave) return strataError('ErrInvalidArgument', 'must transition out of joint config first');
  if (!joint && leave) return strataError('ErrInvalidArgument', 'not in joint state; refusing empty conf change');
  try {
    r.checkConfChange(cc);
  } catch (err) {
    return err instanceof Error ? err : strataError('ErrInvalidArgument', String(err));
  }
  return undefined;
}

function stepReadIndex(r: Raft, m: Message): void {
  if (r.trk.isSingleton()) {
    // The only voter: our commit index is authoritative.
    respondToReadIndex(r, m, r.raftLog.committed);
    return;
  }
  // Until the leader commits an entry of its term it does not know the
  // latest commit index; hold the read until then.
  if (!r.committedEntryInCurrentTerm()) {
    r.pendingReadIndexMessages.push(m);
    return;
  }
  sendReadIndexHeartbeat(r, m);
}

function sendReadIndexHeartbeat(r: Raft, m: Message): void {
  r.readOnly.addRequest(r.raftLog.committed, m);
  r.readOnly.recvAck(r.id, m.context);
  bcastHeartbeatWithCtx(r, m.context);
}

/** Release reads held until the leader's first commit in its term. */
export function releasePendingReadIndexMessages(r: Raft): void {
  if (r.pendingReadIndexMessages.length === 0 || !r.committedEntryInCurrentTerm()) return;
  const pending = r.pendingReadIndexMessages;
  r.pendingReadIndexMessages = [];
  for (const m of pending) sendReadIndexHeartbeat(r, m);
}

function respondToReadIndex(r: Raft, req: Message, index: number): void {
  const ctx = req.context ?? EMPTY_DATA;
  if (req.from === NONE || req.from === r.id) {
    r.readStates.push({ index, requestCtx: ctx });
    return;
  }
  r.send({ type: MessageType.MsgReadIndexResp, to: req.from, index, context: ctx });
}
