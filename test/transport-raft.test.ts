// End to end: RaftNodes talking over TcpTransport on a real clock (ARCHITECTURE.md
// "Transport"): election, replication, and a lagging member caught up by a
// snapshot streamed in chunks after it reconnects on the same address.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RaftNode } from '../src/node/raft-node.ts';
import { MemoryStorage } from '../src/storage/memory.ts';
import { TcpTransport } from '../src/transport/tcp.ts';
import { parseAddress } from '../src/transport/address.ts';
import { RealClock } from '../src/util/clock.ts';
import { SeededRandom } from '../src/util/rng.ts';
import { DigestStateMachine } from '../src/sim/state-machine.ts';
import type { NodeId } from '../src/raft/types.ts';

const SEED = process.env.SEED !== undefined ? Number(process.env.SEED) : 99;

async function waitFor(cond: () => boolean, ms: number, what: string): Promise<void> {
  const deadline = performance.now() + ms;
  while (!cond()) {
    if (performance.now() > deadline) assert.fail(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

interface Member {
  node: RaftNode<number>;
  transport: TcpTransport;
  sm: DigestStateMachine;
}

test('Raft over TCP: elect, replicate, and catch a restarted member up with a chunked snapshot', async (t) => {
  t.diagnostic(`seed=${SEED}`);
  const rng = new SeededRandom(SEED);
  const clock = new RealClock();
  const ids: NodeId[] = [1, 2, 3];
  // Small chunks so that even a small snapshot takes several frames.
  const tcpOptions = { snapshotChunkBytes: 16, maxFrameBytes: 128 * 1024, backoffMinMs: 10, backoffMaxMs: 100 };
  const transports = await Promise.all(ids.map((id) => TcpTransport.listen({ id, ...tcpOptions })));
  const addresses = new Map(transports.map((tr) => [tr.id, tr.address()]));
  for (const tr of transports) for (const [id, a] of addresses) if (id !== tr.id) tr.addPeer(id, a);
  const storages = new Map(ids.map((id) => [id, new MemoryStorage()]));
  const members = new Map<NodeId, Member>();
  const boot = async (id: NodeId, transport: TcpTransport): Promise<void> => {
    const sm = new DigestStateMachine();
    const node = new RaftNode<number>({
      id,
      peers: ids,
      storage: storages.get(id) as MemoryStorage,
      transport,
      stateMachine: sm,
      clock,
      rng: rng.fork(),
      tickMs: 10,
      electionTick: 10,
      snapshotCount: 20,
      snapshotCatchUpEntries: 5,
      closeOnStop: false,
    });
    members.set(id, { node, transport, sm });
    await node.start();
  };
  try {
    await Promise.all(ids.map((id, i) => boot(id, transports[i] as TcpTransport)));
    const live = (): Member[] => [...members.values()];
    const leader = (): Member | undefined => [...members.values()].find((m) => m.node.status().role === 'leader');
    // A loaded machine may see a leader change mid-test: retry against whoever leads.
    const propose = async (text: string): Promise<void> => {
      const deadline = performance.now() + 5000;
      for (;;) {
        const l = leader();
        try {
          if (l !== undefined) {
            await l.node.propose(new TextEncoder().encode(text));
            return;
          }
        } catch (err) {
          if (performance.now() > deadline) throw err;
        }
        if (performance.now() > deadline) assert.fail('no leader to propose to');
        await new Promise((r) => setTimeout(r, 10));
      }
    };
    await waitFor(() => leader() !== undefined, 5000, 'a leader');
    for (let i = 0; i < 30; i++) await propose(`a${i}`);
    await waitFor(() => live().every((m) => m.sm.count >= 30), 5000, 'replication');

    // Take a follower down (process gone: its transport closes), write past its log.
    const followerId = ids.find((id) => id !== leader()?.node.id) as NodeId;
    const follower = members.get(followerId) as Member;
    const port = parseAddress(follower.transport.address()).port;
    await follower.node.stop();
    await follower.transport.close();
    members.delete(followerId);
    for (let i = 0; i < 60; i++) await propose(`b${i}`);

    // It comes back on the same address with its old storage; the leader has compacted
    // past its log, so it must be sent a snapshot (many 16-byte chunks).
    const reborn = await TcpTransport.listen({ id: followerId, port, ...tcpOptions });
    for (const [id, a] of addresses) if (id !== followerId) reborn.addPeer(id, a);
    storages.get(followerId)?.reopen();
    await boot(followerId, reborn);
    const back = members.get(followerId) as Member;
    await waitFor(() => back.sm.count >= 90, 8000, 'catch-up');
    assert.ok(reborn.stats.snapshotsReceived >= 1, 'caught up through a snapshot');
    await waitFor(() => new Set(live().map((m) => m.sm.digest())).size === 1, 3000, 'identical state on every member');
  } finally {
    for (const m of members.values()) await m.node.stop().catch(() => undefined);
    await Promise.all([...members.values()].map((m) => m.transport.close()));
    await Promise.all(transports.map((tr) => tr.close()));
  }
});
