/**
 * Client workloads: seeded generators of client operations. The simulator
 * runs `clients` concurrent clients; each asks the workload for its next
 * operation, performs it against a live member and waits for the outcome
 * (or a timeout) before asking again.
 */
import type { NodeId } from '../raft/types.ts';
import type { SeededRandom } from '../util/rng.ts';

/** One client operation. */
export type WorkloadOp =
  /** Propose `data` through member `node` (default: a random live member). */
  | { readonly type: 'propose'; readonly data: Uint8Array; readonly node?: NodeId }
  /** A linearizable read barrier through `node`. */
  | { readonly type: 'read'; readonly node?: NodeId }
  /** Do nothing for `ticks` ticks. */
  | { readonly type: 'idle'; readonly ticks: number };

/** What a workload sees when choosing an operation. */
export interface WorkloadContext {
  readonly client: number;
  /** Current simulated tick. */
  readonly tick: number;
  /** How many operations this client issued before. */
  readonly issued: number;
}

/** A seeded generator of client operations. */
export interface Workload {
  /** Concurrent clients (default 3). */
  readonly clients?: number;
  /** Ticks a client waits for an outcome before giving up (aborting) (default 30). */
  readonly timeoutTicks?: number;
  /** For built-in workloads: the `--workload` spec that recreates it on the command line. */
  readonly spec?: string;
  /** The next operation of a client. */
  next(rng: SeededRandom, ctx: WorkloadContext): WorkloadOp;
}

/**
 * The default workload: clients propose small unique payloads continuously
 * (with an occasional read and short pauses), so every run exercises
 * replication.
 */
export function proposeWorkload(
  options: { clients?: number; readShare?: number; idleShare?: number; maxThinkTicks?: number } = {},
): Workload {
  const readShare = options.readShare ?? 0.1;
  const idleShare = options.idleShare ?? 0.15;
  const think = options.maxThinkTicks ?? 2;
  const enc = new TextEncoder();
  const clients = options.clients ?? 3;
  return {
    clients,
    spec: `clients=${clients},read=${readShare},idle=${idleShare},think=${think}`,
    next(rng, ctx) {
      const r = rng.next();
      if (think > 0 && r < idleShare) return { type: 'idle', ticks: 1 + rng.int(think) };
      if (r < idleShare + readShare) return { type: 'read' };
      return { type: 'propose', data: enc.encode(`c${ctx.client}#${ctx.issued}`) };
    },
  };
}

/** Parse a `--workload` spec (`clients=2,read=0.1,idle=0.4,think=2`) into {@link proposeWorkload}. */
export function workloadFromSpec(spec: string): Workload {
  const o: { clients?: number; readShare?: number; idleShare?: number; maxThinkTicks?: number } = {};
  for (const part of spec.split(',')) {
    const [k, v] = part.split('=');
    const n = Number(v);
    if (!Number.isFinite(n)) throw new RangeError(`bad workload spec part ${part}`);
    if (k === 'clients') o.clients = n;
    else if (k === 'read') o.readShare = n;
    else if (k === 'idle') o.idleShare = n;
    else if (k === 'think') o.maxThinkTicks = n;
    else throw new RangeError(`unknown workload knob ${k}`);
  }
  return proposeWorkload(o);
}
