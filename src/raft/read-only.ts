/**
 * Linearizable reads (ReadIndex, Raft thesis §6.4), as etcd-io/raft's
 * `readOnly` in its safe mode: a read request records the commit index at
 * arrival, rides on the next heartbeat round, and is answered once a quorum
 * acknowledged that heartbeat (so the leader was still the leader when the
 * read arrived). Requests are answered in arrival order.
 */
import type { Message, NodeId } from './types.ts';

/** One pending read request. */
export interface ReadIndexStatus {
  /** The original request (MsgReadIndex; `from` is the asker, `context` its ctx). */
  readonly req: Message;
  /** Commit index when the request arrived. */
  readonly index: number;
  /** Who acknowledged the heartbeat carrying this request's context. */
  readonly acks: Map<NodeId, boolean>;
}

const EMPTY = new Uint8Array(0);

/** A request context as a map key. */
export function ctxKey(ctx: Uint8Array | undefined): string {
  if (ctx === undefined) return '';
  let s = '';
  for (let i = 0; i < ctx.length; i++) s += String.fromCharCode(ctx[i]!);
  return s;
}

/** Pending read requests in arrival order. */
export class ReadOnly {
  private readonly pending = new Map<string, ReadIndexStatus>();
  private queue: string[] = [];

  /** Record a read request that arrived when the commit index was `index`. Duplicate contexts are ignored. */
  addRequest(index: number, req: Message): void {
    const k = ctxKey(req.context);
    if (this.pending.has(k)) return;
    this.pending.set(k, { req, index, acks: new Map() });
    this.queue.push(k);
  }

  /** `id` acknowledged a heartbeat carrying `ctx`; returns the acks so far (undefined if unknown). */
  recvAck(id: NodeId, ctx: Uint8Array | undefined): Map<NodeId, boolean> | undefined {
    const rs = this.pending.get(ctxKey(ctx));
    if (rs === undefined) return undefined;
    rs.acks.set(id, true);
    return rs.acks;
  }

  /**
   * The request with `ctx` is confirmed by a quorum: it and every request
   * queued before it are released (in order) and returned.
   */
  advance(ctx: Uint8Array | undefined): ReadIndexStatus[] {
    const k = ctxKey(ctx);
    const at = this.queue.indexOf(k);
    if (at < 0) return [];
    const done = this.queue.slice(0, at + 1);
    this.queue = this.queue.slice(at + 1);
    const out: ReadIndexStatus[] = [];
    for (const key of done) {
      const rs = this.pending.get(key);
      if (rs !== undefined) out.push(rs);
      this.pending.delete(key);
    }
    return out;
  }

  /** Context of the newest pending request (sent with heartbeats), if any. */
  lastPendingRequestCtx(): Uint8Array | undefined {
    if (this.queue.length === 0) return undefined;
    const rs = this.pending.get(this.queue[this.queue.length - 1]!);
    return rs === undefined ? undefined : (rs.req.context ?? EMPTY);
  }

  /** Number of pending requests. */
  size(): number {
    return this.queue.length;
  }
}
