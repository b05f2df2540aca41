/**
 * Reading and verifying a `LevelStorage` directory.
 *
 * Every record's checksum is verified. What may be repaired, and what is
 * refused with `ErrCorrupt` naming the record:
 *
 * - The format-version record, hard state, snapshot metadata, the snapshot
 *   file it references (size and CRC-32C from the metadata) or, in a format
 *   version 1 directory, the snapshot chunks: damage of any kind (or a
 *   missing file or chunk) ⇒ `ErrCorrupt`.
 * - Log entries: a *torn tail* is the trailing run of entries that fail
 *   verification, after the last good entry, **all with index above the
 *   commit index of the stored hard state**. Such entries cannot have been
 *   acknowledged as committed; they are what a crash in the middle of the
 *   last (unacknowledged) write leaves. The torn tail is reported so the
 *   opener deletes it. A bad entry followed by a good one, a bad entry at or
 *   below the commit index, or a missing index in the middle ⇒ `ErrCorrupt`.
 */
import type { ClassicLevel } from 'classic-level';
import type { Entry, HardState, Snapshot } from '../raft/types.ts';
import { EMPTY_HARD_STATE } from '../raft/types.ts';
import { isStrataError, strataError } from '../errors.ts';
import {
  ENTRY_PREFIX, HARD_STATE_KEY, OLDEST_FORMAT_VERSION, SNAPSHOT_META_KEY, STORAGE_FORMAT_VERSION, VERSION_KEY,
  chunkKey, corrupt, entryIndexOf, entryKey, readEntry, readHardState, readSnapshotMeta, readVersion, unseal,
} from './level-records.ts';
import type { SnapshotMeta } from './level-records.ts';
import { readSnapFile } from './level-snapfile.ts';
import type { PersistedState } from './storage.ts';

/** The database type LevelStorage uses: binary keys and values. */
export type Db = ClassicLevel<Buffer, Buffer>;

/** The verified contents of a directory. */
export interface LoadedState {
  /** True when the directory held no records at all (a new store). */
  readonly fresh: boolean;
  readonly state: PersistedState;
  /** Format version of the directory (the current one for a fresh store). */
  readonly version: number;
  /** Number of snapshot chunk records stored (format version 1 layout). */
  readonly snapshotChunks: number;
  /** Snapshot file the metadata references (format version 2 layout). */
  readonly snapshotFile: string | undefined;
  /** Keys of the torn tail (entries to delete); empty when clean. */
  readonly tornTail: readonly Buffer[];
}

const BATCH = 1024;

/**
 * Read and verify everything; snapshot files are read from `snapDir`. With
 * `allowTornTail` false a torn tail is reported as `ErrCorrupt` too (used
 * after open, when every stored entry was acknowledged).
 */
export async function loadState(db: Db, snapDir: string, allowTornTail: boolean): Promise<LoadedState> {
  const version = await db.get(VERSION_KEY);
  if (version === undefined) {
    if (await isEmpty(db)) {
      return {
        fresh: true, state: { hardState: EMPTY_HARD_STATE, entries: [] }, version: STORAGE_FORMAT_VERSION,
        snapshotChunks: 0, snapshotFile: undefined, tornTail: [],
      };
    }
    throw strataError('ErrFormatVersion', 'no format-version record: not a Strata storage directory (or written by an unknown version)');
  }
  const v = readVersion(version);
  if (v < OLDEST_FORMAT_VERSION || v > STORAGE_FORMAT_VERSION) {
    throw strataError('ErrFormatVersion', `storage format version ${v} is not supported (this build reads versions ${OLDEST_FORMAT_VERSION} to ${STORAGE_FORMAT_VERSION})`, { version: v });
  }

  const hsValue = await db.get(HARD_STATE_KEY);
  const hardState: HardState = hsValue === undefined ? EMPTY_HARD_STATE : readHardState(hsValue);

  const snap = await loadSnapshot(db, snapDir, v);
  const snapshotIndex = snap === undefined ? 0 : snap.snapshot.metadata.index;
  const { entries, tornTail } = await loadEntries(db, snapshotIndex, hardState.commit, allowTornTail);

  const state: { hardState: HardState; entries: readonly Entry[]; snapshot?: Snapshot } = { hardState, entries };
  if (snap !== undefined) state.snapshot = snap.snapshot;
  return { fresh: false, state, version: v, snapshotChunks: snap?.meta.chunks ?? 0, snapshotFile: snap?.meta.file, tornTail };
}

async function isEmpty(db: Db): Promise<boolean> {
  const keys = await db.keys({ limit: 1 }).all();
  return keys.length === 0;
}

async function loadSnapshot(db: Db, snapDir: string, version: number): Promise<{ snapshot: Snapshot; meta: SnapshotMeta } | undefined> {
  const metaValue = await db.get(SNAPSHOT_META_KEY);
  if (metaValue === undefined) return undefined;
  const meta = readSnapshotMeta(metaValue);
  const metadata = { index: meta.index, term: meta.term, confState: meta.confState };
  if (meta.file !== undefined) {
    if (version < 2) throw corrupt(SNAPSHOT_META_KEY, `references a snapshot file in a format version ${version} directory`);
    return { snapshot: { metadata, data: await readSnapFile(snapDir, meta.file, meta.size, meta.crc as number) }, meta };
  }
  const keys: Buffer[] = [];
  for (let i = 0; i < meta.chunks; i++) keys.push(chunkKey(i));
  const data = new Uint8Array(meta.size);
  let off = 0;
  // Read the chunks in bounded groups so a large snapshot is not all in flight twice.
  for (let g = 0; g < keys.length; g += 16) {
    const group = keys.slice(g, g + 16);
    const values = await db.getMany(group);
    for (let i = 0; i < group.length; i++) {
      const key = group[i] as Buffer;
      const value = values[i];
      if (value === undefined) throw corrupt(key, `missing (snapshot at ${meta.index} has ${meta.chunks} chunks)`);
      const payload = unseal(key, value);
      if (off + payload.length > meta.size) throw corrupt(key, `chunks exceed the snapshot size ${meta.size}`);
      data.set(payload, off);
      off += payload.length;
    }
  }
  if (off !== meta.size) throw corrupt(SNAPSHOT_META_KEY, `snapshot data is ${off} bytes, metadata says ${meta.size}`);
  return { snapshot: { metadata, data }, meta };
}

interface Slot {
  readonly key: Buffer;
  readonly index: number;
  readonly entry?: Entry;
  readonly error?: Error;
}

async function loadEntries(
  db: Db, snapshotIndex: number, commit: number, allowTornTail: boolean,
): Promise<{ entries: Entry[]; tornTail: Buffer[] }> {
  const slots: Slot[] = [];
  const it = db.iterator({ gte: entryKey(snapshotIndex + 1), lt: Buffer.from([ENTRY_PREFIX + 1]) });
  try {
    let expect = snapshotIndex + 1;
    for (;;) {
      const batch = await it.nextv(BATCH);
      if (batch.length === 0) break;
      for (const [key, value] of batch) {
        const index = entryIndexOf(key);
        if (index === undefined) throw corrupt(key, 'malformed entry key');
        if (index !== expect) throw corrupt(entryKey(expect), `missing (next stored entry is ${index})`);
        expect++;
        try {
          slots.push({ key, index, entry: readEntry(key, value, index) });
        } catch (err) {
          if (!isStrataError(err, 'ErrCorrupt')) throw err;
          slots.push({ key, index, error: err });
        }
      }
    }
  } finally {
    await it.close();
  }

  let lastGood = slots.length - 1;
  while (lastGood >= 0 && (slots[lastGood] as Slot).error !== undefined) lastGood--;
  const entries: Entry[] = new Array<Entry>(lastGood + 1);
  for (let i = 0; i <= lastGood; i++) {
    const s = slots[i] as Slot;
    if (s.error !== undefined) throw s.error; // damage before the tail
    entries[i] = s.entry as Entry;
  }
  const tornTail: Buffer[] = [];
  for (let i = lastGood + 1; i < slots.length; i++) {
    const s = slots[i] as Slot;
    if (!allowTornTail) throw s.error as Error;
    if (s.index <= commit) {
      throw corrupt(s.key, `damaged at or below the commit index ${commit}: ${(s.error as Error).message}`);
    }
    tornTail.push(s.key);
  }
  return { entries, tornTail };
}
