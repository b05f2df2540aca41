/**
 * Shrinking a failing run. The decision log (the fault actions a run took)
 * plus the fault profile's message-level knobs are what a seed decided; the
 * shrinker replays the same seed with less of them — a shorter fault phase,
 * chunks of the log removed (delta debugging, ddmin), message faults turned
 * off one by one — and keeps every reduction that still violates the same
 * invariant. The result replays with `--schedule`.
 */
import type { FaultAction } from './faults.ts';
import type { Violation } from './invariants.ts';
import type { FaultProfile } from './profile.ts';
import type { RunOptions, SimResult, SimulationOptions } from './simulation.ts';
import { Simulation } from './simulation.ts';

/** Options of {@link shrinkRun}. */
export interface ShrinkOptions {
  /** Most re-runs to spend (default 200). */
  readonly maxRuns?: number;
  /** Called after each attempt. */
  readonly onProgress?: (msg: string) => void;
}

/** A reduced failing run. */
export interface ShrunkRun {
  readonly seed: number;
  readonly schedule: readonly FaultAction[];
  readonly profile: FaultProfile;
  /** Fault-phase ticks. */
  readonly ticks: number;
  readonly liveness: boolean;
  readonly violation: Violation;
  /** Decision-log length before and after. */
  readonly originalActions: number;
  readonly runs: number;
}

/**
 * Shrink the failing `result` of a simulation built with `options` and run
 * with `run`. Returns undefined when the result did not fail.
 */
export async function shrinkRun(
  options: SimulationOptions,
  run: RunOptions,
  result: SimResult,
  opts: ShrinkOptions = {},
): Promise<ShrunkRun | undefined> {
  const first = result.violations[0];
  if (first === undefined) return undefined;
  const maxRuns = opts.maxRuns ?? 200;
  let runs = 0;
  const target = first.invariant;
  let best: ShrunkRun = {
    seed: result.seed,
    schedule: result.schedule,
    profile: result.profile,
    ticks: result.ticks,
    liveness: run.liveness !== false,
    violation: first,
    originalActions: result.schedule.length,
    runs: 0,
  };
  const attempt = async (schedule: readonly FaultAction[], profile: FaultProfile, ticks: number, liveness: boolean): Promise<boolean> => {
    if (runs >= maxRuns) return false;
    runs++;
    const sim = new Simulation({ ...options, seed: result.seed, faults: profile, schedule: schedule.filter((a) => a.tick <= ticks) });
    const r = await sim.run({ ...run, ticks, faults: undefined, liveness: liveness ? run.liveness ?? true : false });
    const v = r.violations[0];
    const failed = v !== undefined && v.invariant === target;
    if (failed) {
      best = { ...best, schedule: schedule.filter((a) => a.tick <= ticks), profile, ticks, liveness, violation: v, runs };
    }
    opts.onProgress?.(`shrink run ${runs}: ${failed ? 'still fails' : 'passes'} (${best.schedule.length} actions, ${best.ticks} ticks)`);
    return failed;
  };

  // 1. A fault-phase violation needs neither the rest of the fault phase nor liveness.
  if (first.tick < result.ticks) await attempt(best.schedule, best.profile, first.tick + 1, false);

  // 2. ddmin over the decision log.
  let n = 2;
  while (best.schedule.length > 0 && runs < maxRuns) {
    const s = best.schedule;
    const size = Math.ceil(s.length / n);
    let reduced = false;
    for (let i = 0; i < s.length && runs < maxRuns; i += size) {
      const candidate = [...s.slice(0, i), ...s.slice(i + size)];
      if (await attempt(candidate, best.profile, best.ticks, best.liveness)) {
        reduced = true;
        n = Math.max(n - 1, 2);
        break;
      }
    }
    if (!reduced) {
      if (size <= 1) break;
      n = Math.min(n * 2, s.length);
    }
  }

  // 3. Message-level faults off, one knob at a time.
  const knobs: Array<(p: FaultProfile) => FaultProfile> = [
    (p) => ({ ...p, dropRate: 0 }),
    (p) => ({ ...p, duplicateRate: 0 }),
    (p) => ({ ...p, reorderRate: 0 }),
    (p) => ({ ...p, slowDiskRate: 0 }),
    (p) => ({ ...p, clockSkew: 0 }),
    (p) => ({ ...p, maxDelay: p.minDelay }),
  ];
  for (const k of knobs) {
    const p = k(best.profile);
    if (JSON.stringify(p) === JSON.stringify(best.profile)) continue;
    await attempt(best.schedule, p, best.ticks, best.liveness);
  }
  return { ...best, runs };
}
