// The code examples of docs/getting-started.md (and the short examples of
// docs/raft.md, docs/storage.md, docs/transport.md, docs/mvcc.md), run as
// written and checked against what the docs claim. If a doc example changes,
// change it here too (and the other way round).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  LocalCluster,
  LevelStorage,
  MemoryNetwork,
  MemoryStorage,
  RaftNode,
  RealClock,
  SeededRandom,
  Simulation,
  StrataNode,
  TcpTransport,
  VirtualClock,
  EntryType,
  LogStore,
  RawNode,
  bootstrapSnapshot,
  isStrataError,
  loadTlsFiles,
  memberIdOf,
  openMVCCStore,
} from '../src/index.ts';
import type { Entry, StateMachine, WatchResponse } from '../src/index.ts';

const text = (b: Uint8Array | undefined): string => new TextDecoder().decode(b);
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

// ---------------------------------------------------------------- getting-started.md

test('docs/getting-started.md: a 3-member LocalCluster with put/get/watch/lease (R1.1, R2.4, R6.2, R7.4)', async () => {
  // --- example start
  const cluster = await LocalCluster.start({ size: 3, tickMs: 20 }); // memory storage; waits for a leader
  try {
    const leader = await cluster.waitForLeader();
    const follower = cluster.nodes.find((n) => n !== leader)!;

    // A watch on a follower sees every change under /app/, in revision order.
    const ctl = new AbortController();
    const seen: string[] = [];
    const watching = (async () => {
      for await (const resp of follower.watch('/app/', { prefix: true, signal: ctl.signal })) {
        for (const e of resp.events) seen.push(`${e.type} ${text(e.kv.key)}@${e.kv.modRevision}`);
        if (seen.length === 3) break;
      }
    })();

    // Writes go through Raft; any member accepts them (followers forward).
    const put = await follower.put('/app/color', 'blue'); // an empty store is at revision 1: the first write gets 2
    const got = await leader.get('/app/color'); // linearizable read (ReadIndex)

    // Leases: keys attached to a lease are deleted when it is revoked (or expires).
    const lease = await leader.lease.grant(10); // TTL in seconds
    await leader.put('/app/worker', 'up', { lease: lease.id });
    await leader.lease.revoke(lease.id); // deletes /app/worker in one revision

    await watching;
    ctl.abort();
    // --- example end
    assert.equal(put.revision, 2);
    assert.equal(text(got.kvs[0]?.value), 'blue');
    assert.equal(got.header.revision, 2);
    assert.deepEqual(seen, ['put /app/color@2', 'put /app/worker@3', 'delete /app/worker@4']);
    assert.equal((await follower.get('/app/worker')).count, 0);
    const hashes = await Promise.all(cluster.nodes.map((n) => n.hashKV(4)));
    assert.equal(new Set(hashes.map((h) => h.hash)).size, 1, 'every member has the same history');

    // getting-started.md "Errors": branch on the code (R2.4: a read below the compact revision).
    await leader.compact(3);
    const node = follower;
    let caught = '';
    // --- example start (errors)
    try {
      await node.get('/k', { revision: 1 });
    } catch (err) {
      if (isStrataError(err, 'ErrCompacted')) caught = err.code; /* read a newer revision */
      else throw err;
    }
    // --- example end
    assert.equal(caught, 'ErrCompacted');
  } finally {
    await cluster.close();
  }
});

// --- example start (multi-process member)
/** Start one member of a TCP cluster (one call per process in production). */
async function startMember(name: string, initialCluster: Record<string, string>, dataDir: string): Promise<StrataNode> {
  const url = initialCluster[name]!; // e.g. 'tcp://10.0.0.1:2380'
  const id = memberIdOf(name, [url]); // every member derives the same ids (default cluster token)
  const { hostname, port } = new URL(url);
  const transport = await TcpTransport.listen({ id, host: hostname, port: Number(port) });
  return StrataNode.open({ name, initialCluster, transport, dataDir }); // LevelStorage under dataDir/raft
}
// --- example end

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const a = srv.address();
      const port = typeof a === 'object' && a !== null ? a.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

test('docs/getting-started.md: StrataNodes over TcpTransport on LevelStorage agree (R9.9)', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'strata-docs-'));
  const ports = await Promise.all([freePort(), freePort(), freePort()]);
  const initialCluster = { a: `tcp://127.0.0.1:${ports[0]}`, b: `tcp://127.0.0.1:${ports[1]}`, c: `tcp://127.0.0.1:${ports[2]}` };
  const nodes = await Promise.all(['a', 'b', 'c'].map((n) => startMember(n, initialCluster, join(dir, n))));
  try {
    const end = performance.now() + 10_000;
    // Proposals to a member that knows no leader yet fail with ErrProposalDropped: wait until all know it.
    while (!(nodes.some((n) => n.isLeader) && nodes.every((n) => n.leaderId !== 0)) && performance.now() < end) await sleep(20);
    const w = await nodes[0]!.put('/tcp/k', 'over tcp');
    for (const n of nodes) assert.equal(text((await n.get('/tcp/k')).kvs[0]?.value), 'over tcp');
    const hashes = await Promise.all(nodes.map((n) => n.hashKV(w.revision)));
    assert.equal(new Set(hashes.map((h) => h.hash)).size, 1);
    assert.equal(new Set(nodes.map((n) => n.clusterId)).size, 1, 'one cluster id');
  } finally {
    await Promise.all(nodes.map((n) => n.close()));
    await rm(dir, { recursive: true, force: true });
  }
});

test('docs/getting-started.md: a seeded Simulation finds no violation and replays identically (determinism)', async () => {
  // --- example start
  const run = () => new Simulation({ seed: 7, nodes: 3, faults: 'all' }).run({ ticks: 60 });
  const r = await run();
  // r.ok: no invariant was violated; r.replay: the command that reproduces it
  const again = await run();
  // --- example end
  assert.equal(r.ok, true, r.violations.map((v) => v.message).join('\n'));
  assert.equal(r.seed, 7);
  assert.equal(again.traceHash, r.traceHash, 'same seed ⇒ same trace');
  assert.ok(r.stats.proposalsCommitted > 0, 'the workload committed proposals');
  assert.match(r.replay, /--seed 7/);
});

// ---------------------------------------------------------------- raft.md (RawNode)

test('docs/raft.md: a single-voter RawNode Ready loop elects itself and commits a proposal (Raft §5.2, §5.3)', () => {
  // --- example start (RawNode)
  const store = new LogStore();
  store.applySnapshot(bootstrapSnapshot([1])); // a new cluster of one voter
  const node = new RawNode({ id: 1, rng: new SeededRandom(1) }, store);
  const applied: string[] = [];
  const drain = (): void => {
    while (node.hasReady()) {
      const rd = node.ready();
      // 1. persist rd.hardState, rd.entries, rd.snapshot durably (mustSync: fsync)
      // 2. send rd.messages (none with a single voter)
      // 3. apply rd.snapshot, then rd.committedEntries
      for (const e of rd.committedEntries) {
        if (e.type === EntryType.Normal && e.data.length > 0) applied.push(new TextDecoder().decode(e.data));
      }
      node.advance(); // 4. records the Ready in the LogStore and marks it applied
    }
  };
  node.campaign(); // or call node.tick() every tick until the election timeout
  drain();
  node.propose(new TextEncoder().encode('hello'));
  drain();
  // --- example end
  assert.deepEqual(applied, ['hello']);
  const st = node.status();
  assert.equal(st.role, 'leader');
  assert.equal(st.term, 1);
  assert.equal(st.commit, 2, 'the leader no-op at 1, the proposal at 2');
  assert.equal(store.lastIndex(), 2, 'advance() appended to the LogStore');
  assert.equal(store.initialState().hardState.commit, 2);
});

// ---------------------------------------------------------------- raft.md (RaftNode)

// --- example start (StateMachine)
/** A replicated counter: each entry's payload is a number to add. */
class Counter implements StateMachine<number> {
  total = 0;
  apply(entries: readonly Entry[]): number[] {
    return entries.map((e) => (this.total += Number(new TextDecoder().decode(e.data))));
  }
  snapshot(): Uint8Array {
    return new TextEncoder().encode(String(this.total));
  }
  restore(data: Uint8Array): void {
    this.total = Number(new TextDecoder().decode(data));
  }
}
// --- example end

test('docs/raft.md: three RaftNodes on a MemoryNetwork replicate a counter (Raft §5.3)', async () => {
  // --- example start (RaftNode)
  const clock = new RealClock();
  const net = new MemoryNetwork({ rng: new SeededRandom(1), clock, autoDeliver: true });
  const counters = [new Counter(), new Counter(), new Counter()];
  const nodes = [1, 2, 3].map(
    (id) =>
      new RaftNode<number>({
        id,
        peers: [1, 2, 3],
        storage: new MemoryStorage(),
        transport: net.transport(id),
        stateMachine: counters[id - 1]!,
        clock,
        rng: new SeededRandom(id),
        tickMs: 10,
      }),
  );
  const leaders: number[] = [];
  nodes[0]!.on('leaderChange', (leader) => leaders.push(leader));
  await Promise.all(nodes.map((n) => n.start()));
  // --- example end
  try {
    const deadline = performance.now() + 10_000;
    while (!(nodes.some((n) => n.status().role === 'leader') && nodes.every((n) => n.status().leader !== 0)) && performance.now() < deadline) await sleep(10);
    const n1 = nodes[0]!;
    // --- example start (propose)
    const { index, result } = await n1.propose(new TextEncoder().encode('5')); // resolves once applied on n1
    await n1.readIndex(); // linearizable barrier: n1 has applied everything committed before the call
    // --- example end
    assert.equal(result, 5);
    assert.ok(index >= 2, 'after the leader no-op');
    assert.equal(counters[0]!.total, 5);
    assert.ok(leaders.length >= 1 && leaders.at(-1)! > 0, 'leaderChange fired');
    const st = n1.status();
    assert.deepEqual([...st.voters], [1, 2, 3]);
    const other = [1, 2, 3].find((id) => id !== st.leader)!;
    await n1.transferLeadership(other);
    assert.equal(n1.status().leader, other);
    await assert.rejects(n1.transferLeadership(9), (e: unknown) => isStrataError(e, 'ErrBadLeaderTransferee'));
  } finally {
    await Promise.all(nodes.map((n) => n.stop()));
    net.close();
  }
});

// ---------------------------------------------------------------- storage.md

test('docs/storage.md: MemoryStorage crash loses the unsynced tail; LevelStorage reopens (issue #4)', async () => {
  // --- example start (MemoryStorage)
  const mem = new MemoryStorage({ syncOnSave: false }); // a disk with a volatile write cache
  await mem.save({ entries: [{ index: 1, term: 1, type: 0, data: new Uint8Array([1]) }] });
  mem.sync(); // durable from here on
  await mem.save({ entries: [{ index: 2, term: 1, type: 0, data: new Uint8Array([2]) }] });
  mem.crash(); // power cut: entry 2 was never synced
  const after = await mem.load();
  // --- example end
  assert.deepEqual(after.entries.map((e) => e.index), [1]);

  const dir = await mkdtemp(join(tmpdir(), 'strata-docs-storage-'));
  try {
    // --- example start (LevelStorage)
    const s = await LevelStorage.open(dir); // sync: true by default
    await s.save({ hardState: { term: 1, vote: 1, commit: 0 }, entries: [{ index: 1, term: 1, type: 0, data: new Uint8Array() }] });
    await assert.rejects(LevelStorage.open(dir), (e: unknown) => isStrataError(e, 'ErrLocked')); // one opener per directory
    await s.close();
    const reopened = await LevelStorage.open(dir);
    const st = await reopened.load(); // { hardState, snapshot?, entries }
    // --- example end
    assert.deepEqual(st.hardState, { term: 1, vote: 1, commit: 0 });
    assert.equal(st.entries.length, 1);
    await reopened.close();
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

// ---------------------------------------------------------------- transport.md

test('docs/transport.md: MemoryNetwork partitions, heals and delivers in order on a virtual clock', async () => {
  // --- example start
  const clock = new VirtualClock();
  const net = new MemoryNetwork({ rng: new SeededRandom(42), clock, faults: { minDelay: 1, maxDelay: 5 } });
  const a = net.transport(1);
  const b = net.transport(2);
  const got: number[] = [];
  b.onMessage((m) => got.push(m.index));
  const msg = (index: number) => ({ type: 3, from: 1, to: 2, term: 1, logTerm: 0, index, entries: [], commit: 0, reject: false, rejectHint: 0 }) as const;
  net.partition([1], [2]);
  a.send([msg(1)]); // dropped: the link is cut
  net.heal();
  a.send([msg(2)]);
  clock.advance(5); // every delay is within [1, 5] ms
  net.deliverDue(clock.now());
  // --- example end
  assert.deepEqual(got, [2]);
  assert.equal(net.stats.dropped, 1);
  net.close();
});

test('docs/transport.md: TcpTransport with mutual TLS from PEM files (etcd --peer-* flags)', async () => {
  const fx = (f: string): string => join(import.meta.dirname, 'fixtures', 'tls', f);
  const tlsOf = (n: number) => loadTlsFiles({ trustedCaFile: fx('ca.crt'), certFile: fx(`peer${n}.crt`), keyFile: fx(`peer${n}.key`) });
  const t1 = await TcpTransport.listen({ id: 1, host: '127.0.0.1', port: 0, tls: await tlsOf(1) });
  const t2 = await TcpTransport.listen({ id: 2, host: '127.0.0.1', port: 0, peers: { 1: t1.address() }, tls: await tlsOf(2) });
  try {
    const got = new Promise<number>((resolve) => t1.onMessage((m) => resolve(m.index)));
    t2.send([{ type: 3, from: 2, to: 1, term: 1, logTerm: 0, index: 7, entries: [], commit: 0, reject: false, rejectHint: 0 }]);
    assert.equal(await got, 7);
    assert.match(t1.address(), /^127\.0\.0\.1:\d+$/);
    await assert.rejects(loadTlsFiles({ trustedCaFile: fx('missing.crt'), certFile: fx('peer1.crt'), keyFile: fx('peer1.key') }));
  } finally {
    await Promise.all([t1.close(), t2.close()]);
  }
});

// ---------------------------------------------------------------- mvcc.md

test('docs/mvcc.md: put/range/txn/watch/compact on a memory store (R1.1, R4.8, R5.2, R6.8)', async () => {
  // --- example start
  const store = await openMVCCStore(); // memory; pass { path } for classic-level
  const a = await store.put('k', 'v1'); // revision 2
  await store.put('k', 'v2'); // revision 3
  const old = await store.range('k', { revision: 2 }); // history
  const cas = await store.txn({
    compare: [{ key: 'k', target: 'value', result: '==', value: 'v2' }],
    success: [{ put: { key: 'k', value: 'v3' } }],
    failure: [{ range: { key: 'k' } }],
  });
  const w = store.watch('k', { startRevision: 2 }); // replay from revision 2, then live
  const responses: WatchResponse[] = [];
  for await (const resp of w) {
    responses.push(resp);
    if (responses.flatMap((r) => r.events).length === 3) break; // break cancels the watch
  }
  await store.compact(3);
  const late = store.watch('k', { startRevision: 2 }); // needs compacted history
  const first = await late[Symbol.asyncIterator]().next();
  // --- example end
  assert.equal(a.revision, 2);
  assert.equal(text(old.kvs[0]?.value), 'v1');
  assert.equal(old.revision, 3, 'a historical read reports the current revision (R1.9)');
  assert.equal(cas.succeeded, true);
  assert.equal(cas.revision, 4);
  assert.deepEqual(responses.flatMap((r) => r.events.map((e) => text(e.kv.value))), ['v1', 'v2', 'v3']);
  const f = first.value as WatchResponse;
  assert.equal(f.canceled, true);
  assert.equal(f.compactRevision, 3);
  await assert.rejects(store.range('k', { revision: 2 }), (e: unknown) => isStrataError(e, 'ErrCompacted'));
  // mvcc.md claims: restore() takes the snapshot stream; equal histories hash equal; -1 when never compacted (R9.9).
  const copy = await openMVCCStore();
  assert.equal((await copy.hashKV()).compactRevision, -1);
  await copy.restore(store.snapshot());
  assert.equal(copy.currentRevision, 4);
  assert.equal(copy.compactRevision, 3);
  assert.equal((await copy.hashKV(4)).hash, (await store.hashKV(4)).hash);
  await copy.close();
  await store.close();
  await assert.rejects(store.put('k', 'x'), (e: unknown) => isStrataError(e, 'ErrStopped'));
  assert.throws(() => store.watch('k'), (e: unknown) => isStrataError(e, 'ErrStopped'));
});
