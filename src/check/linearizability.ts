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
import { createKvModel, type KvInput, type KvOutput } from './models/kv.ts';
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
  if (!warm) warmUp();
  validate(history);
  const budget = new Budget(options);
  const parts: readonly (readonly Operation<I, O>[])[] =
    options.partition !== false && model.partition !== undefined ? model.partition(history) : [history];
  const indexOf = indexer(history);
  const operations = parts.map((part) => part.map(indexOf));
  const searches = parts.map((part) => new PartitionSearch(model, part));

  // Interleave the partitions in doubling slices: a failure that is quick to
  // find is found before a hard partition has used up the budget.
  let active = searches.map((_, i) => i).filter((i) => (searches[i] as PartitionSearch<S, I, O>).result === undefined);
  let failed = searches.some((s) => s.result === false);
  let slice = FIRST_SLICE;
  while (active.length > 0 && !budget.expired() && (!failed || options.allFailures === true)) {
    const still: number[] = [];
    for (const i of active) {
      const r = advance(searches[i] as PartitionSearch<S, I, O>, slice, budget);
      if (r === false) failed = true;
      if (r === undefined) still.push(i);
      if (budget.expired() || (failed && options.allFailures !== true)) break;
    }
    active = still.filter((i) => (searches[i] as PartitionSearch<S, I, O>).result === undefined);
    slice *= 2;
  }

  const partitions: PartitionResult[] = searches.map((search, i) => {
    const ops = operations[i] as number[];
    return {
      result: search.result === true ? 'linearizable' : search.result === false ? 'not-linearizable' : 'unknown',
      operations: sortByCall(history, ops),
      linearization: search.linearization().map((local) => ops[local] as number),
      steps: search.steps,
    };
  });
  const counterexample: Counterexample<S>[] = [];
  partitions.forEach((p, i) => {
    if (p.result === 'not-linearizable') counterexample.push(counterexampleFor(model, history, i, p));
  });
  const result: Verdict = failed
    ? 'not-linearizable'
    : partitions.every((p) => p.result === 'linearizable')
      ? 'linearizable'
      : 'unknown';
  const states = searches.reduce((sum, s) => sum + s.stateCount, 0);
  const out: CheckResult<S> = { result, partitions, steps: budget.steps, states };
  if (counterexample.length > 0) out.counterexample = counterexample;
  return out;
}

let warm = false;

/**
 * Run every path of the search once on a tiny history before the first real
 * check. V8 optimises the hot loop while it is still running (on-stack
 * replacement); code it has never seen run — leaving the loop, backtracking,
 * growing the memo — then has no type feedback and throws the optimised code
 * away when first reached, several times over on a cold start. Costs about a
 * millisecond, once per process.
 */
function warmUp(): void {
  warm = true;
  const history: Operation<number, number>[] = [];
  for (let i = 0; i < 6; i++) history.push({ clientId: i, input: i % 4, call: i, output: undefined, return: Infinity });
  for (let i = 0; i < 5; i++) history.push({ clientId: 20 + i, input: -1, call: 10 + 2 * i, output: i, return: 11 + 2 * i });
  const counter: Model<number, number, number> = {
    init: () => 0,
    step: (s, input, output) => (input < 0 ? [output === undefined || output === s, s] : [true, (s + input) % 5]),
    readOnly: (input) => input < 0,
  };
  // The compiled paths (built-in models): concurrent appends and puts on two
  // keys, a pending CAS, reads that force backtracking; partitioned and not.
  const kv = createKvModel({ absent: '' });
  const ops: Operation<KvInput, KvOutput>[] = [];
  for (let i = 0; i < 8; i++) {
    const key = i % 2 === 0 ? 'a' : 'b';
    ops.push({ clientId: i, input: i % 3 === 2 ? { type: 'put', key, value: `p${i}` } : { type: 'append', key, value: `x${i}` }, call: i, output: {}, return: 20 + i });
  }
  ops.push({ clientId: 9, input: { type: 'cas', key: 'a', expected: 'x0', value: 'c' }, call: 1, output: undefined, return: Infinity });
  ops.push({ clientId: 10, input: { type: 'get', key: 'a' }, call: 30, output: { value: 'x0p2x4x6' }, return: 31 });
  ops.push({ clientId: 11, input: { type: 'get', key: 'b' }, call: 30, output: { value: 'p5x1x3x7' }, return: 31 });
  const bad = ops.map((op, i) => (i === ops.length - 1 ? { ...op, output: { value: 'none' } } : op));
  const reg = createRegisterModel<number>();
  const regOps: Operation<RegisterInput<number>, RegisterOutput<number>>[] = [];
  for (let i = 0; i < 6; i++) {
    regOps.push({ clientId: i, input: i % 2 === 0 ? { type: 'write', value: i } : { type: 'cas', expected: i - 1, value: i + 1 }, call: i, output: i % 2 === 0 ? {} : { ok: i !== 3 }, return: 10 + i });
  }
  regOps.push({ clientId: 7, input: { type: 'read' }, call: 20, output: { value: 6 }, return: 21 });
  for (let round = 0; round < 2; round++) {
    checkLinearizability(counter, history, { maxSteps: 4000 });
    checkLinearizability(counter, history.slice(0, 8), { partition: false });
    checkLinearizability(kv, ops.slice(0, 9));
    checkLinearizability(kv, bad, { partition: false, maxSteps: 300 });
    checkLinearizability(kv, bad, { maxSteps: 300 });
    checkLinearizability(reg, regOps);
  }
}

function sortByCall<I, O>(history: readonly Operation<I, O>[], ops: number[]): number[] {
  return [...ops].sort((a, b) => (history[a] as Operation<I, O>).call - (history[b] as Operation<I, O>).call || a - b);
}
