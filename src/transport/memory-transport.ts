/**
 * A member's endpoint on a {@link MemoryNetwork} (created by
 * `MemoryNetwork.transport(id)`; see memory.ts).
 */
import type { Message, NodeId } from '../raft/types.ts';
import { log } from '../util/log.ts';
import type { MemoryNetwork } from './memory.ts';
import type { MessageHandler, Transport } from './transport.ts';

/**
 * One member's endpoint on a {@link MemoryNetwork}. Delivery is synchronous
 * from the network's delivery calls. Reports snapshot status: `ok` once a
 * MsgSnap reached the receiver's handler, not ok when it was lost.
 */
export class MemoryTransport implements Transport {
  /** @internal */
  handler: MessageHandler | undefined;
  /** @internal */
  snapshotHandler: ((peer: NodeId, ok: boolean) => void) | undefined;
  private readonly removed = new Set<NodeId>();
  private attached = true;

  /** @internal Use {@link MemoryNetwork.transport}. */
  constructor(
    private readonly network: MemoryNetwork,
    readonly id: NodeId,
  ) {}

  /** Queue messages; a no-op when closed, detached or when this node is down. */
  send(messages: readonly Message[]): void {
    if (this.attached) this.network.sendFrom(this, messages, this.removed);
  }

  onMessage(handler: MessageHandler): void {
    this.handler = handler;
  }

  onSnapshotStatus(handler: (peer: NodeId, ok: boolean) => void): void {
    this.snapshotHandler = handler;
  }

  /** Addresses mean nothing in memory; re-allows a peer removed earlier. */
  addPeer(id: NodeId, _address: string): void {
    this.removed.delete(id);
  }

  /** Messages to `id` are dropped from now on (until {@link addPeer}). */
  removePeer(id: NodeId): void {
    this.removed.add(id);
  }

  /** True until closed or replaced by a newer transport for the same id. */
  isAttached(): boolean {
    return this.attached;
  }

  /** Detach from the network: nothing is sent or delivered any more. */
  close(): Promise<void> {
    this.detach();
    return Promise.resolve();
  }

  /** @internal */
  detach(): void {
    if (!this.attached) return;
    this.attached = false;
    this.network.detach(this);
    log.transport('memory transport %d detached', this.id);
  }
}
