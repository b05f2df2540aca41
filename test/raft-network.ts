// A tiny synchronous in-memory network of RawNodes for Raft scenario tests.
// Not a test file itself. Every node's Ready is handled the simplest correct
// way: entries and hard state go to its LogStore (advance does that), committed
// entries are recorded (and conf changes applied), messages are queued.
import { decode } from '../src/codec/index.ts';
import { LogStore, RawNode, bootstrapSnapshot, EntryType, MessageType } from '../src/raft/index.ts';
import type { ConfChange, ConfState, Entry, HardState, Message, NodeId, RaftConfig, ReadState, Ready } from '../src/raft/index.ts';
import { SeededRandom } from '../src/util/rng.ts';

export const enc = (s: string): Uint8Array => new TextEncoder().encode(s);
export const dec = (b: Uint8Array): string => new TextDecoder().decode(b);

/** Options shared by every node of a network. */
export type NodeOptions = Partial<Omit<RaftConfig, 'id' | 'rng'>>;

/** One member: its RawNode, its log, and what it has applied. */
export interface Member {
  id: NodeId;
  node: RawNode;
  store: LogStore;
  /** Committed entries applied so far, in order (including no-ops). */
  applied: Entry[];
  readStates: ReadState[];
  /** Every ConfState returned by applyConfChange, in order. */
  confStates: ConfState[];
  /** Application data restored from the last snapshot (JSON list of applied data). */
  snapshotData: string[];
  /** Every Ready handled, when set (for assertions on Ready contents). */
  readies?: Ready[];
}

/** A log prepopulated with entries of the given terms (index i+1 has terms[i]). */
export function storeWith(voters: readonly NodeId[], terms: readonly number[], hs?: Partial<HardState>, learners: readonly NodeId[] = []): LogStore {
  const store = new LogStore();
  store.applySnapshot(bootstrapSnapshot(voters, learners));
  store.append(terms.map((term, i) => ({ term, index: i + 1, type: EntryType.Normal, data: enc(`t${term}i${i + 1}`) })));
  const last = terms.length === 0 ? 0 : terms[terms.length - 1]!;
  store.setHardState({ term: hs?.term ?? last, vote: hs?.vote ?? 0, commit: hs?.commit ?? 0 });
  return store;
}

/** A message with every field at its zero value except those given. */
export function msg(m: Partial<Message> & Pick<Message, 'type'>): Message {
  return { from: 0, to: 0, term: 0, logTerm: 0, index: 0, entries: [], commit: 0, reject: false, rejectHint: 0, ...m };
}

/** Collect one node's Ready: record committed entries, apply conf changes, advance; return its messages. */
export function drainReady(mb: Member): Message[] {
  const out: Message[] = [];
  while (mb.node.hasReady()) {
    const rd = mb.node.ready();
    mb.readies?.push(rd);
    if (rd.snapshot !== undefined && rd.snapshot.metadata.index > 0) {
      mb.snapshotData = JSON.parse(dec(rd.snapshot.data)) as string[];
      mb.applied = [];
    }
    for (const e of rd.committedEntries) {
      mb.applied.push(e);
      if (e.type === EntryType.ConfChange) mb.confStates.push(mb.node.applyConfChange(decode<ConfChange>(e.data)));
    }
    mb.readStates.push(...rd.readStates);
    out.push(...rd.messages);
    mb.node.advance();
  }
  return out;
}

/** A network of members with droppable links and a delivery queue. */
export class Network {
  readonly members = new Map<NodeId, Member>();
  /** Links "from->to" that drop everything. */
  readonly cut = new Set<string>();
  /** Return false to drop a message. */
  filter: ((m: Message) => boolean) | undefined = undefined;
  /** Every message delivered, in order (for assertions). */
  readonly trace: Message[] = [];
  readonly opts: NodeOptions;
  private readonly rng: SeededRandom;

  constructor(ids: readonly NodeId[], opts: NodeOptions = {}, seed = 1, learners: readonly NodeId[] = [], stores?: Map<NodeId, LogStore>) {
    this.opts = opts;
    this.rng = new SeededRandom(seed);
    for (const id of [...ids, ...learners]) {
      const store = stores?.get(id) ?? storeWith(ids, [], undefined, learners);
      this.add(id, store);
    }
  }

  /** Add (or restart) a member on `store`. */
  add(id: NodeId, store: LogStore): Member {
    const node = new RawNode({ id, rng: this.rng.fork(), ...this.opts }, store);
    const mb: Member = { id, node, store, applied: [], readStates: [], confStates: [], snapshotData: [] };
    this.members.set(id, mb);
    return mb;
  }

  get(id: NodeId): Member {
    const m = this.members.get(id);
    if (m === undefined) throw new Error(`no member ${id}`);
    return m;
  }

  node(id: NodeId): RawNode {
    return this.get(id).node;
  }

  /** Deliver messages (and everything they cause) until quiet. */
  send(msgs: Message[]): void {
    const queue = [...msgs];
    for (const mb of this.members.values()) queue.push(...drainReady(mb));
    let guard = 0;
    while (queue.length > 0) {
      if (++guard > 1_000_000) throw new Error('network did not quiesce');
      const m = queue.shift()!;
      const to = this.members.get(m.to);
      if (to === undefined || this.cut.has(`${m.from}->${m.to}`)) continue;
      if (this.filter !== undefined && !this.filter(m)) continue;
      this.trace.push(m);
      to.node.step(m);
      queue.push(...drainReady(to));
    }
  }

  /** Flush all pending Readies and deliver. */
  settle(): void {
    this.send([]);
  }

  /** Tick `ids` (default all) `n` times, delivering after each tick. */
  tick(n = 1, ids: readonly NodeId[] = [...this.members.keys()]): void {
    for (let i = 0; i < n; i++) {
      for (const id of ids) this.get(id).node.tick();
      this.settle();
    }
  }

  /** Make `id` campaign and deliver. */
  campaign(id: NodeId): void {
    this.get(id).node.campaign();
    this.settle();
  }

  /** Propose on `id` and deliver. */
  propose(id: NodeId, data: string): void {
    this.get(id).node.propose(enc(data));
    this.settle();
  }

  /** Cut every link to and from `id`. */
  isolate(id: NodeId): void {
    for (const other of this.members.keys()) {
      if (other === id) continue;
      this.cut.add(`${id}->${other}`);
      this.cut.add(`${other}->${id}`);
    }
  }

  /** Cut links between the two groups. */
  partition(a: readonly NodeId[], b: readonly NodeId[]): void {
    for (const x of a) for (const y of b) {
      this.cut.add(`${x}->${y}`);
      this.cut.add(`${y}->${x}`);
    }
  }

  heal(): void {
    this.cut.clear();
  }

  /** The data of applied non-empty normal entries of `id`. */
  appliedData(id: NodeId): string[] {
    return [...this.get(id).snapshotData, ...this.appliedSinceSnapshot(id)];
  }

  /** Take a snapshot of `id` at its applied index and compact its log there. */
  snapshot(id: NodeId): void {
    const mb = this.get(id);
    const st = mb.node.status();
    const cs = mb.confStates.length > 0 ? mb.confStates[mb.confStates.length - 1]! : mb.store.initialState().confState;
    mb.store.createSnapshot(st.applied, cs, enc(JSON.stringify(this.appliedData(id))));
    mb.store.compact(st.applied);
  }

  private appliedSinceSnapshot(id: NodeId): string[] {
    return this.get(id).applied.filter((e) => e.type === EntryType.Normal && e.data.length > 0).map((e) => dec(e.data));
  }
}

/** Terms of the entries in a node's log (index 1..last). */
export function logTerms(node: RawNode, store: LogStore): number[] {
  const out: number[] = [];
  const st = node.status();
  for (let i = Math.max(1, st.firstIndex); i <= st.lastIndex; i++) out.push(node.raft.raftLog.zeroTermOnOutOfBounds(i));
  void store;
  return out;
}

export { MessageType };

/** A lone member (no network) on a store; drive it with step() and read drainReady(). */
export function lone(id: NodeId, store: LogStore, opts: NodeOptions = {}, seed = 7): Member {
  const node = new RawNode({ id, rng: new SeededRandom(seed), preVote: false, checkQuorum: false, ...opts }, store);
  return { id, node, store, applied: [], readStates: [], confStates: [], snapshotData: [] };
}

/** The fields of a message that scenario tests compare. */
export function brief(m: Message): Record<string, unknown> {
  const o: Record<string, unknown> = { type: m.type, from: m.from, to: m.to, term: m.term };
  if (m.index !== 0) o.index = m.index;
  if (m.logTerm !== 0) o.logTerm = m.logTerm;
  if (m.commit !== 0) o.commit = m.commit;
  if (m.reject) o.reject = true;
  if (m.rejectHint !== 0) o.rejectHint = m.rejectHint;
  if (m.entries.length > 0) o.entries = m.entries.map((e) => [e.index, e.term]);
  if (m.context !== undefined) o.context = dec(m.context);
  return o;
}
