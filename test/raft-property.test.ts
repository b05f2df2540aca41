// Property test (issue #2): random message loss, duplication and reordering,
// partitions, crash-restarts, snapshots with compaction, leader transfers and
// ReadIndex among 3 and 5 RawNodes with proposals (and, for issue #5, random
// membership changes), checking after every step: election safety (at most
// one leader per term), log matching, leader completeness, state-machine
// safety, commit quorum (under the config the leader used), identical configs
// after each conf change, and ReadIndex safety.
// Prints its seeds; `SEED=n` reruns one seed. A last test plants the core's
// test faults and checks that these invariants catch them.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ConfChangeTransition, ConfChangeType, LogStore, MessageType, RawNode, bootstrapSnapshot, EntryType, StateRole } from '../src/raft/index.ts';
import { decode } from '../src/codec/index.ts';
import type { ConfChange, Entry, Message, NodeId, RaftConfig } from '../src/raft/index.ts';
import { isStrataError } from '../src/errors.ts';
import { SeededRandom } from '../src/util/rng.ts';
import { dec, enc } from './raft-network.ts';

/** An entry's identity: its term and its data buffer (shared by reference in this in-memory network). */
interface Ref {
  term: number;
  data: Uint8Array;
}

interface NodeState {
  node: RawNode;
  store: LogStore;
  applied: Entry[];
  /** Applied entries already checked. */
  appliedChecked: number;
  /** Leader completeness verified up to this committed index, for leaderTerm. */
  lcTerm: number;
  lcUpTo: number;
}

interface Sim {
  nodes: Map<NodeId, NodeState>;
  pool: Message[];
  cut: Set<NodeId>;
  rng: SeededRandom;
  leaders: Map<number, NodeId>;
  /** Entries known committed (by any node), by index. */
  committed: Ref[];
  /** Term of the node that first reported each index committed (the entry was committed in this term or earlier). */
  commitTerm: number[];
  /** Entries applied (by any node), by index - 1. */
  applied: Ref[];
  proposals: number;
  maxCommit: number;
  /** Configuration after each applied conf change entry (must agree on all nodes). */
  confAt: Map<number, string>;
  /** A violation found while handling a Ready (config divergence, stale read). */
  confViolation: string | undefined;
  confChanges: number;
  /** State-machine contents of each snapshot taken, by id (the snapshot's data). */
  snapData: Map<number, Entry[]>;
  snapshots: number;
  /** Read requests: context -> highest commit index known anywhere when issued. */
  reads: Map<string, number>;
  readsServed: number;
  /** Last commit index each leader published (commit-quorum check). */
  leaderCommit: Map<NodeId, number>;
}

type Faults = RaftConfig['testFaults'];

function makeNode(sim: Sim, id: NodeId, store: LogStore, faults: Faults, applied = 0): RawNode {
  return new RawNode({ id, rng: sim.rng.fork(), maxInflightMsgs: 8, maxSizePerMsg: 256, applied, ...(faults ? { testFaults: faults } : {}) }, store);
}

const same = (a: Ref, b: Ref): boolean => a.term === b.term && a.data === b.data;
const show = (e: Ref): string => `${e.term}:${dec(e.data)}`;

/** A message was lost: a lost snapshot is reported to its sender, as a transport would. */
function lost(sim: Sim, m: Message): void {
  if (m.type === MessageType.MsgSnap) sim.nodes.get(m.from)?.node.reportSnapshot(m.to, false);
}

/**
 * Commit quorum: when a leader publishes a new commit index, the entry there
 * is durable (in the LogStore) on a majority of each voter set of the
 * configuration the leader is using (before the Ready's conf changes apply).
 */
function commitQuorum(sim: Sim, id: NodeId, commit: number): void {
  const s = sim.nodes.get(id)!;
  const prev = sim.leaderCommit.get(id);
  sim.leaderCommit.set(id, commit);
  if (prev !== undefined && commit <= prev) return;
  const rl = s.node.raft.raftLog;
  if (commit < rl.firstIndex()) return;
  const term = rl.term(commit);
  const cfg = s.node.raft.trk.config.voters;
  for (const voters of [cfg.incoming, cfg.outgoing]) {
    if (voters.size === 0) continue;
    let have = 0;
    for (const v of voters) {
      const st = sim.nodes.get(v)?.store;
      if (st === undefined) continue;
      let t: number | undefined;
      try {
        t = commit <= st.lastIndex() ? st.term(commit) : undefined;
      } catch {
        t = st.snapshot().metadata.index >= commit ? term : undefined; // compacted: covered by its snapshot
      }
      if (v === id || t === term) have++;
    }
    if (have * 2 <= voters.size) {
      sim.confViolation ??= `commit quorum: leader ${id} committed ${commit} held by ${have} of [${[...voters].join(',')}]`;
    }
  }
}

/** Handle every pending Ready; messages go to the pool. */
function flush(sim: Sim): void {
  for (const [id, s] of sim.nodes) {
    while (s.node.hasReady()) {
      const rd = s.node.ready();
      if (rd.hardState !== undefined && s.node.raft.state === StateRole.Leader) commitQuorum(sim, id, rd.hardState.commit);
      if (rd.snapshot !== undefined && rd.snapshot.metadata.index > 0) {
        // Restore the state machine from the snapshot.
        s.applied = sim.snapData.get(Number(dec(rd.snapshot.data)))!.slice();
        s.appliedChecked = 0;
      }
      for (const e of rd.committedEntries) {
        s.applied.push(e);
        if (e.type === EntryType.ConfChange) {
          const cs = JSON.stringify(s.node.applyConfChange(decode<ConfChange>(e.data)));
          const known = sim.confAt.get(e.index);
          if (known === undefined) sim.confAt.set(e.index, cs);
          else if (known !== cs) sim.confViolation = `config after entry ${e.index} differs on ${id}: ${cs} vs ${known}`;
        }
      }
      for (const rs of rd.readStates) {
        // ReadIndex safety: the read index covers every commit known when the read was issued.
        const known = sim.reads.get(dec(rs.requestCtx));
        if (known === undefined) sim.confViolation ??= `unknown read state ${dec(rs.requestCtx)}`;
        else if (rs.index < known) sim.confViolation ??= `read ${dec(rs.requestCtx)} got index ${rs.index} < commit ${known} known when issued`;
        sim.readsServed++;
      }
      for (const m of rd.messages) {
        if (!sim.cut.has(id) && !sim.cut.has(m.to)) sim.pool.push(m);
        else lost(sim, m);
      }
      s.node.advance();
    }
  }
}

const entryAt = (n: RawNode, i: number): Entry => n.raft.raftLog.slice(i, i + 1)[0]!;

/** Check all invariants; returns a violation or undefined. */
function check(sim: Sim): string | undefined {
  if (sim.confViolation !== undefined) return sim.confViolation;
  const ids = [...sim.nodes.keys()];
  for (const id of ids) {
    const s = sim.nodes.get(id)!;
    const r = s.node.raft;
    const rl = r.raftLog;
    // Election safety: at most one leader per term.
    if (r.state === StateRole.Leader) {
      const prev = sim.leaders.get(r.term);
      if (prev !== undefined && prev !== id) return `election safety: ${prev} and ${id} both led term ${r.term}`;
      sim.leaders.set(r.term, id);
    }
    // Committed entries are recorded once and must never differ.
    if (sim.committed.length === 0) {
      sim.committed.push({ term: 0, data: new Uint8Array() });
      sim.commitTerm.push(0);
    }
    for (let i = sim.committed.length; i <= rl.committed; i++) {
      sim.committed.push(entryAt(s.node, i));
      sim.commitTerm.push(r.term);
    }
    for (let i = Math.max(1, rl.committed - 2, rl.firstIndex()); i <= rl.committed; i++) {
      const e = entryAt(s.node, i);
      if (!same(sim.committed[i]!, e)) return `committed entry ${i} differs on ${id}: ${show(e)} vs ${show(sim.committed[i]!)}`;
    }
    if (rl.committed > sim.maxCommit) sim.maxCommit = rl.committed;
    // State-machine safety: the same entry applied at each index everywhere.
    for (let i = s.appliedChecked; i < s.applied.length; i++) {
      const e = s.applied[i]!;
      if (e.index !== i + 1) return `node ${id} applied index ${e.index} at position ${i}`;
      const known = sim.applied[i];
      if (known === undefined) sim.applied[i] = e;
      else if (!same(known, e)) return `state machine safety: index ${i + 1} applied as ${show(e)} on ${id}, ${show(known)} elsewhere`;
    }
    s.appliedChecked = s.applied.length;
    // Leader completeness: a leader holds every entry committed in an earlier term.
    if (r.state === StateRole.Leader) {
      if (s.lcTerm !== r.term) {
        s.lcTerm = r.term;
        s.lcUpTo = 0;
      }
      // Entries below the first index are covered by our snapshot (committed).
      for (let i = Math.max(s.lcUpTo + 1, rl.firstIndex() - 1); i < sim.committed.length; i++) {
        if (sim.commitTerm[i]! >= r.term) continue;
        if (rl.term(i) !== sim.committed[i]!.term) return `leader completeness: leader ${id} (term ${r.term}) lacks committed entry ${i}`;
      }
      s.lcUpTo = sim.committed.length - 1;
    }
  }
  // Log matching: if two logs hold an entry with the same index and term,
  // they are identical up to it. Below both commit indexes this follows from
  // the committed-entry check, so only the uncommitted suffix is walked.
  for (let a = 0; a < ids.length; a++) {
    for (let b = a + 1; b < ids.length; b++) {
      const na = sim.nodes.get(ids[a]!)!.node;
      const nb = sim.nodes.get(ids[b]!)!.node;
      const la = na.raft.raftLog;
      const lb = nb.raft.raftLog;
      // Compacted entries are committed: covered by the committed-entry check too.
      const floor = Math.max(Math.min(la.committed, lb.committed), la.firstIndex() - 1, lb.firstIndex() - 1);
      let i = Math.min(la.lastIndex(), lb.lastIndex());
      while (i > floor && la.term(i) !== lb.term(i)) i--;
      for (let j = i; j > floor; j--) {
        if (!same(entryAt(na, j), entryAt(nb, j))) return `log matching: ${ids[a]} and ${ids[b]} agree at ${i} but differ at ${j}`;
      }
    }
  }
  return undefined;
}

const CHANGE_TYPES = [ConfChangeType.AddNode, ConfChangeType.AddLearnerNode, ConfChangeType.RemoveNode] as const;

/** The current leader proposes a random membership change (refusals are fine). */
function proposeRandomConfChange(sim: Sim, ids: NodeId[]): void {
  const r = sim.rng;
  const leader = [...sim.nodes.values()].filter((s) => s.node.raft.state === StateRole.Leader).sort((a, b) => b.node.raft.term - a.node.raft.term)[0];
  if (leader === undefined) return;
  const cfg = leader.node.raft.trk.config;
  let cc: ConfChange;
  if (cfg.voters.outgoing.size > 0 && !cfg.autoLeave) {
    cc = { transition: ConfChangeTransition.Auto, changes: [] };
  } else {
    const k = r.chance(0.6) ? 1 : 2;
    const changes = Array.from({ length: k }, () => ({ type: r.pick(CHANGE_TYPES), nodeId: r.pick(ids) }));
    cc = { transition: r.pick([ConfChangeTransition.Auto, ConfChangeTransition.JointImplicit, ConfChangeTransition.JointExplicit]), changes };
  }
  try {
    leader.node.proposeConfChange(cc);
    sim.confChanges++;
  } catch (err) {
    if (!isStrataError(err)) throw err;
  }
}

/** Run one randomized history; returns the first violation (or undefined) and stats. */
function run(seed: number, n: number, steps: number, faults?: Faults, membership = false): { violation?: string; step: number; sim: Sim } {
  const ids = Array.from({ length: n }, (_, i) => i + 1);
  // With membership changes, the cluster starts as {1,2,3}; the others join with empty logs.
  const initial = membership ? ids.slice(0, 3) : ids;
  const sim: Sim = { nodes: new Map(), pool: [], cut: new Set(), rng: new SeededRandom(seed), leaders: new Map(), committed: [], commitTerm: [], applied: [], proposals: 0, maxCommit: 0, confAt: new Map(), confViolation: undefined, confChanges: 0, snapData: new Map(), snapshots: 0, reads: new Map(), readsServed: 0, leaderCommit: new Map() };
  for (const id of ids) {
    const store = new LogStore();
    if (initial.includes(id)) store.applySnapshot(bootstrapSnapshot(initial));
    sim.nodes.set(id, { node: makeNode(sim, id, store, faults), store, applied: [], appliedChecked: 0, lcTerm: 0, lcUpTo: 0 });
  }
  const r = sim.rng;
  for (let step = 0; step < steps; step++) {
    const roll = r.next();
    if (roll < 0.3) {
      sim.nodes.get(r.pick(ids))!.node.tick();
    } else if (roll < 0.75) {
      // Deliver up to three messages (the network keeps up with the heartbeats).
      for (let k = 1 + r.int(3); k > 0 && sim.pool.length > 0; k--) {
        const i = r.int(sim.pool.length);
        const m = sim.pool[i]!;
        if (r.chance(0.9)) {
          // Deliver (possibly keeping a duplicate in the pool), out of order.
          if (!r.chance(0.1)) {
            sim.pool[i] = sim.pool[sim.pool.length - 1]!;
            sim.pool.pop();
          }
          if (!sim.cut.has(m.to) && !sim.cut.has(m.from)) {
            sim.nodes.get(m.to)!.node.step(m);
            if (m.type === MessageType.MsgSnap) sim.nodes.get(m.from)!.node.reportSnapshot(m.to, true);
          } else {
            lost(sim, m);
          }
        } else {
          sim.pool[i] = sim.pool[sim.pool.length - 1]!;
          sim.pool.pop();
          lost(sim, m);
        }
      }
    } else if (roll < 0.87) {
      const id = r.pick(ids);
      try {
        sim.nodes.get(id)!.node.propose(enc(`s${seed}p${sim.proposals++}`));
      } catch (err) {
        if (!isStrataError(err, 'ErrProposalDropped')) throw err;
      }
    } else if (roll < 0.895) {
      // A linearizable read: remember the highest commit index any node knows now.
      const ctx = `r${sim.reads.size}`;
      sim.reads.set(ctx, sim.maxCommit);
      sim.nodes.get(r.pick(ids))!.node.readIndex(enc(ctx));
    } else if (roll < 0.9) {
      sim.nodes.get(r.pick(ids))!.node.transferLeader(r.pick(ids));
    } else if (membership && roll < 0.92) {
      proposeRandomConfChange(sim, ids);
    } else if (roll < 0.95) {
      // Partition a node away, or heal.
      if (sim.cut.size > 0 && r.chance(0.6)) sim.cut.clear();
      else if (sim.cut.size < Math.floor((n - 1) / 2)) sim.cut.add(r.pick(ids));
    } else if (roll < 0.96) {
      // Crash-restart: the LogStore and the state machine (with its applied
      // index, and the config as of it) are durable; in-flight messages are lost.
      const id = r.pick(ids);
      const s = sim.nodes.get(id)!;
      s.node = makeNode(sim, id, s.store, faults, s.applied.length);
      for (const m of sim.pool) if (m.to === id) lost(sim, m);
      sim.pool = sim.pool.filter((m) => m.to !== id);
    } else if (roll < 0.97) {
      // Snapshot at the applied index and compact the log up to it.
      const s = sim.nodes.get(r.pick(ids))!;
      const at = s.applied.length;
      if (at > s.store.snapshot().metadata.index + 3) {
        const snapId = sim.snapData.size + 1;
        sim.snapData.set(snapId, s.applied.slice(0, at));
        s.store.createSnapshot(at, s.store.initialState().confState, enc(String(snapId)));
        s.store.compact(at);
        sim.snapshots++;
      }
    } else {
      // Advance time on everyone (keeps elections moving).
      for (const id of ids) sim.nodes.get(id)!.node.tick();
    }
    if (sim.pool.length > 400) for (const m of sim.pool.splice(0, sim.pool.length - 400)) lost(sim, m);
    flush(sim);
    const v = check(sim);
    if (v !== undefined) return { violation: v, step, sim };
  }
  return { step: steps, sim };
}

/** After the chaos: heal, deliver everything, and a leader must commit a final proposal. */
function settleAndCommit(sim: Sim, seed: number): boolean {
  sim.cut.clear();
  const ids = [...sim.nodes.keys()];
  for (let round = 0; round < 400; round++) {
    for (const id of ids) sim.nodes.get(id)!.node.tick();
    flush(sim);
    while (sim.pool.length > 0) {
      const m = sim.pool.shift()!;
      sim.nodes.get(m.to)!.node.step(m);
      if (m.type === MessageType.MsgSnap) sim.nodes.get(m.from)!.node.reportSnapshot(m.to, true);
      flush(sim);
    }
    const v = check(sim);
    assert.equal(v, undefined, `seed ${seed}: ${v}`);
    const lead = ids.find((id) => sim.nodes.get(id)!.node.raft.state === StateRole.Leader);
    if (lead !== undefined && round > 20) {
      const data = `final-${seed}`;
      sim.nodes.get(lead)!.node.propose(enc(data));
      for (let k = 0; k < 5; k++) {
        for (const id of ids) sim.nodes.get(id)!.node.tick();
        flush(sim);
        while (sim.pool.length > 0) {
          const m = sim.pool.shift()!;
          sim.nodes.get(m.to)!.node.step(m);
          flush(sim);
        }
      }
      // Every member of the leader's configuration applied it.
      const members = [...sim.nodes.get(lead)!.node.raft.trk.progress.keys()];
      return members.every((id) => sim.nodes.get(id)!.applied.some((e) => e.type === EntryType.Normal && dec(e.data) === data));
    }
  }
  return false;
}

const envSeed = process.env.SEED !== undefined ? Number(process.env.SEED) : undefined;
const STEPS = 4000;

for (const n of [3, 5]) {
  test(`property (issue #2): safety under loss, duplication, reordering, partitions and restarts — ${n} nodes`, (t) => {
    const seeds = envSeed !== undefined ? [envSeed] : n === 3 ? [1, 2, 3, 4, 5] : [11, 12, 13, 14];
    for (const seed of seeds) {
      t.diagnostic(`seed=${seed} nodes=${n} steps=${STEPS} (rerun with SEED=${seed})`);
      const { violation, step, sim } = run(seed, n, STEPS);
      assert.equal(violation, undefined, `seed ${seed}, step ${step}: ${violation}`);
      assert.ok(sim.maxCommit > 5, `seed ${seed}: the run made progress (commit ${sim.maxCommit})`);
      assert.ok(sim.leaders.size > 1, `seed ${seed}: several terms had leaders`);
      t.diagnostic(`seed=${seed}: commit ${sim.maxCommit}, ${sim.leaders.size} terms with a leader, ${sim.snapshots} snapshots, ${sim.readsServed} reads served`);
      assert.ok(sim.readsServed > 0, `seed ${seed}: some reads were served`);
      assert.ok(settleAndCommit(sim, seed), `seed ${seed}: after healing, a final proposal commits everywhere`);
    }
  });
}

test('property (issue #5): safety with random membership changes (joint, learners, removals) among 5 nodes', (t) => {
  const seeds = envSeed !== undefined ? [envSeed] : [21, 22, 23, 24];
  for (const seed of seeds) {
    t.diagnostic(`seed=${seed} membership steps=${STEPS} (rerun with SEED=${seed})`);
    const { violation, step, sim } = run(seed, 5, STEPS, undefined, true);
    assert.equal(violation, undefined, `seed ${seed}, step ${step}: ${violation}`);
    t.diagnostic(`seed=${seed}: ${sim.confChanges} conf changes accepted, ${sim.confAt.size} applied, commit ${sim.maxCommit}`);
    assert.ok(sim.confAt.size >= 2, `seed ${seed}: membership actually changed`);
    assert.ok(settleAndCommit(sim, seed), `seed ${seed}: after healing, a final proposal commits everywhere`);
  }
});

/** Two nodes campaign at once, then every message is delivered; returns the invariant check. */
function race(faults: Faults): string | undefined {
  const ids = [1, 2, 3];
  const sim: Sim = { nodes: new Map(), pool: [], cut: new Set(), rng: new SeededRandom(5), leaders: new Map(), committed: [], commitTerm: [], applied: [], proposals: 0, maxCommit: 0, confAt: new Map(), confViolation: undefined, confChanges: 0, snapData: new Map(), snapshots: 0, reads: new Map(), readsServed: 0, leaderCommit: new Map() };
  for (const id of ids) {
    const store = new LogStore();
    store.applySnapshot(bootstrapSnapshot(ids));
    sim.nodes.set(id, { node: makeNode(sim, id, store, faults), store, applied: [], appliedChecked: 0, lcTerm: 0, lcUpTo: 0 });
  }
  sim.nodes.get(1)!.node.campaign();
  sim.nodes.get(2)!.node.campaign();
  flush(sim);
  for (let k = 0; k < 1000 && sim.pool.length > 0; k++) {
    const m = sim.pool.shift()!;
    sim.nodes.get(m.to)!.node.step(m);
    flush(sim);
    const v = check(sim);
    if (v !== undefined) return v;
  }
  return check(sim);
}

test('property (issue #2): the planted test faults are caught by the invariants', (t) => {
  // voteTwice: two simultaneous candidates both collect a majority.
  assert.equal(race(undefined), undefined, 'the race is safe without faults');
  const v = race({ voteTwice: true });
  t.diagnostic(`voteTwice: ${v}`);
  assert.match(v ?? '', /^election safety/);
  // commitWithoutQuorum: found by the randomized history.
  let found: string | undefined;
  for (let seed = 100; seed < 130 && found === undefined; seed++) {
    const res = run(seed, 3, 3000, { commitWithoutQuorum: true });
    if (res.violation !== undefined) {
      found = res.violation;
      t.diagnostic(`commitWithoutQuorum: seed=${seed} step=${res.step}: ${res.violation}`);
    }
  }
  assert.match(found ?? '', /^commit quorum/, 'commitWithoutQuorum must be detected');
});
