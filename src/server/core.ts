/**
 * The machinery behind a StrataNode's API: the Raft member, the applied
 * state (MVCC store + lessor) and helpers every call uses — propose a
 * command and unwrap its outcome, wait for a linearizable read point, build
 * response headers, enforce limits and quota, and make pending calls fail
 * with ErrStopped on close.
 */
import { strataError } from '../errors.ts';
import type { Lessor } from '../lease/lessor.ts';
import type { RaftNode } from '../node/raft-node.ts';
import type { NodeId } from '../raft/types.ts';
import type { Clock } from '../util/clock.ts';
import type { ApplyOutcome, Command, CommandResults } from './commands.ts';
import { Proposer } from './proposer.ts';
import type { StrataStateMachine } from './apply.ts';
import type { KvStore } from './kv-store.ts';
import type { MVCCStore } from '../mvcc/store.ts';
import type { Member } from './members.ts';
import type { ResponseHeader } from './types.ts';
import { log } from '../util/log.ts';

/** Limits and identity of a member. */
export interface CoreConfig {
  readonly name: string;
  readonly memberId: NodeId;
  readonly clusterId: NodeId;
  readonly members: readonly Member[];
  /** Largest encoded write request (default 1.5 MiB). */
  readonly maxRequestBytes: number;
  /** Largest txn list (default 128). */
  readonly maxTxnOps: number;
  /** Backend quota in bytes (default 2 GiB). */
  readonly quotaBytes: number;
  /** Election timeout in ms (electionTick × tickMs). */
  readonly electionTimeoutMs: number;
  readonly tickMs: number;
  /** Group concurrent proposals into one Raft entry (default true). */
  readonly batchProposals: boolean;
}

/** Per-record overhead counted against the quota, as etcd's cost estimate adds one. */
const QUOTA_OVERHEAD = 256;

/** The shared internals of one member. */
export class ServerCore {
  closed = false;
  /** Current Raft term as last reported by the node. */
  term = 0;
  private readonly closeCtl = new AbortController();
  private readonly closedPromise: Promise<never>;

  private readonly proposer: Proposer;

  constructor(
    readonly raft: RaftNode<ApplyOutcome>,
    readonly kv: KvStore,
    readonly lessor: Lessor,
    readonly sm: StrataStateMachine,
    readonly clock: Clock,
    readonly config: CoreConfig,
  ) {
    this.proposer = new Proposer(raft, config.batchProposals, (term) => {
      if (term > this.term) this.term = term;
    });
    this.closedPromise = new Promise<never>((_, reject) => {
      this.closeCtl.signal.addEventListener('abort', () => reject(strataError('ErrStopped', 'member closed')), { once: true });
    });
    this.closedPromise.catch(() => undefined);
  }

  /** The member's MVCC store. */
  get store(): MVCCStore {
    return this.kv.store;
  }

  /** Aborted when the member closes. */
  get closeSignal(): AbortSignal {
    return this.closeCtl.signal;
  }

  /** Mark closed: every guarded call still waiting rejects with ErrStopped. */
  markClosed(): void {
    this.closed = true;
    this.closeCtl.abort();
  }

  /** Throw ErrStopped once closed. */
  checkOpen(): void {
    if (this.closed) throw strataError('ErrStopped', 'member closed');
  }

  /** True while this member is a learner (non-voting). */
  get isLearner(): boolean {
    return this.raft.configuration.learners.includes(this.config.memberId);
  }

  /** Learners serve only status and serializable reads (R9.4). */
  checkNotLearner(): void {
    if (this.isLearner) throw strataError('ErrNotSupportedForLearner', 'a learner serves only status and serializable reads');
  }

  /** Race `p` against close. */
  guard<T>(p: Promise<T>): Promise<T> {
    if (this.closed) {
      p.catch(() => undefined);
      return Promise.reject(strataError('ErrStopped', 'member closed'));
    }
    return Promise.race([p, this.closedPromise]);
  }

  /** The response header at `revision`. */
  header(revision: number = this.store.currentRevision): ResponseHeader {
    return { clusterId: this.config.clusterId, memberId: this.config.memberId, revision, raftTerm: this.term };
  }

  /**
   * Propose a command through Raft and wait until it is applied here;
   * resolves with its result or rejects with the error applying it raised.
   * `size` is its approximate encoded size (callers enforce the request
   * limit with the store's own size rule, so proposer and apply agree).
   */
  async propose<K extends Command['op']>(cmd: Extract<Command, { op: K }>, signal?: AbortSignal, size = 64): Promise<CommandResults[K]> {
    this.checkOpen();
    this.checkNotLearner();
    if (this.raft.coreState()?.lead === 0) await this.leaderKnown(signal);
    // RaftNode rejects its waiting proposals and reads with ErrStopped when stopped.
    const o = await this.proposer.propose(cmd, size, signal);
    if (!o.ok) throw o.error;
    return o.value as CommandResults[K];
  }

  /**
   * Wait until this member knows a leader — during an election a write would
   * otherwise be dropped by Raft (nothing reached the log, so waiting and then
   * proposing is safe). Rejects with ErrNoLeader after three election
   * timeouts, ErrAborted on `signal`, ErrStopped on close.
   */
  leaderKnown(signal?: AbortSignal): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      const done = (err?: unknown): void => {
        off();
        this.clock.clearTimer(timer);
        signal?.removeEventListener('abort', onAbort);
        this.closeCtl.signal.removeEventListener('abort', onClose);
        if (err === undefined) resolve();
        else reject(err);
      };
      const off = this.raft.on('leaderChange', (lead: NodeId) => {
        if (lead !== 0) done();
      });
      const timer = this.clock.setTimer(
        () => done(strataError('ErrNoLeader', 'no leader elected within three election timeouts')),
        3 * this.config.electionTimeoutMs,
      );
      const onAbort = (): void => done(strataError('ErrAborted', 'operation aborted'));
      const onClose = (): void => done(strataError('ErrStopped', 'member closed'));
      signal?.addEventListener('abort', onAbort, { once: true });
      this.closeCtl.signal.addEventListener('abort', onClose, { once: true });
      if (signal?.aborted === true) onAbort();
      else if (this.closed) onClose();
      else if ((this.raft.coreState()?.lead ?? 0) !== 0) done();
    });
  }

  /** Wait until local reads are linearizable (ReadIndex, R2.11). */
  async linearizable(signal?: AbortSignal): Promise<void> {
    this.checkOpen();
    this.checkNotLearner();
    if (this.raft.coreState()?.lead === 0) await this.leaderKnown(signal);
    await this.raft.readIndex(signal !== undefined ? { signal } : {});
  }

  /**
   * Quota check before a write that adds data (R9.7): ErrNoSpace while the
   * NOSPACE alarm is raised, or when the write would reach the quota — then
   * the alarm is raised cluster-wide.
   */
  checkSpace(cost: number): void {
    if (this.sm.noSpace) throw strataError('ErrNoSpace', 'database space exceeded');
    if (this.kv.dbSize() + cost + QUOTA_OVERHEAD >= this.config.quotaBytes) {
      const cmd: Command = { op: 'alarm', action: 'activate', memberId: this.config.memberId, alarm: 'NOSPACE' };
      this.propose(cmd).catch((err: unknown) => log.server('raising NOSPACE failed: %O', err));
      throw strataError('ErrNoSpace', 'database space exceeded');
    }
  }
}
