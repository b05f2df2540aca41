/**
 * The replicated command set: what StrataNode proposes through Raft and every
 * member applies, in log order, to its MVCC store and lessor. Commands are
 * plain objects encoded with the shared codec (msgpackr + version byte).
 *
 * Only validated commands are proposed (see validate.ts); applying one may
 * still fail deterministically (a lease revoked between validation and
 * apply, a txn range at a compacted revision), and then every member fails
 * it the same way and changes nothing.
 */
import { decode, encode } from '../codec/index.ts';
import type { LeaseCheckpoint } from '../lease/lessor.ts';
import type {
  BytesInput,
  DeleteOptions,
  DeleteResult,
  PutOptions,
  PutResult,
  TxnRequest,
  TxnResult,
  CompactResult,
} from '../mvcc/types.ts';

/** Alarms a cluster can raise (R9.7). */
export type AlarmType = 'NOSPACE' | 'CORRUPT';

/** One raised alarm: which member raised which alarm. */
export interface Alarm {
  readonly memberId: number;
  readonly alarm: AlarmType;
}

/** Put a key (R3.x). */
export interface PutCommand extends PutOptions {
  readonly op: 'put';
  readonly key: BytesInput;
  readonly value: BytesInput;
}
/** Delete a key or range (R3.5). */
export interface DeleteRangeCommand extends DeleteOptions {
  readonly op: 'deleteRange';
  readonly key: BytesInput;
}
/** A writing transaction (R4.x). */
export interface TxnCommand {
  readonly op: 'txn';
  readonly txn: TxnRequest;
}
/** Compact history up to a revision (R5.1). */
export interface CompactCommand {
  readonly op: 'compact';
  readonly revision: number;
}
/** Grant a lease (R7.1); the proposer fills in a generated id when 0 was asked for. */
export interface LeaseGrantCommand {
  readonly op: 'leaseGrant';
  readonly id: number;
  readonly ttl: number;
}
/** Revoke leases (R7.4, R7.6): each lease's keys are deleted in one revision. */
export interface LeaseRevokeCommand {
  readonly op: 'leaseRevoke';
  readonly ids: readonly number[];
}
/** Renew a lease (R7.3): committed so any member can serve keep-alives. */
export interface LeaseRenewCommand {
  readonly op: 'leaseRenew';
  readonly id: number;
}
/** Record remaining TTLs (R7.8). */
export interface LeaseCheckpointCommand {
  readonly op: 'leaseCheckpoint';
  readonly checkpoints: readonly LeaseCheckpoint[];
}
/** Raise or clear an alarm (R9.7). */
export interface AlarmCommand {
  readonly op: 'alarm';
  readonly action: 'activate' | 'deactivate';
  readonly memberId: number;
  readonly alarm: AlarmType;
}

/** Several commands proposed together, applied in order (proposer.ts). */
export interface BatchCommand {
  readonly op: 'batch';
  readonly cmds: readonly Command[];
}

/** Every replicated command. */
export type Command =
  | PutCommand
  | DeleteRangeCommand
  | TxnCommand
  | CompactCommand
  | LeaseGrantCommand
  | LeaseRevokeCommand
  | LeaseRenewCommand
  | LeaseCheckpointCommand
  | AlarmCommand
  | BatchCommand;

/** Result of a lease grant. */
export interface LeaseGrantResult {
  readonly id: number;
  readonly ttl: number;
  /** Store revision when applied (grants create no revision, R7.1). */
  readonly revision: number;
}
/** Result of a lease revoke: one entry per lease, undefined-free. */
export interface LeaseRevokeResult {
  /** Store revision after the last revoke. */
  readonly revision: number;
  /** Per requested id: the error code when that lease was unknown. */
  readonly errors: ReadonlyArray<string | null>;
}
/** Result of a renewal: the granted TTL, 0 for an unknown or expired lease (R7.3). */
export interface LeaseRenewResult {
  readonly ttl: number;
  readonly revision: number;
}
/** Result of commands that only report the revision. */
export interface RevisionResult {
  readonly revision: number;
}

/** What applying each command yields on success. */
export interface CommandResults {
  put: PutResult;
  deleteRange: DeleteResult;
  txn: TxnResult;
  compact: CompactResult;
  leaseGrant: LeaseGrantResult;
  leaseRevoke: LeaseRevokeResult;
  leaseRenew: LeaseRenewResult;
  leaseCheckpoint: RevisionResult;
  alarm: RevisionResult;
  batch: readonly ApplyOutcome[];
}

/** Outcome of applying one entry: a value, or the (deterministic) error it failed with. */
export type ApplyOutcome =
  | { readonly ok: true; readonly value: CommandResults[keyof CommandResults] }
  | { readonly ok: false; readonly error: Error };

/** Encode a command for the log. */
export function encodeCommand(cmd: Command): Uint8Array {
  return encode(cmd);
}

/** Encode several commands as one batch entry. */
export function encodeBatch(cmds: readonly Command[]): Uint8Array {
  const batch: BatchCommand = { op: 'batch', cmds };
  return encode(batch);
}

/** Decode a command from a log entry's payload. Throws ErrCorrupt / ErrFormatVersion. */
export function decodeCommand(data: Uint8Array): Command {
  return decode<Command>(data);
}
