/**
 * Why the leader refused a forwarded proposal, as carried in the context of a
 * `MsgPropReject` (see {@link MessageType.MsgPropReject}): an etcd error code
 * and a message, so the forwarding member rejects its caller with the same
 * typed error a proposal on the leader would get.
 */
import { decode, encode } from '../codec/index.ts';
import { strataError, StrataError, type ErrorCode } from '../errors.ts';

/** Encode `err` for a MsgPropReject context (anything not a StrataError becomes ErrProposalDropped). */
export function encodeRefusal(err: unknown): Uint8Array {
  const e = err instanceof StrataError ? err : strataError('ErrProposalDropped', err instanceof Error ? err.message : String(err));
  // The message without the "Code: " prefix the constructor adds.
  const prefix = `${e.code}: `;
  const message = e.message.startsWith(prefix) ? e.message.slice(prefix.length) : '';
  return encode([e.code, message]);
}

/** The error a MsgPropReject context names; ErrProposalDropped if it cannot be read. */
export function decodeRefusal(context: Uint8Array | undefined): StrataError {
  try {
    if (context !== undefined) {
      const [code, message] = decode<[ErrorCode, string]>(context);
      if (typeof code === 'string' && typeof message === 'string') {
        const err = strataError(code, message.length > 0 ? message : undefined);
        if (err instanceof StrataError) return err;
      }
    }
  } catch {
    // fall through
  }
  return strataError('ErrProposalDropped', 'the leader refused the proposal');
}
