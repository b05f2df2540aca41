/**
 * A whole cluster in one process (like etcd's embed/integration packages):
 * StrataNodes on a MemoryNetwork that delivers by itself on the real clock,
 * with LevelStorage under `dataDir/<name>` (memory storage without one).
 * Users test their applications against it; the demo and benchmarks use it.
 */
import { join } from 'node:path';
import { strataError } from '../errors.ts';
import { MemoryStorage } from '../storage/memory.ts';
import type { Storage } from '../storage/storage.ts';
import { MemoryNetwork } from '../transport/memory.ts';
import { ImmediateClock } from './immediate-clock.ts';
import { SeededRandom } from '../util/rng.ts';
import { DEFAULT_CLUSTER_TOKEN, memberIdOf, type MemberSpec } from './members.ts';
import type { StrataNodeOptions } from './options.ts';
import { StrataNode } from './strata-node.ts';

/** Options of {@link LocalCluster.start}. */
export interface LocalClusterOptions {
  /** Number of members (default 3). */
  readonly size?: number;
  /** Parent directory; member `name` keeps its state in `dataDir/name`. Memory storage without it. */
  readonly dataDir?: string;
  /** Milliseconds per Raft tick (default 100). */
  readonly tickMs?: number;
  /** Ticks per election timeout (default 10). */
  readonly electionTick?: number;
  /** fsync the Raft log (default true; only with dataDir). */
  readonly fsync?: boolean;
  /** Seed of the network's randomness (default 1). */
  readonly seed?: number;
  /** Extra options for every member. */
  readonly nodeOptions?: Partial<Omit<StrataNodeOptions, 'name' | 'initialCluster' | 'transport' | 'dataDir'>>;
  /** Wait for a leader before resolving (default true). */
  readonly waitForLeader?: boolean;
}

/** A Storage whose close() leaves the underlying MemoryStorage usable, so a killed member can be restarted on it. */
function reusable(inner: MemoryStorage): Storage {
  return {
    load: () => inner.load(),
    save: (req) => inner.save(req),
    compact: (index) => inner.compact(index),
    close: () => Promise.resolve(),
  };
}

/** An in-process cluster. */
export class LocalCluster {
  private readonly memberNames: string[];
  /** The in-memory network linking the members (partition/isolate/heal for tests). */
  readonly network: MemoryNetwork;
  private readonly live = new Map<string, StrataNode>();
  private readonly memStorage = new Map<string, MemoryStorage>();
  private readonly specs: MemberSpec[];
  /** Members added after the start: they open as joiners. */
  private readonly joined = new Set<string>();
  private closed = false;

  private constructor(
    private readonly options: LocalClusterOptions,
    names: string[],
  ) {
    this.memberNames = names;
    this.network = new MemoryNetwork({ rng: new SeededRandom(options.seed ?? 1), clock: new ImmediateClock(), autoDeliver: true });
    this.specs = names.map((name) => ({ name, peerURLs: [`mem://${name}`] }));
  }

  /** Start `size` members and (by default) wait for a leader. */
  static async start(options: LocalClusterOptions = {}): Promise<LocalCluster> {
    const size = options.size ?? 3;
    if (!Number.isInteger(size) || size < 1) throw strataError('ErrInvalidArgument', `bad cluster size ${size}`);
    const c = new LocalCluster(options, Array.from({ length: size }, (_, i) => `node-${i + 1}`));
    try {
      await Promise.all(c.names.map((n) => c.open(n)));
      if (options.waitForLeader ?? true) await c.waitForLeader();
    } catch (err) {
      await c.close();
      throw err;
    }
    return c;
  }

  /** The members' names, in order (including stopped ones). */
  get names(): readonly string[] {
    return this.memberNames;
  }

  /** The running members, in name order. */
  get nodes(): StrataNode[] {
    return this.names.map((n) => this.live.get(n)).filter((n): n is StrataNode => n !== undefined);
  }

  /** The running member named `name`. */
  node(name: string): StrataNode {
    const n = this.live.get(name);
    if (n === undefined) throw strataError('ErrMemberNotFound', `member ${name} is not running`);
    return n;
  }

  /** Member id of `name`. */
  idOf(name: string): number {
    return memberIdOf(name, [`mem://${name}`], this.options.nodeOptions?.initialClusterToken ?? DEFAULT_CLUSTER_TOKEN);
  }

  /** The running member that currently leads, if any. */
  leader(): StrataNode | undefined {
    return this.nodes.find((n) => n.isLeader);
  }

  /**
   * Wait until a running member leads and every running member knows it.
   * Rejects with ErrTimeout after `timeoutMs` (default 30 × election timeout) or ErrAborted.
   */
  async waitForLeader(options: { signal?: AbortSignal; timeoutMs?: number } = {}): Promise<StrataNode> {
    const tickMs = this.options.tickMs ?? 100;
    const timeoutMs = options.timeoutMs ?? 30 * tickMs * (this.options.electionTick ?? 10);
    const deadline = performance.now() + timeoutMs;
    for (;;) {
      if (options.signal?.aborted === true) throw strataError('ErrAborted', 'waitForLeader aborted');
      const l = this.leader();
      if (l !== undefined && this.nodes.every((n) => n.leaderId === l.id)) return l;
      if (performance.now() > deadline) throw strataError('ErrTimeout', 'no leader elected in time');
      await new Promise<void>((r) => setTimeout(r, Math.max(5, tickMs / 4)));
    }
  }

  /** Stop member `name` as a crash would leave it (its directory or memory storage is kept). */
  async kill(name: string): Promise<void> {
    const n = this.node(name);
    this.live.delete(name);
    this.network.down(n.id);
    await n.close();
  }

  /** Reopen a killed member from its directory (or kept memory storage). */
  async restart(name: string): Promise<StrataNode> {
    if (this.live.has(name)) throw strataError('ErrMemberExists', `member ${name} is running`);
    const n = await this.open(name);
    this.network.up(n.id);
    return n;
  }

  /**
   * Add a member through the leader (R9.2) and start it joining the cluster
   * (`initialClusterState: 'existing'`). As a learner with `learner: true`;
   * promote it with `leader.members.promote(id)`.
   */
  async addMember(name: string, options: { learner?: boolean } = {}): Promise<StrataNode> {
    if (this.memberNames.includes(name)) throw strataError('ErrMemberExists', `member ${name} exists`);
    const leader = await this.waitForLeader();
    const spec = { name, peerURLs: [`mem://${name}`] };
    await leader.members.add({ ...spec, isLearner: options.learner === true });
    this.memberNames.push(name);
    this.specs.push(spec);
    this.joined.add(name);
    return this.open(name);
  }

  /** Remove a member through the leader (R9.3) and stop it. */
  async removeMember(name: string): Promise<void> {
    const leader = await this.waitForLeader();
    await leader.members.remove(this.idOf(name));
    const n = this.live.get(name);
    if (n !== undefined) {
      this.live.delete(name);
      await n.close();
    }
    this.memberNames.splice(this.memberNames.indexOf(name), 1);
  }

  /** Stop every member and the network. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    const nodes = [...this.live.values()];
    this.live.clear();
    await Promise.all(nodes.map((n) => n.close().catch(() => undefined)));
    this.network.close();
  }

  private async open(name: string): Promise<StrataNode> {
    if (!this.memberNames.includes(name)) throw strataError('ErrMemberNotFound', `no member ${name}`);
    const o = this.options;
    const id = this.idOf(name);
    let storage: Storage | undefined;
    if (o.dataDir === undefined) {
      let m = this.memStorage.get(name);
      if (m === undefined) {
        m = new MemoryStorage();
        this.memStorage.set(name, m);
      }
      storage = reusable(m);
    }
    const node = await StrataNode.open({
      ...o.nodeOptions,
      name,
      initialCluster: this.specs,
      initialClusterState: this.joined.has(name) ? 'existing' : 'new',
      transport: this.network.transport(id),
      ...(o.dataDir !== undefined ? { dataDir: join(o.dataDir, name) } : {}),
      ...(storage !== undefined ? { storage } : {}),
      ...(o.tickMs !== undefined ? { tickMs: o.tickMs } : {}),
      ...(o.electionTick !== undefined ? { electionTick: o.electionTick } : {}),
      ...(o.fsync !== undefined ? { fsync: o.fsync } : {}),
    });
    this.live.set(name, node);
    return node;
  }
}
