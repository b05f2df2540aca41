// Raft core throughput: a 3- (and 5-) node in-memory RawNode network with no
// I/O, the leader proposing as fast as the core accepts. Measures entries
// committed (and applied on every node) per second and messages processed
// per second. Pure CPU cost of the core; real throughput is bounded by fsync
// and the network.
import { LogStore, RawNode, bootstrapSnapshot } from '../src/raft/index.ts';
import type { Message, NodeId } from '../src/raft/index.ts';
import { SeededRandom } from '../src/util/rng.ts';
import { printTable, progress, writeResults } from './lib.ts';
import type { Row } from './lib.ts';

interface Case {
  nodes: number;
  payload: number;
  /** Proposals per round (between two Readies of the leader). */
  batch: number;
  /** Use proposeBatch (one MsgProp) instead of one propose per entry. */
  batched: boolean;
  /** Propose again in every delivery round (pipelined) instead of waiting until all is applied. */
  pipelined?: boolean;
}

function runCase(c: Case, entries: number): Row {
  const ids: NodeId[] = Array.from({ length: c.nodes }, (_, i) => i + 1);
  const rng = new SeededRandom(42);
  const nodes = new Map<NodeId, RawNode>();
  for (const id of ids) {
    const store = new LogStore();
    store.applySnapshot(bootstrapSnapshot(ids));
    nodes.set(id, new RawNode({ id, rng: rng.fork() }, store));
  }
  const applied = new Map<NodeId, number>(ids.map((id) => [id, 0]));
  let messages = 0;
  const queue: Message[] = [];
  let proposeRound: (() => void) | undefined;
  const drain = (): void => {
    for (;;) {
      proposeRound?.();
      for (const [id, n] of nodes) {
        while (n.hasReady()) {
          const rd = n.ready();
          applied.set(id, applied.get(id)! + rd.committedEntries.length);
          for (const m of rd.messages) queue.push(m);
          n.advance();
        }
      }
      if (queue.length === 0) return;
      // Deliver everything queued so far (FIFO), then collect Readies again.
      const batch = queue.splice(0, queue.length);
      for (const m of batch) {
        nodes.get(m.to)!.step(m);
        messages++;
      }
    }
  };
  const leader = nodes.get(1)!;
  leader.campaign();
  drain();
  const base = applied.get(1)!;
  const data = new Uint8Array(c.payload);
  const group: Uint8Array[] = Array.from({ length: c.batch }, () => data);
  messages = 0;
  const t0 = performance.now();
  let proposed = 0;
  const proposeOnce = (): void => {
    if (proposed >= entries) return;
    if (c.batched) leader.proposeBatch(group);
    else for (let i = 0; i < c.batch; i++) leader.propose(data);
    proposed += c.batch;
  };
  if (c.pipelined) proposeRound = proposeOnce;
  while (proposed < entries) {
    proposeOnce();
    drain();
  }
  const ms = performance.now() - t0;
  const minApplied = Math.min(...ids.map((id) => applied.get(id)!)) - base;
  if (minApplied < proposed) throw new Error(`only ${minApplied}/${proposed} applied everywhere`);
  return {
    nodes: c.nodes,
    payload: c.payload,
    batch: c.batch,
    propose: (c.batched ? 'proposeBatch' : 'propose') + (c.pipelined ? ' pipelined' : ''),
    entries: proposed,
    'entries/s': Math.round((proposed / ms) * 1000),
    'msgs/s': Math.round((messages / ms) * 1000),
    'msgs/entry': Number((messages / proposed).toFixed(3)),
    ms: Math.round(ms),
  };
}

export async function main(): Promise<void> {
  const quick = process.env.QUICK === '1';
  const entries = quick ? 20_000 : 200_000;
  const cases: Case[] = [
    { nodes: 3, payload: 100, batch: 1, batched: false },
    { nodes: 3, payload: 100, batch: 1, batched: false, pipelined: true },
    { nodes: 3, payload: 100, batch: 16, batched: false },
    { nodes: 3, payload: 100, batch: 64, batched: true },
    { nodes: 3, payload: 1024, batch: 64, batched: true },
    { nodes: 3, payload: 100, batch: 64, batched: true, pipelined: true },
    { nodes: 5, payload: 100, batch: 64, batched: true },
  ];
  // Warm-up (JIT).
  runCase({ nodes: 3, payload: 100, batch: 16, batched: true }, 20_000);
  const rows: Row[] = [];
  for (const c of cases) {
    progress(`raft bench: ${c.nodes} nodes, ${c.payload} B, batch ${c.batch}${c.batched ? ' (proposeBatch)' : ''}${c.pipelined ? ' pipelined' : ''}`);
    rows.push(runCase(c, c.batch === 1 ? entries / 4 : entries));
  }
  printTable('Raft core: in-memory RawNode network (no I/O)', rows);
  writeResults('raft', rows);
}

if (import.meta.url === `file://${process.argv[1]}`) await main();
