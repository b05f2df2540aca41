/**
 * Static cluster membership (etcd's `--initial-cluster`): member names, peer
 * URLs, and the ids derived from them. Ids are stable functions of
 * (name, peer URLs, cluster token), as etcd's are, so every member computes
 * the same ids and a transport can be created for an id before the member
 * opens. Explicit ids may be given instead.
 */
import { createHash } from 'node:crypto';
import { strataError } from '../errors.ts';
import type { NodeId } from '../raft/types.ts';

/** One member of the initial cluster. */
export interface MemberSpec {
  /** Human name (unique in the cluster). */
  readonly name: string;
  /** Peer URLs (addresses the transport uses); may be empty for in-memory networks. */
  readonly peerURLs: readonly string[];
  /** Client URLs (informational; Strata is embedded). */
  readonly clientURLs?: readonly string[];
  /** Explicit member id; derived from name, peer URLs and token when absent. */
  readonly id?: NodeId;
  /** True for a non-voting member. */
  readonly isLearner?: boolean;
}

/** A member as `members.list()` reports it (R9.1). */
export interface Member {
  readonly id: NodeId;
  readonly name: string;
  readonly peerURLs: readonly string[];
  readonly clientURLs: readonly string[];
  readonly isLearner: boolean;
}

/**
 * Accepted forms of the initial cluster: etcd's string
 * (`"a=http://h1:2380,b=http://h2:2380"`), a name → peer URL record, or a list
 * of {@link MemberSpec}.
 */
export type InitialCluster = string | Readonly<Record<string, string>> | readonly MemberSpec[];

/** Default cluster token (etcd's `--initial-cluster-token`). */
export const DEFAULT_CLUSTER_TOKEN = 'strata-cluster';

/** A 48-bit positive id from a SHA-1 of the parts. */
function hashId(parts: readonly string[]): NodeId {
  const h = createHash('sha1').update(parts.join('\u0000')).digest();
  const id = h.readUIntBE(0, 6);
  return id === 0 ? 1 : id;
}

/** The id of a member, as every member computes it (unless given explicitly). */
export function memberIdOf(name: string, peerURLs: readonly string[], token = DEFAULT_CLUSTER_TOKEN): NodeId {
  return hashId(['member', name, ...[...peerURLs].sort(), token]);
}

/** The cluster id: a function of the member ids and the token. */
export function clusterIdOf(memberIds: readonly NodeId[], token = DEFAULT_CLUSTER_TOKEN): NodeId {
  return hashId(['cluster', ...[...memberIds].sort((a, b) => a - b).map(String), token]);
}

/** Members in a stable order (by name), with ids resolved. Throws ErrInvalidArgument on duplicates. */
export function parseInitialCluster(cluster: InitialCluster, token = DEFAULT_CLUSTER_TOKEN): Member[] {
  let specs: MemberSpec[];
  if (typeof cluster === 'string') {
    const byName = new Map<string, string[]>();
    for (const part of cluster.split(',').map((s) => s.trim()).filter((s) => s.length > 0)) {
      const eq = part.indexOf('=');
      if (eq <= 0) throw strataError('ErrInvalidArgument', `bad initial-cluster entry "${part}"`);
      const name = part.slice(0, eq);
      const urls = byName.get(name) ?? [];
      urls.push(part.slice(eq + 1));
      byName.set(name, urls);
    }
    specs = [...byName].map(([name, peerURLs]) => ({ name, peerURLs }));
  } else if (Array.isArray(cluster)) {
    specs = [...(cluster as readonly MemberSpec[])];
  } else {
    specs = Object.entries(cluster as Readonly<Record<string, string>>).map(([name, url]) => ({ name, peerURLs: url === '' ? [] : [url] }));
  }
  if (specs.length === 0) throw strataError('ErrInvalidArgument', 'initial cluster is empty');
  const members = specs.map((s) => ({
    id: s.id ?? memberIdOf(s.name, s.peerURLs, token),
    name: s.name,
    peerURLs: [...s.peerURLs],
    clientURLs: [...(s.clientURLs ?? [])],
    isLearner: s.isLearner ?? false,
  }));
  const names = new Set(members.map((m) => m.name));
  const ids = new Set(members.map((m) => m.id));
  if (names.size !== members.length) throw strataError('ErrInvalidArgument', 'duplicate member name in initial cluster');
  if (ids.size !== members.length) throw strataError('ErrMemberExists', 'duplicate member id in initial cluster');
  return members.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

/** Member id as etcd prints it: lower-case hex. */
export function formatMemberId(id: NodeId): string {
  return id.toString(16);
}
