/**
 * The search for one partition: Wing & Gong's backtracking over the history's
 * call/return events, with Lowe's memoisation of (linearized set, state)
 * pairs — the algorithm of Porcupine, laid out in typed arrays.
 *
 * The history is a doubly linked list of events sorted by time (calls before
 * returns at equal times). Any call that precedes the first return in the list
 * may be the next operation to take effect; linearizing it "lifts" its call and
 * return out of the list. When no candidate works, the last choice is undone.
 * Each depth keeps its candidate list in a buffer (a "frame"), in call order
 * with pending operations last (they can take effect any time, so they are
 * rarely the one needed now).
 *
 * Three reductions keep the search small without changing any verdict; each
 * only drops branches when an equivalent branch is kept:
 * - read-only operations (`model.readOnly`): one that fits the current state
 *   is taken at once — any linearization can be reordered to take it first,
 *   since it was called before every remaining operation returned and it
 *   changes nothing — and one that does not fit is not tried;
 * - twins (equal input and output, see {@link findTwins}) are taken in order;
 * - the memo stores each (linearized set, state) pair once.
 *
 * A search is resumable: {@link PartitionSearch.run} takes a step allowance,
 * so the caller can interleave partitions and stop early.
 */
import type { Model, Operation } from './types.ts';
import { ILLEGAL, StateTable, UNKNOWN } from './states.ts';
import { VisitedSet, pairHash, zobrist } from './memo.ts';
import { deepEqual, hashValue, mix32 } from './hash.ts';
import { compileOps, preservesState, stepValue, type CompiledOps } from './compiled.ts';
import { guessStringOps } from './infer.ts';
import { ReadLookahead } from './lookahead.ts';
import type { KvStore } from './models/kv-store.ts';
import { giveInt32, takeInt32 } from './pool.ts';

/**
 * Transitions from the first states met are cached in a dense table (one
 * slot per (state, op)), so `model.step` runs once per pair. Models with few
 * states (registers) live entirely in it; for models with very many states
 * (a map of appended strings) most states are stepped with few operations
 * and caching them costs more than stepping again. Limits of the table:
 */
const DENSE_ENTRIES = 1 << 18;
const DENSE_STATES = 64;
/**
 * Transition cache for the other states (generic path), in slots: its first
 * size, its largest, and the size up to which it grows whether or not it pays.
 */
const CACHE_FIRST = 1 << 8;
const CACHE_SLOTS = 1 << 18;
const CACHE_TRIAL = 1 << 12;

/** Index of the transition-cache slot of (state, op) in a cache of `mask + 1` slots of three ints. */
function cacheSlot(state: number, op: number, mask: number): number {
  return (mix32(Math.imul(state, 0x9e3779b1) ^ op) & mask) * 3;
}

// Setup helpers, kept apart from the constructor: small loops V8 compiles one
// at a time when they get hot, where one large constructor took it ~30 ms to
// optimise on a cold start.

/** Indices of `ops` by call time (stable). */
function orderByCall<I, O>(ops: readonly Operation<I, O>[]): Int32Array {
  const n = ops.length;
  const order = new Int32Array(n);
  const calls = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    order[i] = i;
    calls[i] = (ops[i] as Operation<I, O>).call;
  }
  order.sort((a, b) => (calls[a] as number) - (calls[b] as number) || a - b);
  return order;
}

/** The `input`s or the `output`s of `ops`, in order. */
function fieldOf<I, O, F extends 'input' | 'output'>(ops: readonly Operation<I, O>[], field: F): Operation<I, O>[F][] {
  const out: Operation<I, O>[F][] = [];
  for (let i = 0; i < ops.length; i++) out.push((ops[i] as Operation<I, O>)[field]);
  return out;
}

/** The call or return times of `ops`, in order. */
function timesOf<I, O>(ops: readonly Operation<I, O>[], field: 'call' | 'return'): Float64Array {
  const out = new Float64Array(ops.length);
  for (let i = 0; i < ops.length; i++) out[i] = (ops[i] as Operation<I, O>)[field];
  return out;
}

/** 1 for each pending operation (return at infinity). */
function pendingOf(returns: Float64Array): Uint8Array {
  const out = new Uint8Array(returns.length);
  for (let i = 0; i < returns.length; i++) out[i] = returns[i] === Infinity ? 1 : 0;
  return out;
}

/** 1 for each instruction that never changes the state, or undefined if there is none. */
function stateKeeping(kind: Uint8Array): Uint8Array | undefined {
  const out = new Uint8Array(kind.length);
  let any = false;
  for (let i = 0; i < kind.length; i++) {
    if (preservesState(kind[i] as number)) {
      out[i] = 1;
      any = true;
    }
  }
  return any ? out : undefined;
}

/** The Zobrist word of each of `n` operations. */
function zobristWords(n: number): Int32Array {
  const out = new Int32Array(n);
  for (let i = 0; i < n; i++) out[i] = zobrist(i);
  return out;
}

/**
 * The history's call and return events as a doubly linked list sorted by
 * time: node 0 is the head, 1 … 2n the events, 2n + 1 the tail.
 */
class EventList {
  readonly next: Int32Array;
  readonly prev: Int32Array;
  /** Operation of each node, and whether the node is its call. */
  readonly nodeOp: Int32Array;
  readonly isCall: Uint8Array;
  /** Node of each operation's call and return. */
  readonly callNode: Int32Array;
  readonly returnNode: Int32Array;

  constructor(calls: Float64Array, returns: Float64Array) {
    const n = calls.length;
    const nodes = 2 * n + 2;
    this.next = new Int32Array(nodes);
    this.prev = new Int32Array(nodes);
    this.nodeOp = new Int32Array(nodes);
    this.isCall = new Uint8Array(nodes);
    this.callNode = new Int32Array(n);
    this.returnNode = new Int32Array(n);
    const order = sortEvents(calls, returns);
    for (let k = 0; k < 2 * n; k++) {
      const e = order[k] as number;
      const node = k + 1;
      if (e < n) {
        this.nodeOp[node] = e;
        this.isCall[node] = 1;
        this.callNode[e] = node;
      } else {
        this.nodeOp[node] = e - n;
        this.returnNode[e - n] = node;
      }
    }
    for (let node = 0; node < nodes; node++) {
      this.next[node] = node + 1;
      this.prev[node] = node - 1;
    }
  }
}

/** Order of events: by time; at equal times calls first (they overlap); then by operation. */
function sortEvents(calls: Float64Array, returns: Float64Array): Int32Array {
  const n = calls.length;
  const order = new Int32Array(2 * n);
  for (let e = 0; e < 2 * n; e++) order[e] = e;
  const time = (e: number): number => (e < n ? (calls[e] as number) : (returns[e - n] as number));
  order.sort((a, b) => {
    const ta = time(a);
    const tb = time(b);
    if (ta !== tb) return ta < tb ? -1 : 1;
    const ka = a < n ? 0 : 1;
    const kb = b < n ? 0 : 1;
    return ka !== kb ? ka - kb : a - b;
  });
  return order;
}

/**
 * Twins: operations with equal inputs and equal outputs. If twin a was called
 * no later than b and returned no later than b, any linearization with b
 * before a can swap them (a fits where b was, b fits where a was, and the
 * model cannot tell them apart), so the search takes b only after a. For each
 * operation this records its nearest such earlier twin, or -1.
 */
function findTwins<I, O>(inputs: readonly I[], outputs: readonly (O | undefined)[], returns: Float64Array): Int32Array {
  const n = inputs.length;
  const twin = new Int32Array(n).fill(-1);
  const groups = new Map<number, number[]>(); // hash of (input, output) → ops, by call
  for (let i = 0; i < n; i++) {
    const h = hashValue(inputs[i]) ^ Math.imul(hashValue(outputs[i]), 0x9e3779b1);
    const group = groups.get(h);
    if (group === undefined) {
      groups.set(h, [i]);
      continue;
    }
    // Nearest earlier twin that returned no later (looking back a bounded way).
    for (let k = group.length - 1, looked = 0; k >= 0 && looked < 32; k--, looked++) {
      const j = group[k] as number;
      if ((returns[j] as number) <= (returns[i] as number) && deepEqual(inputs[j], inputs[i]) && deepEqual(outputs[j], outputs[i])) {
        twin[i] = j;
        break;
      }
    }
    group.push(i);
  }
  return twin;
}

/** {@link findTwins} for compiled operations: twins have the same instruction, arguments and key. */
function findCompiledTwins(c: CompiledOps, returns: Float64Array): Int32Array {
  const { kind, a, b, key } = c;
  const n = kind.length;
  const twin = new Int32Array(n).fill(-1);
  const groups = new Map<number, number[]>();
  for (let i = 0; i < n; i++) {
    const k = key === undefined ? 0 : (key[i] as number);
    const h = mix32(((kind[i] as number) * 0x3b9aca07) ^ Math.imul(a[i] as number, 0x9e3779b1) ^ Math.imul(b[i] as number, 0x85ebca77) ^ Math.imul(k, 0xc2b2ae3d));
    const group = groups.get(h);
    if (group === undefined) {
      groups.set(h, [i]);
      continue;
    }
    for (let g = group.length - 1, looked = 0; g >= 0 && looked < 32; g--, looked++) {
      const j = group[g] as number;
      if ((returns[j] as number) <= (returns[i] as number) && kind[j] === kind[i] && a[j] === a[i] && b[j] === b[i] && (key === undefined || key[j] === key[i])) {
        twin[i] = j;
        break;
      }
    }
    group.push(i);
  }
  return twin;
}

/** Resumable linearizability search over one partition's operations. */
export class PartitionSearch<S, I, O> {
  /** `true` / `false` once decided; `undefined` while running. */
  result: boolean | undefined;
  /**
   * Stepping instructions guessed from probing a user model (`infer.ts`): a
   * `true` must be confirmed by replaying {@link linearization} through the
   * model, and a `false` means nothing.
   */
  readonly guessed: boolean;
  /** Steps taken so far. */
  steps = 0;
  /** Interned states (ids are what the search handles) — generic path only. */
  private readonly states: StateTable<S> | undefined;
  // Compiled instructions (built-in models), or undefined for the generic path.
  private readonly compiled: CompiledOps | undefined;
  private readonly kind: Uint8Array;
  private readonly argA: Int32Array;
  private readonly argB: Int32Array;
  private readonly key: Int32Array | undefined;
  private readonly store: KvStore | undefined;

  private readonly model: Model<S, I, O>;
  private readonly n: number;
  /** Internal op id (by call time) → index in the partition's `ops`. */
  private readonly original: Int32Array;
  private readonly inputs: I[];
  private readonly outputs: (O | undefined)[];
  // Linked list of events: node 0 is the head, 1..2n events, 2n+1 the tail.
  private readonly next: Int32Array;
  private readonly prev: Int32Array;
  private readonly nodeOp: Int32Array;
  private readonly isCall: Uint8Array;
  private readonly callNode: Int32Array;
  private readonly returnNode: Int32Array;
  private readonly pending: Uint8Array;
  /** Nearest earlier twin of each operation (see findTwins), or -1. */
  private readonly twin: Int32Array;
  /** 1 for operations the model declares read-only; undefined if it declares none. */
  private readonly readOnly: Uint8Array | undefined;
  private readonly zob: Int32Array;
  private readonly bits: Int32Array;
  private readonly visited: VisitedSet;
  // Transitions from the first states: dense[state * n + op].
  private dense = new Int32Array(0);
  private denseStates = 0;
  private readonly denseMax: number;
  // Transition cache (generic path), for operations that have changed the
  // state at least once (`writer`): slots of (state + 1, op, to), 0 = empty.
  private cache: Int32Array<ArrayBuffer>;
  private cacheMask: number;
  private cacheFill = 0;
  // Past CACHE_TRIAL slots the cache only grows while at least a quarter of
  // its lookups hit (a string state appended to rarely repeats a transition,
  // a map copied on each write often does): fresh memory costs more than the
  // steps it would save.
  private cacheLookups = 0;
  private cacheHits = 0;
  private readonly writer: Uint8Array;
  // The last transition computed outside the dense table (a forced move is
  // checked when its frame is built, then taken by the search loop).
  private lastState = -1;
  private lastOp = -1;
  private lastTo = ILLEGAL;
  // Frames: candidates of depth d are cand[frameOff[d] .. frameOff[d] + frameCnt[d]),
  // the next to try at frameCur[d]. Depth d → d+1 linearized stackOp[d] from stackState[d].
  private cand: Int32Array;
  private candTop = 0;
  private readonly frameOff: Int32Array;
  private readonly frameCnt: Int32Array;
  private readonly frameCur: Int32Array;
  private readonly stackOp: Int32Array;
  private readonly stackState: Int32Array;
  private readonly best: Int32Array;
  private bestLen = 0;
  /** Dead ends seen ahead in histories with appends (compiled operations; see lookahead.ts), or undefined. */
  private readonly lookahead: ReadLookahead | undefined;
  // Search position, saved between runs.
  private depth = 0;
  private state: number;
  private bitsHash = 0;
  private lo = 0;
  private hi = 0;
  /** The first frame is built by the first run (the constructor stays small). */
  private frameless = true;
  /** Operations to try first, depth by depth (see {@link prefer}); empty for none. */
  private preferred: Int32Array = new Int32Array(0);

  /**
   * `guess`: for a model without a compiler, try instructions guessed by
   * probing it (see {@link guessed}). `lookahead`: cut dead ends seen ahead
   * (`lookahead.ts`) where it applies; the verdict is the same either way,
   * but a failing search then stops sooner, with a shorter prefix.
   */
  constructor(model: Model<S, I, O>, ops: readonly Operation<I, O>[], guess = false, lookahead = true) {
    this.model = model;
    const n = ops.length;
    this.n = n;

    // Number operations by call time so linearized sets are compact windows.
    const byCall = orderByCall(ops);
    const sorted: Operation<I, O>[] = [];
    for (let i = 0; i < n; i++) sorted.push(ops[byCall[i] as number] as Operation<I, O>);
    this.original = byCall;
    this.inputs = fieldOf(sorted, 'input');
    this.outputs = fieldOf(sorted, 'output');
    const calls = timesOf(sorted, 'call');
    const returns = timesOf(sorted, 'return');
    this.pending = pendingOf(returns);

    let compiled = compileOps(model, sorted);
    this.guessed = false;
    if (compiled === undefined && guess) {
      compiled = guessStringOps(model, sorted);
      this.guessed = compiled !== undefined;
    }
    this.compiled = compiled;
    if (compiled !== undefined) {
      this.states = undefined;
      this.state = compiled.init;
      this.kind = compiled.kind;
      this.argA = compiled.a;
      this.argB = compiled.b;
      this.key = compiled.key;
      this.store = compiled.store;
      this.twin = findCompiledTwins(compiled, returns);
      this.readOnly = stateKeeping(compiled.kind);
    } else {
      this.states = new StateTable<S>(model as Model<S, unknown, unknown>);
      this.state = this.states.intern(model.init());
      this.kind = new Uint8Array(0);
      this.argA = new Int32Array(0);
      this.argB = new Int32Array(0);
      this.key = undefined;
      this.store = undefined;
      this.twin = findTwins(this.inputs, this.outputs, returns);
      const readOnly = model.readOnly;
      if (readOnly !== undefined) {
        const flags = Uint8Array.from(sorted, (op) => (readOnly.call(model, op.input, op.output) ? 1 : 0));
        this.readOnly = flags.includes(1) ? flags : undefined;
      }
    }

    const events = new EventList(calls, returns);
    this.next = events.next;
    this.prev = events.prev;
    this.nodeOp = events.nodeOp;
    this.isCall = events.isCall;
    this.callNode = events.callNode;
    this.returnNode = events.returnNode;

    this.zob = zobristWords(n);
    this.bits = new Int32Array((n + 31) >>> 5);
    this.visited = new VisitedSet(Math.min(1 << 16, 2 * n + 32));
    this.writer = new Uint8Array(this.compiled === undefined ? n : 0);
    this.cache = takeInt32(this.compiled === undefined ? 3 * CACHE_FIRST : 0);
    this.cacheMask = this.compiled === undefined ? CACHE_FIRST - 1 : 0;
    this.denseMax = Math.max(1, Math.min(DENSE_STATES, Math.floor(DENSE_ENTRIES / Math.max(1, n))));
    this.cand = new Int32Array(Math.max(16, 4 * n));
    this.frameOff = new Int32Array(n + 1);
    this.frameCnt = new Int32Array(n + 1);
    this.frameCur = new Int32Array(n + 1);
    this.stackOp = new Int32Array(n);
    this.stackState = new Int32Array(n);
    this.best = new Int32Array(n);
    this.lookahead = compiled === undefined || !lookahead ? undefined : ReadLookahead.of(compiled, calls, returns);
    this.result = n === 0 ? true : undefined;
  }

  /** Indices into the partition's `ops` by call time (ties: by index). */
  callOrder(): number[] {
    return Array.from(this.original);
  }

  /** Does this search cut dead ends seen ahead (so a failure's prefix may be short)? */
  get looksAhead(): boolean {
    return this.lookahead !== undefined;
  }

  /**
   * Before the first {@link run}: at each depth of `path` (operations as
   * numbered by {@link longestPath}), try that operation first when it is a
   * candidate. Changes the order of the search, not what it can find.
   */
  prefer(path: Int32Array): void {
    this.preferred = path;
  }

  /** The longest linearizable prefix met so far, as this search numbers operations. */
  longestPath(): Int32Array {
    if (this.result === true) return this.stackOp.slice(0, this.n);
    if (this.depth > this.bestLen) this.saveBest(this.depth);
    return this.best.slice(0, this.bestLen);
  }

  /** Length of the longest linearizable prefix met so far. */
  get prefixLength(): number {
    return this.result === true ? this.n : Math.max(this.bestLen, this.depth);
  }

  /** Distinct model states met so far. */
  get stateCount(): number {
    return this.compiled !== undefined ? this.compiled.stateCount() : (this.states as StateTable<S>).size;
  }

  /** Next state after `op` from `state`, or ILLEGAL. */
  private stepOp(state: number, op: number): number {
    if (this.compiled === undefined) return this.transition(state, op);
    const key = this.key;
    if (key === undefined) return stepValue(this.kind[op] as number, this.argA[op] as number, this.argB[op] as number, state, this.store);
    const store = this.store as KvStore;
    const k = key[op] as number;
    const cur = store.lookup(state, k);
    const v = stepValue(this.kind[op] as number, this.argA[op] as number, this.argB[op] as number, cur, store);
    return v < 0 ? ILLEGAL : v === cur ? state : store.set(state, k, v);
  }

  /**
   * Generic path: next state after `op` from `state` (or ILLEGAL). Cached in
   * the dense table for the first states, and in the transition cache for
   * operations that have changed the state before.
   */
  private transition(state: number, op: number): number {
    const states = this.states as StateTable<S>;
    if (state < this.denseStates) {
      const t = this.dense[state * this.n + op] as number;
      if (t !== UNKNOWN) return t;
    }
    const writer = this.writer[op] === 1;
    let at = 0;
    if (writer) {
      at = cacheSlot(state, op, this.cacheMask);
      const cache = this.cache;
      this.cacheLookups++;
      if (cache[at] === state + 1 && cache[at + 1] === op) {
        this.cacheHits++;
        return cache[at + 2] as number;
      }
    } else if (state === this.lastState && op === this.lastOp) return this.lastTo;
    const cur = states.get(state);
    const r = this.model.step(cur, this.inputs[op] as I, this.outputs[op]);
    // A step that hands back the state it was given (a read) stays put: no interning.
    const to = r[0] ? (r[1] === cur ? state : states.internFrom(r[1], state)) : ILLEGAL;
    this.lastState = state;
    this.lastOp = op;
    this.lastTo = to;
    if (state < this.denseMax) {
      if (state >= this.denseStates) this.growDense(state + 1);
      this.dense[state * this.n + op] = to;
    } else if (writer) {
      this.cacheStore(at, state, op, to);
    } else if (to >= 0 && to !== state) {
      // First state change by this operation: cache its transitions from now on.
      this.writer[op] = 1;
      this.cacheStore(cacheSlot(state, op, this.cacheMask), state, op, to);
    }
    return to;
  }

  /**
   * Put (state, op) → to into the transition cache at `at`, replacing what was
   * there (a lossy cache: a miss only costs a call to `step`). The cache
   * doubles while it fills and pays, up to {@link CACHE_SLOTS} slots.
   */
  private cacheStore(at: number, state: number, op: number, to: number): void {
    const cache = this.cache;
    const pays = this.cacheMask < CACHE_TRIAL || this.cacheHits * 4 >= this.cacheLookups;
    if (cache[at] === 0 && ++this.cacheFill * 2 > this.cacheMask && this.cacheMask + 1 < CACHE_SLOTS && pays) {
      this.growCache();
      at = cacheSlot(state, op, this.cacheMask);
    }
    const c = this.cache;
    c[at] = state + 1;
    c[at + 1] = op;
    c[at + 2] = to;
  }

  private growCache(): void {
    const old = this.cache;
    const slots = (this.cacheMask + 1) * 2;
    const mask = slots - 1;
    const cache = takeInt32(slots * 3);
    let fill = 0;
    for (let from = 0; from < old.length; from += 3) {
      const key = old[from] as number;
      if (key === 0) continue;
      const op = old[from + 1] as number;
      const at = cacheSlot(key - 1, op, mask);
      if (cache[at] === 0) fill++;
      cache[at] = key;
      cache[at + 1] = op;
      cache[at + 2] = old[from + 2] as number;
    }
    giveInt32(old);
    this.cache = cache;
    this.cacheMask = mask;
    this.cacheFill = fill;
  }

  private growDense(atLeast: number): void {
    let cap = Math.max(8, this.denseStates * 2);
    while (cap < atLeast) cap *= 2;
    cap = Math.min(cap, this.denseMax);
    const dense = new Int32Array(cap * this.n).fill(UNKNOWN);
    dense.set(this.dense);
    this.dense = dense;
    this.denseStates = cap;
  }

  /**
   * Collect the candidates of depth `d` in state `state`: the calls before
   * the list's first return, completed ones first, minus twins waiting for
   * their earlier twin; a read-only candidate that fits is a forced move.
   */
  private pushFrame(d: number, state: number): void {
    const { next, isCall, nodeOp, pending, twin, bits, readOnly, n } = this;
    if (this.candTop + n > this.cand.length) {
      const bigger = new Int32Array(Math.max(this.cand.length * 2, this.candTop + n));
      bigger.set(this.cand.subarray(0, this.candTop));
      this.cand = bigger;
    }
    const cand = this.cand;
    const off = this.candTop;
    let end = off;
    let pendingSeen = false;
    for (let pass = 0; pass < 2; pass++) {
      for (let node = next[0] as number; isCall[node] === 1; node = next[node] as number) {
        const op = nodeOp[node] as number;
        if (pending[op] !== pass) {
          if (pass === 0) pendingSeen = true;
          continue;
        }
        const t = twin[op] as number;
        if (t >= 0 && ((bits[t >>> 5] as number) & (1 << (t & 31))) === 0) continue;
        if (readOnly !== undefined && readOnly[op] === 1) {
          if (this.stepOp(state, op) === ILLEGAL) continue;
          cand[off] = op;
          end = off + 1;
          pass = 2;
          break;
        }
        cand[end++] = op;
      }
      if (!pendingSeen) break;
    }
    if (d < this.preferred.length && end - off > 1) {
      // Try the preferred operation first, the others in their order.
      const want = this.preferred[d] as number;
      for (let k = off + 1; k < end; k++) {
        if (cand[k] !== want) continue;
        cand.copyWithin(off + 1, off, k);
        cand[off] = want;
        break;
      }
    }
    this.frameOff[d] = off;
    this.frameCnt[d] = end - off;
    this.frameCur[d] = 0;
    this.candTop = end;
  }

  /**
   * Search for up to `allowance` more steps. Returns the verdict once known,
   * `undefined` if the allowance ran out first.
   */
  run(allowance: number): boolean | undefined {
    if (this.result !== undefined) return this.result;
    if (this.frameless) {
      this.frameless = false;
      this.pushFrame(0, this.state);
    }
    const { next, prev, callNode, returnNode, zob, bits, visited, frameOff, frameCnt, frameCur, stackOp, stackState, lookahead, n } = this;
    const words = bits.length;
    let depth = this.depth;
    let state = this.state;
    let bitsHash = this.bitsHash;
    let lo = this.lo;
    let hi = this.hi;
    let cand = this.cand;
    let dense = this.dense;
    let denseStates = this.denseStates;
    let steps = 0;
    let result: boolean | undefined;

    while (steps < allowance) {
      steps++;
      const cur = frameCur[depth] as number;
      if (cur === frameCnt[depth]) {
        // No candidate left at this depth: undo the choice that led here.
        if (depth === 0) {
          result = false;
          break;
        }
        if (depth > this.bestLen) this.saveBest(depth);
        this.candTop = frameOff[depth] as number;
        depth--;
        const op = stackOp[depth] as number;
        state = stackState[depth] as number;
        const w = op >>> 5;
        bits[w] = (bits[w] as number) & ~(1 << (op & 31));
        bitsHash ^= zob[op] as number;
        if (w < lo) lo = w;
        while (hi > 0 && bits[hi - 1] === 0) hi--;
        // Unlift: put the return back, then the call.
        const r = returnNode[op] as number;
        next[prev[r] as number] = r;
        prev[next[r] as number] = r;
        const c = callNode[op] as number;
        next[prev[c] as number] = c;
        prev[next[c] as number] = c;
        continue;
      }
      frameCur[depth] = cur + 1;
      const op = cand[(frameOff[depth] as number) + cur] as number;
      let to = state < denseStates ? (dense[state * n + op] as number) : UNKNOWN;
      if (to === UNKNOWN) {
        to = this.stepOp(state, op);
        dense = this.dense;
        denseStates = this.denseStates;
      }
      if (to === ILLEGAL) continue;
      const w = op >>> 5;
      const old = bits[w] as number;
      bits[w] = old | (1 << (op & 31));
      let nlo = lo;
      while (nlo < words && bits[nlo] === -1) nlo++;
      const nhi = w >= hi ? w + 1 : hi;
      if (lookahead !== undefined && lookahead.dead(to, bits, nlo)) {
        bits[w] = old;
        continue;
      }
      const h = bitsHash ^ (zob[op] as number);
      if (!visited.add(pairHash(h, to), to, bits, nlo, nhi)) {
        bits[w] = old;
        continue;
      }
      // Linearize op: lift its call and return out of the list, go one deeper.
      stackOp[depth] = op;
      stackState[depth] = state;
      depth++;
      state = to;
      bitsHash = h;
      lo = nlo;
      hi = nhi;
      const c = callNode[op] as number;
      next[prev[c] as number] = next[c] as number;
      prev[next[c] as number] = prev[c] as number;
      const r = returnNode[op] as number;
      next[prev[r] as number] = next[r] as number;
      prev[next[r] as number] = prev[r] as number;
      if (depth === n) {
        result = true;
        break;
      }
      this.pushFrame(depth, state);
      cand = this.cand;
      dense = this.dense;
      denseStates = this.denseStates;
    }
    this.depth = depth;
    this.state = state;
    this.bitsHash = bitsHash;
    this.lo = lo;
    this.hi = hi;
    this.steps += steps;
    if (result !== undefined) {
      this.result = result;
      visited.release();
      giveInt32(this.cache);
      this.cache = new Int32Array(0);
      this.states?.release();
      this.store?.release();
    }
    return result;
  }

  /** Remember the current path if it is the longest so far. */
  private saveBest(depth: number): void {
    this.best.set(this.stackOp.subarray(0, depth));
    this.bestLen = depth;
  }

  /**
   * Indices into the partition's `ops`: the full linearization once found,
   * otherwise the longest linearizable prefix met so far.
   */
  linearization(): number[] {
    return Array.from(this.longestPath(), (id) => this.original[id] as number);
  }
}
