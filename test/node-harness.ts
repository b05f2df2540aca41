// Test harness: a few RaftNodes on one VirtualClock and a MemoryNetwork, with
// a driver that fires timers / delivers messages in time order and lets the
// nodes' async work settle between events.
import { RaftNode } from '../src/node/raft-node.ts';
import type { RaftNodeOptions } from '../src/node/options.ts';
import type { NodeId } from '../src/raft/types.ts';
import { MemoryStorage } from '../src/storage/memory.ts';
import { MemoryNetwork } from '../src/transport/memory.ts';
import type { NetworkFaults } from '../src/transport/memory.ts';
import { VirtualClock } from '../src/util/clock.ts';
import { SeededRandom } from '../src/util/rng.ts';
import { DigestStateMachine } from '../src/sim/state-machine.ts';

export const enc = (s: string): Uint8Array => new TextEncoder().encode(s);

export class Cluster {
  readonly clock = new VirtualClock();
  readonly rng: SeededRandom;
  readonly net: MemoryNetwork;
  readonly nodes = new Map<NodeId, RaftNode<number>>();
  readonly storages = new Map<NodeId, MemoryStorage>();
  readonly sms = new Map<NodeId, DigestStateMachine>();

  constructor(
    readonly ids: readonly NodeId[],
    readonly extra: Partial<RaftNodeOptions<number>> = {},
    seed = 1,
    faults: Partial<NetworkFaults> = { minDelay: 1, maxDelay: 3 },
  ) {
    this.rng = new SeededRandom(seed);
    this.net = new MemoryNetwork({ rng: this.rng.fork(), clock: this.clock, faults });
  }

  /** Create (or re-create, keeping storage) and start member `id`. */
  async boot(id: NodeId, peers: readonly NodeId[] = this.ids, opts: Partial<RaftNodeOptions<number>> = {}): Promise<RaftNode<number>> {
    let storage = this.storages.get(id);
    if (storage === undefined) {
      storage = new MemoryStorage();
      this.storages.set(id, storage);
    }
    storage.reopen();
    const sm = new DigestStateMachine();
    this.sms.set(id, sm);
    const n = new RaftNode<number>({
      id,
      peers,
      storage,
      transport: this.net.transport(id),
      stateMachine: sm,
      clock: this.clock,
      rng: this.rng.fork(),
      closeOnStop: false,
      ...this.extra,
      ...opts,
    });
    this.nodes.set(id, n);
    await n.start();
    return n;
  }

  async start(): Promise<void> {
    for (const id of this.ids) await this.boot(id);
  }

  node(id: NodeId): RaftNode<number> {
    const n = this.nodes.get(id);
    if (n === undefined) throw new Error(`no node ${id}`);
    return n;
  }

  sm(id: NodeId): DigestStateMachine {
    return this.sms.get(id) as DigestStateMachine;
  }

  /** Advance virtual time by `ms`, event by event. */
  async advance(ms: number): Promise<void> {
    const until = this.clock.now() + ms;
    for (;;) {
      const t = this.clock.nextTimerAt() ?? Infinity;
      const m = this.net.nextDeliveryAt() ?? Infinity;
      const next = Math.min(t, m);
      if (next > until) break;
      if (t <= m) this.clock.runNext();
      else {
        if (m > this.clock.now()) this.clock.advance(m - this.clock.now());
        this.net.deliverNext();
      }
      await settle();
    }
    this.clock.advance(until - this.clock.now());
    await settle();
  }

  /** Advance until `pred` holds; throws after `maxMs`. */
  async until(pred: () => boolean, maxMs = 20_000): Promise<void> {
    const end = this.clock.now() + maxMs;
    while (!pred()) {
      if (this.clock.now() >= end) throw new Error(`condition not met within ${maxMs} ms`);
      await this.advance(10);
    }
  }

  /** Wait for `p` while advancing time. */
  async wait<T>(p: Promise<T>, maxMs = 20_000): Promise<T> {
    let done = false;
    let value: T | undefined;
    let error: unknown;
    let failed = false;
    p.then(
      (v) => {
        done = true;
        value = v;
      },
      (e: unknown) => {
        done = true;
        failed = true;
        error = e;
      },
    );
    await this.until(() => done, maxMs);
    if (failed) throw error;
    return value as T;
  }

  leader(): RaftNode<number> | undefined {
    let best: RaftNode<number> | undefined;
    for (const n of this.nodes.values()) {
      if (n.isStopped) continue;
      const s = n.status();
      if (s.role === 'leader' && (best === undefined || s.term > best.status().term)) best = n;
    }
    return best;
  }

  async electLeader(): Promise<RaftNode<number>> {
    await this.until(() => {
      const l = this.leader();
      return l !== undefined && [...this.nodes.values()].every((n) => n.isStopped || n.status().leader === l.id);
    });
    return this.leader() as RaftNode<number>;
  }
}

export function settle(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}
