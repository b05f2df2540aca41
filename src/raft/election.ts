/**
 * Leader election (§5.2, §5.4.1) with pre-vote and check-quorum leases
 * (Raft thesis §9.6, §6.2): starting a campaign, answering (pre-)vote
 * requests, and tallying the answers.
 */
import { log } from '../util/log.ts';
import type { VoteResult } from './quorum.ts';
import type { CampaignType, Raft } from './raft.ts';
import type { Entry, Message, NodeId } from './types.ts';
import { EntryType, MessageType, NONE } from './types.ts';

/** Context marking a vote request as part of a leader transfer (bypasses leases). */
export const CAMPAIGN_TRANSFER = new TextEncoder().encode('CampaignTransfer');

/** The response type for a vote request type. */
export function voteRespType(t: MessageType): MessageType {
  return t === MessageType.MsgVote ? MessageType.MsgVoteResp : MessageType.MsgPreVoteResp;
}

function bytesEqual(a: Uint8Array | undefined, b: Uint8Array): boolean {
  if (a === undefined || a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/**
 * True if a vote request of a higher term must be ignored: with
 * check-quorum, a node that heard from a live leader within the election
 * timeout does not let a partitioned or removed node disrupt it. A leader
 * transfer's campaign is exempt.
 */
export function inLease(r: Raft, m: Message): boolean {
  if (bytesEqual(m.context, CAMPAIGN_TRANSFER)) return false;
  return r.checkQuorum && r.lead !== NONE && r.electionElapsed < r.electionTimeout;
}

function hasUnappliedConfChanges(r: Raft): boolean {
  const rl = r.raftLog;
  if (rl.applied >= rl.committed) return false;
  let ents: Entry[];
  try {
    ents = rl.slice(rl.applied + 1, rl.committed + 1);
  } catch {
    return true;
  }
  for (const e of ents) if (e.type === EntryType.ConfChange) return true;
  return false;
}

/**
 * Start a campaign unless we lead, cannot vote, or have committed conf
 * changes still to apply (our config may be about to change).
 */
export function hup(r: Raft, t: CampaignType): void {
  if (r.state === 'leader') return;
  if (!r.promotable()) {
    log.raft('%d is unpromotable and cannot campaign', r.id);
    return;
  }
  if (hasUnappliedConfChanges(r)) {
    log.raft('%d cannot campaign at term %d: pending conf changes to apply', r.id, r.term);
    return;
  }
  campaign(r, t);
}

/**
 * Ask every voter for a vote. A pre-election asks for the term we would
 * campaign at without adopting it, so a node that cannot win (e.g. one
 * rejoining from a partition) never bumps the cluster's term.
 */
export function campaign(r: Raft, t: CampaignType): void {
  if (!r.promotable()) return;
  let voteMsg: MessageType;
  let term: number;
  if (t === 'pre-election') {
    r.becomePreCandidate();
    voteMsg = MessageType.MsgPreVote;
    term = r.term + 1;
  } else {
    r.becomeCandidate();
    voteMsg = MessageType.MsgVote;
    term = r.term;
  }
  if (poll(r, r.id, voteRespType(voteMsg), true) === 'won') {
    // Single-voter configuration: won outright.
    if (t === 'pre-election') campaign(r, 'election');
    else r.becomeLeader();
    return;
  }
  const lastIndex = r.raftLog.lastIndex();
  const lastTerm = r.raftLog.lastTerm();
  for (const id of r.trk.voterNodes()) {
    if (id === r.id) continue;
    r.send({
      type: voteMsg,
      to: id,
      term,
      index: lastIndex,
      logTerm: lastTerm,
      ...(t === 'transfer' ? { context: CAMPAIGN_TRANSFER } : {}),
    });
  }
}

/** Record a vote (only voters count) and return the election outcome so far. */
export function poll(r: Raft, id: NodeId, t: MessageType, granted: boolean): VoteResult {
  log.raft('%d received %s %s from %d at term %d', r.id, t === MessageType.MsgVoteResp ? 'vote' : 'pre-vote', granted ? 'grant' : 'rejection', id, r.term);
  r.trk.recordVote(id, granted);
  return r.trk.tallyVotes().result;
}

/**
 * Answer a (pre-)vote request of our term or later (§5.2, §5.4.1): grant if
 * we may vote for this candidate and its log is at least as up to date as
 * ours. One vote per term: we grant only the candidate we already voted for,
 * or anyone if we have not voted and know no leader; a pre-vote for a later
 * term is always possible (it changes nothing).
 */
export function stepVoteRequest(r: Raft, m: Message): void {
  const canVote =
    r.vote === m.from ||
    (r.vote === NONE && r.lead === NONE) ||
    (m.type === MessageType.MsgPreVote && m.term > r.term) ||
    (r.voteTwice && m.type === MessageType.MsgVote);
  if (canVote && r.raftLog.isUpToDate(m.index, m.logTerm)) {
    // The grant carries the candidate's term so a pre-candidate counts it.
    r.send({ type: voteRespType(m.type), to: m.from, term: m.term });
    if (m.type === MessageType.MsgVote) {
      r.electionElapsed = 0;
      r.vote = m.from;
    }
  } else {
    r.send({ type: voteRespType(m.type), to: m.from, term: r.term, reject: true, ...commitHint(r) });
  }
}

/**
 * Our commit index and the term of the entry there, carried by vote
 * rejections. A candidate whose log holds that same entry has the same
 * prefix (log matching), so it may commit up to it. This lets a voter that
 * still runs an outdated config (configs take effect when applied) learn
 * that the config change was committed, from a removed node whose longer log
 * makes it refuse the vote, instead of waiting forever for that vote.
 */
export function commitHint(r: Raft): { commit: number; logTerm: number } {
  const commit = r.raftLog.committed;
  return { commit, logTerm: r.raftLog.zeroTermOnOutOfBounds(commit) };
}

/** Learn the commit index from a vote rejection's hint (see {@link commitHint}). */
export function maybeCommitFromHint(r: Raft, m: Message): void {
  if (m.commit > r.raftLog.committed && m.logTerm > 0 && r.raftLog.matchTerm(m.commit, m.logTerm)) {
    log.raft('%d learned commit %d from %d\'s vote rejection', r.id, m.commit, m.from);
    r.raftLog.commitTo(m.commit);
  }
}
