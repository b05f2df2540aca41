// Shared sweep helper for the simulator tests.
import type { TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { Simulation } from '../src/sim/simulation.ts';
import type { SimResult, SimulationOptions } from '../src/sim/simulation.ts';

/** Base seed: SEED env var overrides. */
export const baseSeed = Number(process.env.SEED ?? 1);

/** Run `count` seeds from `from`; fail with the seed, violation and replay command on the first violation. */
export async function sweep(
  t: TestContext,
  count: number,
  options: Omit<SimulationOptions, 'seed'>,
  ticks: number,
  from = baseSeed,
): Promise<SimResult[]> {
  t.diagnostic(`seeds ${from}..${from + count - 1} nodes=${options.nodes} ticks=${ticks} (SEED=… to move the window)`);
  const out: SimResult[] = [];
  for (let seed = from; seed < from + count; seed++) {
    const r = await new Simulation({ ...options, seed }).run({ ticks });
    out.push(r);
    if (!r.ok) {
      const v = r.violations[0]!;
      assert.fail(
        `seed ${seed} violated ${v.invariant} at tick ${v.tick}: ${v.message}\nprofile: ${r.profileText}\n${v.states ?? ''}\n` +
          `replay: ${r.replay}`,
      );
    }
  }
  return out;
}
