/**
 * The fault schedule: per tick, the seeded decisions of which fault strikes
 * (partitions, one-way cuts, heals, crashes and restarts, pauses, membership
 * changes). Every decision is recorded as a fully resolved {@link FaultAction}
 * — the run's decision log — so a run can be replayed from the log alone and
 * the log can be shrunk.
 */
import type { NodeId } from '../raft/types.ts';
import type { SeededRandom } from '../util/rng.ts';
import type { FaultProfile } from './profile.ts';

/** One scheduled fault (or repair), fully resolved. */
export type FaultAction =
  | { readonly tick: number; readonly kind: 'partition'; readonly a: readonly NodeId[]; readonly b: readonly NodeId[] }
  | { readonly tick: number; readonly kind: 'cut'; readonly from: NodeId; readonly to: NodeId }
  | { readonly tick: number; readonly kind: 'heal' }
  | { readonly tick: number; readonly kind: 'crash' | 'restart' | 'pause' | 'resume'; readonly node: NodeId }
  | { readonly tick: number; readonly kind: 'add' | 'promote' | 'remove'; readonly node: NodeId }
  /** Joint consensus: learner `node` becomes a voter and voter `out` leaves, in one change. */
  | { readonly tick: number; readonly kind: 'replace'; readonly node: NodeId; readonly out: NodeId };

/** What the scheduler needs to know about the cluster. */
export interface ClusterView {
  /** Every member id ever created, ascending. */
  ids(): readonly NodeId[];
  alive(id: NodeId): boolean;
  paused(id: NodeId): boolean;
  /** Current leader (0 if unknown). */
  leader(): NodeId;
  /** The latest known configuration. */
  config(): { voters: readonly NodeId[]; learners: readonly NodeId[] };
  /** Next unused member id. */
  nextId(): NodeId;
}

/** Draws fault actions from a profile and the seed. */
export class FaultScheduler {
  private partitionUntil = -1;
  private readonly later: FaultAction[] = [];

  constructor(
    private readonly profile: FaultProfile,
    private readonly rng: SeededRandom,
    private readonly membership: boolean,
  ) {}

  /** Decide this tick's actions (already-scheduled repairs first). */
  decide(tick: number, c: ClusterView): FaultAction[] {
    const p = this.profile;
    const rng = this.rng;
    const out: FaultAction[] = [];
    for (let i = 0; i < this.later.length; ) {
      const a = this.later[i] as FaultAction;
      if (a.tick <= tick) {
        out.push({ ...a, tick });
        this.later.splice(i, 1);
      } else i++;
    }
    const ids = c.ids();
    if (this.partitionUntil >= 0 && tick >= this.partitionUntil) {
      this.partitionUntil = -1;
      out.push({ tick, kind: 'heal' });
    } else if (this.partitionUntil < 0 && rng.chance(p.partitionRate) && ids.length > 1) {
      this.partitionUntil = tick + rng.range(p.partitionTicks[0], p.partitionTicks[1]);
      if (rng.chance(p.oneWayShare)) {
        const from = rng.pick(ids);
        const others = ids.filter((x) => x !== from);
        const cuts = 1 + rng.int(others.length);
        for (const to of rng.shuffle([...others]).slice(0, cuts)) out.push({ tick, kind: 'cut', from, to });
      } else {
        const mode = rng.pick(['random', 'minority', 'leader'] as const);
        const shuffled = rng.shuffle([...ids]);
        let size: number;
        if (mode === 'minority') size = Math.max(1, Math.floor((ids.length - 1) / 2));
        else if (mode === 'leader') size = 1;
        else size = 1 + rng.int(ids.length - 1);
        let a = shuffled.slice(0, size);
        const lead = c.leader();
        if (mode === 'leader' && lead !== 0) a = [lead];
        const b = ids.filter((x) => !a.includes(x));
        out.push({ tick, kind: 'partition', a: [...a].sort((x, y) => x - y), b });
      }
    }
    if (rng.chance(p.crashRate)) {
      const up = ids.filter((x) => c.alive(x));
      if (up.length > 0) {
        const node = rng.pick(up);
        out.push({ tick, kind: 'crash', node });
        this.later.push({ tick: tick + rng.range(p.downTicks[0], p.downTicks[1]), kind: 'restart', node });
      }
    }
    if (rng.chance(p.pauseRate)) {
      const up = ids.filter((x) => c.alive(x) && !c.paused(x));
      if (up.length > 0) {
        const node = rng.pick(up);
        out.push({ tick, kind: 'pause', node });
        this.later.push({ tick: tick + rng.range(p.pauseTicks[0], p.pauseTicks[1]), kind: 'resume', node });
      }
    }
    if (this.membership && rng.chance(p.membershipRate)) {
      const cfg = c.config();
      const r = rng.next();
      if (cfg.learners.length > 0 && cfg.voters.length >= 3 && r < 0.2) {
        out.push({ tick, kind: 'replace', node: rng.pick(cfg.learners), out: rng.pick(cfg.voters) });
      } else if (cfg.learners.length > 0 && r < 0.4) {
        out.push({ tick, kind: 'promote', node: rng.pick(cfg.learners) });
      } else if (r < 0.7 && cfg.voters.length + cfg.learners.length < ids.length + 2 && cfg.learners.length < 2) {
        out.push({ tick, kind: 'add', node: c.nextId() });
      } else if (cfg.voters.length > 3 || cfg.learners.length > 0) {
        const pool = cfg.voters.length > 3 ? [...cfg.voters, ...cfg.learners] : [...cfg.learners];
        out.push({ tick, kind: 'remove', node: rng.pick(pool) });
      }
    }
    return out;
  }
}

/** A one-line description of an action (trace and reports). */
export function describeAction(a: FaultAction): string {
  switch (a.kind) {
    case 'partition':
      return `partition [${a.a.join(',')}] | [${a.b.join(',')}]`;
    case 'cut':
      return `cut ${a.from}->${a.to}`;
    case 'heal':
      return 'heal';
    case 'replace':
      return `replace ${a.out} by ${a.node}`;
    default:
      return `${a.kind} ${a.node}`;
  }
}
