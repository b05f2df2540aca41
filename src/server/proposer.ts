/**
 * Proposal batching: commands proposed in the same event-loop turn travel in
 * one Raft entry (`{ op: 'batch' }`), applied in order, each with its own
 * result. Under concurrency this turns hundreds of client writes into one
 * log entry, one envelope, one storage record and one apply decode, which is
 * where the per-write cost of a replicated store goes. A lone command is
 * proposed as it is, so a single client pays only a few microtask hops.
 */
import { strataError } from '../errors.ts';
import type { RaftNode } from '../node/raft-node.ts';
import type { ApplyOutcome } from './commands.ts';
import { encodeBatch } from './commands.ts';

/** Flush a batch early once it holds this many bytes of commands. */
const MAX_BATCH_BYTES = 512 * 1024;
/** Microtask hops before a batch is proposed (see flushLater). */
const FLUSH_HOPS = 8;
/** Flush a batch early once it holds this many commands. */
const MAX_BATCH_COMMANDS = 1024;

interface Item {
  readonly data: Uint8Array;
  resolve(o: { outcome: ApplyOutcome; term: number }): void;
  reject(err: unknown): void;
}

/** Groups encoded commands into batched proposals. */
export class Proposer {
  private items: Item[] = [];
  private bytes = 0;
  private scheduled = false;

  constructor(
    private readonly raft: RaftNode<ApplyOutcome>,
    /** False disables batching (every command its own entry). */
    private readonly batching: boolean,
  ) {}

  /** Propose one encoded command; resolves with its apply outcome and the entry's term. */
  propose(data: Uint8Array, signal?: AbortSignal): Promise<{ outcome: ApplyOutcome; term: number }> {
    if (!this.batching) return this.raft.propose(data, signal !== undefined ? { signal } : {}).then((r) => ({ outcome: r.result, term: r.term }));
    return new Promise((resolve, reject) => {
      let onAbort: (() => void) | undefined;
      if (signal !== undefined) {
        if (signal.aborted) return reject(strataError('ErrAborted', 'operation aborted'));
        onAbort = () => reject(strataError('ErrAborted', 'operation aborted'));
        signal.addEventListener('abort', onAbort, { once: true });
      }
      const done = (): void => {
        if (onAbort !== undefined) signal?.removeEventListener('abort', onAbort);
      };
      this.items.push({
        data,
        resolve: (o) => {
          done();
          resolve(o);
        },
        reject: (e) => {
          done();
          reject(e);
        },
      });
      this.bytes += data.length;
      if (this.bytes >= MAX_BATCH_BYTES || this.items.length >= MAX_BATCH_COMMANDS) this.flush();
      else if (!this.scheduled) {
        this.scheduled = true;
        this.flushLater(FLUSH_HOPS);
      }
    });
  }

  /**
   * Flush after a few microtask hops: callers woken by the same applied batch
   * resume in FIFO order, so their next proposals land in this batch — with
   * no macrotask turn in between (and nothing that depends on an event loop,
   * so it works on a virtual clock too).
   */
  private flushLater(hops: number): void {
    queueMicrotask(() => (hops > 0 ? this.flushLater(hops - 1) : this.flush()));
  }

  private flush(): void {
    this.scheduled = false;
    const items = this.items;
    if (items.length === 0) return;
    this.items = [];
    this.bytes = 0;
    if (items.length === 1) {
      const it = items[0] as Item;
      this.raft.propose(it.data).then((r) => it.resolve({ outcome: r.result, term: r.term }), (err: unknown) => it.reject(err));
      return;
    }
    this.raft.propose(encodeBatch(items.map((i) => i.data))).then(
      (r) => {
        const o = r.result;
        if (!o.ok) {
          for (const it of items) it.reject(o.error);
          return;
        }
        const outcomes = o.value as readonly ApplyOutcome[];
        items.forEach((it, i) => it.resolve({ outcome: outcomes[i] ?? { ok: false, error: strataError('ErrCorrupt', 'missing batch result') }, term: r.term }));
      },
      (err: unknown) => {
        for (const it of items) it.reject(err);
      },
    );
  }
}
