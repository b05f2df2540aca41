/**
 * The simulator's default replicated application: a running digest of every
 * applied payload. Two members with the same digest applied the same
 * payloads in the same order, so comparing digests compares whole states.
 */
import { decode, encode } from '../codec/index.ts';
import type { Entry } from '../raft/types.ts';
import type { StateMachine } from '../node/state-machine.ts';

/** A state machine whose state is (count, 64-bit digest of all payloads in order). */
export class DigestStateMachine implements StateMachine<number> {
  /** Entries applied so far. */
  count = 0;
  private h1 = 0x811c9dc5;
  private h2 = 0x1b873593;

  /** Fold each payload into the digest; the result is the running count. */
  apply(entries: readonly Entry[]): number[] {
    const out: number[] = new Array<number>(entries.length);
    for (let i = 0; i < entries.length; i++) {
      const d = (entries[i] as Entry).data;
      let h1 = this.h1;
      let h2 = this.h2;
      for (let j = 0; j < d.length; j++) {
        const x = d[j] as number;
        h1 = Math.imul(h1 ^ x, 0x01000193);
        h2 = Math.imul(h2 ^ x, 0x5bd1e995) ^ (h2 >>> 15);
      }
      this.h1 = Math.imul(h1 ^ d.length, 0x01000193);
      this.h2 = Math.imul(h2 ^ d.length, 0x5bd1e995);
      out[i] = ++this.count;
    }
    return out;
  }

  snapshot(): Uint8Array {
    return encode([this.count, this.h1, this.h2]);
  }

  restore(data: Uint8Array): void {
    const [count, h1, h2] = decode<[number, number, number]>(data);
    this.count = count;
    this.h1 = h1;
    this.h2 = h2;
  }

  /** The state as a short string. */
  digest(): string {
    return `${this.count}:${(this.h1 >>> 0).toString(16)}${(this.h2 >>> 0).toString(16)}`;
  }
}
