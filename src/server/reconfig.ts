/**
 * etcd's strict reconfiguration checks (`--strict-reconfig-check`, on by
 * default; spec R9.2–R9.4), run by the leader on every membership change
 * (RaftNode's `reconfigCheck`), so a change that would leave the cluster
 * without a working quorum is refused before it reaches the log:
 *
 * - adding a voter when too few members have started to hold the enlarged
 *   quorum: `ErrNotEnoughStartedMembers`;
 * - adding any member while some voter is not connected: `ErrUnhealthy`;
 * - promoting a learner when too few members have started: `ErrNotEnoughStartedMembers`;
 * - removing a voter when the others that have started are no quorum:
 *   `ErrNotEnoughStartedMembers`; removing an active voter when the active
 *   ones left would be no quorum: `ErrUnhealthy`. A learner, or a voter that
 *   is down, may always be removed.
 *
 * "Started" is a member the leader has heard from or that acknowledged log
 * entries; "active" one heard from within the last election timeout.
 */
import { strataError } from '../errors.ts';
import type { ReconfigView } from '../node/options.ts';
import { ConfChangeType, type ConfChangeSingle, type NodeId } from '../raft/types.ts';

const quorum = (n: number): number => Math.floor(n / 2) + 1;

/** The first reason to refuse `changes`, or undefined. */
export function strictReconfigCheck(changes: readonly ConfChangeSingle[], view: ReconfigView): Error | undefined {
  for (const ch of changes) {
    const err = checkOne(ch, view);
    if (err !== undefined) return err;
  }
  return undefined;
}

function checkOne(ch: ConfChangeSingle, view: ReconfigView): Error | undefined {
  const { voters, learners } = view;
  const id = ch.nodeId;
  const startedVoters = (except?: NodeId): number => voters.filter((v) => v !== except && view.isStarted(v)).length;
  switch (ch.type) {
    case ConfChangeType.AddNode: {
      if (voters.includes(id)) return undefined;
      if (learners.includes(id)) {
        // Promotion: the learner counts as started and as a member.
        if (startedVoters() + 1 < quorum(voters.length + 1)) {
          return strataError('ErrNotEnoughStartedMembers', `promoting ${id} needs a quorum of started members`);
        }
        return undefined;
      }
      if (startedVoters() < quorum(voters.length + 1)) {
        return strataError('ErrNotEnoughStartedMembers', `adding voter ${id} would leave too few started members for the new quorum`);
      }
      return allConnected(view, id);
    }
    case ConfChangeType.AddLearnerNode:
      if (learners.includes(id) || voters.includes(id)) return undefined;
      return allConnected(view, id);
    case ConfChangeType.RemoveNode: {
      if (!voters.includes(id)) return undefined; // a learner (or unknown: RaftNode reports that)
      const others = voters.length - 1;
      if (startedVoters(id) < quorum(others)) {
        return strataError('ErrNotEnoughStartedMembers', `removing ${id} would leave too few started members for a quorum`);
      }
      if (id !== view.self && !view.isActive(id)) return undefined; // a member that is down is safe to remove
      const active = voters.filter((v) => view.isActive(v)).length;
      if (active - 1 < quorum(voters.length - 1)) {
        return strataError('ErrUnhealthy', `removing active member ${id} would leave ${active - 1} active of ${voters.length - 1}: no quorum`);
      }
      return undefined;
    }
    default:
      return undefined;
  }
}

function allConnected(view: ReconfigView, adding: NodeId): Error | undefined {
  const down = view.voters.filter((v) => !view.isActive(v));
  if (down.length === 0) return undefined;
  return strataError('ErrUnhealthy', `cannot add ${adding}: voters ${down.join(', ')} are not connected`);
}
