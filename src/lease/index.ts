/** Leases (spec §7): the lessor and its helpers. */
export { Lessor, minLeaseTtl, MAX_LEASE_TTL, DEFAULT_REVOKE_RATE, DEFAULT_EXPIRED_RETRY_MS } from './lessor.ts';
export type { LessorOptions, GrantResult, TimeToLive, LeaseCheckpoint } from './lessor.ts';
export { Lease, FOREVER, keyString, keyBytes } from './lease.ts';
export type { LeaseRecord } from './lease.ts';
export { LeaseIdGenerator } from './id.ts';
