/**
 * Range execution (section 2): select the live keys of a span at a
 * revision, filter, sort, truncate, count. Follows etcd's pipeline
 * exactly, including its quirk that without a sort order and without
 * filters only `limit + 1` keys (in key order) are read before sorting a
 * non-key target (R2.6, R2.8).
 */
import { compareBytes, EMPTY, strToBytes } from './bytes.ts';
import type { IndexEntry, KeyIndex } from './key-index.ts';
import type { NRange, Span } from './request.ts';
import type { TreeIndex } from './tree-index.ts';
import type { KeyValue, RangeResult, SortTarget } from './types.ts';

/** What range execution needs from the store. */
export interface Reader {
  readonly index: TreeIndex;
  /** The key-value stored at an index entry. */
  load(entry: IndexEntry): KeyValue;
}

/**
 * Visit the live keys of `span` at `atRev` in key order. The visitor
 * returns false to stop early.
 */
export function visitLive(index: TreeIndex, span: Span, atRev: number, fn: (ki: KeyIndex, e: IndexEntry) => boolean | void): void {
  if (span.end === undefined) {
    const ki = index.get(span.start);
    const e = ki?.get(atRev);
    if (ki !== undefined && e !== undefined) fn(ki, e);
    return;
  }
  index.visit(span.start, span.end, (ki) => {
    const e = ki.get(atRev);
    return e === undefined ? true : fn(ki, e);
  });
}

/** Live keys of `span` at `atRev`, with their entries, up to `limit` (0: all); plus the total count. */
export function selectLive(index: TreeIndex, span: Span, atRev: number, limit: number): { entries: IndexEntry[]; count: number } {
  const entries: IndexEntry[] = [];
  let count = 0;
  visitLive(index, span, atRev, (_ki, e) => {
    if (limit <= 0 || entries.length < limit) entries.push(e);
    count++;
  });
  return { entries, count };
}

function fieldCompare(target: SortTarget): (a: KeyValue, b: KeyValue) => number {
  switch (target) {
    case 'key':
      return (a, b) => compareBytes(a.key, b.key);
    case 'version':
      return (a, b) => a.version - b.version;
    case 'createRevision':
      return (a, b) => a.createRevision - b.createRevision;
    case 'modRevision':
      return (a, b) => a.modRevision - b.modRevision;
    case 'value':
      return (a, b) => compareBytes(a.value, b.value);
  }
}

/**
 * Run a validated Range against `reader` at read revision `readRev`
 * (already checked against the compact and current revisions), reporting
 * `headerRev` as the result revision (R1.9).
 */
export function executeRange(reader: Reader, r: NRange, readRev: number, headerRev: number): RangeResult {
  if (r.countOnly) {
    const { count } = selectLive(reader.index, r.span, readRev, 0);
    return { kvs: [], count, more: false, revision: headerRev };
  }
  const filtered = r.minMod !== 0 || r.maxMod !== 0 || r.minCreate !== 0 || r.maxCreate !== 0;
  // etcd reads everything when sorting (by order, not target) or filtering, else limit + 1.
  const fetch = r.sortOrder !== 'none' || filtered ? 0 : r.limit > 0 ? r.limit + 1 : 0;
  const { entries, count } = selectLive(reader.index, r.span, readRev, fetch);
  let kvs = entries.map((e) => reader.load(e));
  if (filtered) {
    kvs = kvs.filter(
      (kv) =>
        !(r.maxMod !== 0 && kv.modRevision > r.maxMod) &&
        !(r.minMod !== 0 && kv.modRevision < r.minMod) &&
        !(r.maxCreate !== 0 && kv.createRevision > r.maxCreate) &&
        !(r.minCreate !== 0 && kv.createRevision < r.minCreate),
    );
  }
  let order = r.sortOrder;
  if (r.sortTarget !== 'key' && order === 'none') order = 'ascend';
  else if (r.sortTarget === 'key' && order === 'ascend') order = 'none';
  if (order !== 'none') {
    const cmp = fieldCompare(r.sortTarget);
    const dir = order === 'descend' ? -1 : 1;
    // Ties keep ascending key order (R2.6).
    kvs.sort((a, b) => dir * cmp(a, b) || compareBytes(a.key, b.key));
  }
  let more = false;
  if (r.limit > 0 && kvs.length > r.limit) {
    kvs = kvs.slice(0, r.limit);
    more = true;
  }
  if (r.keysOnly) kvs = kvs.map((kv) => ({ ...kv, value: EMPTY }));
  return { kvs, count, more, revision: headerRev };
}

/** Key bytes of a key index. */
export function keyBytes(ki: KeyIndex): Uint8Array {
  return strToBytes(ki.key);
}
