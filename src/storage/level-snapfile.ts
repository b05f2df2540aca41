/**
 * Snapshot data files of `LevelStorage` (format version 2).
 *
 * The snapshot's data lives in one file under `<dataDir>/snap/`; its
 * metadata record in LevelDB (`m`) names the file and holds its size and
 * CRC-32C, so the file is only ever reached through a sealed record. A file
 * is written as `<name>.tmp`, fsynced, renamed to `<name>` and the directory
 * fsynced (when syncing is on) before its metadata record is written: a
 * crash at any point leaves the old metadata pointing at the old, intact
 * file. Files that no metadata record references (a `.tmp` from a crash in
 * the middle of writing, a complete file whose metadata was never committed,
 * a superseded file whose deletion a crash interrupted) are removed on open.
 *
 * Names are `<generation>-<term>-<index>.snap`, each 16 hex digits. The
 * generation grows with every snapshot saved, so a new file never replaces
 * the file the committed metadata references, even for a snapshot with the
 * same index and term.
 */
import { mkdir, open, readdir, rename, stat, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { crc32c } from '../codec/index.ts';
import { strataError } from '../errors.ts';

/** Subdirectory of the storage directory holding snapshot files. */
export const SNAP_DIR = 'snap';

const NAME = /^([0-9a-f]{16})-[0-9a-f]{16}-[0-9a-f]{16}\.snap$/;
const TMP_SUFFIX = '.tmp';

/** `name` without the temporary-file suffix. */
function withoutTmp(name: string): string {
  return name.endsWith(TMP_SUFFIX) ? name.slice(0, -TMP_SUFFIX.length) : name;
}

function hex16(n: number): string {
  return n.toString(16).padStart(16, '0');
}

/** File name of the snapshot of generation `gen` at `index`/`term`. */
export function snapFileName(gen: number, term: number, index: number): string {
  return `${hex16(gen)}-${hex16(term)}-${hex16(index)}.snap`;
}

/** True for a well-formed snapshot file name (no path separators, no temp suffix). */
export function isSnapFileName(name: string): boolean {
  return NAME.test(name);
}

/** Generation encoded in a snapshot file name (0 if malformed). */
export function generationOf(name: string): number {
  const m = NAME.exec(name);
  return m === null ? 0 : parseInt(m[1] as string, 16);
}

/** The `ErrCorrupt` error for snapshot file `name`. */
export function corruptFile(name: string, why: string): Error {
  const record = `snapshot file ${SNAP_DIR}/${name}`;
  return strataError('ErrCorrupt', `${record}: ${why}`, { record, file: name });
}

/**
 * fsync a directory, making renames and unlinks in it durable. A no-op on
 * Windows, where directories cannot be opened for fsync (NTFS journals
 * metadata; etcd skips it there too).
 */
export async function syncDir(dir: string): Promise<void> {
  if (process.platform === 'win32') return;
  const fh = await open(dir, 'r');
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}

/**
 * Create `<dataDir>/snap` if needed (fsyncing `dataDir` when it was created
 * and `sync` is on, so the directory entry is as durable as the files in it).
 * Returns the snapshot directory's path.
 */
export async function ensureSnapDir(dataDir: string, sync: boolean): Promise<string> {
  const dir = join(dataDir, SNAP_DIR);
  const created = await mkdir(dir, { recursive: true });
  if (created !== undefined && sync) await syncDir(dataDir);
  return dir;
}

/**
 * Write `data` to `<dir>/<name>` and return its CRC-32C. The data goes to
 * `<name>.tmp` in pieces of `pieceSize` bytes through libuv's thread pool;
 * the CRC of each piece is computed between writes, so the event loop is
 * held for one piece's checksum at a time (about 1 ms per MiB), never for
 * the whole file. Then (with `sync`) fsync, rename into place, and (with
 * `sync`) fsync the directory. A failure removes the temporary file
 * (best-effort) and rethrows.
 */
export async function writeSnapFile(dir: string, name: string, data: Uint8Array, pieceSize: number, sync: boolean): Promise<number> {
  const tmp = join(dir, name + TMP_SUFFIX);
  let crc = 0;
  try {
    const fh = await open(tmp, 'w');
    try {
      for (let off = 0; off < data.length; off += pieceSize) {
        const piece = data.subarray(off, Math.min(data.length, off + pieceSize));
        crc = crc32c(piece, crc);
        let done = 0;
        while (done < piece.length) {
          const { bytesWritten } = await fh.write(piece, done, piece.length - done, off + done);
          done += bytesWritten;
        }
      }
      if (sync) await fh.sync();
    } finally {
      await fh.close();
    }
    await rename(tmp, join(dir, name));
  } catch (err) {
    await unlink(tmp).catch(() => undefined);
    throw err;
  }
  if (sync) await syncDir(dir);
  return crc;
}

/**
 * Read and verify `<dir>/<name>` against the size and CRC-32C from its
 * metadata record. A missing file, another length or a checksum mismatch
 * is `ErrCorrupt` naming the file.
 */
export async function readSnapFile(dir: string, name: string, size: number, crc: number): Promise<Uint8Array> {
  const path = join(dir, name);
  let fh;
  try {
    fh = await open(path, 'r');
  } catch (err) {
    if ((err as { code?: unknown }).code === 'ENOENT') throw corruptFile(name, 'missing (referenced by the snapshot metadata)');
    throw err;
  }
  try {
    const actual = (await fh.stat()).size;
    if (actual !== size) throw corruptFile(name, `${actual} bytes, the snapshot metadata says ${size}`);
    const data = new Uint8Array(size);
    let off = 0;
    while (off < size) {
      const { bytesRead } = await fh.read(data, off, size - off, off);
      if (bytesRead === 0) throw corruptFile(name, `ends at byte ${off}, the snapshot metadata says ${size}`);
      off += bytesRead;
    }
    if (crc32c(data) !== crc) throw corruptFile(name, 'checksum mismatch');
    return data;
  } finally {
    await fh.close();
  }
}

/**
 * Remove every snapshot file and temporary file in `dir` except `keep` (the
 * file the committed metadata references). Files with other names are left
 * alone. Returns the names removed.
 */
export async function removeOrphans(dir: string, keep: string | undefined): Promise<string[]> {
  const removed: string[] = [];
  for (const name of await readdir(dir)) {
    if (name === keep || !isSnapFileName(withoutTmp(name))) continue;
    const st = await stat(join(dir, name)).catch(() => undefined);
    if (st === undefined || !st.isFile()) continue;
    await unlink(join(dir, name));
    removed.push(name);
  }
  return removed;
}

/** Largest generation among the snapshot files (and temporary files) in `dir`, 0 if none. */
export async function maxGeneration(dir: string): Promise<number> {
  let max = 0;
  for (const name of await readdir(dir)) {
    max = Math.max(max, generationOf(withoutTmp(name)));
  }
  return max;
}
