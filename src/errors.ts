/**
 * Typed errors. Every error Strata throws on purpose is a {@link StrataError}
 * whose `code` is etcd's name for the condition where etcd has one
 * (`ErrCompacted`, `ErrFutureRev`, …). Subclasses group codes by the gRPC
 * status etcd would answer with, so callers can branch either on the class
 * (`err instanceof InvalidArgumentError`) or on the exact `code`.
 *
 * A request rejected with a StrataError changed nothing: validation happens
 * before any write.
 */

/** Every error code Strata uses. Names follow etcd's `rpctypes` / `mvcc` errors. */
export type ErrorCode =
  // InvalidArgument
  | 'ErrEmptyKey'
  | 'ErrKeyNotFound'
  | 'ErrValueProvided'
  | 'ErrLeaseProvided'
  | 'ErrDuplicateKey'
  | 'ErrTooManyOps'
  | 'ErrRequestTooLarge'
  | 'ErrInvalidSortOption'
  | 'ErrInvalidArgument'
  // OutOfRange
  | 'ErrCompacted'
  | 'ErrFutureRev'
  | 'ErrLeaseTTLTooLarge'
  // NotFound
  | 'ErrLeaseNotFound'
  | 'ErrMemberNotFound'
  | 'ErrUnknownMember'
  // FailedPrecondition
  | 'ErrLeaseExists'
  | 'ErrMemberExists'
  | 'ErrPeerURLExist'
  | 'ErrNotLeader'
  | 'ErrBadLeaderTransferee'
  | 'ErrMemberNotLearner'
  | 'ErrLearnerNotReady'
  | 'ErrTooManyLearners'
  | 'ErrNotSupportedForLearner'
  | 'ErrNotEnoughStartedMembers'
  | 'ErrConfChangePending'
  | 'ErrProposalDropped'
  | 'ErrTransferInProgress'
  // ResourceExhausted
  | 'ErrNoSpace'
  | 'ErrTooManyRequests'
  // Unavailable
  | 'ErrNoLeader'
  | 'ErrLeaderChanged'
  | 'ErrTimeout'
  | 'ErrTimeoutLeaderTransfer'
  | 'ErrStopped'
  | 'ErrUnhealthy'
  | 'ErrAborted'
  // DataLoss
  | 'ErrCorrupt'
  | 'ErrFormatVersion'
  | 'ErrLocked'
  // Concurrency recipes (spec section 8)
  | 'ErrLockReleased'
  | 'ErrSessionExpired'
  | 'ErrElectionNotLeader'
  | 'ErrElectionNoLeader'
  | 'ErrElectionNotPresent'
  | 'ErrKeyExists'
  | 'ErrTooManyClients';

/** Base class of every error Strata raises deliberately. */
export class StrataError extends Error {
  /** etcd-style error name, stable across releases; branch on this. */
  readonly code: ErrorCode;
  /** Optional structured details (e.g. the record that failed a checksum). */
  readonly details?: Record<string, unknown>;

  constructor(code: ErrorCode, message?: string, details?: Record<string, unknown>) {
    super(message === undefined ? code : `${code}: ${message}`);
    this.name = new.target.name;
    this.code = code;
    if (details !== undefined) this.details = details;
  }
}

/** The request is malformed (gRPC InvalidArgument). */
export class InvalidArgumentError extends StrataError {}
/** A revision or size outside the allowed window (gRPC OutOfRange). */
export class OutOfRangeError extends StrataError {}
/** The named lease or member does not exist (gRPC NotFound). */
export class NotFoundError extends StrataError {}
/** The cluster is not in a state that allows the call (gRPC FailedPrecondition). */
export class FailedPreconditionError extends StrataError {}
/** A quota or rate limit was hit (gRPC ResourceExhausted). */
export class ResourceExhaustedError extends StrataError {}
/** The call could not be served now; it may succeed later (gRPC Unavailable). */
export class UnavailableError extends StrataError {}
/** Stored data failed verification (gRPC DataLoss). */
export class DataLossError extends StrataError {}

const classOf: Record<ErrorCode, new (code: ErrorCode, message?: string, details?: Record<string, unknown>) => StrataError> = {
  ErrEmptyKey: InvalidArgumentError,
  ErrKeyNotFound: InvalidArgumentError,
  ErrValueProvided: InvalidArgumentError,
  ErrLeaseProvided: InvalidArgumentError,
  ErrDuplicateKey: InvalidArgumentError,
  ErrTooManyOps: InvalidArgumentError,
  ErrRequestTooLarge: InvalidArgumentError,
  ErrInvalidSortOption: InvalidArgumentError,
  ErrInvalidArgument: InvalidArgumentError,
  ErrCompacted: OutOfRangeError,
  ErrFutureRev: OutOfRangeError,
  ErrLeaseTTLTooLarge: OutOfRangeError,
  ErrLeaseNotFound: NotFoundError,
  ErrMemberNotFound: NotFoundError,
  ErrUnknownMember: NotFoundError,
  ErrLeaseExists: FailedPreconditionError,
  ErrMemberExists: FailedPreconditionError,
  ErrPeerURLExist: FailedPreconditionError,
  ErrNotLeader: FailedPreconditionError,
  ErrBadLeaderTransferee: FailedPreconditionError,
  ErrMemberNotLearner: FailedPreconditionError,
  ErrLearnerNotReady: FailedPreconditionError,
  ErrTooManyLearners: FailedPreconditionError,
  ErrNotSupportedForLearner: FailedPreconditionError,
  ErrNotEnoughStartedMembers: FailedPreconditionError,
  ErrConfChangePending: FailedPreconditionError,
  ErrProposalDropped: FailedPreconditionError,
  ErrTransferInProgress: FailedPreconditionError,
  ErrNoSpace: ResourceExhaustedError,
  ErrTooManyRequests: ResourceExhaustedError,
  ErrNoLeader: UnavailableError,
  ErrLeaderChanged: UnavailableError,
  ErrTimeout: UnavailableError,
  ErrTimeoutLeaderTransfer: UnavailableError,
  ErrStopped: UnavailableError,
  ErrUnhealthy: UnavailableError,
  ErrAborted: UnavailableError,
  ErrCorrupt: DataLossError,
  ErrFormatVersion: DataLossError,
  ErrLocked: FailedPreconditionError,
  ErrLockReleased: FailedPreconditionError,
  ErrSessionExpired: FailedPreconditionError,
  ErrElectionNotLeader: FailedPreconditionError,
  ErrElectionNoLeader: NotFoundError,
  ErrElectionNotPresent: NotFoundError,
  ErrKeyExists: FailedPreconditionError,
  ErrTooManyClients: ResourceExhaustedError,
};

/**
 * Create the error for `code`, as an instance of the subclass matching its
 * category. This is the one way Strata code constructs errors.
 */
export function strataError(code: ErrorCode, message?: string, details?: Record<string, unknown>): StrataError {
  const Ctor = classOf[code];
  return new Ctor(code, message, details);
}

/** True when `err` is a StrataError, optionally with the given code. */
export function isStrataError(err: unknown, code?: ErrorCode): err is StrataError {
  return err instanceof StrataError && (code === undefined || err.code === code);
}
