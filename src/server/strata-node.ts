/**
 * StrataNode: one member of an etcd-like cluster, embedded in a Node process.
 * Its API mirrors etcd v3's KV, Watch, Lease, Cluster and Maintenance
 * services (spec §2–§9). Writes go through Raft and are acknowledged once
 * applied here; gets are linearizable by default (ReadIndex) and local with
 * `serializable: true`. Any member serves any call: RaftNode forwards
 * proposals and read-index requests from followers to the leader.
 */
import { join } from 'node:path';
import { strataError } from '../errors.ts';
import { LeaseIdGenerator } from '../lease/id.ts';
import { Lessor, minLeaseTtl } from '../lease/lessor.ts';
import { normalizeDelete, normalizePut, normalizeRange, validateTxn, isReadOnlyTxn } from '../mvcc/validate.ts';
import { checkRequestSize, requestSize } from '../mvcc/size.ts';
import type { BytesInput, DeleteOptions, PutOptions, TxnRequest, WatchOptions, WatchResponse } from '../mvcc/types.ts';
import { RaftNode } from '../node/raft-node.ts';
import type { NodeId } from '../raft/types.ts';
import { LevelStorage } from '../storage/level.ts';
import { MemoryStorage } from '../storage/memory.ts';
import type { Storage } from '../storage/storage.ts';
import { RealClock } from '../util/clock.ts';
import { SeededRandom } from '../util/rng.ts';
import { strictReconfigCheck } from './reconfig.ts';
import { log } from '../util/log.ts';
import { StrataStateMachine } from './apply.ts';
import type { AlarmType, ApplyOutcome, PutCommand } from './commands.ts';
import { ServerCore } from './core.ts';
import { LeaseApi } from './lease-api.ts';
import { LeaseExpiry } from './lease-expiry.ts';
import { AutoCompactor } from './auto-compact.ts';
import { clusterIdOf, DEFAULT_CLUSTER_TOKEN, parseInitialCluster } from './members.ts';
import { MembersApi } from './members-api.ts';
import { openKvStore } from './kv-store.ts';
import {
  DEFAULT_MAX_REQUEST_BYTES,
  DEFAULT_MAX_TXN_OPS,
  DEFAULT_QUOTA_BYTES,
  STRATA_VERSION,
  type StrataNodeOptions,
} from './options.ts';
import type {
  AlarmMember,
  CallOptions,
  CompactCallOptions,
  CompactResponse,
  DeleteResponse,
  GetOptions,
  GetResponse,
  HashKVResponse,
  MemberStatus,
  PutResponse,
  TxnCallOptions,
  TxnCallResponse,
} from './types.ts';

/** A peer URL as a transport address: `tcp://h:p/x` → `h:p` (memory URLs keep their host part). */
function peerAddress(url: string): string {
  const i = url.indexOf('://');
  const rest = i >= 0 ? url.slice(i + 3) : url;
  const slash = rest.indexOf('/');
  return slash >= 0 ? rest.slice(0, slash) : rest;
}

function hasWrite(req: TxnRequest): boolean {
  const ops = [...(req.success ?? []), ...(req.failure ?? [])];
  return ops.some((op) => 'put' in op);
}

/** `node.alarms`: alarm list and disarm (R9.7). */
export interface AlarmsApi {
  /** Active alarms. */
  list(): Promise<AlarmMember[]>;
  /** Clear alarms (all of them, or only those of one type / one member). */
  disarm(filter?: { alarm?: AlarmType; memberId?: NodeId }, options?: CallOptions): Promise<void>;
}

/** One member of a Strata cluster. Create with {@link StrataNode.open}. */
export class StrataNode {
  /** The Lease service. */
  readonly lease: LeaseApi;
  /** The Cluster service. */
  readonly members: MembersApi;
  /** Alarms (Maintenance service). */
  readonly alarms: AlarmsApi;
  private readonly expiry: LeaseExpiry;
  private compactor: AutoCompactor | undefined;
  private closing: Promise<void> | undefined;

  private constructor(
    private readonly core: ServerCore,
    checkpointIntervalMs: number,
    token: string,
  ) {
    this.lease = new LeaseApi(core);
    this.expiry = new LeaseExpiry(core, checkpointIntervalMs);
    this.members = new MembersApi(core, token);
    this.alarms = {
      list: () => Promise.resolve(core.sm.alarms().map((a) => ({ ...a }))),
      disarm: async (filter = {}, options = {}) => {
        for (const a of core.sm.alarms()) {
          if (filter.alarm !== undefined && a.alarm !== filter.alarm) continue;
          if (filter.memberId !== undefined && a.memberId !== filter.memberId) continue;
          await core.propose<'alarm'>({ op: 'alarm', action: 'deactivate', memberId: a.memberId, alarm: a.alarm }, options.signal);
        }
      },
    };
  }

  /**
   * Open (or reopen, from `dataDir`) a member and start it. Resolves once the
   * member has loaded its state and joined the Raft group (not necessarily
   * once a leader is known).
   */
  static async open(options: StrataNodeOptions): Promise<StrataNode> {
    const token = options.initialClusterToken ?? DEFAULT_CLUSTER_TOKEN;
    const members = parseInitialCluster(options.initialCluster, token);
    const me = members.find((m) => m.name === options.name);
    if (me === undefined) throw strataError('ErrMemberNotFound', `member "${options.name}" is not in the initial cluster`);
    if (options.transport.id !== me.id) {
      throw strataError('ErrInvalidArgument', `transport id ${options.transport.id} is not member ${options.name}'s id ${me.id}`);
    }
    const clock = options.clock ?? new RealClock();
    const tickMs = options.tickMs ?? 100;
    const electionTick = options.electionTick ?? 10;
    const electionTimeoutMs = tickMs * electionTick;
    const storage: Storage =
      options.storage ??
      (options.dataDir !== undefined
        ? await LevelStorage.open(join(options.dataDir, 'raft'), { sync: options.fsync ?? true })
        : new MemoryStorage());
    const lessorRef: { current?: Lessor } = {};
    const maxRequestBytes = options.maxRequestBytes ?? DEFAULT_MAX_REQUEST_BYTES;
    const maxTxnOps = options.maxTxnOps ?? DEFAULT_MAX_TXN_OPS;
    const store = await openKvStore({
      leaseExists: (id: number) => lessorRef.current?.has(id) === true,
      maxTxnOps,
      maxRequestBytes,
      clock,
    });
    const idStart = options.clock !== undefined ? clock.now() : Date.now();
    const lessor = new Lessor({
      minTtl: minLeaseTtl(electionTimeoutMs),
      idGenerator: new LeaseIdGenerator(me.id, idStart),
      ...(options.leaseRevokeRate !== undefined ? { revokeRate: options.leaseRevokeRate } : {}),
    });
    lessorRef.current = lessor;
    const sm = new StrataStateMachine({ kv: store, lessor, clock, electionTimeoutMs });
    const voters = members.filter((m) => !m.isLearner).map((m) => m.id);
    const raft = new RaftNode<ApplyOutcome>({
      ...options.raft,
      id: me.id,
      peers: (options.initialClusterState ?? 'new') === 'new' ? voters : [],
      storage,
      transport: options.transport,
      stateMachine: sm,
      clock,
      rng: options.rng ?? new SeededRandom((me.id ^ Math.floor(idStart)) >>> 0),
      electionTick,
      heartbeatTick: options.heartbeatTick ?? 1,
      tickMs,
      ...(options.snapshotCount !== undefined ? { snapshotCount: options.snapshotCount } : {}),
      ...(options.requestTimeoutTicks !== undefined ? { requestTimeoutTicks: options.requestTimeoutTicks } : {}),
      ...(options.strictReconfigCheck !== false ? { reconfigCheck: strictReconfigCheck } : {}),
    });
    for (const m of members) {
      if (m.id === me.id) continue;
      const address = peerAddress(m.peerURLs[0] ?? '');
      try {
        options.transport.addPeer(m.id, address);
      } catch (err) {
        log.server('peer %s: address %s not usable by the transport: %O', m.name, address, err);
      }
    }
    const core = new ServerCore(raft, store, lessor, sm, clock, {
      name: me.name,
      memberId: me.id,
      // From the token alone, so members that join later agree on it.
      clusterId: clusterIdOf([], token),
      members,
      maxRequestBytes,
      maxTxnOps,
      quotaBytes: options.quotaBackendBytes ?? DEFAULT_QUOTA_BYTES,
      electionTimeoutMs,
      tickMs,
      batchProposals: options.batchProposals ?? true,
    });
    raft.on('leaderChange', (leader, term) => {
      core.term = Math.max(core.term, term);
      if (leader === me.id && !lessor.isPrimary) lessor.promote(clock.now(), electionTimeoutMs);
      else if (leader !== me.id && lessor.isPrimary) lessor.demote();
    });
    const node = new StrataNode(core, options.leaseCheckpointIntervalMs ?? 0, token);
    try {
      await raft.start();
    } catch (err) {
      await store.store.close().catch(() => undefined);
      await storage.close().catch(() => undefined);
      throw err;
    }
    core.term = Math.max(core.term, raft.status().term);
    node.expiry.start();
    const retention = options.autoCompactionRetention ?? 0;
    if (retention > 0) {
      node.compactor = new AutoCompactor(core, retention, options.autoCompactionIntervalMs ?? 1000);
      node.compactor.start();
    }
    log.server('member %s (%d) open', me.name, me.id);
    return node;
  }

  /** This member's id. */
  get id(): NodeId {
    return this.core.config.memberId;
  }

  /** This member's name. */
  get name(): string {
    return this.core.config.name;
  }

  /** The cluster id. */
  get clusterId(): NodeId {
    return this.core.config.clusterId;
  }

  /** True while this member believes it leads. */
  get isLeader(): boolean {
    return this.core.raft.status().role === 'leader';
  }

  /** The leader this member knows of (0 when none). */
  get leaderId(): NodeId {
    return this.core.raft.status().leader;
  }

  /** The underlying Raft member (events `leaderChange`, `roleChange`; advanced use). */
  get raft(): RaftNode<ApplyOutcome> {
    return this.core.raft;
  }

  /** The local store revision (applied state). */
  get revision(): number {
    return this.core.store.currentRevision;
  }

  // ------------------------------------------------------------------ KV

  /** Put a key (section 3). Errors: ErrEmptyKey, ErrValueProvided, ErrLeaseProvided, ErrLeaseNotFound, ErrKeyNotFound, ErrRequestTooLarge, ErrNoSpace. */
  async put(key: BytesInput, value: BytesInput, options: PutOptions & CallOptions = {}): Promise<PutResponse> {
    const core = this.core;
    core.checkOpen();
    core.checkNotLearner();
    const n = normalizePut(key, value, options);
    if (n.lease !== 0 && !core.lessor.has(n.lease)) throw strataError('ErrLeaseNotFound', `lease ${n.lease} not found`);
    // The value as bytes (members apply it without re-encoding UTF-8); a string
    // key as it is (the store reads an ASCII key without any byte array). The
    // command is encoded a few microtasks later, so caller buffers are copied.
    // Optional fields only when set (smaller entries; no spread copies).
    const cmd: { -readonly [K in keyof PutCommand]: PutCommand[K] } = {
      op: 'put',
      key: typeof key === 'string' ? key : (key as Uint8Array).slice(),
      value: typeof value === 'string' ? n.value : n.value.slice(),
    };
    if (n.lease !== 0) cmd.lease = n.lease;
    if (n.prevKv) cmd.prevKv = true;
    if (n.ignoreValue) cmd.ignoreValue = true;
    if (n.ignoreLease) cmd.ignoreLease = true;
    const size = requestSize(n);
    if (size > core.config.maxRequestBytes) throw strataError('ErrRequestTooLarge', `request is too large (${size} > ${core.config.maxRequestBytes} bytes)`);
    core.checkSpace(size);
    const r = await core.propose<'put'>(cmd, options.signal, size);
    return { ...r, header: core.header(r.revision) };
  }

  /** Range read (section 2); linearizable unless `serializable` (R2.11). */
  async get(key: BytesInput, options: GetOptions = {}): Promise<GetResponse> {
    const core = this.core;
    core.checkOpen();
    const { serializable, signal, ...rangeOptions } = options;
    normalizeRange(key, rangeOptions);
    if (serializable !== true) await core.linearizable(signal);
    const r = await core.store.range(key, rangeOptions);
    return { ...r, header: core.header(r.revision) };
  }

  /** Alias of {@link get}. */
  range(key: BytesInput, options: GetOptions = {}): Promise<GetResponse> {
    return this.get(key, options);
  }

  /** Delete a key or range (R3.5). */
  async delete(key: BytesInput, options: DeleteOptions & CallOptions = {}): Promise<DeleteResponse> {
    const core = this.core;
    core.checkOpen();
    const { signal, ...deleteOptions } = options;
    const n = normalizeDelete(key, deleteOptions);
    checkRequestSize(n, core.config.maxRequestBytes);
    const r = await core.propose<'deleteRange'>({ op: 'deleteRange', key, ...deleteOptions }, signal, requestSize(n));
    return { ...r, header: core.header(r.revision) };
  }

  /** Alias of {@link delete}. */
  deleteRange(key: BytesInput, options: DeleteOptions & CallOptions = {}): Promise<DeleteResponse> {
    return this.delete(key, options);
  }

  /**
   * A transaction (section 4). Validated up front (ErrTooManyOps,
   * ErrDuplicateKey, ErrEmptyKey, …). A read-only txn is served like a range
   * (R4.10); a writing one goes through Raft.
   */
  async txn(req: TxnRequest, options: TxnCallOptions = {}): Promise<TxnCallResponse> {
    const core = this.core;
    core.checkOpen();
    const n = validateTxn(req, core.config.maxTxnOps);
    if (isReadOnlyTxn(n)) {
      if (options.serializable !== true) await core.linearizable(options.signal);
      const r = await core.store.txn(req);
      return { ...r, header: core.header(r.revision) };
    }
    const size = requestSize(n);
    checkRequestSize(n, core.config.maxRequestBytes);
    if (hasWrite(req)) core.checkSpace(size);
    const r = await core.propose<'txn'>({ op: 'txn', txn: req }, options.signal, size);
    return { ...r, header: core.header(r.revision) };
  }

  /** Compact history up to `revision` (section 5). ErrCompacted, ErrFutureRev. */
  async compact(revision: number, options: CompactCallOptions = {}): Promise<CompactResponse> {
    const core = this.core;
    core.checkOpen();
    if (!Number.isSafeInteger(revision)) throw strataError('ErrInvalidArgument', 'revision must be an integer');
    if (revision <= core.store.compactRevision) throw strataError('ErrCompacted', `revision ${revision} has been compacted`);
    // ErrFutureRev is decided when applied: this member's view may be behind.
    const r = await core.propose<'compact'>({ op: 'compact', revision }, options.signal);
    if (options.physical === true) await core.guard(core.kv.waitCompaction());
    return { ...r, header: core.header(r.revision) };
  }

  /**
   * Watch a key, range or prefix (section 6) on this member's applied state.
   * Ends when the member closes or `signal` aborts.
   */
  watch(key: BytesInput, options: WatchOptions = {}): AsyncIterable<WatchResponse> {
    const core = this.core;
    core.checkOpen();
    core.checkNotLearner();
    const signal = options.signal !== undefined ? AbortSignal.any([options.signal, core.closeSignal]) : core.closeSignal;
    return core.store.watch(key, { ...options, signal });
  }

  // ------------------------------------------------------- maintenance

  /** Member status (R9.5). */
  status(): Promise<MemberStatus> {
    const core = this.core;
    core.checkOpen();
    const st = core.raft.status();
    const size = core.kv.dbSize();
    return Promise.resolve({
      memberId: core.config.memberId,
      name: core.config.name,
      leader: st.leader,
      raftTerm: st.term,
      raftIndex: st.commitIndex,
      appliedIndex: st.appliedIndex,
      dbSize: size,
      dbSizeInUse: size,
      dbSizeQuota: core.config.quotaBytes,
      isLearner: st.learners.includes(core.config.memberId),
      version: STRATA_VERSION,
      revision: core.store.currentRevision,
      errors: core.sm.alarms().map((a) => `memberID:${a.memberId.toString(16)} alarm:${a.alarm}`),
    });
  }

  /** Hash of the KV history up to `revision` (0: current), R9.9. Members with the same history agree. */
  async hashKV(revision = 0): Promise<HashKVResponse> {
    const core = this.core;
    core.checkOpen();
    const r = await core.store.hashKV(revision);
    return { ...r, header: core.header(r.revision) };
  }

  /** Hand leadership to voter `id` (R9.6): ErrNotLeader on a follower, ErrBadLeaderTransferee, ErrTimeoutLeaderTransfer. */
  async moveLeader(id: NodeId, options: CallOptions = {}): Promise<void> {
    const core = this.core;
    core.checkOpen();
    const st = core.raft.status();
    if (st.role !== 'leader') throw strataError('ErrNotLeader', 'moveLeader must be sent to the leader');
    if (!st.voters.includes(id)) throw strataError('ErrBadLeaderTransferee', `${id} is not a voting member`);
    await core.guard(core.raft.transferLeadership(id, options.signal !== undefined ? { signal: options.signal } : {}));
  }

  /** Rewrite this member's store to reclaim space (R9.8); changes no data. */
  async defragment(): Promise<void> {
    this.core.checkOpen();
    await this.core.guard(this.core.kv.defragment());
  }

  /** Stop the member: pending calls reject with ErrStopped; storage and transport are closed. */
  close(): Promise<void> {
    this.closing ??= this.doClose();
    return this.closing;
  }

  private async doClose(): Promise<void> {
    const core = this.core;
    core.markClosed();
    this.expiry.stop();
    this.compactor?.stop();
    this.lease.closeAll();
    await core.raft.stop();
    await core.store.close();
    log.server('member %s closed', core.config.name);
  }
}
