// Shared helpers for the simulator tests: seeds, and running simulations in a worker thread
// (see sim-worker.ts for why).
import type { TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { Worker } from 'node:worker_threads';
import type { SimResult } from '../src/sim/simulation.ts';
import type { ShrunkRun } from '../src/sim/shrink.ts';
import type { PlainOptions, WorkerJob } from './sim-worker.ts';

/** Base seed: SEED env var overrides. */
export const baseSeed = Number(process.env.SEED ?? 1);

/** The light client load used by the sweeps (keeps them inside the test budget). */
export const LIGHT = 'clients=2,read=0.1,idle=0.4,think=2';

/** Run a job in a worker thread. */
export function inWorker<T>(job: WorkerJob): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    // The worker registers tsx itself (loader hooks are per thread).
    const api = import.meta.resolve('tsx/esm/api');
    const file = new URL('./sim-worker.ts', import.meta.url).href;
    const boot = `import(${JSON.stringify(api)}).then((m) => { m.register(); return import(${JSON.stringify(file)}); })`;
    const w = new Worker(boot, { eval: true, workerData: job });
    w.once('message', (m: { ok: boolean; value?: T; error?: string }) => {
      if (m.ok) resolve(m.value as T);
      else reject(new Error(m.error));
      void w.terminate();
    });
    w.once('error', reject);
  });
}

/** Run `count` seeds from `from`; fail with the seed, violation and replay command on the first violation. */
export async function sweep(t: TestContext, count: number, options: PlainOptions, ticks: number, from = baseSeed): Promise<SimResult[]> {
  t.diagnostic(`seeds ${from}..${from + count - 1} nodes=${options.nodes} ticks=${ticks} (SEED=… to move the window)`);
  const { results } = await inWorker<{ results: SimResult[] }>({ fn: 'sweep', options, from, count, ticks });
  for (const r of results) {
    if (r.ok) continue;
    const v = r.violations[0]!;
    assert.fail(
      `seed ${r.seed} violated ${v.invariant} at tick ${v.tick}: ${v.message}\nprofile: ${r.profileText}\n${v.states ?? ''}\nreplay: ${r.replay}`,
    );
  }
  assert.equal(results.length, count);
  return results;
}

/** The first failing seed's result (undefined when all pass). */
export async function firstFailure(options: PlainOptions, count: number, ticks: number, from = baseSeed): Promise<SimResult | undefined> {
  return (await inWorker<{ result?: SimResult }>({ fn: 'firstFailure', options, from, count, ticks })).result;
}

/** The first failing seed, shrunk, and the replay of the shrunk decision log. */
export async function shrinkFirstFailure(
  options: PlainOptions,
  count: number,
  ticks: number,
  from = baseSeed,
): Promise<{ result?: SimResult; shrunk?: ShrunkRun; replay?: SimResult }> {
  return inWorker({ fn: 'shrinkFirstFailure', options, from, count, ticks });
}
