/**
 * Sets of directed links `from → to`, as nested maps so that the hot path
 * (one lookup per message) allocates nothing.
 */
import type { NodeId } from '../raft/types.ts';

/** A set of directed links. */
export type LinkSet = Map<NodeId, Set<NodeId>>;

/** True when `from → to` is in the set. */
export function linkHas(links: LinkSet, from: NodeId, to: NodeId): boolean {
  return links.size > 0 && links.get(from)?.has(to) === true;
}

/** Add `from → to`. */
export function linkAdd(links: LinkSet, from: NodeId, to: NodeId): void {
  let s = links.get(from);
  if (s === undefined) {
    s = new Set();
    links.set(from, s);
  }
  s.add(to);
}

/** Remove `from → to`. */
export function linkDelete(links: LinkSet, from: NodeId, to: NodeId): void {
  const s = links.get(from);
  if (s === undefined) return;
  s.delete(to);
  if (s.size === 0) links.delete(from);
}
