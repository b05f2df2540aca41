// Fixtures shared by the LevelStorage test files: temporary directories
// removed after the file's tests, raw LevelDB access to a closed storage's
// directory, and "open must fail with this code".
import { after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ClassicLevel } from 'classic-level';
import { LevelStorage } from '../src/storage/level.ts';
import { isStrataError, type ErrorCode } from '../src/errors.ts';

/** The raw LevelDB of a storage directory. */
export type Db = ClassicLevel<Buffer, Buffer>;

const dirs: string[] = [];
// Registered when a test file first imports this module (top level: the file's root).
after(async () => {
  await Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true })));
});

/** A fresh temporary directory, removed after the importing test file's tests. */
export async function tempDir(prefix = 'strata-storage-'): Promise<string> {
  const d = await mkdtemp(join(tmpdir(), prefix));
  dirs.push(d);
  return d;
}

/** Work on the raw LevelDB directory (the storage must be closed). */
export async function raw<T>(dir: string, fn: (db: Db) => Promise<T>): Promise<T> {
  const db: Db = new ClassicLevel<Buffer, Buffer>(dir, { keyEncoding: 'buffer', valueEncoding: 'buffer' });
  await db.open();
  try {
    return await fn(db);
  } finally {
    await db.close();
  }
}

/** Opening `dir` must fail with `code` (and a message matching `pattern`); returns the error. */
export async function openFails(dir: string, code: ErrorCode, pattern?: RegExp): Promise<Error> {
  let caught: unknown;
  try {
    const s = await LevelStorage.open(dir);
    await s.close();
  } catch (err) {
    caught = err;
  }
  assert.ok(isStrataError(caught, code), `expected ${code}, got ${String(caught)}`);
  if (pattern !== undefined) assert.match(caught.message, pattern);
  return caught;
}
