/**
 * Determinism self-check: run one seed twice, keeping every trace event, and
 * report the first event where the two runs diverge (or that they agree).
 */
import type { TraceEvent } from './trace.ts';
import type { RunOptions, SimulationOptions } from './simulation.ts';
import { Simulation } from './simulation.ts';

/** Outcome of {@link checkDeterminism}. */
export interface DeterminismReport {
  readonly ok: boolean;
  readonly seed: number;
  readonly traceHash: string;
  readonly events: number;
  /** First differing event of each run (when not ok). */
  readonly divergence?: { readonly index: number; readonly first?: TraceEvent; readonly second?: TraceEvent };
}

/** Run `options.seed` twice and compare the traces event by event. */
export async function checkDeterminism(options: SimulationOptions, run: RunOptions = {}): Promise<DeterminismReport> {
  const a = new Simulation({ ...options, trace: { ...options.trace, keep: true } });
  const ra = await a.run(run);
  const b = new Simulation({ ...options, trace: { ...options.trace, keep: true } });
  const rb = await b.run(run);
  const ea = a.trace.events;
  const eb = b.trace.events;
  const n = Math.max(ea.length, eb.length);
  for (let i = 0; i < n; i++) {
    if (ea[i]?.hash !== eb[i]?.hash) {
      return { ok: false, seed: options.seed, traceHash: ra.traceHash, events: ea.length, divergence: { index: i, first: ea[i], second: eb[i] } };
    }
  }
  return { ok: ra.traceHash === rb.traceHash, seed: options.seed, traceHash: ra.traceHash, events: ea.length };
}
