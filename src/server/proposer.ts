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
import type { ApplyOutcome, Command } from './commands.ts';
import { encodeBatch, encodeCommand } from './commands.ts';

/** Flush a batch early once it holds this many bytes of commands. */
const MAX_BATCH_BYTES = 512 * 1024;
/** Microtask hops before a batch is proposed (see flushLater). */
const FLUSH_HOPS = 8;
/** Flush a batch early once it holds this many commands. */
const MAX_BATCH_COMMANDS = 1024;

interface Item {
  readonly cmd: Command;
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

  /**
   * Propose one command (`size`: its approximate encoded size); resolves with
   * its apply outcome and the entry's term.
   */
  propose(cmd: Command, size: number, signal?: AbortSignal): Promise<{ outcome: ApplyOutcome; term: number }> {
    if (!this.batching) {
      return this.raft.propose(encodeCommand(cmd), signal !== undefined ? { signal } : {}).then((r) => ({ outcome: r.result, term: r.term }));
    }
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
        cmd,
        resolve: (o) => {
          done();
          resolve(o);
        },
        reject: (e) => {
          done();
          reject(e);
        },
      });
      this.bytes += size;
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
    if (items.length === 1) return this.proposeOne(items[0] as Item);
    let data: Uint8Array;
    try {
      data = encodeBatch(items.map((i) => i.cmd));
    } catch {
      // Something in one command cannot be encoded: propose them one by one so only it fails.
      for (const it of items) this.proposeOne(it);
      return;
    }
    this.raft.propose(data).then(
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

  private proposeOne(it: Item): void {
    let data: Uint8Array;
    try {
      data = encodeCommand(it.cmd);
    } catch (err) {
      it.reject(strataError('ErrInvalidArgument', `unencodable request: ${(err as Error).message}`));
      return;
    }
    this.raft.propose(data).then((r) => it.resolve({ outcome: r.result, term: r.term }), (err: unknown) => it.reject(err));
  }
}
