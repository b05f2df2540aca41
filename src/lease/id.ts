/**
 * Lease ids for grants that ask for id 0 (R7.1). As etcd's request-id
 * generator, an id is the member id in the high bits and a counter in the
 * low bits, so two members never hand out the same id; the counter starts
 * from a caller-supplied value (clock time in production, a fixed value in
 * simulation) so a restarted member does not reuse its old ids. Deterministic
 * for a given (memberId, start).
 */

const LOW_BITS = 2 ** 40;
const MEMBER_BITS = 2 ** 13; // 13 + 40 = 53 bits: ids stay safe integers

/** Generates unique positive lease ids. */
export class LeaseIdGenerator {
  private readonly prefix: number;
  private counter: number;

  /**
   * @param memberId this member's id (only its low 13 bits are used)
   * @param start initial counter value (e.g. clock milliseconds)
   */
  constructor(memberId: number, start: number) {
    this.prefix = (Math.abs(Math.trunc(memberId)) % MEMBER_BITS) * LOW_BITS;
    this.counter = Math.abs(Math.trunc(start)) % LOW_BITS;
  }

  /** The next id: positive, a safe integer, never repeated by this generator before 2^40 calls. */
  next(): number {
    for (;;) {
      this.counter = (this.counter + 1) % LOW_BITS;
      const id = this.prefix + this.counter;
      if (id > 0) return id;
    }
  }
}
