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

/** One waiting command. No closures: the batch settles items directly. */
interface Item {
  readonly cmd: Command;
  readonly resolve: (o: ApplyOutcome) => void;
  readonly reject: (err: unknown) => void;
  /** Set only for calls with an AbortSignal. */
  readonly signal: AbortSignal | undefined;
  onAbort: (() => void) | undefined;
}

function settleItem(it: Item, outcome: ApplyOutcome | undefined, err: unknown): void {
  if (it.onAbort !== undefined) it.signal?.removeEventListener('abort', it.onAbort);
  if (outcome !== undefined) it.resolve(outcome);
  else it.reject(err);
}

const MISSING: ApplyOutcome = { ok: false, error: strataError('ErrCorrupt', 'missing batch result') };

/** Groups encoded commands into batched proposals. */
export class Proposer {
  private items: Item[] = [];
  private bytes = 0;
  private scheduled = false;
  private readonly tick = (): void => this.hop();
  private hops = 0;

  constructor(
    private readonly raft: RaftNode<ApplyOutcome>,
    /** False disables batching (every command its own entry). */
    private readonly batching: boolean,
    /** Told the term of every entry a proposal landed in (response headers). */
    private readonly onTerm: (term: number) => void,
  ) {}

  /**
   * Propose one command (`size`: its approximate encoded size); resolves with
   * its apply outcome once applied on this member.
   */
  propose(cmd: Command, size: number, signal?: AbortSignal): Promise<ApplyOutcome> {
    if (!this.batching) {
      return this.raft.propose(encodeCommand(cmd), signal !== undefined ? { signal } : {}).then((r) => {
        this.onTerm(r.term);
        return r.result;
      });
    }
    if (signal?.aborted === true) return Promise.reject(strataError('ErrAborted', 'operation aborted'));
    let res!: (o: ApplyOutcome) => void;
    let rej!: (err: unknown) => void;
    const promise = new Promise<ApplyOutcome>((resolve, reject) => {
      res = resolve;
      rej = reject;
    });
    const it: Item = { cmd, resolve: res, reject: rej, signal, onAbort: undefined };
    if (signal !== undefined) {
      it.onAbort = () => rej(strataError('ErrAborted', 'operation aborted'));
      signal.addEventListener('abort', it.onAbort, { once: true });
    }
    this.items.push(it);
    this.bytes += size;
    if (this.bytes >= MAX_BATCH_BYTES || this.items.length >= MAX_BATCH_COMMANDS) this.flush();
    else if (!this.scheduled) {
      this.scheduled = true;
      this.hops = FLUSH_HOPS;
      queueMicrotask(this.tick);
    }
    return promise;
  }

  private hop(): void {
    if (this.hops-- > 0) queueMicrotask(this.tick);
    else this.flush();
  }

  // Flushing after a few microtask hops (hop()): callers woken by the same
  // applied batch resume in FIFO order, so their next proposals land in this
  // batch — with no macrotask turn in between (and nothing that depends on an
  // event loop, so it works on a virtual clock too).

  private flush(): void {
    this.scheduled = false;
    this.hops = 0;
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
        this.onTerm(r.term);
        const o = r.result;
        if (!o.ok) {
          for (const it of items) settleItem(it, undefined, o.error);
          return;
        }
        const outcomes = o.value as readonly ApplyOutcome[];
        for (let i = 0; i < items.length; i++) settleItem(items[i] as Item, outcomes[i] ?? MISSING, undefined);
      },
      (err: unknown) => {
        for (const it of items) settleItem(it, undefined, err);
      },
    );
  }

  private proposeOne(it: Item): void {
    let data: Uint8Array;
    try {
      data = encodeCommand(it.cmd);
    } catch (err) {
      settleItem(it, undefined, strataError('ErrInvalidArgument', `unencodable request: ${(err as Error).message}`));
      return;
    }
    this.raft.propose(data).then(
      (r) => {
        this.onTerm(r.term);
        settleItem(it, r.result, undefined);
      },
      (err: unknown) => settleItem(it, undefined, err),
    );
  }
}
