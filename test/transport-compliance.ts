// A compliance suite for Transport implementations (STYLE.md, after js-libp2p's
// interface tests). Any implementation — including a user's — can run it by
// supplying a factory for a few connected members.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MessageType } from '../src/raft/types.ts';
import type { Entry, Message, NodeId } from '../src/raft/types.ts';
import type { Transport } from '../src/transport/transport.ts';

/** A set of members that can reach each other, and how to tear them down. */
export interface Members {
  readonly transports: readonly Transport[];
  close(): Promise<void>;
}

/** Creates `n` members with ids 1..n, each knowing every other. */
export type MembersFactory = (n: number) => Promise<Members>;

function message(from: NodeId, to: NodeId, index: number, extra: Partial<Message> = {}): Message {
  return { type: MessageType.MsgApp, from, to, term: 2, logTerm: 1, index, entries: [], commit: 1, reject: false, rejectHint: 0, ...extra };
}

async function eventually(cond: () => boolean, what: string, ms = 5000): Promise<void> {
  const deadline = performance.now() + ms;
  while (!cond()) {
    if (performance.now() > deadline) assert.fail(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 2));
  }
}

const settle = (): Promise<void> => new Promise((r) => setTimeout(r, 50));

/** Register the compliance tests for one implementation. */
export function transportCompliance(name: string, factory: MembersFactory): void {
  test(`${name}: delivers every field of a message intact (Transport contract)`, async () => {
    const m = await factory(2);
    try {
      const [a, b] = m.transports as [Transport, Transport];
      const got: Message[] = [];
      b.onMessage((x) => got.push(x));
      const entries: Entry[] = [
        { term: 2, index: 5, type: 0, data: new Uint8Array([1, 2, 3]) },
        { term: 2, index: 6, type: 1, data: new Uint8Array(0) },
      ];
      const sent: Message[] = [
        message(1, 2, 4, { entries, context: new Uint8Array([42]) }),
        message(1, 2, 7, { type: MessageType.MsgAppResp, reject: true, rejectHint: 3 }),
        message(1, 2, 0, {
          type: MessageType.MsgSnap,
          snapshot: {
            metadata: { index: 9, term: 2, confState: { voters: [1, 2], learners: [3], votersOutgoing: [1], learnersNext: [], autoLeave: true } },
            data: new Uint8Array(1536 * 1024).fill(7),
          },
        }),
      ];
      a.send(sent);
      await eventually(() => got.length === 3, 'three messages');
      const byType = (t: number): Message => got.find((x) => x.type === t) as Message;
      const app = byType(MessageType.MsgApp);
      assert.equal(app.index, 4);
      assert.deepEqual(app.entries.map((e) => [e.term, e.index, e.type, [...e.data]]), [[2, 5, 0, [1, 2, 3]], [2, 6, 1, []]]);
      assert.deepEqual([...(app.context ?? [])], [42]);
      const resp = byType(MessageType.MsgAppResp);
      assert.equal(resp.reject, true);
      assert.equal(resp.rejectHint, 3);
      const snap = byType(MessageType.MsgSnap);
      assert.deepEqual(snap.snapshot?.metadata, sent[2]!.snapshot!.metadata);
      assert.equal(snap.snapshot?.data.length, 1536 * 1024);
      assert.ok(snap.snapshot?.data.every((x) => x === 7));
    } finally {
      await m.close();
    }
  });

  test(`${name}: send never throws for unknown or removed peers, and removePeer stops delivery`, async () => {
    const m = await factory(3);
    try {
      const [a, b, c] = m.transports as [Transport, Transport, Transport];
      const gotB: Message[] = [];
      const gotC: Message[] = [];
      b.onMessage((x) => gotB.push(x));
      c.onMessage((x) => gotC.push(x));
      a.removePeer(2);
      assert.doesNotThrow(() => a.send([message(1, 2, 1), message(1, 99, 2), message(1, 3, 3)]));
      await eventually(() => gotC.length === 1, 'delivery to 3');
      await settle();
      assert.equal(gotB.length, 0);
    } finally {
      await m.close();
    }
  });

  test(`${name}: a closed member neither sends nor receives; close is idempotent`, async () => {
    const m = await factory(2);
    try {
      const [a, b] = m.transports as [Transport, Transport];
      const gotA: Message[] = [];
      const gotB: Message[] = [];
      a.onMessage((x) => gotA.push(x));
      b.onMessage((x) => gotB.push(x));
      a.send([message(1, 2, 1)]);
      await eventually(() => gotB.length === 1, 'first delivery');
      await b.close();
      await b.close();
      a.send([message(1, 2, 2)]);
      b.send([message(2, 1, 3)]);
      await settle();
      assert.equal(gotB.length, 1);
      assert.equal(gotA.length, 0);
    } finally {
      await m.close();
    }
  });
}
