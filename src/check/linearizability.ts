/**
 * `checkLinearizability`: could the operations in a history have taken
 * effect one at a time, each somewhere between its call and its return, on a
 * single copy of the object that `model` describes?
 *
 * The history is split with `model.partition` (P-compositionality: a history
 * is linearizable iff each independent part is), each part is searched
 * (`search.ts`), and failing parts get a counterexample: their longest
 * linearizable prefix and the operations that could not follow it.
 */
import type {
  Candidate,
  CheckOptions,
  CheckResult,
  Counterexample,
  Model,
  Operation,
  PartitionResult,
  TimeSource,
  Verdict,
} from './types.ts';
import { PartitionSearch } from './search.ts';
import { replays } from './infer.ts';
import { hasCompiler } from './compiled.ts';
import { createKvModel, partitionByKey, type KvInput, type KvOutput } from './models/kv.ts';
import { createRegisterModel, type RegisterInput, type RegisterOutput } from './models/register.ts';
import { strataError } from '../errors.ts';
import { RealClock } from '../util/clock.ts';

function validate<I, O>(history: readonly Operation<I, O>[]): void {
  for (let i = 0; i < history.length; i++) {
    const op = history[i];
    if (op === undefined || op === null || typeof op !== 'object') {
      throw strataError('ErrInvalidArgument', `history[${i}] is not an operation`);
    }
    if (typeof op.call !== 'number' || !Number.isFinite(op.call)) {
      throw strataError('ErrInvalidArgument', `history[${i}].call must be a finite number`);
    }
    if (typeof op.return !== 'number' || Number.isNaN(op.return) || op.return < op.call) {
      throw strataError('ErrInvalidArgument', `history[${i}].return must be a number >= call (Infinity if pending)`);
    }
  }
}

/**
 * A partition found not linearizable with the look-ahead is searched again
 * without it for its counterexample, when that is first read (the look-ahead
 * stops at the first dead end it sees, often well before the operation that
 * cannot be placed), for up to this many steps or as many as the first
 * search took, whichever is more; the longer prefix is kept.
 */
const PREFIX_STEPS = 1 << 15;

/** Steps between two looks at the clock. */
const CHUNK = 1 << 14;
/** First slice each partition gets; slices double every round. */
const FIRST_SLICE = 1 << 10;

/** The shared time / step budget of one check. */
class Budget {
  steps = 0;
  private readonly maxSteps: number;
  private readonly clock: TimeSource | undefined;
  private readonly deadline: number;

  constructor(options: CheckOptions) {
    this.maxSteps = options.maxSteps ?? Infinity;
    if (options.timeoutMs !== undefined && Number.isFinite(options.timeoutMs)) {
      this.clock = options.clock ?? new RealClock();
      this.deadline = this.clock.now() + options.timeoutMs;
    } else {
      this.deadline = Infinity;
    }
  }

  /** Steps that may still be taken. */
  get remaining(): number {
    return this.maxSteps - this.steps;
  }

  /** True once the time or the steps have run out. */
  expired(): boolean {
    return this.steps >= this.maxSteps || (this.clock !== undefined && this.clock.now() >= this.deadline);
  }
}

/**
 * Give `search` up to `allowance` steps, looking at the budget every
 * {@link CHUNK} steps. Returns the verdict, or `undefined` if undecided.
 */
function advance<S, I, O>(search: PartitionSearch<S, I, O>, allowance: number, budget: Budget): boolean | undefined {
  while (allowance > 0) {
    const chunk = Math.min(allowance, CHUNK, budget.remaining);
    if (chunk <= 0) return undefined;
    const before = search.steps;
    const r = search.run(chunk);
    budget.steps += search.steps - before;
    if (r !== undefined) return r;
    allowance -= chunk;
    if (budget.expired()) return undefined;
  }
  return undefined;
}

/** Maps operation objects back to their history indices (handles repeats). */
function indexer<I, O>(history: readonly Operation<I, O>[]): (op: Operation<I, O>) => number {
  const first = new Map<Operation<I, O>, number>();
  const more = new Map<Operation<I, O>, number[]>();
  history.forEach((op, i) => {
    if (!first.has(op)) first.set(op, i);
    else {
      const list = more.get(op) ?? [];
      list.push(i);
      more.set(op, list);
    }
  });
  return (op) => {
    const i = first.get(op);
    if (i === undefined) {
      throw strataError('ErrInvalidArgument', 'model.partition returned an operation that is not in the history (or returned one twice)');
    }
    const rest = more.get(op);
    if (rest !== undefined && rest.length > 0) first.set(op, rest.shift() as number);
    else first.delete(op);
    return i;
  };
}

function counterexampleFor<S, I, O>(
  model: Model<S, I, O>,
  history: readonly Operation<I, O>[],
  partition: number,
  result: PartitionResult,
): Counterexample<S> {
  let state = model.init();
  for (const i of result.linearization) {
    const op = history[i] as Operation<I, O>;
    state = model.step(state, op.input, op.output)[1];
  }
  const inPrefix = new Set(result.linearization);
  const rest = result.operations.filter((i) => !inPrefix.has(i));
  let stuck = rest[0] as number;
  for (const i of rest) {
    const a = history[i] as Operation<I, O>;
    const b = history[stuck] as Operation<I, O>;
    if (a.return < b.return || (a.return === b.return && a.call < b.call)) stuck = i;
  }
  const deadline = (history[stuck] as Operation<I, O>).return;
  const candidates: Candidate[] = rest
    .filter((i) => (history[i] as Operation<I, O>).call <= deadline)
    .map((i) => {
      const op = history[i] as Operation<I, O>;
      return { op: i, legal: model.step(state, op.input, op.output)[0] };
    });
  return { partition, prefix: result.linearization, state, stuck, candidates };
}

/**
 * Check whether `history` is linearizable with respect to `model`.
 *
 * Guarantees: `'linearizable'` and `'not-linearizable'` are exact answers
 * (the search is complete and its memo only merges truly equal situations);
 * `'unknown'` only when `timeoutMs` or `maxSteps` ran out before some
 * partition was decided and none was found not linearizable.
 *
 * Throws `ErrInvalidArgument` (a StrataError) for malformed operations
 * (non-finite call, return before call) or a `partition` that returns
 * operations not in the history.
 */
export function checkLinearizability<S, I, O>(
  model: Model<S, I, O>,
  history: readonly Operation<I, O>[],
  options: CheckOptions = {},
): CheckResult<S> {
  const compiled = hasCompiler(model);
  validate(history);
  const budget = new Budget(options);
  const parts: readonly (readonly Operation<I, O>[])[] =
    options.partition !== false && model.partition !== undefined ? model.partition(history) : [history];
  const indexOf = indexer(history);
  const operations = parts.map((part) => part.map(indexOf));
  // A user model whose state is a string may step as guessed instructions (infer.ts).
  const searches = parts.map((part) => new PartitionSearch(model, part, !compiled));

  // Interleave the partitions in doubling slices: a failure that is quick to
  // find is found before a hard partition has used up the budget.
  let active = searches.map((_, i) => i).filter((i) => (searches[i] as PartitionSearch<S, I, O>).result === undefined);
  let failed = searches.some((s) => s.result === false);
  let slice = FIRST_SLICE;
  while (active.length > 0 && !budget.expired() && (!failed || options.allFailures === true)) {
    const still: number[] = [];
    for (const i of active) {
      const search = searches[i] as PartitionSearch<S, I, O>;
      let r = advance(search, slice, budget);
      if (r !== undefined && search.guessed && !(r === true && replays(model, parts[i] as readonly Operation<I, O>[], search.linearization()))) {
        // The guess did not hold, or found no linearization (which a guess cannot
        // prove): search this partition again through model.step, to the end at
        // once, since it is the likely failure.
        const generic = new PartitionSearch(model, parts[i] as readonly Operation<I, O>[]);
        searches[i] = generic;
        r = advance(generic, Number.POSITIVE_INFINITY, budget);
      }
      if (r === false) failed = true;
      if (r === undefined) still.push(i);
      if (budget.expired() || (failed && options.allFailures !== true)) break;
    }
    active = still.filter((i) => (searches[i] as PartitionSearch<S, I, O>).result === undefined);
    slice *= 2;
  }

  const partitions: PartitionResult[] = searches.map((search, i) => {
    const ops = operations[i] as number[];
    const part: PartitionResult = {
      result: search.result === true ? 'linearizable' : search.result === false ? 'not-linearizable' : 'unknown',
      operations: byCall(history, ops, search),
      linearization: [],
      steps: search.steps,
    };
    const toHistory = (local: number): number => ops[local] as number;
    if (search.result === false && search.looksAhead) {
      // The look-ahead stopped at the first dead end it saw: for the
      // counterexample, a prefix at least as long, searched without it,
      // when first read (Porcupine likewise leaves partial linearizations
      // to its verbose check).
      const short = search.linearization();
      const path = search.longestPath();
      const steps = Math.max(PREFIX_STEPS, search.steps);
      const subset = parts[i] as readonly Operation<I, O>[];
      lazily(part, 'linearization', () => {
        // Along the look-ahead's longest path first: the plain search then
        // dives past the dead end it saw, towards the operation that fails.
        const again = new PartitionSearch(model, subset, false, false);
        again.prefer(path);
        again.run(steps);
        return (again.prefixLength >= path.length ? again.linearization() : short).map(toHistory);
      });
    } else {
      part.linearization = search.linearization().map(toHistory);
    }
    return part;
  });
  const failures = (): Counterexample<S>[] => {
    const counterexample: Counterexample<S>[] = [];
    partitions.forEach((p, i) => {
      if (p.result === 'not-linearizable') counterexample.push(counterexampleFor(model, history, i, p));
    });
    return counterexample;
  };
  const result: Verdict = failed
    ? 'not-linearizable'
    : partitions.every((p) => p.result === 'linearizable')
      ? 'linearizable'
      : 'unknown';
  const states = searches.reduce((sum, s) => sum + s.stateCount, 0);
  const out: CheckResult<S> = { result, partitions, steps: budget.steps, states };
  if (failed) lazily(out, 'counterexample', failures);
  return out;
}

/**
 * Make `obj[key]` an enumerable property computed on first read (then a
 * plain data property holding the value; it can also be assigned).
 */
function lazily<T extends object, K extends keyof T>(obj: T, key: K, compute: () => T[K]): void {
  let computed = false;
  let cached: T[K] | undefined;
  const settle = (value: T[K]): void => {
    try {
      Object.defineProperty(obj, key, { value, enumerable: true, writable: true, configurable: true });
    } catch {
      // A frozen result keeps the accessor; the value is kept here instead.
    }
  };
  Object.defineProperty(obj, key, {
    enumerable: true,
    configurable: true,
    get(): T[K] {
      if (!computed) {
        cached = compute();
        computed = true;
        settle(cached);
      }
      return cached as T[K];
    },
    set(value: T[K]) {
      computed = true;
      cached = value;
      settle(value);
    },
  });
}

/**
 * History indices `ops` of a partition by call time (ties: by index): the
 * search's own order when the partition kept history order, as
 * `partitionByKey` does.
 */
function byCall<S, I, O>(history: readonly Operation<I, O>[], ops: number[], search: PartitionSearch<S, I, O>): number[] {
  for (let k = 1; k < ops.length; k++) if ((ops[k] as number) <= (ops[k - 1] as number)) return sortByCall(history, ops);
  return search.callOrder().map((local) => ops[local] as number);
}

function sortByCall<I, O>(history: readonly Operation<I, O>[], ops: number[]): number[] {
  return [...ops].sort((a, b) => (history[a] as Operation<I, O>).call - (history[b] as Operation<I, O>).call || a - b);
}
