/**
 * StrataNode's replicated state machine: committed commands applied, in log
 * order, to the member's MVCC store and lessor. Deterministic: the same
 * entries give the same KV history and lease state on every member (only
 * lease expiry times, which are member-local, depend on the clock).
 *
 * A whole batch of committed entries is applied in one call without waiting
 * on I/O between entries (the memory backend settles writes at once), so a
 * busy cluster applies hundreds of proposals per Ready.
 */
import { decode } from '../codec/index.ts';
import { frame, isFrame, unframe } from '../codec/frame.ts';
import { isStrataError, strataError } from '../errors.ts';
import type { Lessor } from '../lease/lessor.ts';
import type { LeaseRecord } from '../lease/lease.ts';
import type { StateMachine } from '../node/state-machine.ts';
import type { Entry } from '../raft/types.ts';
import type { KVOutcome, KVRequest } from '../mvcc/apply.ts';
import type { MVCCStore } from '../mvcc/store.ts';
import type { RangeResult } from '../mvcc/types.ts';
import type { Clock } from '../util/clock.ts';
import { log } from '../util/log.ts';
import type { Alarm, ApplyOutcome, Command, CommandResults } from './commands.ts';
import { decodeCommand } from './commands.ts';
import type { KvStore } from './kv-store.ts';

/** Snapshot document of the applied state. */
interface StateSnapshot {
  readonly mvcc: Uint8Array;
  readonly leases: readonly LeaseRecord[];
  readonly alarms: readonly Alarm[];
}

/** Options of {@link StrataStateMachine}. */
export interface StrataStateMachineOptions {
  readonly kv: KvStore;
  readonly lessor: Lessor;
  readonly clock: Clock;
  /** How far a primary extends leases restored from a snapshot (election timeout, R7.7). */
  readonly electionTimeoutMs: number;
}

function hasPut(ops: readonly unknown[] | undefined): boolean {
  for (const op of ops ?? []) {
    if (typeof op !== 'object' || op === null) continue;
    if ('put' in op) return true;
    if ('txn' in op) {
      const t = (op as { txn: { success?: unknown[]; failure?: unknown[] } }).txn;
      if (hasPut(t.success) || hasPut(t.failure)) return true;
    }
  }
  return false;
}

const NO_SPACE: ApplyOutcome = { ok: false, error: strataError('ErrNoSpace', 'database space exceeded') };

/** KV writes waiting to be applied together with `MVCCStore.applyBatch`. */
class Segment {
  private reqs: KVRequest[] = [];
  private targets: ApplyOutcome[][] = [];
  private slots: number[] = [];
  private indexes: number[] = [];

  add(req: KVRequest, target: ApplyOutcome[], slot: number, index: number): void {
    this.reqs.push(req);
    this.targets.push(target);
    this.slots.push(slot);
    this.indexes.push(index);
  }

  /** Apply what is queued as one backend batch and write each outcome to its slot. */
  async flush(store: MVCCStore): Promise<void> {
    const reqs = this.reqs;
    if (reqs.length === 0) return;
    const targets = this.targets;
    const slots = this.slots;
    const indexes = this.indexes;
    this.reqs = [];
    this.targets = [];
    this.slots = [];
    this.indexes = [];
    const outcomes = await store.applyBatch(reqs);
    for (let k = 0; k < reqs.length; k++) {
      const o = outcomes[k] as KVOutcome;
      const t = targets[k] as ApplyOutcome[];
      const slot = slots[k] as number;
      if (!o.ok) {
        if (!isStrataError(o.error)) log.server('entry %d: write failed: %O', indexes[k], o.error);
        t[slot] = o;
        continue;
      }
      const v = o.value;
      t[slot] = {
        ok: true,
        value: 'put' in v ? v.put : 'deleteRange' in v ? v.deleteRange : 'txn' in v ? v.txn : 'compact' in v ? v.compact : (v as { range: RangeResult }).range,
      };
    }
  }
}

/** The StateMachine a StrataNode's RaftNode applies to. */
export class StrataStateMachine implements StateMachine<ApplyOutcome> {
  private readonly kv: KvStore;
  private readonly lessor: Lessor;
  private readonly clock: Clock;
  private readonly electionTimeoutMs: number;
  private readonly alarmSet = new Map<string, Alarm>();
  /** Counters: apply calls and entries applied (batching shows as entries/batches). */
  readonly stats = { batches: 0, entries: 0 };
  /** Called after each applied batch (watch/lease bookkeeping in the node). */
  onApplied: ((count: number) => void) | undefined;

  constructor(options: StrataStateMachineOptions) {
    this.kv = options.kv;
    this.lessor = options.lessor;
    this.clock = options.clock;
    this.electionTimeoutMs = options.electionTimeoutMs;
  }

  /** Active alarms, ordered by member then type (R9.7). */
  alarms(): Alarm[] {
    return [...this.alarmSet.values()].sort((a, b) => a.memberId - b.memberId || (a.alarm < b.alarm ? -1 : a.alarm > b.alarm ? 1 : 0));
  }

  /** True while a NOSPACE alarm is raised anywhere in the cluster. */
  noSpace = false;

  private alarmsChanged(): void {
    let any = false;
    for (const a of this.alarmSet.values()) if (a.alarm === 'NOSPACE') any = true;
    this.noSpace = any;
  }

  async apply(entries: readonly Entry[]): Promise<ApplyOutcome[]> {
    const out: ApplyOutcome[] = new Array<ApplyOutcome>(entries.length);
    this.stats.batches++;
    this.stats.entries += entries.length;
    const seg = new Segment();
    for (let i = 0; i < entries.length; i++) {
      const e = entries[i] as Entry;
      let cmd: Command;
      try {
        cmd = decodeCommand(e.data);
      } catch (err) {
        // Not ours (or damaged): skipped identically on every member.
        log.server('entry %d: undecodable command: %O', e.index, err);
        out[i] = { ok: false, error: err as Error };
        continue;
      }
      if (cmd.op === 'batch') {
        const cmds = cmd.cmds;
        const outcomes: ApplyOutcome[] = new Array<ApplyOutcome>(cmds.length);
        out[i] = { ok: true, value: outcomes };
        for (let j = 0; j < cmds.length; j++) {
          const inner = cmds[j] as Command;
          if (inner.op === 'batch') outcomes[j] = { ok: false, error: strataError('ErrInvalidArgument', 'nested batch') };
          else {
            const wait = this.applyInto(inner, e.index, outcomes, j, seg);
            if (wait !== undefined) await wait;
          }
        }
        continue;
      }
      const wait = this.applyInto(cmd, e.index, out, i, seg);
      if (wait !== undefined) await wait;
    }
    await seg.flush(this.kv.store);
    this.onApplied?.(entries.length);
    return out;
  }

  /**
   * Apply `cmd`, its outcome going to `target[slot]`. KV writes join the
   * segment (one MVCC backend batch for all of them); any other command first
   * flushes the segment, so commands take effect strictly in log order.
   */
  private applyInto(cmd: Command, index: number, target: ApplyOutcome[], slot: number, seg: Segment): Promise<void> | undefined {
    switch (cmd.op) {
      case 'put':
        if (this.noSpace) target[slot] = NO_SPACE;
        else seg.add({ put: cmd }, target, slot, index);
        break;
      case 'deleteRange':
        seg.add({ deleteRange: cmd }, target, slot, index);
        break;
      case 'txn':
        if (this.noSpace && (hasPut(cmd.txn.success) || hasPut(cmd.txn.failure))) target[slot] = NO_SPACE;
        else seg.add({ txn: cmd.txn }, target, slot, index);
        break;
      case 'compact':
        seg.add({ compact: { revision: cmd.revision } }, target, slot, index);
        break;
      default:
        return this.applyInOrder(cmd, index, target, slot, seg);
    }
    return undefined;
  }

  private async applyInOrder(cmd: Command, index: number, target: ApplyOutcome[], slot: number, seg: Segment): Promise<void> {
    await seg.flush(this.kv.store);
    target[slot] = await this.applySafe(cmd, index);
  }

  private async applySafe(cmd: Command, index: number): Promise<ApplyOutcome> {
    try {
      return { ok: true, value: await this.applyOne(cmd) };
    } catch (err) {
      if (!isStrataError(err)) log.server('entry %d: %s failed: %O', index, cmd.op, err);
      return { ok: false, error: err as Error };
    }
  }

  private async applyOne(cmd: Command): Promise<CommandResults[keyof CommandResults]> {
    const store = this.kv.store;
    switch (cmd.op) {
      case 'put': {
        if (this.noSpace) throw strataError('ErrNoSpace', 'database space exceeded');
        const { op: _op, key, value, ...opts } = cmd;
        return await store.put(key, value, opts);
      }
      case 'deleteRange': {
        const { op: _op, key, ...opts } = cmd;
        return await store.deleteRange(key, opts);
      }
      case 'txn':
        if (this.noSpace && (hasPut(cmd.txn.success) || hasPut(cmd.txn.failure))) {
          throw strataError('ErrNoSpace', 'database space exceeded');
        }
        return await store.txn(cmd.txn);
      case 'compact':
        return await store.compact(cmd.revision);
      case 'leaseGrant': {
        if (this.noSpace) throw strataError('ErrNoSpace', 'database space exceeded');
        const g = this.lessor.grant(cmd.id, cmd.ttl, this.clock.now());
        return { id: g.id, ttl: g.ttl, revision: store.currentRevision };
      }
      case 'leaseRevoke': {
        const errors: Array<string | null> = [];
        for (const id of cmd.ids) {
          if (!this.lessor.has(id)) {
            errors.push('ErrLeaseNotFound');
            continue;
          }
          this.lessor.revoke(id);
          errors.push(null);
          // All of the lease's keys go in one revision (R7.4).
          await store.revokeLease(id);
        }
        if (cmd.ids.length === 1 && errors[0] !== null) throw strataError('ErrLeaseNotFound', `lease ${cmd.ids[0]} not found`);
        return { revision: store.currentRevision, errors };
      }
      case 'leaseRenew':
        return { ttl: this.lessor.renewApplied(cmd.id, this.clock.now()), revision: store.currentRevision };
      case 'leaseCheckpoint':
        for (const c of cmd.checkpoints) this.lessor.checkpoint(c.id, c.remainingTtl);
        return { revision: store.currentRevision };
      case 'alarm': {
        const key = `${cmd.memberId}:${cmd.alarm}`;
        if (cmd.action === 'activate') this.alarmSet.set(key, { memberId: cmd.memberId, alarm: cmd.alarm });
        else this.alarmSet.delete(key);
        this.alarmsChanged();
        return { revision: store.currentRevision };
      }
      case 'batch':
        throw strataError('ErrInvalidArgument', 'nested batch');
      default:
        throw strataError('ErrInvalidArgument', `unknown command ${(cmd as { op: unknown }).op as string}`);
    }
  }

  /**
   * The whole applied state. Everything is captured synchronously (the MVCC
   * store fixes its view when `snapshot()` is called), so entries applied
   * while the bytes are being produced do not leak in — RaftNode takes
   * snapshots in the background.
   */
  async snapshot(): Promise<Uint8Array> {
    const leases = this.lessor.snapshot();
    const alarms = this.alarms();
    const mvcc = this.kv.store.snapshot();
    // The MVCC bytes (the bulk) framed with the rest: no copy of them.
    return frame(await mvcc, { leases, alarms });
  }

  async restore(data: Uint8Array): Promise<void> {
    let doc: StateSnapshot;
    if (isFrame(data)) {
      const { header, body } = unframe<Omit<StateSnapshot, 'mvcc'>>(data);
      doc = { mvcc: body, leases: header.leases, alarms: header.alarms };
    } else {
      doc = decode<StateSnapshot>(data); // written before framing
    }
    // The store rebuilds its key→lease attachments from the records.
    await this.kv.store.restore(doc.mvcc);
    this.lessor.restore(doc.leases, this.clock.now(), this.electionTimeoutMs);
    this.alarmSet.clear();
    for (const a of doc.alarms) this.alarmSet.set(`${a.memberId}:${a.alarm}`, a);
    this.alarmsChanged();
    log.server('restored snapshot: rev %d, %d leases', this.kv.store.currentRevision, doc.leases.length);
  }
}
