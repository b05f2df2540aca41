// Runs simulations in a worker thread for the sim tests. The node:test runner instruments every
// promise of the test process (≈50× slower awaits), and a simulation awaits a lot; a worker
// thread runs them at full speed. Results come back as plain data.
import { parentPort, workerData } from 'node:worker_threads';
import { Simulation } from '../src/sim/simulation.ts';
import type { RunOptions, SimResult, SimulationOptions } from '../src/sim/simulation.ts';
import { shrinkRun } from '../src/sim/shrink.ts';
import { workloadFromSpec } from '../src/sim/workload.ts';

/** Serializable simulation options (the workload as a `--workload` spec). */
export type PlainOptions = Omit<SimulationOptions, 'seed' | 'workload' | 'stateMachine' | 'invariants' | 'trace'> & {
  readonly workloadSpec?: string;
};

export interface WorkerJob {
  readonly fn: 'sweep' | 'firstFailure' | 'shrinkFirstFailure';
  readonly options: PlainOptions;
  readonly from: number;
  readonly count: number;
  readonly ticks: number;
}

function build(o: PlainOptions, seed: number): SimulationOptions {
  const { workloadSpec, ...rest } = o;
  return { ...rest, seed, ...(workloadSpec !== undefined ? { workload: workloadFromSpec(workloadSpec) } : {}) };
}

async function run(job: WorkerJob): Promise<unknown> {
  const run: RunOptions = { ticks: job.ticks };
  const results: SimResult[] = [];
  for (let seed = job.from; seed < job.from + job.count; seed++) {
    const r = await new Simulation(build(job.options, seed)).run(run);
    if (job.fn === 'sweep') {
      results.push(r);
      if (!r.ok) break;
      continue;
    }
    if (r.ok) continue;
    if (job.fn === 'firstFailure') return { result: r };
    const shrunk = await shrinkRun(build(job.options, seed), run, r, { maxRuns: 25 });
    const replay =
      shrunk === undefined
        ? undefined
        : await new Simulation({ ...build(job.options, seed), faults: shrunk.profile, schedule: shrunk.schedule }).run({
            ticks: shrunk.ticks,
            liveness: shrunk.liveness,
          });
    return { result: r, shrunk, replay };
  }
  return job.fn === 'sweep' ? { results } : {};
}

if (parentPort !== null) {
  const port = parentPort;
  run(workerData as WorkerJob).then(
    (v) => port.postMessage({ ok: true, value: v }),
    (e: unknown) => port.postMessage({ ok: false, error: e instanceof Error ? (e.stack ?? e.message) : String(e) }),
  );
}
