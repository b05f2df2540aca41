// TcpTransport (ARCHITECTURE.md "Transport", issue #8): framing, reconnect with backoff,
// chunked snapshot streaming, mutual TLS, and resilience to malformed frames.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { TcpTransport } from '../src/transport/tcp.ts';
import type { TlsMaterial } from '../src/transport/tcp-peer.ts';
import { encodeFrame, FrameDecoder } from '../src/transport/frame.ts';
import { chunkFramePrefix, chunkValue, helloValue, msgValue } from '../src/transport/wire.ts';
import { parseAddress } from '../src/transport/address.ts';
import { loadTlsFiles } from '../src/transport/tls-files.ts';
import { encode, decode } from '../src/codec/index.ts';
import { MessageType } from '../src/raft/types.ts';
import type { Entry, Message, NodeId } from '../src/raft/types.ts';
import { SeededRandom } from '../src/util/rng.ts';
import { isStrataError } from '../src/errors.ts';
import { transportCompliance } from './transport-compliance.ts';

const SEED = process.env.SEED !== undefined ? Number(process.env.SEED) : 424242;
const fixtures = join(dirname(fileURLToPath(import.meta.url)), 'fixtures', 'tls');
const pem = (name: string): string => readFileSync(join(fixtures, name), 'utf8');
const tlsFor = (name: string, ca = 'ca.crt'): TlsMaterial => ({ ca: pem(ca), cert: pem(`${name}.crt`), key: pem(`${name}.key`) });

function msg(from: NodeId, to: NodeId, index: number, entries: Entry[] = []): Message {
  return { type: MessageType.MsgApp, from, to, term: 3, logTerm: 2, index, entries, commit: index, reject: false, rejectHint: 0 };
}

function snapMsg(from: NodeId, to: NodeId, data: Uint8Array): Message {
  return {
    type: MessageType.MsgSnap, from, to, term: 3, logTerm: 0, index: 0, entries: [], commit: 0, reject: false, rejectHint: 0,
    snapshot: {
      metadata: { index: 77, term: 3, confState: { voters: [1, 2, 3], learners: [4], votersOutgoing: [], learnersNext: [], autoLeave: false } },
      data,
    },
  };
}

/** Poll until `cond` holds (or fail after `ms`). */
async function waitFor(cond: () => boolean, ms = 5000, what = 'condition'): Promise<void> {
  const deadline = performance.now() + ms;
  while (!cond()) {
    if (performance.now() > deadline) assert.fail(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

function inbox(t: TcpTransport): Message[] {
  const got: Message[] = [];
  t.onMessage((m) => got.push(m));
  return got;
}

const fast = { backoffMinMs: 10, backoffMaxMs: 100, dialTimeoutMs: 500 };

test('frame decoder reassembles frames split at any byte boundary and rejects bad lengths', () => {
  const frames = [encodeFrame({ a: 1 }), encodeFrame(msgValue(msg(1, 2, 5))), encodeFrame(new Uint8Array(300))];
  const stream = Buffer.concat(frames);
  for (const step of [1, 2, 3, 7, 64, stream.length]) {
    const d = new FrameDecoder(1024);
    const out: Uint8Array[] = [];
    for (let i = 0; i < stream.length; i += step) out.push(...d.push(stream.subarray(i, i + step)));
    assert.equal(out.length, 3);
    assert.deepEqual(decode(out[0]!), { a: 1 });
    assert.deepEqual(out[2], encode(new Uint8Array(300)), 'payload is exactly the codec record');
  }
  const tooBig = Buffer.alloc(4);
  tooBig.writeUInt32BE(2000);
  assert.throws(() => new FrameDecoder(1024).push(tooBig), (e: unknown) => isStrataError(e, 'ErrCorrupt'));
  assert.throws(() => new FrameDecoder(1024).push(Buffer.alloc(4)), (e: unknown) => isStrataError(e, 'ErrCorrupt'));
  const data = new Uint8Array([5, 6, 7, 8]);
  const header = { ...msg(1, 2, 0), type: MessageType.MsgSnap };
  const [zeroCopy] = new FrameDecoder(1024).push(Buffer.concat([chunkFramePrefix(4, 100, 8, data.length, header), data]));
  const [viaCodec] = new FrameDecoder(1024).push(encodeFrame(chunkValue(4, 100, 8, data, header)));
  assert.deepEqual(decode(zeroCopy!), decode(viaCodec!), 'zero-copy chunk framing decodes like the codec encoding');
  assert.deepEqual(parseAddress('[::1]:2380'), { host: '::1', port: 2380 });
  assert.throws(() => parseAddress('localhost'), (e: unknown) => isStrataError(e, 'ErrInvalidArgument'));
});

test('two transports on ephemeral ports exchange messages both ways, in order', async () => {
  const a = await TcpTransport.listen({ id: 1, ...fast });
  const b = await TcpTransport.listen({ id: 2, peers: { 1: a.address() }, ...fast });
  a.addPeer(2, b.address());
  try {
    assert.match(a.address(), /^127\.0\.0\.1:\d+$/);
    const gotA = inbox(a);
    const gotB = inbox(b);
    const entry: Entry = { term: 3, index: 1, type: 0, data: new Uint8Array([9, 8, 7]) };
    for (let i = 1; i <= 200; i++) a.send([msg(1, 2, i, i === 1 ? [entry] : [])]);
    b.send([msg(2, 1, 1000), { ...msg(2, 1, 1001), context: new Uint8Array([1]) }]);
    await waitFor(() => gotB.length === 200 && gotA.length === 2, 5000, 'deliveries');
    assert.deepEqual(gotB.map((m) => m.index), Array.from({ length: 200 }, (_, i) => i + 1));
    assert.deepEqual([...gotB[0]!.entries[0]!.data], [9, 8, 7]);
    assert.deepEqual(gotB[1], msg(1, 2, 2));
    assert.deepEqual(gotA.map((m) => m.index), [1000, 1001]);
    assert.deepEqual([...gotA[1]!.context!], [1]);
    assert.equal(a.stats.messagesSent, 200);
    assert.equal(b.stats.messagesReceived, 200);
  } finally {
    await Promise.all([a.close(), b.close()]);
  }
});

test('three transports, all to all; removePeer stops sending; unknown peers are reported unreachable', async () => {
  const ts = await Promise.all([1, 2, 3].map((id) => TcpTransport.listen({ id, ...fast })));
  try {
    for (const t of ts) for (const u of ts) if (t !== u) t.addPeer(u.id, u.address());
    const boxes = ts.map(inbox);
    for (const t of ts) t.send(ts.filter((u) => u !== t).map((u) => msg(t.id, u.id, t.id * 10 + u.id)));
    await waitFor(() => boxes.every((b) => b.length === 2), 5000, 'all-to-all');
    boxes.forEach((b, i) => assert.deepEqual(b.map((m) => m.from).sort(), [1, 2, 3].filter((x) => x !== i + 1)));
    const unreachable: NodeId[] = [];
    ts[0]!.onUnreachable((p) => unreachable.push(p));
    ts[0]!.removePeer(2);
    assert.deepEqual([...ts[0]!.peers().keys()], [3]);
    ts[0]!.send([msg(1, 2, 99), msg(1, 9, 98), msg(1, 3, 97)]);
    await waitFor(() => boxes[2]!.length === 3, 5000, 'message to 3');
    await waitFor(() => unreachable.length === 2, 1000, 'unreachable reports');
    assert.deepEqual(unreachable.sort(), [2, 9]);
    assert.equal(boxes[1]!.length, 2, 'removed peer got nothing');
  } finally {
    await Promise.all(ts.map((t) => t.close()));
  }
});

test('reconnects with backoff after the peer restarts; dial failures are reported', async () => {
  const b1 = await TcpTransport.listen({ id: 2 });
  const port = parseAddress(b1.address()).port;
  const a = await TcpTransport.listen({ id: 1, peers: { 2: b1.address() }, rng: new SeededRandom(SEED), ...fast });
  const unreachable: NodeId[] = [];
  a.onUnreachable((p) => unreachable.push(p));
  let b2: TcpTransport | undefined;
  try {
    const got1 = inbox(b1);
    a.send([msg(1, 2, 1)]);
    await waitFor(() => got1.length === 1, 5000, 'first delivery');
    await b1.close();
    // While b is down: the connection loss and the failed redials are reported.
    for (let i = 0; i < 10; i++) {
      a.send([msg(1, 2, 100 + i)]);
      await new Promise((r) => setTimeout(r, 15));
    }
    await waitFor(() => unreachable.length >= 2, 5000, 'unreachable reports');
    assert.ok(unreachable.every((p) => p === 2));
    assert.ok(a.stats.dialFailures >= 1);
    b2 = await TcpTransport.listen({ id: 2, port });
    const got2 = inbox(b2);
    let i = 0;
    const pump = setInterval(() => a.send([msg(1, 2, 1000 + i++)]), 10);
    try {
      await waitFor(() => got2.some((m) => m.index >= 1000), 5000, 'delivery after restart');
    } finally {
      clearInterval(pump);
    }
    assert.ok(a.queued(2) <= 4096);
  } finally {
    await Promise.all([a.close(), b2?.close()]);
  }
});

test('a 20 MB snapshot streams in chunks, heartbeats overtake it, and it arrives byte-exact', async (t) => {
  t.diagnostic(`seed=${SEED}`);
  // The receiver refuses frames over 2 MiB: a single-frame snapshot could not get through.
  const b = await TcpTransport.listen({ id: 2, maxFrameBytes: 2 * 1024 * 1024 });
  const a = await TcpTransport.listen({ id: 1, peers: { 2: b.address() }, ...fast });
  try {
    const data = new Uint8Array(20 * 1024 * 1024);
    const rng = new SeededRandom(SEED);
    const words = new Uint32Array(data.buffer);
    for (let i = 0; i < words.length; i++) words[i] = rng.nextU32();
    const status: Array<[NodeId, boolean]> = [];
    a.onSnapshotStatus((p, ok) => status.push([p, ok]));
    const got = inbox(b);
    a.send([snapMsg(1, 2, data)]);
    a.send([msg(1, 2, 5)]);
    await waitFor(() => got.length === 2, 10000, 'snapshot delivery');
    assert.equal(got[0]!.type, MessageType.MsgApp, 'the heartbeat queued after the snapshot is not stuck behind it');
    const snap = got[1]!;
    assert.equal(snap.type, MessageType.MsgSnap);
    assert.equal(snap.snapshot!.metadata.index, 77);
    assert.deepEqual(snap.snapshot!.metadata.confState.learners, [4]);
    assert.equal(snap.snapshot!.data.length, data.length);
    assert.ok(Buffer.from(snap.snapshot!.data).equals(Buffer.from(data)), 'byte-exact');
    await waitFor(() => status.length === 1, 2000, 'snapshot status');
    assert.deepEqual(status, [[2, true]]);
    assert.equal(b.stats.snapshotsReceived, 1);
    assert.ok(a.stats.bytesSent > data.length);
    // An empty snapshot goes through the same path.
    a.send([snapMsg(1, 2, new Uint8Array(0))]);
    await waitFor(() => got.length === 3, 5000, 'empty snapshot');
    assert.equal(got[2]!.snapshot!.data.length, 0);
  } finally {
    await Promise.all([a.close(), b.close()]);
  }
});

test('a snapshot to an unreachable peer is reported as failed', async () => {
  const dead = await TcpTransport.listen({ id: 2 });
  const address = dead.address();
  await dead.close();
  const a = await TcpTransport.listen({ id: 1, peers: { 2: address }, ...fast });
  try {
    const status: Array<[NodeId, boolean]> = [];
    a.onSnapshotStatus((p, ok) => status.push([p, ok]));
    a.send([snapMsg(1, 2, new Uint8Array(10))]);
    a.removePeer(2);
    await waitFor(() => status.length === 1, 2000, 'failure report');
    assert.deepEqual(status, [[2, false]]);
  } finally {
    await a.close();
  }
});

test('a connection lost in the middle of a snapshot reports the snapshot as failed', async () => {
  const b = await TcpTransport.listen({ id: 2, snapshotChunkBytes: 64 * 1024, maxFrameBytes: 256 * 1024 });
  const a = await TcpTransport.listen({ id: 1, peers: { 2: b.address() }, snapshotChunkBytes: 64 * 1024, maxFrameBytes: 256 * 1024, ...fast });
  try {
    const status: Array<[NodeId, boolean]> = [];
    a.onSnapshotStatus((p, ok) => status.push([p, ok]));
    let gotSnapshot = false;
    let receivedBytes = 0;
    b.onMessage((m) => {
      if (m.type === MessageType.MsgSnap) gotSnapshot = true;
    });
    a.send([msg(1, 2, 1)]); // establish the connection first
    await waitFor(() => b.stats.messagesReceived === 1, 5000, 'connection');
    a.send([snapMsg(1, 2, new Uint8Array(64 * 1024 * 1024))]);
    await waitFor(() => (receivedBytes = b.stats.bytesReceived) > 1024 * 1024, 5000, 'snapshot under way');
    await b.close();
    await waitFor(() => status.length === 1, 5000, 'failure report');
    assert.deepEqual(status, [[2, false]]);
    assert.equal(gotSnapshot, false);
    assert.ok(receivedBytes < 64 * 1024 * 1024);
  } finally {
    await Promise.all([a.close(), b.close()]);
  }
});

test('redials back off exponentially instead of dialling on every send', async () => {
  const dead = await TcpTransport.listen({ id: 2 });
  const address = dead.address();
  await dead.close();
  const a = await TcpTransport.listen({ id: 1, peers: { 2: address }, backoffMinMs: 10, backoffMaxMs: 80 });
  try {
    const pump = setInterval(() => a.send([msg(1, 2, 1)]), 2);
    await new Promise((r) => setTimeout(r, 500));
    clearInterval(pump);
    // ~250 sends; with backoff 10, 20, 40, 80, 80… ms (jittered to 50–100 %) at most ~15 dials fit in 500 ms.
    assert.ok(a.stats.dials >= 3, `dials ${a.stats.dials}`);
    assert.ok(a.stats.dials <= 20, `dials ${a.stats.dials}`);
    assert.ok(a.stats.dialFailures >= a.stats.dials - 1, 'every finished dial failed');
  } finally {
    await a.close();
  }
});

test('mutual TLS: peers with CA-signed certs talk; a cert from another CA is refused both ways', async () => {
  const a = await TcpTransport.listen({ id: 1, tls: tlsFor('peer1'), ...fast });
  const material = await loadTlsFiles({
    trustedCaFile: join(fixtures, 'ca.crt'),
    certFile: join(fixtures, 'peer2.crt'),
    keyFile: join(fixtures, 'peer2.key'),
  });
  const b = await TcpTransport.listen({ id: 2, tls: material, peers: { 1: a.address() }, ...fast });
  // The rogue trusts our CA, but its own cert is signed by another CA.
  const rogue = await TcpTransport.listen({ id: 3, tls: tlsFor('rogue'), peers: { 1: a.address() }, ...fast });
  a.addPeer(2, b.address());
  a.addPeer(3, rogue.address());
  try {
    const gotA = inbox(a);
    const gotB = inbox(b);
    const gotRogue = inbox(rogue);
    a.send([msg(1, 2, 1)]);
    b.send([msg(2, 1, 2)]);
    await waitFor(() => gotA.length === 1 && gotB.length === 1, 5000, 'TLS exchange');

    const rogueUnreachable: NodeId[] = [];
    rogue.onUnreachable((p) => rogueUnreachable.push(p));
    const aUnreachable: NodeId[] = [];
    a.onUnreachable((p) => aUnreachable.push(p));
    rogue.send([msg(3, 1, 66)]); // a refuses the rogue's client cert
    a.send([msg(1, 3, 67)]); // a refuses the rogue's server cert
    await waitFor(() => rogueUnreachable.includes(1) && aUnreachable.includes(3), 5000, 'TLS refusals');
    await new Promise((r) => setTimeout(r, 50));
    assert.deepEqual(gotA.map((m) => m.index), [2], 'nothing from the rogue');
    assert.equal(gotRogue.length, 0, 'nothing to the rogue');
    // Being refused after the handshake still backs off (10, 20, 40, 80, 100… ms).
    const dialsBefore = rogue.stats.dials;
    const pump = setInterval(() => rogue.send([msg(3, 1, 69)]), 2);
    await new Promise((r) => setTimeout(r, 400));
    clearInterval(pump);
    assert.ok(rogue.stats.dials - dialsBefore <= 15, `redials ${rogue.stats.dials - dialsBefore}`);

    // A plain-TCP member cannot talk to a TLS member either.
    const plain = await TcpTransport.listen({ id: 4, peers: { 1: a.address() }, ...fast });
    try {
      plain.send([msg(4, 1, 68)]);
      await new Promise((r) => setTimeout(r, 100));
      assert.deepEqual(gotA.map((m) => m.index), [2]);
    } finally {
      await plain.close();
    }
  } finally {
    await Promise.all([a.close(), b.close(), rogue.close()]);
  }
});

/** Open a raw connection, write `bytes`, resolve once the server closes it. */
function rawExchange(address: string, bytes: Buffer): Promise<'closed'> {
  const { host, port } = parseAddress(address);
  return new Promise((resolve, reject) => {
    const sock = net.connect({ host, port }, () => sock.write(bytes));
    const timer = setTimeout(() => {
      sock.destroy();
      reject(new Error('server did not close the connection'));
    }, 3000);
    sock.on('error', () => {});
    sock.on('close', () => {
      clearTimeout(timer);
      resolve('closed');
    });
    sock.resume();
  });
}

test('malformed frames close the connection without crashing; the transport keeps working', async () => {
  const a = await TcpTransport.listen({ id: 1, maxFrameBytes: 1024 * 1024 });
  const b = await TcpTransport.listen({ id: 2, peers: { 1: a.address() }, ...fast });
  try {
    const got = inbox(a);
    const hello = encodeFrame(helloValue(2, 1));
    const huge = Buffer.alloc(4);
    huge.writeUInt32BE(0xfffffff0);
    const badVersion = Buffer.from(encodeFrame(msgValue(msg(2, 1, 1))));
    badVersion[4] = 99;
    const cases: Array<[string, Buffer]> = [
      ['garbage payload', Buffer.concat([hello, Buffer.from([0, 0, 0, 3, 1, 0xc1, 0xc1])])],
      ['oversized length', Buffer.concat([hello, huge])],
      ['zero length', Buffer.concat([hello, Buffer.alloc(4)])],
      ['no hello first', encodeFrame(msgValue(msg(2, 1, 1)))],
      ['hello for another member', encodeFrame(helloValue(2, 7))],
      ['unknown format version', Buffer.concat([hello, badVersion])],
      ['message with a bad shape', Buffer.concat([hello, encodeFrame([2, { type: 'x' }])])],
      ['message from someone else', Buffer.concat([hello, encodeFrame(msgValue(msg(3, 1, 1)))])],
      ['chunk without a stream start', Buffer.concat([hello, encodeFrame(chunkValue(1, 10, 5, new Uint8Array(5), null))])],
      ['unknown frame kind', Buffer.concat([hello, encodeFrame([9])])],
    ];
    for (const [name, bytes] of cases) {
      assert.equal(await rawExchange(a.address(), bytes), 'closed', name);
    }
    assert.equal(a.stats.malformed, cases.length);
    assert.equal(got.length, 0);
    // A handler that throws does not take the connection or the process down.
    let calls = 0;
    a.onMessage((m) => {
      calls++;
      if (m.index === 1) throw new Error('handler bug');
      got.push(m);
    });
    b.send([msg(2, 1, 1), msg(2, 1, 2)]);
    await waitFor(() => got.length === 1, 5000, 'delivery after malformed peers');
    assert.equal(calls, 2);
    assert.equal(got[0]!.index, 2);
  } finally {
    await Promise.all([a.close(), b.close()]);
  }
});

test('the per-peer queue is bounded: the oldest messages are dropped', async () => {
  const dead = await TcpTransport.listen({ id: 2 });
  const address = dead.address();
  await dead.close();
  const a = await TcpTransport.listen({ id: 1, peers: { 2: address }, maxQueue: 100, backoffMinMs: 1000, backoffMaxMs: 1000 });
  try {
    for (let i = 0; i < 1000; i++) a.send([msg(1, 2, i)]);
    assert.equal(a.queued(2), 100);
    assert.equal(a.stats.messagesDropped, 900);
  } finally {
    await a.close();
  }
});

test('listen rejects bad options with typed errors', async () => {
  await assert.rejects(TcpTransport.listen({ id: 0 }), (e: unknown) => isStrataError(e, 'ErrInvalidArgument'));
  await assert.rejects(
    TcpTransport.listen({ id: 1, maxFrameBytes: 1024 * 1024, snapshotChunkBytes: 1024 * 1024 }),
    (e: unknown) => isStrataError(e, 'ErrInvalidArgument'),
  );
  await assert.rejects(TcpTransport.listen({ id: 1, peers: { 2: 'nope' } }), (e: unknown) => isStrataError(e, 'ErrInvalidArgument'));
  const a = await TcpTransport.listen({ id: 1 });
  try {
    await assert.rejects(TcpTransport.listen({ id: 2, port: parseAddress(a.address()).port }), /EADDRINUSE/);
  } finally {
    await a.close();
  }
});

// The shared Transport compliance suite (test/transport-compliance.ts).
transportCompliance('TcpTransport', async (n) => {
  const transports = await Promise.all(
    Array.from({ length: n }, (_, i) => TcpTransport.listen({ id: i + 1, snapshotChunkBytes: 256 * 1024, ...fast })),
  );
  for (const t of transports) for (const u of transports) if (t !== u) t.addPeer(u.id, u.address());
  return {
    transports,
    close: async () => {
      await Promise.all(transports.map((t) => t.close()));
    },
  };
});
