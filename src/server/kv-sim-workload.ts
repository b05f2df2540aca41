/**
 * The KV simulation's clients: puts, gets, deletes, compare-and-set txns and
 * lease grant/attach/revoke cycles, each recorded as an operation of the
 * checker's key-value model (src/check). A lease cycle uses a key only its
 * client writes, so revoking the lease is exactly a delete of that key.
 *
 * Outcomes: a success is recorded with its output; a definite error (the
 * request was rejected, nothing happened) is left out; any other failure
 * (timeout, stopped member, lost leadership) leaves a write *pending* — it
 * may or may not have taken effect (R10.5) — and drops a read.
 */
import { isStrataError, type ErrorCode } from '../errors.ts';
import type { Operation } from '../check/types.ts';
import type { KvInput, KvOutput } from '../check/models/kv.ts';
import type { SeededRandom } from '../util/rng.ts';
import type { StrataNode } from './strata-node.ts';

/** Errors after which the request certainly changed nothing. */
const DEFINITE: ReadonlySet<ErrorCode> = new Set<ErrorCode>([
  'ErrEmptyKey',
  'ErrKeyNotFound',
  'ErrValueProvided',
  'ErrLeaseProvided',
  'ErrDuplicateKey',
  'ErrTooManyOps',
  'ErrRequestTooLarge',
  'ErrInvalidArgument',
  'ErrLeaseNotFound',
  'ErrLeaseExists',
  'ErrNoSpace',
  'ErrNotSupportedForLearner',
]);

/** True when `err` means the request had no effect. */
export function isDefinite(err: unknown): boolean {
  return isStrataError(err) && DEFINITE.has(err.code);
}

const dec = new TextDecoder();

/** One client's state between operations. */
export interface ClientState {
  readonly id: number;
  seq: number;
  /** Lease currently attached to this client's lease key, if any. */
  lease: number;
  /** Last value this client read per key (CAS expectations). */
  readonly seen: Map<string, string | undefined>;
}

/** A planned client operation: what to record and how to run it. */
export interface PlannedOp {
  readonly input: KvInput;
  /** Run against `node`; resolves with the model output. */
  run(node: StrataNode, signal: AbortSignal): Promise<KvOutput>;
  /** True for reads (dropped from the history when their outcome is unknown). */
  readonly read: boolean;
}

/**
 * Choose a client's next operation. `keys` is the shared key space;
 * `serializable` makes gets local (stale reads: a planted bug for checking the checker).
 */
export function nextOp(rng: SeededRandom, c: ClientState, keys: readonly string[], serializable = false): PlannedOp {
  const r = rng.next();
  const key = rng.pick(keys);
  const value = `c${c.id}-${c.seq++}`;
  if (r < 0.35) {
    return {
      input: { type: 'get', key },
      read: true,
      run: async (n, signal) => {
        const g = await n.get(key, { signal, serializable });
        const kv = g.kvs[0];
        const v = kv === undefined ? undefined : dec.decode(kv.value);
        c.seen.set(key, v);
        return { value: v };
      },
    };
  }
  if (r < 0.62) {
    return { input: { type: 'put', key, value }, read: false, run: async (n, signal) => (await n.put(key, value, { signal }), {}) };
  }
  if (r < 0.72) {
    return { input: { type: 'delete', key }, read: false, run: async (n, signal) => ({ ok: (await n.delete(key, { signal })).deleted > 0 }) };
  }
  if (r < 0.88) {
    // CAS on the value this client last read (often still current), else on absence.
    const expected = c.seen.has(key) ? c.seen.get(key) : undefined;
    return {
      input: { type: 'cas', key, expected, value },
      read: false,
      run: async (n, signal) => {
        const t = await n.txn(
          {
            compare:
              expected === undefined
                ? [{ key, target: 'createRevision', result: '==', value: 0 }]
                : [{ key, target: 'value', result: '==', value: expected }],
            success: [{ put: { key, value } }],
          },
          { signal },
        );
        return { ok: t.succeeded };
      },
    };
  }
  // Lease cycle on this client's own key.
  const lkey = `/lease/${c.id}`;
  if (c.lease === 0) {
    return {
      input: { type: 'put', key: lkey, value },
      read: false,
      run: async (n, signal) => {
        const g = await n.lease.grant(3600, { signal });
        c.lease = g.id;
        await n.put(lkey, value, { lease: g.id, signal });
        return {};
      },
    };
  }
  const id = c.lease;
  c.lease = 0;
  return { input: { type: 'delete', key: lkey }, read: false, run: async (n, signal) => (await n.lease.revoke(id, { signal }), {}) };
}

/** Record the outcome of `op` called at `call`, returning at `ret`. */
export function record(
  history: Operation<KvInput, KvOutput>[],
  clientId: number,
  op: PlannedOp,
  call: number,
  outcome: { ok: true; output: KvOutput; ret: number } | { ok: false; err: unknown },
): 'ok' | 'definite' | 'pending' | 'dropped' {
  if (outcome.ok) {
    history.push({ clientId, input: op.input, call, output: outcome.output, return: outcome.ret });
    return 'ok';
  }
  if (isDefinite(outcome.err)) return 'definite';
  if (op.read) return 'dropped';
  history.push({ clientId, input: op.input, call, output: undefined, return: Number.POSITIVE_INFINITY });
  return 'pending';
}
