/**
 * Durable Raft storage: the {@link Storage} interface and its two
 * implementations, {@link LevelStorage} (classic-level, checksummed, fsync
 * with group commit) and {@link MemoryStorage} (tests and simulation, with a
 * crashable unsynced tail).
 */
export type { PersistedState, SaveRequest, Storage } from './storage.ts';
export { LevelStorage } from './level.ts';
export type { LevelStorageOptions, LevelStorageStats } from './level.ts';
export { MemoryStorage } from './memory.ts';
export type { MemoryStorageOptions, MemoryStorageStats } from './memory.ts';
export { STORAGE_FORMAT_VERSION, DEFAULT_SNAPSHOT_CHUNK_SIZE } from './level-records.ts';
