/**
 * The proposal envelope: every entry a {@link RaftNode} proposes carries a
 * small header naming its proposer (member id + a per-start nonce) and a
 * sequence number, so the proposing member recognises its own entry when it
 * is applied — even when a follower forwarded it through the leader — and so
 * an entry duplicated by the network is applied once. The header is stripped
 * before the {@link StateMachine} sees the entry.
 *
 * Layout (21 bytes): `0xA7`, proposer id (float64 LE), nonce (uint32 LE),
 * sequence (float64 LE), then the payload.
 */
import type { NodeId } from '../raft/types.ts';

/** First byte of every enveloped entry. */
export const ENVELOPE_TAG = 0xa7;
/** Header length in bytes. */
export const ENVELOPE_HEADER = 21;

/** Who proposed an entry: a member incarnation and its sequence number. */
export interface ProposalId {
  readonly proposer: NodeId;
  readonly nonce: number;
  readonly seq: number;
}

/** Wrap `payload` with the envelope header. */
export function wrap(proposer: NodeId, nonce: number, seq: number, payload: Uint8Array): Uint8Array {
  const out = new Uint8Array(ENVELOPE_HEADER + payload.length);
  const dv = new DataView(out.buffer);
  out[0] = ENVELOPE_TAG;
  dv.setFloat64(1, proposer, true);
  dv.setUint32(9, nonce >>> 0, true);
  dv.setFloat64(13, seq, true);
  out.set(payload, ENVELOPE_HEADER);
  return out;
}

/** Parse the header, or undefined when `data` is not enveloped. */
export function readId(data: Uint8Array): ProposalId | undefined {
  if (data.length < ENVELOPE_HEADER || data[0] !== ENVELOPE_TAG) return undefined;
  const dv = new DataView(data.buffer, data.byteOffset, ENVELOPE_HEADER);
  return { proposer: dv.getFloat64(1, true), nonce: dv.getUint32(9, true), seq: dv.getFloat64(13, true) };
}

/** True when `data` carries the header of (`proposer`, `nonce`); then {@link seqOf} is meaningful. */
export function isFrom(data: Uint8Array, proposer: NodeId, nonce: number): boolean {
  if (data.length < ENVELOPE_HEADER || data[0] !== ENVELOPE_TAG) return false;
  const dv = new DataView(data.buffer, data.byteOffset, ENVELOPE_HEADER);
  return dv.getFloat64(1, true) === proposer && dv.getUint32(9, true) === nonce >>> 0;
}

/** Sequence number of an enveloped entry (call only when enveloped). */
export function seqOf(data: Uint8Array): number {
  return new DataView(data.buffer, data.byteOffset, ENVELOPE_HEADER).getFloat64(13, true);
}

/** The payload of an enveloped entry (a view, no copy); non-enveloped data is returned as is. */
export function payloadOf(data: Uint8Array): Uint8Array {
  if (data.length < ENVELOPE_HEADER || data[0] !== ENVELOPE_TAG) return data;
  return data.subarray(ENVELOPE_HEADER);
}
