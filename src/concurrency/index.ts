/**
 * Client-side coordination recipes (spec section 8, etcd's
 * client/v3/concurrency and experimental/recipes) built only on the public
 * KV, Watch and Lease API: sessions, locks, elections, STM, barriers and
 * queues. They accept a {@link StrataNode} or any {@link KVClient}. See
 * docs/concurrency.md.
 */
export type { KVClient, LeaseClient, KeepAliveHandle } from './client.ts';
export { Session, DEFAULT_SESSION_TTL } from './session.ts';
export type { SessionOptions } from './session.ts';
export { Mutex } from './mutex.ts';
export { RWMutex } from './rwmutex.ts';
export { Election, ElectionObserver } from './election.ts';
export type { LeaderObservation } from './election.ts';
export { runSTM } from './stm.ts';
export type { STM, STMOptions, STMResult, Isolation } from './stm.ts';
export { Barrier } from './barrier.ts';
export { DoubleBarrier } from './double-barrier.ts';
export { Queue, PriorityQueue, MAX_PRIORITY } from './queue.ts';
