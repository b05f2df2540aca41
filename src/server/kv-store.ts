/**
 * The member's MVCC store as the server uses it: an `MVCCStore` on the
 * memory backend. Durability comes from the Raft log (LevelStorage): on
 * restart the store is rebuilt from the latest Raft snapshot plus the
 * committed entries after it, so the store itself never needs an fsync.
 */
import { MemoryBackend } from '../mvcc/backend.ts';
import { MVCCStore } from '../mvcc/store.ts';
import type { Clock } from '../util/clock.ts';

/** A member's store plus its backend's size. */
export interface KvStore {
  readonly store: MVCCStore;
  /** Bytes held by the backend (status dbSize, quota). */
  dbSize(): number;
  /** Resolves once background (physical) compaction queued so far is done. */
  waitCompaction(): Promise<void>;
  /** Member-local defragmentation (R9.8): the memory backend has nothing to rewrite. */
  defragment(): Promise<void>;
}

/** Options of {@link openKvStore}. */
export interface KvStoreOptions {
  readonly leaseExists: (id: number) => boolean;
  readonly maxTxnOps: number;
  readonly maxRequestBytes: number;
  readonly clock: Clock;
}

/** Open an empty in-memory store. */
export async function openKvStore(options: KvStoreOptions): Promise<KvStore> {
  const backend = new MemoryBackend();
  const store = new MVCCStore(backend, {
    leaseExists: options.leaseExists,
    maxTxnOps: options.maxTxnOps,
    maxRequestBytes: options.maxRequestBytes,
    clock: options.clock,
  });
  await store.init();
  return {
    store,
    dbSize: () => backend.sizeBytes(),
    // Hashing is queued behind physical compactions on the store's chain.
    waitCompaction: async () => {
      await store.hash();
    },
    defragment: () => Promise.resolve(),
  };
}
