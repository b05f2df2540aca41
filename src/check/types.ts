/**
 * Shapes shared by the linearizability checker: operations, models, options
 * and results. The checker itself lives in `linearizability.ts`.
 */

/**
 * One client operation as observed from outside the system.
 *
 * `call` and `return` are timestamps on one clock (any unit, any origin). An
 * operation whose outcome is unknown (timed out, client crashed) is *pending*:
 * `return: Infinity` and `output: undefined`; it may take effect at any time
 * after its call, or never.
 *
 * Two timestamps that are equal count as concurrent: an operation returning at
 * `t` does not precede one called at `t`.
 */
export interface Operation<I, O> {
  /** Who issued it; only used for display (one lane per client). */
  readonly clientId: number;
  /** What the client asked for. */
  readonly input: I;
  /** When the request was sent. Must be finite. */
  readonly call: number;
  /** What the client saw, or `undefined` when unknown. */
  readonly output: O | undefined;
  /** When the answer arrived; `Infinity` for a pending operation. */
  readonly return: number;
}

/**
 * A sequential specification: the object as if it were one copy, applied one
 * operation at a time.
 *
 * `step` must be a pure function of its arguments (the checker caches its
 * answers per (state, operation)), and must not mutate `state`.
 */
export interface Model<S, I, O> {
  /** The state before any operation. */
  init(): S;
  /**
   * Apply `input` to `state`: is `output` a legal answer, and what is the next
   * state? For a pending operation (or an unknown output) `output` is
   * `undefined`, meaning "any answer": return `[true, stateAfter]`.
   */
  step(state: S, input: I, output: O | undefined): [boolean, S];
  /**
   * State equality. Default: `===` for primitives, structural equality for
   * arrays, Maps, Sets and objects (same prototype, own enumerable fields).
   * States holding data that is not an own enumerable field (private
   * `#fields`, closures) must supply `equal`. It must be an equivalence: in
   * particular every state equals itself, and strings that are `===` are
   * equal (the checker merges those without calling `equal`).
   */
  equal?(a: S, b: S): boolean;
  /**
   * A 32-bit hash consistent with `equal` (equal states hash alike). Default:
   * a structural hash. States are only merged when `equal` says so, so any
   * hash is sound; give one if `equal` ignores some fields, or states that
   * differ only there will not be merged (a slower search, same verdict).
   */
  hash?(state: S): number;
  /**
   * Split a history into independent sub-histories (P-compositionality): the
   * whole is linearizable iff every part is. Must return the operation objects
   * of `history` themselves (each at most once); any grouping is allowed.
   */
  partition?(history: readonly Operation<I, O>[]): Operation<I, O>[][];
  /**
   * Optional hint: `true` if this operation never changes the state (a
   * read). The search then takes a read that fits the current state at once
   * instead of branching on it, which is always safe for a true read. A wrong
   * `true` can give wrong verdicts.
   */
  readOnly?(input: I, output: O | undefined): boolean;
  /** Short human text for an operation (used in counterexamples and HTML). */
  describe?(input: I, output: O | undefined): string;
  /** Short human text for a state (used in counterexamples and HTML). */
  describeState?(state: S): string;
}

/** Something that tells the time in milliseconds (a {@link Clock} fits). */
export interface TimeSource {
  /** Milliseconds since an arbitrary origin; never decreases. */
  now(): number;
}

/** Options of {@link checkLinearizability}. */
export interface CheckOptions {
  /**
   * Time budget for the whole check, in milliseconds. When it runs out the
   * answer is `'unknown'` (unless a partition was already found not
   * linearizable). Default: no limit.
   */
  timeoutMs?: number;
  /**
   * Where time comes from for `timeoutMs`. Default: the process clock
   * (`RealClock`). Pass a virtual clock for deterministic runs.
   */
  clock?: TimeSource;
  /**
   * Deterministic budget: the most search steps (per whole check) before
   * answering `'unknown'`. Default: no limit.
   */
  maxSteps?: number;
  /**
   * Use `model.partition` (P-compositionality). Default `true`; `false`
   * checks the whole history as one piece.
   */
  partition?: boolean;
  /**
   * Check every partition to the end, so that every failing one gets a
   * counterexample. Default `false`: as soon as one partition is found not
   * linearizable the check stops (partitions are searched in interleaved
   * slices, so an easy failure is found before a hard partition is
   * finished) and the undecided ones are reported `'unknown'`.
   */
  allFailures?: boolean;
}

/** Verdict of a check or of one partition. */
export type Verdict = 'linearizable' | 'not-linearizable' | 'unknown';

/** The outcome for one partition (independent sub-history). */
export interface PartitionResult {
  /** Verdict for this partition alone. */
  result: Verdict;
  /** Indices into the checked history of this partition's operations, by call time. */
  operations: number[];
  /**
   * History indices in linearization order. `'linearizable'`: a complete
   * linearization (every operation; pending ones that never took effect come
   * last, where they change nothing anyone saw). Otherwise: the longest
   * linearizable prefix the search found. For a partition found not
   * linearizable with the look-ahead (histories with appends), that prefix
   * is searched for, without the look-ahead, when this field is first read
   * (a bounded search; the longer prefix is kept); it is an ordinary
   * enumerable property either way.
   */
  linearization: number[];
  /** Search steps spent on this partition (to its verdict). */
  steps: number;
}

/** One possible next operation after a counterexample's prefix. */
export interface Candidate {
  /** History index of the operation. */
  op: number;
  /**
   * Whether the model accepts this operation (with its output) from the state
   * after the prefix. `false` means its output is impossible there; `true`
   * means it fits, but nothing after it can then be linearized.
   */
  legal: boolean;
}

/**
 * Why one partition is not linearizable: the longest linearizable prefix, and
 * the operations that could come next, none of which leads to a complete
 * linearization.
 */
export interface Counterexample<S> {
  /** Index into {@link CheckResult.partitions}. */
  partition: number;
  /** History indices of the longest linearizable prefix, in linearization order. */
  prefix: number[];
  /** Model state after the prefix. */
  state: S;
  /**
   * History index of the earliest-returning operation outside the prefix: it
   * must take effect before it returns, and no order of the candidates lets it.
   */
  stuck: number;
  /**
   * Every operation outside the prefix that was called before `stuck`
   * returned (each could be the next to take effect), with whether the model
   * accepts it from `state`.
   */
  candidates: Candidate[];
}

/** The answer of {@link checkLinearizability}. */
export interface CheckResult<S> {
  /**
   * `'linearizable'` if every partition is; `'not-linearizable'` if any is
   * not; otherwise `'unknown'` (the time or step budget ran out first).
   */
  result: Verdict;
  /** One entry per partition, in the order `model.partition` gave them. */
  partitions: PartitionResult[];
  /**
   * One entry per partition found not linearizable (absent when none).
   * Built when first read (see {@link PartitionResult.linearization}).
   */
  counterexample?: Counterexample<S>[];
  /** Total search steps. */
  steps: number;
  /** Distinct model states met (summed over partitions). */
  states: number;
}
