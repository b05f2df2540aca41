/**
 * The Cluster service (spec R9.1–R9.4): list, add, promote and remove
 * members. Membership itself is Raft's configuration (RaftNode applies the
 * conf changes); names and URLs of members known from the initial cluster
 * or added through this member are remembered here, others are listed with
 * an empty name, as etcd lists a member that has not started yet.
 */
import { strataError } from '../errors.ts';
import type { NodeId } from '../raft/types.ts';
import type { ServerCore } from './core.ts';
import { memberIdOf, type Member } from './members.ts';
import type { CallOptions } from './types.ts';

/** Most learners at once (etcd's default max-learners, R9.2). */
export const MAX_LEARNERS = 1;

/** `node.members`. */
export class MembersApi {
  private readonly known = new Map<NodeId, Member>();

  constructor(
    private readonly core: ServerCore,
    private readonly token: string,
  ) {
    for (const m of core.config.members) this.known.set(m.id, m);
  }

  /** Every member of the current configuration, voters then learners, by id (R9.1). */
  list(): Promise<Member[]> {
    const st = this.core.raft.status();
    const ids = [...st.voters.map((id) => [id, false] as const), ...st.learners.map((id) => [id, true] as const)];
    // Before the configuration is known (a joining member), report the initial cluster.
    if (ids.length === 0) return Promise.resolve([...this.known.values()].map((m) => ({ ...m })));
    return Promise.resolve(
      ids
        .map(([id, isLearner]) => {
          const m = this.known.get(id);
          return { id, name: m?.name ?? '', peerURLs: [...(m?.peerURLs ?? [])], clientURLs: [...(m?.clientURLs ?? [])], isLearner };
        })
        .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : a.id - b.id)),
    );
  }

  /**
   * Add a member (R9.2), as a learner with `isLearner`. Its id is derived
   * from `name`, `peerURLs` and the cluster token, so the new member computes
   * the same id when it starts with `initialClusterState: 'existing'`.
   * ErrPeerURLExist, ErrTooManyLearners, ErrMemberExists; with strict
   * reconfiguration checks (default) ErrUnhealthy, ErrNotEnoughStartedMembers.
   */
  async add(spec: { name: string; peerURLs: readonly string[]; isLearner?: boolean }, options: CallOptions = {}): Promise<Member> {
    this.core.checkOpen();
    if (spec.peerURLs.length === 0) throw strataError('ErrInvalidArgument', 'a member needs a peer URL');
    const current = await this.list();
    const urls = new Set(current.flatMap((m) => m.peerURLs));
    for (const u of spec.peerURLs) if (urls.has(u)) throw strataError('ErrPeerURLExist', `peer URL ${u} is in use`);
    const isLearner = spec.isLearner === true;
    if (isLearner && current.filter((m) => m.isLearner).length >= MAX_LEARNERS) {
      throw strataError('ErrTooManyLearners', `too many learners (max ${MAX_LEARNERS})`);
    }
    const id = memberIdOf(spec.name, spec.peerURLs, this.token);
    const member: Member = { id, name: spec.name, peerURLs: [...spec.peerURLs], clientURLs: [], isLearner };
    this.known.set(id, member);
    const address = spec.peerURLs[0] as string;
    const i = address.indexOf('://');
    await this.core.raft.addMember(id, {
      learner: isLearner,
      context: i >= 0 ? address.slice(i + 3) : address,
      ...(options.signal !== undefined ? { signal: options.signal } : {}),
    });
    return { ...member };
  }

  /** Promote a learner to voter (R9.4), from any member: ErrMemberNotLearner, ErrLearnerNotReady, ErrNotEnoughStartedMembers. */
  async promote(id: NodeId, options: CallOptions = {}): Promise<void> {
    this.core.checkOpen();
    await this.core.raft.promoteMember(id, options.signal !== undefined ? { signal: options.signal } : {});
    const m = this.known.get(id);
    if (m !== undefined) this.known.set(id, { ...m, isLearner: false });
  }

  /** Remove a member (R9.3): ErrMemberNotFound for an unknown id; ErrUnhealthy or ErrNotEnoughStartedMembers when it would break the quorum. */
  async remove(id: NodeId, options: CallOptions = {}): Promise<void> {
    this.core.checkOpen();
    await this.core.raft.removeMember(id, options.signal !== undefined ? { signal: options.signal } : {});
  }
}
