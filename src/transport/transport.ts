/**
 * How Raft messages travel between members. Delivery is best effort: a
 * transport may drop, delay, duplicate or reorder messages and Raft copes.
 * Implementations: `MemoryTransport` (from a `MemoryNetwork`, deterministic and
 * fault-injecting) and `TcpTransport` (length-prefixed msgpackr frames over
 * TCP or mutual TLS). Users may plug in their own.
 */
import type { Message, NodeId } from '../raft/types.ts';

/** Called for every message delivered to this member. */
export type MessageHandler = (message: Message) => void;

/** A member's endpoint on the network. */
export interface Transport {
  /** This member's id. */
  readonly id: NodeId;
  /**
   * Queue messages for delivery (each to `message.to`). Never throws for an
   * unreachable peer and never blocks; large snapshots are streamed in chunks.
   */
  send(messages: readonly Message[]): void;
  /** Register the (single) handler for inbound messages. */
  onMessage(handler: MessageHandler): void;
  /**
   * Optional: called when a peer could not be reached, so Raft can fall back
   * to probing it (etcd's ReportUnreachable).
   */
  onUnreachable?(handler: (peer: NodeId) => void): void;
  /**
   * Optional: called when a snapshot sent to a peer finished or failed
   * (etcd's ReportSnapshot).
   */
  onSnapshotStatus?(handler: (peer: NodeId, ok: boolean) => void): void;
  /** Learn (or update) a peer's address; used by membership changes. */
  addPeer(id: NodeId, address: string): void;
  /** Forget a peer; messages to it are dropped from now on. */
  removePeer(id: NodeId): void;
  /** Stop sending and receiving; resolves when connections are closed. */
  close(): Promise<void>;
}
