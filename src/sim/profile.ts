/**
 * Fault profiles. With swarm testing (TigerBeetle VOPR's practice) each seed
 * draws its own profile — which faults are on and how hard — so a sweep
 * covers quiet runs, single-fault runs and storms alike.
 */
import type { SeededRandom } from '../util/rng.ts';

/** How often and how hard each fault strikes. Rates are probabilities. */
export interface FaultProfile {
  /** Per message: lost. */
  dropRate: number;
  /** Per message: delivered twice. */
  duplicateRate: number;
  /** Delivery delay range, ms. */
  minDelay: number;
  maxDelay: number;
  /** Per message: extra large delay (reordering). */
  reorderRate: number;
  /** Per tick: a partition starts (when none is active). */
  partitionRate: number;
  /** Partition length, ticks [min, max]. */
  partitionTicks: [number, number];
  /** Share of partitions that are one-way cuts. */
  oneWayShare: number;
  /** Per tick: one live node crashes (losing unsynced writes). */
  crashRate: number;
  /** Downtime before restart, ticks [min, max]. */
  downTicks: [number, number];
  /** Per tick: one node pauses (stops ticking and receiving, a GC pause). */
  pauseRate: number;
  /** Pause length, ticks [min, max]. */
  pauseTicks: [number, number];
  /** Per save: the disk is slow. */
  slowDiskRate: number;
  /** Slow-disk delay upper bound, ms. */
  slowDiskMs: number;
  /** Clock skew: each node ticks at a rate in [1 - skew, 1 + skew]. */
  clockSkew: number;
  /** Per tick: a membership change is attempted (only with membership faults on). */
  membershipRate: number;
}

/** A profile with every fault off (a perfect network with 1 ms delay). */
export const NO_FAULTS: FaultProfile = Object.freeze({
  dropRate: 0,
  duplicateRate: 0,
  minDelay: 1,
  maxDelay: 1,
  reorderRate: 0,
  partitionRate: 0,
  partitionTicks: [10, 50] as [number, number],
  oneWayShare: 0,
  crashRate: 0,
  downTicks: [5, 50] as [number, number],
  pauseRate: 0,
  pauseTicks: [5, 30] as [number, number],
  slowDiskRate: 0,
  slowDiskMs: 0,
  clockSkew: 0,
  membershipRate: 0,
});

/** Every fault on at a moderate rate (the `--faults all` preset). */
export const ALL_FAULTS: FaultProfile = Object.freeze({
  dropRate: 0.05,
  duplicateRate: 0.02,
  minDelay: 1,
  maxDelay: 30,
  reorderRate: 0.02,
  partitionRate: 0.02,
  partitionTicks: [10, 60] as [number, number],
  oneWayShare: 0.3,
  crashRate: 0.01,
  downTicks: [5, 60] as [number, number],
  pauseRate: 0.01,
  pauseTicks: [5, 30] as [number, number],
  slowDiskRate: 0.1,
  slowDiskMs: 150,
  clockSkew: 0.1,
  membershipRate: 0.01,
});

/** Draw a swarm profile: each fault family on or off by a coin flip, rates drawn per seed. */
export function drawProfile(rng: SeededRandom): FaultProfile {
  const on = (): boolean => rng.chance(0.5);
  const maxDelay = rng.pick([1, 5, 20, 50, 120]);
  return {
    dropRate: on() ? rng.pick([0.01, 0.05, 0.1, 0.2]) : 0,
    duplicateRate: on() ? rng.pick([0.01, 0.05, 0.1]) : 0,
    minDelay: 1,
    maxDelay,
    reorderRate: on() ? rng.pick([0.01, 0.05, 0.1]) : 0,
    partitionRate: on() ? rng.pick([0.005, 0.02, 0.05]) : 0,
    partitionTicks: [rng.range(5, 20), rng.range(20, 120)],
    oneWayShare: rng.pick([0, 0.3, 0.6]),
    crashRate: on() ? rng.pick([0.002, 0.01, 0.03]) : 0,
    downTicks: [rng.range(1, 10), rng.range(10, 80)],
    pauseRate: on() ? rng.pick([0.005, 0.02]) : 0,
    pauseTicks: [rng.range(2, 10), rng.range(10, 40)],
    slowDiskRate: on() ? rng.pick([0.05, 0.2, 0.5]) : 0,
    slowDiskMs: rng.pick([20, 100, 400]),
    clockSkew: on() ? rng.pick([0.05, 0.15, 0.3]) : 0,
    membershipRate: rng.pick([0.01, 0.03, 0.06]),
  };
}

/** A one-line description of the faults that are on. */
export function describeProfile(p: FaultProfile): string {
  const parts: string[] = [];
  if (p.dropRate > 0) parts.push(`drop=${p.dropRate}`);
  if (p.duplicateRate > 0) parts.push(`dup=${p.duplicateRate}`);
  parts.push(`delay=${p.minDelay}..${p.maxDelay}ms`);
  if (p.reorderRate > 0) parts.push(`reorder=${p.reorderRate}`);
  if (p.partitionRate > 0) parts.push(`partition=${p.partitionRate}/tick ${p.partitionTicks[0]}..${p.partitionTicks[1]}t oneway=${p.oneWayShare}`);
  if (p.crashRate > 0) parts.push(`crash=${p.crashRate}/tick down ${p.downTicks[0]}..${p.downTicks[1]}t`);
  if (p.pauseRate > 0) parts.push(`pause=${p.pauseRate}/tick ${p.pauseTicks[0]}..${p.pauseTicks[1]}t`);
  if (p.slowDiskRate > 0) parts.push(`slowdisk=${p.slowDiskRate} ≤${p.slowDiskMs}ms`);
  if (p.clockSkew > 0) parts.push(`skew=±${p.clockSkew}`);
  return parts.join(' ');
}

/** Fault families that can be named on the command line (`--faults drop,crash`). */
export const FAULT_FAMILIES = ['drop', 'dup', 'delay', 'reorder', 'partition', 'crash', 'pause', 'slowdisk', 'skew'] as const;
/** See {@link FAULT_FAMILIES}. */
export type FaultFamily = (typeof FAULT_FAMILIES)[number];

/** A profile with only the named families on, at {@link ALL_FAULTS} strength. */
export function profileOf(families: readonly FaultFamily[]): FaultProfile {
  const p: FaultProfile = { ...NO_FAULTS, partitionTicks: [...NO_FAULTS.partitionTicks], downTicks: [...NO_FAULTS.downTicks], pauseTicks: [...NO_FAULTS.pauseTicks] };
  const a = ALL_FAULTS;
  for (const f of families) {
    if (f === 'drop') p.dropRate = a.dropRate;
    if (f === 'dup') p.duplicateRate = a.duplicateRate;
    if (f === 'delay') p.maxDelay = a.maxDelay;
    if (f === 'reorder') p.reorderRate = a.reorderRate;
    if (f === 'partition') {
      p.partitionRate = a.partitionRate;
      p.partitionTicks = [...a.partitionTicks];
      p.oneWayShare = a.oneWayShare;
    }
    if (f === 'crash') {
      p.crashRate = a.crashRate;
      p.downTicks = [...a.downTicks];
    }
    if (f === 'pause') {
      p.pauseRate = a.pauseRate;
      p.pauseTicks = [...a.pauseTicks];
    }
    if (f === 'slowdisk') {
      p.slowDiskRate = a.slowDiskRate;
      p.slowDiskMs = a.slowDiskMs;
    }
    if (f === 'skew') p.clockSkew = a.clockSkew;
  }
  p.membershipRate = a.membershipRate;
  return p;
}
