/**
 * Log replication (§5.3): what the leader sends (MsgApp batches, heartbeats,
 * snapshots) and how a follower handles it (consistency check, conflict
 * truncation, fast-backtracking reject hints).
 */
import { log } from '../util/log.ts';
import { entriesSize } from './entry-size.ts';
import type { Raft } from './raft.ts';
import type { Message, NodeId, Snapshot } from './types.ts';
import { MessageType, NONE, StateRole } from './types.ts';

/**
 * Send a MsgApp to `to` if its progress allows: entries from `next` (batched
 * up to maxSizePerMsg), or a snapshot if they were compacted. With
 * `sendIfEmpty` false nothing is sent when there are no entries. Returns true
 * if a message was sent.
 */
export function maybeSendAppend(r: Raft, to: NodeId, sendIfEmpty: boolean): boolean {
  const pr = r.trk.progress.get(to);
  if (pr === undefined || pr.isPaused()) return false;
  const prevIndex = pr.next - 1;
  const prevTerm = r.raftLog.term(prevIndex);
  const rl = r.raftLog;
  // A throttled follower in replicate only gets empty MsgApps, which still
  // elicit an answer that frees the window if all in-flight messages were lost.
  let ents: ReturnType<typeof rl.entries> = [];
  let compacted = prevTerm === undefined;
  if (!compacted && (pr.state !== 'replicate' || !pr.inflights.full())) {
    if (pr.next < rl.firstIndex()) compacted = true;
    else ents = rl.entries(pr.next, r.maxMsgSize);
  }
  if (compacted) return maybeSendSnapshot(r, to);
  if (ents.length === 0 && !sendIfEmpty) return false;
  // A log that starts at the beginning carries the bootstrap snapshot (index
  // 0): its config is not in any entry, and a joining member needs it.
  const boot = prevIndex === 0 ? bootstrapOf(r) : undefined;
  r.send({
    type: MessageType.MsgApp,
    to,
    index: prevIndex,
    logTerm: prevTerm,
    entries: ents,
    commit: rl.committed,
    ...(boot !== undefined ? { snapshot: boot } : {}),
  });
  pr.sentEntries(ents.length, ents.length === 0 ? 0 : entriesSize(ents));
  if (rl.committed > pr.sentCommit) pr.sentCommit = rl.committed;
  return true;
}

function bootstrapOf(r: Raft): Snapshot | undefined {
  const snap = r.raftLog.storage.snapshot();
  return snap.metadata.index === 0 && snap.metadata.confState.voters.length > 0 ? snap : undefined;
}

function maybeSendSnapshot(r: Raft, to: NodeId): boolean {
  const pr = r.trk.progress.get(to)!;
  if (!pr.recentActive) {
    log.raft('%d not sending snapshot to %d: not recently active', r.id, to);
    return false;
  }
  const snap = r.raftLog.snapshot();
  if (snap.metadata.index === 0) {
    log.raft('%d needs a snapshot for %d but has none', r.id, to);
    return false;
  }
  r.send({ type: MessageType.MsgSnap, to, snapshot: snap });
  pr.becomeSnapshot(snap.metadata.index);
  log.raft('%d sent snapshot [index %d] to %d', r.id, snap.metadata.index, to);
  return true;
}

/** Send a MsgApp (possibly empty, to carry the commit index) to `to`. */
export function sendAppend(r: Raft, to: NodeId): void {
  maybeSendAppend(r, to, true);
}

/** sendAppend to every other member (voters and learners). */
export function bcastAppend(r: Raft): void {
  for (const id of r.trk.progress.keys()) if (id !== r.id) maybeSendAppend(r, id, true);
}

/** Heartbeat to `to`, carrying a commit index it can safely adopt and the read context. */
export function sendHeartbeat(r: Raft, to: NodeId, ctx: Uint8Array | undefined): void {
  const pr = r.trk.progress.get(to);
  if (pr === undefined) return;
  // Never tell a follower a commit index beyond what it is known to hold:
  // its log beyond `match` may still differ from ours.
  const commit = Math.min(pr.match, r.raftLog.committed);
  r.send({ type: MessageType.MsgHeartbeat, to, commit, ...(ctx !== undefined ? { context: ctx } : {}) });
}

/** Heartbeat every other member, with the newest pending read context. */
export function bcastHeartbeat(r: Raft): void {
  bcastHeartbeatWithCtx(r, r.readOnly.lastPendingRequestCtx());
}

/** Heartbeat every other member with `ctx`. */
export function bcastHeartbeatWithCtx(r: Raft, ctx: Uint8Array | undefined): void {
  for (const id of r.trk.progress.keys()) if (id !== r.id) sendHeartbeat(r, id, ctx);
}

/**
 * Follower side of AppendEntries: accept if our log has the leader's
 * previous entry (§5.3 consistency check), overwriting any conflicting
 * suffix; otherwise reject with a hint (the last index whose term is <= the
 * leader's previous term) so the leader can skip a whole term at once.
 */
export function handleAppendEntries(r: Raft, m: Message): void {
  const rl = r.raftLog;
  if (m.index === 0 && m.snapshot !== undefined && m.snapshot.metadata.index === 0) adoptBootstrap(r, m.snapshot);
  if (m.index < rl.committed) {
    // Everything up to our commit index is known to match.
    r.send({ type: MessageType.MsgAppResp, to: m.from, index: rl.committed });
    return;
  }
  const lastnewi = rl.maybeAppend(m.index, m.logTerm, m.commit, m.entries);
  if (lastnewi >= 0) {
    r.send({ type: MessageType.MsgAppResp, to: m.from, index: lastnewi });
    return;
  }
  const hint = rl.findConflictByTerm(Math.min(m.index, rl.lastIndex()), m.logTerm);
  r.send({ type: MessageType.MsgAppResp, to: m.from, index: m.index, reject: true, rejectHint: hint.index, logTerm: hint.term });
}

/** Follower side of a heartbeat: adopt the commit index and answer (echoing the read context). */
export function handleHeartbeat(r: Raft, m: Message): void {
  r.raftLog.commitTo(m.commit);
  r.send({ type: MessageType.MsgHeartbeatResp, to: m.from, ...(m.context !== undefined ? { context: m.context } : {}) });
}

/** Follower side of MsgSnap: install it if useful and report our last index. */
export function handleSnapshot(r: Raft, m: Message): void {
  if (m.snapshot === undefined) return;
  if (installSnapshot(r, m.snapshot)) {
    r.send({ type: MessageType.MsgAppResp, to: m.from, index: r.raftLog.lastIndex() });
  } else {
    r.send({ type: MessageType.MsgAppResp, to: m.from, index: r.raftLog.committed });
  }
}

/**
 * Install an incoming snapshot (follower). Returns false if it is stale,
 * does not include us, or our log already holds its last entry (then we
 * just commit up to it).
 */
export function installSnapshot(r: Raft, s: Snapshot): boolean {
  const { index, term, confState: cs } = s.metadata;
  if (index <= r.raftLog.committed) return false;
  if (r.state !== StateRole.Follower) {
    // Defence in depth: only followers install snapshots.
    r.becomeFollower(r.term + 1, NONE);
    return false;
  }
  // Unlike etcd-io/raft, a snapshot whose config lacks us is installed too:
  // configs take effect when applied, so a member added after the leader's
  // last snapshot is in none of its snapshots, and refusing them would leave
  // it stuck until the driver makes a new one. Its contents are committed
  // state either way; we join the config when we apply the entry adding us.
  const inConfig = cs.voters.includes(r.id) || cs.learners.includes(r.id) || cs.votersOutgoing.includes(r.id);
  if (!inConfig) log.raft('%d installing snapshot %d whose config does not include it yet', r.id, index);
  if (r.raftLog.matchTerm(index, term)) {
    // Our log holds the snapshot's last entry: fast-forward the commit index.
    r.raftLog.commitTo(index);
    return false;
  }
  r.raftLog.restore(s);
  r.resetConfig(cs);
  const pr = r.trk.progress.get(r.id);
  pr?.maybeUpdate(pr.next - 1);
  log.raft('%d restored snapshot [index %d, term %d]', r.id, index, term);
  return true;
}

/**
 * A member that joined with an empty log and no configuration adopts the
 * cluster's bootstrap snapshot (index 0), carried by the leader's first
 * MsgApp: the initial config is in no log entry. It is reported in the next
 * Ready as a snapshot to persist (with no state-machine data).
 */
export function adoptBootstrap(r: Raft, s: Snapshot): void {
  if (r.trk.progress.size !== 0 || r.raftLog.lastIndex() !== 0 || r.raftLog.committed !== 0) return;
  if (s.metadata.confState.voters.length === 0) return;
  r.raftLog.restore(s);
  r.resetConfig(s.metadata.confState);
  log.raft('%d adopted the bootstrap configuration %o', r.id, s.metadata.confState.voters);
}
