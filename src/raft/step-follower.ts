/**
 * Message handling of followers and (pre-)candidates.
 */
import { strataError } from '../errors.ts';
import { log } from '../util/log.ts';
import { campaign, hup, poll } from './election.ts';
import type { Raft } from './raft.ts';
import { handleAppendEntries, handleHeartbeat, handleSnapshot, bcastAppend } from './replication.ts';
import type { Message } from './types.ts';
import { MessageType, NONE, StateRole } from './types.ts';

function forward(r: Raft, m: Message): void {
  r.msgs.push({ ...m, to: r.lead, term: 0 });
}

/** Handle `m` as a follower. */
export function stepFollower(r: Raft, m: Message): void {
  switch (m.type) {
    case MessageType.MsgProp:
      if (r.lead === NONE) throw strataError('ErrProposalDropped', 'no leader');
      forward(r, { ...m, from: m.from === NONE ? r.id : m.from });
      return;
    case MessageType.MsgApp:
      heardFromLeader(r, m);
      handleAppendEntries(r, m);
      return;
    case MessageType.MsgHeartbeat:
      heardFromLeader(r, m);
      handleHeartbeat(r, m);
      return;
    case MessageType.MsgSnap:
      heardFromLeader(r, m);
      handleSnapshot(r, m);
      return;
    case MessageType.MsgTransferLeader:
      if (r.lead === NONE) {
        log.raft('%d no leader at term %d; dropping leader transfer', r.id, r.term);
        return;
      }
      forward(r, m);
      return;
    case MessageType.MsgTimeoutNow:
      // A transfer skips pre-vote: the leader asked us, so no partition to guard against.
      log.raft('%d received MsgTimeoutNow from %d; campaigning', r.id, m.from);
      hup(r, 'transfer');
      return;
    case MessageType.MsgReadIndex:
      if (r.lead === NONE) {
        log.raft('%d no leader at term %d; dropping read index', r.id, r.term);
        return;
      }
      forward(r, { ...m, from: m.from === NONE ? r.id : m.from });
      return;
    case MessageType.MsgReadIndexResp:
      r.readStates.push({ index: m.index, requestCtx: m.context ?? new Uint8Array(0) });
      return;
    default:
      return;
  }
}

/** Handle `m` as a pre-candidate or candidate. */
export function stepCandidate(r: Raft, m: Message): void {
  const myVoteResp = r.state === StateRole.PreCandidate ? MessageType.MsgPreVoteResp : MessageType.MsgVoteResp;
  switch (m.type) {
    case MessageType.MsgProp:
      throw strataError('ErrProposalDropped', 'no leader (election in progress)');
    case MessageType.MsgApp:
      // A leader of our term exists (§5.2): step down.
      r.becomeFollower(m.term, m.from);
      handleAppendEntries(r, m);
      return;
    case MessageType.MsgHeartbeat:
      r.becomeFollower(m.term, m.from);
      handleHeartbeat(r, m);
      return;
    case MessageType.MsgSnap:
      r.becomeFollower(m.term, m.from);
      handleSnapshot(r, m);
      return;
    case myVoteResp: {
      const res = poll(r, m.from, m.type, !m.reject);
      if (res === 'won') {
        if (r.state === StateRole.PreCandidate) {
          campaign(r, 'election');
        } else {
          r.becomeLeader();
          bcastAppend(r);
        }
      } else if (res === 'lost') {
        // Pre-vote lost: a rejection may carry a higher term already adopted in step().
        r.becomeFollower(r.term, NONE);
      }
      return;
    }
    default:
      return;
  }
}

/**
 * A message only the current leader sends (MsgApp, MsgHeartbeat, MsgSnap):
 * its sender is our leader for this term, and hearing from it restarts the
 * election timeout.
 */
function heardFromLeader(r: Raft, m: Message): void {
  r.electionElapsed = 0;
  r.lead = m.from;
}
