/**
 * The on-disk record format of `LevelStorage` (format version 2).
 *
 * Keys (binary):
 * - `v`                      format version: payload u32 BE version
 * - `h`                      hard state: fmt u8, term u64, vote u64, commit u64
 * - `m`                      snapshot metadata: codec-encoded {@link SnapshotMeta}
 * - `s` + u32 BE chunk no.   snapshot data, in pieces of at most the chunk size
 *                            (format version 1 only: version 2 keeps the data in
 *                            a file under `snap/`, see `level-snapfile.ts`)
 * - `e` + u64 BE index       log entry: fmt u8, term u64, type u8, data
 *
 * Version 1 directories are read as they are (a metadata record without a
 * file name means chunk records); the first snapshot saved by this build
 * deletes the chunks and raises the version record to 2 in the same batch,
 * so an older build then refuses the directory with `ErrFormatVersion`
 * instead of misreading it.
 *
 * Every value is `crc32c(key ‖ payload)` (u32 BE) followed by the payload, so
 * a damaged value, and a value found under the wrong key, fail verification.
 * u64 fields are written as two u32 BE halves and hold safe integers.
 */
import { crc32c, decode, encode } from '../codec/index.ts';
import { strataError } from '../errors.ts';
import { isSnapFileName } from './level-snapfile.ts';
import type { ConfState, Entry, EntryType, HardState } from '../raft/types.ts';

/**
 * Version of the record layout written by this build. Version 1 (snapshot
 * data in chunk records) is still read; any other version is refused.
 */
export const STORAGE_FORMAT_VERSION = 2;
/** The oldest format version this build reads. */
export const OLDEST_FORMAT_VERSION = 1;
/**
 * Default piece size for snapshot data (1 MiB): the size of one write (and
 * one checksum step) of a snapshot file; in format version 1 directories,
 * the size of one chunk record.
 */
export const DEFAULT_SNAPSHOT_CHUNK_SIZE = 1 << 20;

const FMT = 1;
const CRC_BYTES = 4;
const ENTRY_HEADER = CRC_BYTES + 1 + 8 + 1;
const TWO_32 = 2 ** 32;

/** Key of the format-version record. */
export const VERSION_KEY = Buffer.from('v');
/** Key of the hard-state record. */
export const HARD_STATE_KEY = Buffer.from('h');
/** Key of the snapshot-metadata record. */
export const SNAPSHOT_META_KEY = Buffer.from('m');
/** First byte of entry keys. */
export const ENTRY_PREFIX = 0x65; // 'e'
/** First byte of snapshot chunk keys. */
export const CHUNK_PREFIX = 0x73; // 's'

/** Snapshot metadata as stored: where the data lives and how to check it. */
export interface SnapshotMeta {
  readonly index: number;
  readonly term: number;
  readonly confState: ConfState;
  /** Data length in bytes. */
  readonly size: number;
  /** Number of chunk records (each checksummed with its key); 0 when the data is in a file. */
  readonly chunks: number;
  /** Format version 2: name of the snapshot file under `snap/` holding the data. */
  readonly file?: string;
  /** With `file`: CRC-32C of the file's contents. */
  readonly crc?: number;
}

function writeU64(buf: Buffer, off: number, n: number): void {
  buf.writeUInt32BE(Math.floor(n / TWO_32), off);
  buf.writeUInt32BE(n >>> 0, off + 4);
}

function readU32(b: Uint8Array, off: number): number {
  return (b[off] as number) * 0x1000000 + (((b[off + 1] as number) << 16) | ((b[off + 2] as number) << 8) | (b[off + 3] as number));
}

function readU64(b: Uint8Array, off: number): number {
  return readU32(b, off) * TWO_32 + readU32(b, off + 4);
}

/** Key of the entry at `index`. */
export function entryKey(index: number): Buffer {
  const k = Buffer.allocUnsafe(9);
  k[0] = ENTRY_PREFIX;
  writeU64(k, 1, index);
  return k;
}

/** Key of snapshot chunk `n`. */
export function chunkKey(n: number): Buffer {
  const k = Buffer.allocUnsafe(5);
  k[0] = CHUNK_PREFIX;
  k.writeUInt32BE(n, 1);
  return k;
}

/** Index encoded in an entry key, or undefined if `key` is not a well-formed entry key. */
export function entryIndexOf(key: Uint8Array): number | undefined {
  return key.length === 9 && key[0] === ENTRY_PREFIX ? readU64(key, 1) : undefined;
}

/** A human name for the record under `key`, used in `ErrCorrupt` messages. */
export function describeKey(key: Uint8Array): string {
  if (key.length === 1) {
    if (key[0] === 0x76) return 'format version (v)';
    if (key[0] === 0x68) return 'hard state (h)';
    if (key[0] === 0x6d) return 'snapshot metadata (m)';
  }
  if (key.length === 9 && key[0] === ENTRY_PREFIX) return `entry ${readU64(key, 1)} (e/${readU64(key, 1)})`;
  if (key.length === 5 && key[0] === CHUNK_PREFIX) return `snapshot chunk ${readU32(key, 1)} (s/${readU32(key, 1)})`;
  return `record ${Buffer.from(key).toString('hex')}`;
}

/** The `ErrCorrupt` error for the record under `key`. */
export function corrupt(key: Uint8Array, why: string): Error {
  const name = describeKey(key);
  return strataError('ErrCorrupt', `${name}: ${why}`, { record: name, key: Buffer.from(key).toString('hex') });
}

function crcOf(key: Uint8Array, payload: Uint8Array): number {
  return crc32c(payload, crc32c(key));
}

/** Value for `key`: checksum then payload (one copy of the payload). */
export function seal(key: Uint8Array, payload: Uint8Array): Buffer {
  const v = Buffer.allocUnsafe(CRC_BYTES + payload.length);
  v.writeUInt32BE(crcOf(key, payload), 0);
  v.set(payload, CRC_BYTES);
  return v;
}

/** Payload of a stored value after checking its checksum; throws `ErrCorrupt` naming the record. */
export function unseal(key: Uint8Array, value: Uint8Array): Uint8Array {
  if (value.length < CRC_BYTES) throw corrupt(key, `value too short (${value.length} bytes)`);
  const payload = value.subarray(CRC_BYTES);
  const want = readU32(value, 0);
  if (crcOf(key, payload) !== want) throw corrupt(key, 'checksum mismatch');
  return payload;
}

/** The format-version record value. */
export function versionValue(version = STORAGE_FORMAT_VERSION): Buffer {
  const p = Buffer.allocUnsafe(4);
  p.writeUInt32BE(version, 0);
  return seal(VERSION_KEY, p);
}

/** Read a format-version value; throws `ErrCorrupt` if damaged. */
export function readVersion(value: Uint8Array): number {
  const p = unseal(VERSION_KEY, value);
  if (p.length !== 4) throw corrupt(VERSION_KEY, `bad length ${p.length}`);
  return readU32(p, 0);
}

/** Hard-state record value. */
export function hardStateValue(hs: HardState): Buffer {
  const v = Buffer.allocUnsafe(CRC_BYTES + 25);
  v[4] = FMT;
  writeU64(v, 5, hs.term);
  writeU64(v, 13, hs.vote);
  writeU64(v, 21, hs.commit);
  v.writeUInt32BE(crcOf(HARD_STATE_KEY, v.subarray(CRC_BYTES)), 0);
  return v;
}

/** Decode a hard-state value; throws `ErrCorrupt` / `ErrFormatVersion`. */
export function readHardState(value: Uint8Array): HardState {
  const p = unseal(HARD_STATE_KEY, value);
  if (p[0] !== FMT) throw strataError('ErrFormatVersion', `hard state (h): unknown record format ${p[0]}`);
  if (p.length !== 25) throw corrupt(HARD_STATE_KEY, `bad length ${p.length}`);
  return { term: readU64(p, 1), vote: readU64(p, 9), commit: readU64(p, 17) };
}

/**
 * Encode `entries` (consecutive) into keys and values, checksummed, with one
 * allocation for all keys and one for all values.
 */
export function encodeEntries(entries: readonly Entry[]): { keys: Buffer[]; values: Buffer[] } {
  const n = entries.length;
  let total = 0;
  for (let i = 0; i < n; i++) total += ENTRY_HEADER + (entries[i] as Entry).data.length;
  const kbuf = Buffer.allocUnsafe(9 * n);
  const vbuf = Buffer.allocUnsafe(total);
  const keys = new Array<Buffer>(n);
  const values = new Array<Buffer>(n);
  let off = 0;
  for (let i = 0; i < n; i++) {
    const e = entries[i] as Entry;
    const k = kbuf.subarray(9 * i, 9 * i + 9);
    k[0] = ENTRY_PREFIX;
    writeU64(k, 1, e.index);
    const len = ENTRY_HEADER + e.data.length;
    const v = vbuf.subarray(off, off + len);
    v[4] = FMT;
    writeU64(v, 5, e.term);
    v[13] = e.type;
    v.set(e.data, ENTRY_HEADER);
    v.writeUInt32BE(crcOf(k, v.subarray(CRC_BYTES)), 0);
    keys[i] = k;
    values[i] = v;
    off += len;
  }
  return { keys, values };
}

/** Decode the entry stored under `key` (index from the key); throws `ErrCorrupt` / `ErrFormatVersion`. */
export function readEntry(key: Uint8Array, value: Uint8Array, index: number): Entry {
  const p = unseal(key, value);
  if (p.length < ENTRY_HEADER - CRC_BYTES) throw corrupt(key, `value too short (${value.length} bytes)`);
  if (p[0] !== FMT) throw strataError('ErrFormatVersion', `${describeKey(key)}: unknown record format ${p[0]}`);
  const type = p[9] as EntryType;
  if (type !== 0 && type !== 1) throw corrupt(key, `unknown entry type ${type}`);
  // A plain Uint8Array view (not a Buffer) over the record: no copy.
  const data = new Uint8Array(p.buffer, p.byteOffset + 10, p.length - 10);
  return { term: readU64(p, 1), index, type, data };
}

/** Snapshot-metadata record value. */
export function snapshotMetaValue(meta: SnapshotMeta): Buffer {
  return seal(SNAPSHOT_META_KEY, encode(meta));
}

/** Decode a snapshot-metadata value; throws `ErrCorrupt` / `ErrFormatVersion`. */
export function readSnapshotMeta(value: Uint8Array): SnapshotMeta {
  const p = unseal(SNAPSHOT_META_KEY, value);
  let m: SnapshotMeta;
  try {
    m = decode<SnapshotMeta>(p);
  } catch (err) {
    if (err instanceof Error && 'code' in err && err.code === 'ErrFormatVersion') throw err;
    throw corrupt(SNAPSHOT_META_KEY, 'undecodable');
  }
  const ok =
    typeof m === 'object' && m !== null &&
    Number.isSafeInteger(m.index) && Number.isSafeInteger(m.term) && Number.isSafeInteger(m.size) &&
    Number.isSafeInteger(m.chunks) && typeof m.confState === 'object' && m.confState !== null;
  if (!ok) throw corrupt(SNAPSHOT_META_KEY, 'malformed metadata');
  if (m.file !== undefined) {
    const fileOk = typeof m.file === 'string' && isSnapFileName(m.file) && m.chunks === 0 &&
      Number.isInteger(m.crc) && (m.crc as number) >= 0 && (m.crc as number) < TWO_32;
    if (!fileOk) throw corrupt(SNAPSHOT_META_KEY, 'malformed snapshot file reference');
  }
  return m;
}
