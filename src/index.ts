/**
 * Strata: an embeddable, replicated key-value engine modelled on etcd.
 * Everything public is exported from here.
 */
export * from './errors.ts';
export { encode, decode, crc32c, FORMAT_VERSION } from './codec/index.ts';
export { SeededRandom } from './util/rng.ts';
export type { Random, RandomState } from './util/rng.ts';
export { RealClock, VirtualClock } from './util/clock.ts';
export type { Clock, TimerHandle } from './util/clock.ts';
export * from './raft/index.ts';
export * from './storage/index.ts';
export * from './transport/index.ts';
export * from './node/index.ts';
export * from './mvcc/index.ts';
export * from './lease/index.ts';
export * from './server/index.ts';
export * from './check/index.ts';
export * from './sim/index.ts';
export * from './concurrency/index.ts';
