// Shared setup for the concurrency recipe tests (test/concurrency-*.test.ts):
// one 3-member LocalCluster per test file, plus the small waiting helpers
// those tests use. Not a test file itself.
import { after, before } from 'node:test';
import { LocalCluster } from '../src/server/index.ts';
import type { StrataNode } from '../src/server/index.ts';

/** A hung wait fails its test instead of stalling the run. */
export const TEST_TIMEOUT_MS = 30_000;

/** Resolves after `ms` real milliseconds. */
export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Decodes a value as UTF-8 (`''` for a missing one). */
export const text = (b: Uint8Array | undefined): string => new TextDecoder().decode(b);

/** Polls `cond` every 5 ms until it holds; throws naming `what` after `timeoutMs`. */
export async function until(cond: () => boolean | Promise<boolean>, what: string, timeoutMs = 8000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await cond())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(5);
  }
}

/** A promise settled into flags, so a test can check that a wait is still pending. */
export interface Tracked<T> {
  done: boolean;
  error: unknown;
  value: T | undefined;
  p: Promise<T>;
}

/** Settles `p` into a flag, so a test can check that a wait is still pending. */
export function track<T>(p: Promise<T>): Tracked<T> {
  const t: Tracked<T> = { done: false, error: undefined, value: undefined, p };
  p.then(
    (v) => {
      t.done = true;
      t.value = v;
    },
    (err: unknown) => {
      t.done = true;
      t.error = err;
    },
  );
  return t;
}

/** The cluster a test file shares, started in `before` and closed in `after`. */
export interface SharedCluster {
  /** The running cluster (only valid inside tests). */
  readonly cluster: LocalCluster;
  /** Member `i` (modulo the cluster size). */
  member(i: number): StrataNode;
  /** How many keys start with `prefix`, read through member 0. */
  countPrefix(prefix: string): Promise<number>;
}

/** Registers `before`/`after` hooks that run a 3-member LocalCluster (10 ms ticks) for this test file. */
export function useCluster(): SharedCluster {
  let cluster: LocalCluster | undefined;
  before(async () => {
    cluster = await LocalCluster.start({ size: 3, tickMs: 10 });
  });
  after(async () => {
    await cluster?.close();
  });
  const shared: SharedCluster = {
    get cluster(): LocalCluster {
      if (cluster === undefined) throw new Error('cluster not started (use it inside a test)');
      return cluster;
    },
    member: (i) => shared.cluster.nodes[i % shared.cluster.nodes.length]!,
    countPrefix: async (prefix) => (await shared.member(0).get(prefix, { prefix: true, countOnly: true })).count,
  };
  return shared;
}
