/**
 * One simulated member: its durable MemoryStorage (surviving crashes), its
 * per-incarnation clock facade, transport and state machine, and the
 * running {@link RaftNode}. Crash = halt the node, drop its timers, take it
 * off the network and lose the storage's unsynced writes; restart = a new
 * incarnation from what is durable.
 */
import { RaftNode } from '../node/raft-node.ts';
import type { NodeObserver, RaftNodeOptions } from '../node/options.ts';
import type { StateMachine } from '../node/state-machine.ts';
import type { NodeId } from '../raft/types.ts';
import { MemoryStorage } from '../storage/memory.ts';
import type { MemoryNetwork } from '../transport/memory.ts';
import type { VirtualClock } from '../util/clock.ts';
import type { SeededRandom } from '../util/rng.ts';
import { NodeClock } from './node-clock.ts';

/** Settings shared by every member of a simulation. */
export interface HostConfig {
  readonly clock: VirtualClock;
  readonly network: MemoryNetwork;
  readonly stateMachine: () => StateMachine<unknown>;
  readonly observer: NodeObserver;
  readonly nodeOptions: Partial<RaftNodeOptions<unknown>>;
  /** Called when a timer of member `id` fires (marks it touched). */
  readonly onFire: (id: NodeId) => void;
}

/** A simulated member across its incarnations. */
export class NodeHost {
  /** Durable across crashes. */
  readonly storage: MemoryStorage;
  node: RaftNode | undefined;
  stateMachine: StateMachine<unknown> | undefined;
  clock: NodeClock | undefined;
  alive = false;
  incarnation = 0;
  /** True when the member was removed from the configuration. */
  removed = false;
  /** Virtual time until which a slow disk holds this member's saves. */
  diskBusyUntil = 0;

  constructor(
    readonly id: NodeId,
    /** Initial voters (empty for a member joining later). */
    private readonly peers: readonly NodeId[],
    private readonly cfg: HostConfig,
    /** Timer rate (clock skew). */
    readonly rate: number,
    private readonly rng: SeededRandom,
    diskRng: SeededRandom,
    slowDisk: () => { rate: number; maxMs: number },
  ) {
    const storageClock = new NodeClock(cfg.clock, 1, () => cfg.onFire(id));
    this.storage = new MemoryStorage({ clock: storageClock });
    this.storage.beforeSave = () => {
      const s = slowDisk();
      const delay = s.rate > 0 && diskRng.chance(s.rate) ? 1 + diskRng.int(Math.max(1, s.maxMs)) : 0;
      // Writes complete in order: until then every save of this member waits.
      if (delay > 0) this.diskBusyUntil = Math.max(this.diskBusyUntil, cfg.clock.now() + delay);
      return delay;
    };
  }

  /** Start a new incarnation from the durable state (resolves when loaded). */
  start(): Promise<void> {
    this.incarnation++;
    this.alive = true;
    this.cfg.network.up(this.id);
    const clock = new NodeClock(this.cfg.clock, this.rate, () => this.cfg.onFire(this.id));
    this.clock = clock;
    this.stateMachine = this.cfg.stateMachine();
    this.node = new RaftNode<unknown>({
      ...this.cfg.nodeOptions,
      id: this.id,
      peers: this.peers,
      storage: this.storage,
      transport: this.cfg.network.transport(this.id),
      stateMachine: this.stateMachine,
      clock,
      rng: this.rng.fork(),
      observer: this.cfg.observer,
      closeOnStop: false,
    });
    return this.node.start();
  }

  /** Power cut: the process is gone and unsynced writes are lost. */
  crash(): void {
    if (!this.alive) return;
    this.alive = false;
    this.node?.halt();
    this.clock?.kill();
    this.cfg.network.down(this.id);
    this.storage.crash();
    this.diskBusyUntil = 0;
  }

  /** True while the Ready loop has work it can do without virtual time passing. */
  get busy(): boolean {
    if (!this.alive || this.node === undefined || !this.node.busy) return false;
    // Blocked on a slow write until its timer (due at diskBusyUntil) has fired.
    return !(this.cfg.clock.now() <= this.diskBusyUntil && this.storage.unsyncedSaves > 0);
  }

  /** True while paused. */
  get paused(): boolean {
    return this.clock?.isPaused === true;
  }
}
