// MemoryNetwork / MemoryTransport (issue #8 "Deterministic pieces", memory-contracts.md):
// deterministic faults from the seed, partitions, holds, crashed nodes, auto-delivery.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MemoryNetwork } from '../src/transport/memory.ts';
import type { InFlight, NetworkFaults } from '../src/transport/memory.ts';
import { TimedHeap } from '../src/transport/heap.ts';
import { SeededRandom } from '../src/util/rng.ts';
import { RealClock, VirtualClock } from '../src/util/clock.ts';
import { transportCompliance } from './transport-compliance.ts';
import { MessageType } from '../src/raft/types.ts';
import type { Message, NodeId } from '../src/raft/types.ts';
import { isStrataError } from '../src/errors.ts';

const SEED = process.env.SEED !== undefined ? Number(process.env.SEED) : 20261125;

function msg(from: NodeId, to: NodeId, index: number, type: MessageType = MessageType.MsgApp): Message {
  return { type, from, to, term: 1, logTerm: 1, index, entries: [], commit: 0, reject: false, rejectHint: 0 };
}

function snapMsg(from: NodeId, to: NodeId): Message {
  return {
    ...msg(from, to, 10, MessageType.MsgSnap),
    snapshot: {
      metadata: { index: 10, term: 1, confState: { voters: [1, 2, 3], learners: [], votersOutgoing: [], learnersNext: [], autoLeave: false } },
      data: new Uint8Array([1, 2, 3]),
    },
  };
}

interface Delivery {
  at: number;
  to: NodeId;
  from: NodeId;
  index: number;
}

/** Three nodes, each delivery recorded (time, receiver, sender, index). */
function setup(seed: number, faults: Partial<NetworkFaults> = {}, opts: { autoDeliver?: boolean } = {}) {
  const clock = new VirtualClock();
  const net = new MemoryNetwork({ rng: new SeededRandom(seed), clock, faults, ...opts });
  const log: Delivery[] = [];
  const ts = [1, 2, 3].map((id) => {
    const t = net.transport(id);
    t.onMessage((m) => log.push({ at: clock.now(), to: id, from: m.from, index: m.index }));
    return t;
  });
  return { clock, net, log, ts, t1: ts[0]!, t2: ts[1]!, t3: ts[2]! };
}

/** A fixed workload: each ms, every node sends one message to each other node. */
function runWorkload(seed: number, faults: Partial<NetworkFaults>): Delivery[] {
  const { clock, net, log, ts } = setup(seed, faults);
  let index = 0;
  for (let ms = 0; ms < 200; ms++) {
    for (const t of ts) t.send([1, 2, 3].filter((p) => p !== t.id).map((p) => msg(t.id, p, index++)));
    net.deliverDue(clock.now());
    clock.advance(1);
  }
  while (net.nextDeliveryAt() !== undefined) net.deliverNext();
  return log;
}

const FAULTY: Partial<NetworkFaults> = { dropRate: 0.1, duplicateRate: 0.1, minDelay: 1, maxDelay: 30, reorderRate: 0.1 };

test('issue #8: same seed and same calls give the same deliveries; another seed differs', (t) => {
  t.diagnostic(`seed=${SEED}`);
  const a = runWorkload(SEED, FAULTY);
  const b = runWorkload(SEED, FAULTY);
  assert.ok(a.length > 500);
  assert.deepEqual(a, b);
  const c = runWorkload(SEED + 1, FAULTY);
  assert.notDeepEqual(a, c);
});

test('issue #8: drop, duplicate and delay follow the configured rates', (t) => {
  t.diagnostic(`seed=${SEED}`);
  const clock = new VirtualClock();
  const net = new MemoryNetwork({
    rng: new SeededRandom(SEED),
    clock,
    faults: { dropRate: 0.2, duplicateRate: 0.1, minDelay: 5, maxDelay: 25 },
  });
  const a = net.transport(1);
  const b = net.transport(2);
  const delays: number[] = [];
  b.onMessage((m) => delays.push(clock.now() - m.index));
  const N = 20000;
  for (let i = 0; i < N; i++) {
    a.send([msg(1, 2, clock.now())]);
    clock.advance(1);
    net.deliverDue(clock.now());
  }
  for (let i = 0; i < 30; i++) {
    clock.advance(1);
    net.deliverDue(clock.now());
  }
  assert.equal(net.stats.sent, N);
  const dropRate = net.stats.dropped / N;
  assert.ok(Math.abs(dropRate - 0.2) < 0.02, `drop rate ${dropRate}`);
  const dupRate = net.stats.duplicated / (N - net.stats.dropped);
  assert.ok(Math.abs(dupRate - 0.1) < 0.02, `duplicate rate ${dupRate}`);
  assert.equal(net.stats.delivered, N - net.stats.dropped + net.stats.duplicated);
  assert.equal(delays.length, net.stats.delivered);
  assert.ok(delays.every((d) => d >= 5 && d <= 25), 'every delay within [minDelay, maxDelay]');
  const mean = delays.reduce((s, d) => s + d, 0) / delays.length;
  assert.ok(Math.abs(mean - 15) < 0.5, `mean delay ${mean}`);
  assert.ok(delays.includes(5) && delays.includes(25), 'both ends of the range occur');
});

test('issue #8: reordering comes from differing delays; a fixed delay keeps FIFO order', () => {
  const order = (faults: Partial<NetworkFaults>): number[] => {
    const { clock, net, log, t1 } = setup(SEED, faults);
    for (let i = 0; i < 500; i++) {
      t1.send([msg(1, 2, i)]);
      clock.advance(1);
      net.deliverDue(clock.now());
    }
    clock.advance(10_000);
    net.deliverDue(clock.now());
    assert.equal(log.length, 500);
    return log.map((d) => d.index);
  };
  const fifo = order({ minDelay: 3, maxDelay: 3 });
  assert.deepEqual(fifo, [...fifo].sort((x, y) => x - y));
  const reordered = order({ minDelay: 3, maxDelay: 3, reorderRate: 0.2 });
  let inversions = 0;
  for (let i = 1; i < reordered.length; i++) if (reordered[i]! < reordered[i - 1]!) inversions++;
  assert.ok(inversions > 20, `inversions ${inversions}`);
});

test('issue #8: symmetric partition, one-way cut, isolate and heal', () => {
  const { clock, net, log, t1, t2, t3 } = setup(SEED);
  const sendAll = (): void => {
    for (const t of [t1, t2, t3]) t.send([1, 2, 3].filter((p) => p !== t.id).map((p) => msg(t.id, p, 0)));
    net.deliverDue(clock.now());
  };
  const links = (): string[] => log.splice(0).map((d) => `${d.from}->${d.to}`).sort();

  net.partition([1], [2, 3]);
  sendAll();
  assert.deepEqual(links(), ['2->3', '3->2']);
  assert.equal(net.linkUp(1, 2), false);
  net.heal();
  sendAll();
  assert.equal(links().length, 6);

  net.cutOneWay(1, 2);
  sendAll();
  assert.deepEqual(links(), ['1->3', '2->1', '2->3', '3->1', '3->2']);
  net.heal();

  net.isolate(3);
  sendAll();
  assert.deepEqual(links(), ['1->2', '2->1']);
  // isolation also covers nodes that join later
  const t4 = net.transport(4);
  t4.send([msg(4, 3, 0), msg(4, 1, 0)]);
  net.deliverDue(clock.now());
  assert.deepEqual(links(), ['4->1']);
  net.heal();
  sendAll();
  assert.equal(links().length, 6);
});

test('issue #8: a partition drops messages already in flight on the cut link', () => {
  const { clock, net, log, t1 } = setup(SEED, { minDelay: 10, maxDelay: 10 });
  t1.send([msg(1, 2, 1), msg(1, 3, 2)]);
  net.partition([1], [2]);
  clock.advance(10);
  assert.equal(net.deliverDue(clock.now()), 1);
  assert.deepEqual(log.map((d) => d.to), [3]);
  assert.equal(net.stats.dropped, 1);
});

test('issue #8: hold keeps messages in flight and inspectable until release', () => {
  const { clock, net, log, t1, t2 } = setup(SEED, { minDelay: 1, maxDelay: 1 });
  net.hold(1, 2);
  t1.send([msg(1, 2, 1), msg(1, 3, 2)]);
  t1.send([msg(1, 2, 3)]);
  t2.send([msg(2, 1, 4)]);
  clock.advance(5);
  assert.equal(net.deliverDue(clock.now()), 2);
  assert.deepEqual(log.map((d) => d.index).sort(), [2, 4]);
  const held: readonly InFlight[] = net.inFlight();
  assert.deepEqual(held.map((p) => [p.from, p.to, p.message.index]), [[1, 2, 1], [1, 2, 3]]);
  assert.equal(net.nextDeliveryAt(), undefined, 'held messages are not deliverable');
  assert.equal(net.deliverNext(), undefined);
  net.heal(); // heal does not release holds
  assert.equal(net.deliverDue(clock.now() + 100), 0);
  net.release(1, 2);
  assert.equal(net.nextDeliveryAt(), 1, 'released messages keep their original deliverAt');
  assert.equal(net.deliverDue(clock.now()), 2);
  assert.deepEqual(log.slice(2).map((d) => d.index), [1, 3]);
  assert.deepEqual(net.inFlight(), []);
});

test('issue #8: deliverNext never reaches past the earliest instant', () => {
  const { net, log, t1 } = setup(SEED, { minDelay: 5, maxDelay: 5 });
  t1.send([msg(1, 2, 1)]);
  net.setFaults({ minDelay: 50, maxDelay: 50 });
  t1.send([msg(1, 3, 2)]);
  net.partition([1], [2]);
  assert.equal(net.nextDeliveryAt(), 5);
  assert.equal(net.deliverNext(), undefined, 'the message due at 5 is dropped; the one due at 50 waits');
  assert.equal(net.nextDeliveryAt(), 50);
  assert.equal(net.deliverNext()?.message.index, 2);
  assert.deepEqual(log.map((d) => d.index), [2]);
});

test('issue #8: drop(seq) removes one in-flight message', () => {
  const { clock, net, log, t1 } = setup(SEED, { minDelay: 1, maxDelay: 1 });
  t1.send([msg(1, 2, 1), msg(1, 2, 2), msg(1, 3, 3)]);
  const victim = net.inFlight().find((p) => p.message.index === 2)!;
  assert.equal(net.drop(victim.seq), true);
  assert.equal(net.drop(victim.seq), false);
  clock.advance(1);
  net.deliverDue(clock.now());
  assert.deepEqual(log.map((d) => d.index), [1, 3]);
  assert.equal(net.stats.dropped, 1);
});

test('issue #8: a down node sends nothing and receives nothing until up', () => {
  const { clock, net, log, t1, t2 } = setup(SEED, { minDelay: 2, maxDelay: 2 });
  t1.send([msg(1, 2, 1)]); // in flight to 2 when it goes down: lost
  net.down(2);
  t2.send([msg(2, 1, 2)]);
  assert.equal(net.stats.sent, 1, "a down node's send is a no-op");
  t1.send([msg(1, 2, 3)]);
  clock.advance(2);
  assert.equal(net.deliverDue(clock.now()), 0);
  assert.equal(net.stats.dropped, 2);
  net.up(2);
  t1.send([msg(1, 2, 4)]);
  t2.send([msg(2, 1, 5)]);
  clock.advance(2);
  assert.equal(net.deliverDue(clock.now()), 2);
  assert.deepEqual(log.map((d) => d.index), [4, 5]);
});

test('issue #8: removePeer/addPeer, close detaches, a new transport replaces the old one', async () => {
  const { clock, net, log, t1, t2 } = setup(SEED);
  t1.removePeer(2);
  t1.send([msg(1, 2, 1), msg(1, 3, 2)]);
  net.deliverDue(clock.now());
  assert.deepEqual(log.splice(0).map((d) => d.index), [2]);
  t1.addPeer(2, 'ignored');
  t1.send([msg(1, 2, 3)]);
  net.deliverDue(clock.now());
  assert.deepEqual(log.splice(0).map((d) => d.index), [3]);

  t1.send([msg(1, 2, 4)]);
  await t2.close();
  assert.equal(t2.isAttached(), false);
  t2.send([msg(2, 1, 5)]);
  net.deliverDue(clock.now());
  assert.deepEqual(log.splice(0), [], 'closed transport neither receives nor sends');

  const t2b = net.transport(2);
  const got: number[] = [];
  t2b.onMessage((m) => got.push(m.index));
  const t1b = net.transport(1); // replaces t1: old one is detached
  t1.send([msg(1, 2, 6)]);
  t1b.send([msg(1, 2, 7)]);
  net.deliverDue(clock.now());
  assert.deepEqual(got, [7]);
  await t1.close(); // closing the replaced transport does not detach the new one
  t1b.send([msg(1, 2, 8)]);
  net.deliverDue(clock.now());
  assert.deepEqual(got, [7, 8]);
});

test('issue #8: snapshot status is reported after delivery, or as failure outside send()', () => {
  const { clock, net, t1 } = setup(SEED, { minDelay: 1, maxDelay: 1 });
  const status: Array<[NodeId, boolean]> = [];
  let inSend = false;
  t1.onSnapshotStatus((peer, ok) => {
    assert.equal(inSend, false, 'never called from inside send()');
    status.push([peer, ok]);
  });
  t1.send([snapMsg(1, 2)]);
  clock.advance(1);
  net.deliverDue(clock.now());
  assert.deepEqual(status.splice(0), [[2, true]]);
  net.cutOneWay(1, 3);
  inSend = true;
  t1.send([snapMsg(1, 3)]);
  inSend = false;
  assert.deepEqual(status, []);
  assert.deepEqual(net.inFlight(), [], 'the failure report is not a message in flight');
  net.deliverDue(clock.now());
  assert.deepEqual(status.splice(0), [[3, false]]);
});

test('issue #8: deliverDue leaves messages sent during delivery for the next call', () => {
  const { clock, net, t1, t2 } = setup(SEED);
  let pongs = 0;
  t2.onMessage((m) => t2.send([msg(2, 1, m.index)]));
  t1.onMessage((m) => {
    pongs++;
    t1.send([msg(1, 2, m.index + 1)]);
  });
  t1.send([msg(1, 2, 0)]);
  assert.equal(net.deliverDue(clock.now()), 1);
  assert.equal(net.deliverDue(clock.now()), 1);
  assert.equal(pongs, 1);
  assert.equal(net.inFlight().length, 1);
});

test('issue #8: autoDeliver on a VirtualClock delivers at deliverAt with one timer', () => {
  const { clock, net, log, t1 } = setup(SEED, { minDelay: 5, maxDelay: 20 }, { autoDeliver: true });
  for (let i = 0; i < 100; i++) t1.send([msg(1, 2, i), msg(1, 3, i)]);
  assert.equal(clock.pending(), 1, 'one timer for the earliest delivery');
  const expected = net.inFlight().map((p) => ({ at: p.deliverAt, to: p.to, from: p.from, index: p.message.index }));
  clock.advance(4);
  assert.equal(log.length, 0);
  clock.advance(100);
  assert.deepEqual(log, expected);
  assert.equal(clock.pending(), 0);
  // zero delay: a batch on the next timer turn
  net.setFaults({ minDelay: 0, maxDelay: 0 });
  for (let i = 0; i < 1000; i++) t1.send([msg(1, 2, i)]);
  assert.equal(clock.pending(), 1);
  clock.advance(0);
  assert.equal(log.length, 200 + 1000);
  net.close();
  assert.equal(clock.pending(), 0);
});

test('issue #8: autoDeliver on a RealClock runs a ping-pong to completion', async () => {
  const clock = new RealClock();
  const net = new MemoryNetwork({ rng: new SeededRandom(SEED), clock, autoDeliver: true });
  const a = net.transport(1);
  const b = net.transport(2);
  b.onMessage((m) => b.send([msg(2, 1, m.index)]));
  const done = new Promise<number>((resolve) => {
    a.onMessage((m) => {
      if (m.index < 0) return;
      if (m.index === 50) resolve(m.index);
      else a.send([msg(1, 2, m.index + 1), msg(1, 2, -1)]);
    });
  });
  a.send([msg(1, 2, 0)]);
  assert.equal(await done, 50);
  net.close();
  assert.equal(net.stats.delivered >= 101, true);
});

test('issue #8: serialize passes messages through the codec', () => {
  const clock = new VirtualClock();
  const net = new MemoryNetwork({ rng: new SeededRandom(SEED), clock, serialize: true });
  const a = net.transport(1);
  const b = net.transport(2);
  const got: Message[] = [];
  b.onMessage((m) => got.push(m));
  const sent = snapMsg(1, 2);
  a.send([sent]);
  net.deliverDue(0);
  assert.notEqual(got[0], sent);
  assert.deepEqual([...got[0]!.snapshot!.data], [1, 2, 3]);
  assert.equal(got[0]!.snapshot!.metadata.index, 10);
});

test('issue #8: setFaults validates knobs and keeps the delay range consistent', () => {
  const { net } = setup(SEED, { minDelay: 5, maxDelay: 10 });
  net.setFaults({ maxDelay: 3 });
  assert.deepEqual([net.faults().minDelay, net.faults().maxDelay], [3, 3]);
  net.setFaults({ minDelay: 8 });
  assert.deepEqual([net.faults().minDelay, net.faults().maxDelay], [8, 8]);
  const bad = (e: unknown): boolean => isStrataError(e, 'ErrInvalidArgument');
  assert.throws(() => net.setFaults({ minDelay: 9, maxDelay: 2 }), bad);
  assert.throws(() => net.setFaults({ dropRate: 1.5 }), bad);
  assert.throws(() => net.setFaults({ maxDelay: -1 }), bad);
  assert.throws(() => net.setFaults({ reorderDelay: 0 }), bad);
  assert.deepEqual(net.faults(), { dropRate: 0, duplicateRate: 0, minDelay: 8, maxDelay: 8, reorderRate: 0 }, 'bad input changed nothing');
});

test('TimedHeap pops in (deliverAt, seq) order (property, seeded)', (t) => {
  t.diagnostic(`seed=${SEED}`);
  const rng = new SeededRandom(SEED);
  const heap = new TimedHeap<{ deliverAt: number; seq: number }>();
  const model: Array<{ deliverAt: number; seq: number }> = [];
  let seq = 0;
  for (let i = 0; i < 5000; i++) {
    const r = rng.next();
    if (r < 0.55) {
      const item = { deliverAt: rng.int(50), seq: seq++ };
      heap.push(item);
      model.push(item);
    } else if (r < 0.6 && model.length > 0) {
      const victim = model[rng.int(model.length)]!;
      assert.equal(heap.remove((x) => x.seq === victim.seq), victim);
      model.splice(model.indexOf(victim), 1);
    } else {
      model.sort((x, y) => x.deliverAt - y.deliverAt || x.seq - y.seq);
      assert.equal(heap.pop(), model.shift());
    }
    assert.equal(heap.size, model.length);
  }
});

// The shared Transport compliance suite (test/transport-compliance.ts).
transportCompliance('MemoryTransport (autoDeliver, serialize)', async (n) => {
  const net = new MemoryNetwork({
    rng: new SeededRandom(SEED),
    clock: new RealClock(),
    autoDeliver: true,
    serialize: true,
    faults: { minDelay: 0, maxDelay: 2 },
  });
  const transports = Array.from({ length: n }, (_, i) => net.transport(i + 1));
  return {
    transports,
    close: async () => {
      await Promise.all(transports.map((t) => t.close()));
      net.close();
    },
  };
});
