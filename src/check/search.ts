/**
 * The search for one partition: Wing & Gong's backtracking over the history's
 * call/return events, with Lowe's memoisation of (linearized set, state)
 * pairs — the algorithm of Porcupine, laid out in typed arrays.
 *
 * The history is a doubly linked list of events sorted by time (calls before
 * returns at equal times). Any call that precedes the first return in the list
 * may be the next operation to take effect; linearizing it "lifts" its call and
 * return out of the list. When no candidate works, the last choice is undone.
 *
 * Any order of trying the candidates gives the same verdict, but how soon a
 * linearization is found depends on it. Each partition therefore runs two
 * searches side by side: one tries candidates in call order (as Porcupine
 * does), the other in return order (the operation that must take effect
 * soonest first, pending operations last). They share the memo, so a
 * situation one of them has fully explored is never explored again by the
 * other: for a linearizable history the answer comes from whichever search is
 * luckier, and a non-linearizable one costs about one exhaustive search.
 *
 * Why sharing is sound: a memo entry is either finished (explored without
 * success) or on the current path of one of the searches. A search skips an
 * entry unless it lies on the *other* search's current path (it cannot meet
 * its own path again: linearized sets only grow along a path), so it only
 * ever skips finished entries, and either search running out of branches
 * proves the history not linearizable.
 *
 * Each depth of a search keeps its candidate list in a buffer (a "frame").
 *
 * A search is resumable: {@link PartitionSearch.run} takes a step allowance,
 * so the caller can interleave partitions and stop early.
 */
import type { Model, Operation } from './types.ts';
import { ILLEGAL, StateTable, UNKNOWN } from './states.ts';
import { VisitedSet, pairHash, zobrist } from './memo.ts';
import { deepEqual, hashValue } from './hash.ts';

/**
 * Transitions from the first states met are cached in a dense table (one
 * slot per (state, op)), so `model.step` runs once per pair. Models with few
 * states (registers) live entirely in it; for models with very many states
 * (a map of appended strings) most states are stepped with few operations
 * and caching them costs more than stepping again. Limits of the table:
 */
const DENSE_ENTRIES = 1 << 18;
const DENSE_STATES = 256;

/**
 * Sort key order of events: by time; at equal times calls come first (so
 * operations touching the same instant overlap); then by operation.
 */
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
 * Pending twins: a pending operation (return = ∞, output undefined) whose
 * input equals an earlier-called pending operation's. Any linearization using the
 * later one where the earlier is still unused can swap them (the earlier was
 * called first, neither has a return to respect, and both step alike), so
 * the search may take twins in call order only.
 */
function pendingTwins<I, O>(inputs: readonly I[], outputs: readonly (O | undefined)[], returns: Float64Array): Int32Array {
  const twin = new Int32Array(inputs.length).fill(-1);
  const last = new Map<number, number[]>(); // hash → pending ops seen, latest of each kind last
  for (let i = 0; i < inputs.length; i++) {
    if (returns[i] !== Infinity || outputs[i] !== undefined) continue;
    const h = hashValue(inputs[i]);
    const seen = last.get(h);
    if (seen === undefined) {
      last.set(h, [i]);
      continue;
    }
    const k = seen.findIndex((j) => deepEqual(inputs[j], inputs[i]));
    if (k >= 0) {
      twin[i] = seen[k] as number;
      seen[k] = i;
    } else seen.push(i);
  }
  return twin;
}

/** What the searches of one partition share: operations, states, transitions, memo. */
class SearchSpace<S, I, O> {
  readonly model: Model<S, I, O>;
  readonly n: number;
  /** Internal op id (by call time) → index in the partition's `ops`. */
  readonly original: Int32Array;
  readonly inputs: I[];
  readonly outputs: (O | undefined)[];
  /** Events as list nodes: node 0 is the head, 1..2n events, 2n+1 the tail. */
  readonly nodeOp: Int32Array;
  readonly isCall: Uint8Array;
  readonly callNode: Int32Array;
  readonly returnNode: Int32Array;
  /** Position of each operation's return among all events. */
  readonly returnRank: Int32Array;
  readonly zob: Int32Array;
  /**
   * For a pending operation, the previous pending operation (by call) with an
   * equal input, or -1. Such twins are interchangeable, so the search only
   * takes them in call order.
   */
  readonly twin: Int32Array;
  /** 1 for operations the model declares read-only; undefined if it declares none. */
  readonly readOnly: Uint8Array | undefined;
  readonly states: StateTable<S>;
  readonly init: number;
  readonly visited: VisitedSet;
  dense = new Int32Array(0);
  denseStates = 0;
  // The last transition computed outside the dense table (a forced move is
  // checked when its frame is built, then taken by the search loop).
  private lastState = -1;
  private lastOp = -1;
  private lastTo = ILLEGAL;
  private readonly denseMax: number;

  constructor(model: Model<S, I, O>, ops: readonly Operation<I, O>[]) {
    this.model = model;
    const n = ops.length;
    this.n = n;
    this.states = new StateTable<S>(model as Model<S, unknown, unknown>);
    this.init = this.states.intern(model.init());

    // Number operations by call time so linearized sets are compact windows.
    const byCall = Array.from(ops.keys()).sort(
      (a, b) => (ops[a] as Operation<I, O>).call - (ops[b] as Operation<I, O>).call || a - b,
    );
    this.original = Int32Array.from(byCall);
    this.inputs = byCall.map((i) => (ops[i] as Operation<I, O>).input);
    this.outputs = byCall.map((i) => (ops[i] as Operation<I, O>).output);
    const calls = Float64Array.from(byCall, (i) => (ops[i] as Operation<I, O>).call);
    const returns = Float64Array.from(byCall, (i) => (ops[i] as Operation<I, O>).return);

    const nodes = 2 * n + 2;
    this.nodeOp = new Int32Array(nodes);
    this.isCall = new Uint8Array(nodes);
    this.callNode = new Int32Array(n);
    this.returnNode = new Int32Array(n);
    this.returnRank = new Int32Array(n);
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
        this.returnRank[e - n] = k;
      }
    }
    this.zob = new Int32Array(n);
    for (let i = 0; i < n; i++) this.zob[i] = zobrist(i);
    this.twin = pendingTwins(this.inputs, this.outputs, returns);
    const readOnly = model.readOnly;
    if (readOnly !== undefined) {
      const flags = Uint8Array.from(byCall, (i) => {
        const op = ops[i] as Operation<I, O>;
        return readOnly.call(model, op.input, op.output) ? 1 : 0;
      });
      this.readOnly = flags.includes(1) ? flags : undefined;
    }
    this.visited = new VisitedSet(64);
    this.denseMax = Math.max(1, Math.min(DENSE_STATES, Math.floor(DENSE_ENTRIES / Math.max(1, n))));
  }

  /** Next state after `op` from `state` (or ILLEGAL), cached for the first states. */
  transition(state: number, op: number): number {
    if (state < this.denseStates) {
      const t = this.dense[state * this.n + op] as number;
      if (t !== UNKNOWN) return t;
    }
    if (state === this.lastState && op === this.lastOp) return this.lastTo;
    const r = this.model.step(this.states.states[state] as S, this.inputs[op] as I, this.outputs[op]);
    const to = r[0] ? this.states.intern(r[1]) : ILLEGAL;
    this.lastState = state;
    this.lastOp = op;
    this.lastTo = to;
    if (state < this.denseMax) {
      if (state >= this.denseStates) this.growDense(state + 1);
      this.dense[state * this.n + op] = to;
    }
    return to;
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
}

/** One resumable depth-first search over a {@link SearchSpace}. */
class Search<S, I, O> {
  /** `true` / `false` once this search has finished; `undefined` while running. */
  result: boolean | undefined;
  /** Steps taken so far. */
  steps = 0;
  private readonly space: SearchSpace<S, I, O>;
  private readonly byReturn: boolean;
  // This search's own copy of the event list.
  private readonly next: Int32Array;
  private readonly prev: Int32Array;
  private readonly bits: Int32Array;
  // Frames: candidates of depth d are cand[frameOff[d] .. frameOff[d] + frameCnt[d]),
  // the next to try at frameCur[d]. Depth d → d+1 linearized stackOp[d] from stackState[d].
  private cand: Int32Array;
  private candTop = 0;
  private readonly frameOff: Int32Array;
  private readonly frameCnt: Int32Array;
  private readonly frameCur: Int32Array;
  readonly stackOp: Int32Array;
  private readonly stackState: Int32Array;
  /** Zobrist hash of the linearized set at each depth of the current path. */
  private readonly pathHash: Int32Array;
  readonly best: Int32Array;
  bestLen = 0;
  /** The search sharing this one's memo. */
  other: Search<S, I, O> | undefined;
  // Search position, saved between runs.
  depth = 0;
  private state: number;
  private bitsHash = 0;
  private lo = 0;
  private hi = 0;

  constructor(space: SearchSpace<S, I, O>, byReturn: boolean) {
    this.space = space;
    this.byReturn = byReturn;
    const n = space.n;
    const nodes = 2 * n + 2;
    this.next = new Int32Array(nodes);
    this.prev = new Int32Array(nodes);
    for (let node = 0; node < nodes; node++) {
      this.next[node] = node + 1;
      this.prev[node] = node - 1;
    }
    this.bits = new Int32Array((n + 31) >>> 5);
    this.cand = new Int32Array(Math.max(16, 4 * n));
    this.frameOff = new Int32Array(n + 1);
    this.frameCnt = new Int32Array(n + 1);
    this.frameCur = new Int32Array(n + 1);
    this.stackOp = new Int32Array(n);
    this.stackState = new Int32Array(n);
    this.pathHash = new Int32Array(n + 1);
    this.best = new Int32Array(n);
    this.state = space.init;
    this.result = n === 0 ? true : undefined;
    if (n > 0) this.pushFrame(0, space.init);
  }

  /**
   * Collect the candidates of depth `d`: the calls before the list's first
   * return, in list (call) order or sorted by return rank.
   */
  private pushFrame(d: number, state: number): void {
    const { isCall, nodeOp, returnRank, n } = this.space;
    const next = this.next;
    if (this.candTop + n > this.cand.length) {
      const bigger = new Int32Array(Math.max(this.cand.length * 2, this.candTop + n));
      bigger.set(this.cand.subarray(0, this.candTop));
      this.cand = bigger;
    }
    const cand = this.cand;
    const off = this.candTop;
    let end = off;
    if (this.byReturn) {
      for (let node = next[0] as number; isCall[node] === 1; node = next[node] as number) {
        // Insertion sort: call order is usually close to return order.
        const op = nodeOp[node] as number;
        const r = returnRank[op] as number;
        let i = end++;
        while (i > off && (returnRank[cand[i - 1] as number] as number) > r) {
          cand[i] = cand[i - 1] as number;
          i--;
        }
        cand[i] = op;
      }
    } else {
      for (let node = next[0] as number; isCall[node] === 1; node = next[node] as number) {
        cand[end++] = nodeOp[node] as number;
      }
    }
    // Pending twins wait for their earlier twin.
    const { twin } = this.space;
    const bits = this.bits;
    let kept = off;
    for (let i = off; i < end; i++) {
      const op = cand[i] as number;
      const t = twin[op] as number;
      if (t >= 0 && ((bits[t >>> 5] as number) & (1 << (t & 31))) === 0) continue;
      cand[kept++] = op;
    }
    end = kept;
    // Read-only candidates: one that fits the current state is a forced move
    // (any linearization can be reordered to take it first: it was called
    // before every remaining operation returned, and it changes nothing), and
    // one that does not fit can be dropped now.
    const readOnly = this.space.readOnly;
    if (readOnly !== undefined) {
      let keep = off;
      for (let i = off; i < end; i++) {
        const op = cand[i] as number;
        if (readOnly[op] === 1) {
          if (this.space.transition(state, op) === ILLEGAL) continue;
          cand[off] = op;
          keep = off + 1;
          break;
        }
        cand[keep++] = op;
      }
      end = keep;
    }
    this.frameOff[d] = off;
    this.frameCnt[d] = end - off;
    this.frameCur[d] = 0;
    this.candTop = end;
  }

  /**
   * Search for up to `allowance` more steps. Returns `true` on finding a
   * linearization, `false` once every branch is explored or skipped,
   * `undefined` if the allowance ran out first.
   */
  run(allowance: number): boolean | undefined {
    if (this.result !== undefined) return this.result;
    const space = this.space;
    const { callNode, returnNode, zob, visited, n } = space;
    const { next, prev, bits, frameOff, frameCnt, frameCur, stackOp, stackState } = this;
    const words = bits.length;
    let depth = this.depth;
    let state = this.state;
    let bitsHash = this.bitsHash;
    let lo = this.lo;
    let hi = this.hi;
    let cand = this.cand;
    let dense = space.dense;
    let denseStates = space.denseStates;
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
        to = space.transition(state, op);
        dense = space.dense;
        denseStates = space.denseStates;
      }
      if (to === ILLEGAL) continue;
      const w = op >>> 5;
      const old = bits[w] as number;
      bits[w] = old | (1 << (op & 31));
      let nlo = lo;
      while (nlo < words && bits[nlo] === -1) nlo++;
      const nhi = w >= hi ? w + 1 : hi;
      const h = bitsHash ^ (zob[op] as number);
      if (!visited.add(pairHash(h, to), to, bits, nlo, nhi) && !this.onOtherPath(depth + 1, h, to)) {
        bits[w] = old;
        continue;
      }
      // Linearize op: lift its call and return out of the list, go one deeper.
      stackOp[depth] = op;
      stackState[depth] = state;
      depth++;
      this.pathHash[depth] = h;
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
    }
    this.depth = depth;
    this.state = state;
    this.bitsHash = bitsHash;
    this.lo = lo;
    this.hi = hi;
    this.steps += steps;
    if (result !== undefined) this.result = result;
    return result;
  }

  /**
   * Is (this search's `bits`, `state`) at depth `d` — with Zobrist hash `h` —
   * the node at depth `d` of the other search's current path?
   */
  private onOtherPath(d: number, h: number, state: number): boolean {
    const y = this.other;
    if (y === undefined) return false;
    // Load everything up front: this runs on every memo hit, so the loads get
    // type feedback even though the rest is rarely reached (see warmUp).
    const { depth, result, pathHash, stackState, stackOp } = y;
    const yState = y.state;
    if (result !== undefined || depth < d || pathHash[d] !== h) return false;
    if ((d === depth ? yState : stackState[d]) !== state) return false;
    const bits = this.bits;
    for (let k = 0; k < d; k++) {
      const op = stackOp[k] as number;
      if (((bits[op >>> 5] as number) & (1 << (op & 31))) === 0) return false;
    }
    return true;
  }

  /** Remember the current path if it is the longest so far. */
  saveBest(depth: number): void {
    this.best.set(this.stackOp.subarray(0, depth));
    this.bestLen = depth;
  }
}

/**
 * The check of one partition: two searches (call order, return order) over a
 * shared memo, advanced alternately.
 */
export class PartitionSearch<S, I, O> {
  /** `true` / `false` once decided; `undefined` while running. */
  result: boolean | undefined;
  private readonly space: SearchSpace<S, I, O>;
  private readonly searches: [Search<S, I, O>, Search<S, I, O>];

  constructor(model: Model<S, I, O>, ops: readonly Operation<I, O>[]) {
    this.space = new SearchSpace(model, ops);
    const [a, b] = [new Search(this.space, false), new Search(this.space, true)];
    a.other = b;
    b.other = a;
    this.searches = [a, b];
    this.result = ops.length === 0 ? true : undefined;
  }

  /** Steps taken so far (both searches). */
  get steps(): number {
    return this.searches[0].steps + this.searches[1].steps;
  }

  /** Interned states. */
  get states(): StateTable<S> {
    return this.space.states;
  }

  /**
   * Search for up to `allowance` more steps (shared by the two searches).
   * Returns the verdict once known, `undefined` if the allowance ran out.
   */
  run(allowance: number): boolean | undefined {
    if (this.result !== undefined) return this.result;
    const [a, b] = this.searches;
    const half = Math.max(1, allowance >>> 1);
    const r = a.run(half) ?? b.run(allowance - half);
    if (r !== undefined) this.result = r;
    return this.result;
  }

  /**
   * Indices into the partition's `ops`: the full linearization once found,
   * otherwise the longest linearizable prefix met so far.
   */
  linearization(): number[] {
    const done = this.searches.find((s) => s.result === true);
    let ids: Int32Array;
    if (done !== undefined) ids = done.stackOp;
    else {
      for (const s of this.searches) if (s.depth > s.bestLen) s.saveBest(s.depth);
      const [a, b] = this.searches;
      const best = a.bestLen >= b.bestLen ? a : b;
      ids = best.best.subarray(0, best.bestLen);
    }
    return Array.from(ids, (id) => this.space.original[id] as number);
  }
}
