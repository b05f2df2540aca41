/**
 * Strata: an embeddable, replicated key-value engine modelled on etcd.
 * Everything public is exported from here.
 */
export * from './errors.ts';
export { encode, decode, crc32c, FORMAT_VERSION } from './codec/index.ts';
export * from './raft/types.ts';
export type { Storage, PersistedState, SaveRequest } from './storage/storage.ts';
export type { Transport, MessageHandler } from './transport/transport.ts';
export type { StateMachine } from './node/state-machine.ts';
export { SeededRandom } from './util/rng.ts';
export type { Random, RandomState } from './util/rng.ts';
export { RealClock, VirtualClock } from './util/clock.ts';
export type { Clock, TimerHandle } from './util/clock.ts';
