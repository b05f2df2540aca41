/**
 * Parser for Porcupine's key-value histories: one EDN map per line,
 * `{:process P, :type :invoke|:ok|:fail|:info, :f :get|:put|:append,
 * :key "K", :value "V"|nil}`.
 *
 * Times are line numbers. `:invoke` opens an operation for process P, `:ok`
 * closes it (a get's ok carries the value read), `:fail` means it did not
 * happen (dropped), and anything left open (`:info`) is pending. Keys start as
 * the empty string in these histories: check them with
 * {@link porcupineKvModel}.
 */
import { readFileSync } from 'node:fs';
import type { Operation } from '../types.ts';
import { createKvModel, type KvInput, type KvOutput } from '../models/kv.ts';
import { strataError } from '../../errors.ts';

/** A key-value history. */
export type KvHistory = Operation<KvInput, KvOutput>[];

type EdnValue = string | number | null | { keyword: string };

/** Parse one flat EDN map of keywords to keywords, strings, integers or nil. */
function parseEdnMap(line: string, ln: number): Map<string, EdnValue> {
  const out = new Map<string, EdnValue>();
  let i = 0;
  const fail = (what: string): never => {
    throw strataError('ErrInvalidArgument', `line ${ln}: ${what} at column ${i + 1}`);
  };
  const skip = (): void => {
    while (i < line.length && (line[i] === ' ' || line[i] === ',' || line[i] === '\t' || line[i] === '\r')) i++;
  };
  const atom = (): EdnValue => {
    skip();
    const c = line[i];
    if (c === '"') {
      let s = '';
      i++;
      while (i < line.length && line[i] !== '"') {
        if (line[i] === '\\') {
          i++;
          const e = line[i];
          s += e === 'n' ? '\n' : e === 't' ? '\t' : e === 'r' ? '\r' : (e ?? '');
        } else s += line[i];
        i++;
      }
      if (line[i] !== '"') fail('unterminated string');
      i++;
      return s;
    }
    const start = i;
    while (i < line.length && !/[\s,{}]/.test(line[i] as string)) i++;
    const tok = line.slice(start, i);
    if (tok === 'nil') return null;
    if (tok.startsWith(':') && tok.length > 1) return { keyword: tok.slice(1) };
    if (/^-?\d+$/.test(tok)) return Number(tok);
    return fail(`unexpected ${JSON.stringify(tok)}`);
  };
  skip();
  if (line[i] !== '{') fail('expected {');
  i++;
  for (;;) {
    skip();
    if (line[i] === '}') break;
    if (i >= line.length) fail('unterminated map');
    const k = atom();
    if (k === null || typeof k !== 'object') fail('expected a keyword key');
    out.set((k as { keyword: string }).keyword, atom());
  }
  return out;
}

function keyword(v: EdnValue | undefined): string | undefined {
  return v !== null && typeof v === 'object' ? v.keyword : undefined;
}

/** An operation while its file is read; its `return` and `output` are filled in when it closes. */
type Open = { -readonly [K in keyof KvHistory[number]]: KvHistory[number][K] };

/** The fields of one line. */
interface Line {
  process: number;
  type: string;
  f: string;
  key: string;
  value: string | undefined;
}

function unescape(s: string): string {
  return s.includes('\\') ? s.replace(/\\(.)/g, (_m, c: string) => (c === 'n' ? '\n' : c === 't' ? '\t' : c === 'r' ? '\r' : c)) : s;
}

/** Index of the quote closing a string whose text starts at `i`, or -1. */
function stringEnd(line: string, i: number): number {
  for (; i < line.length; i++) {
    const c = line.charCodeAt(i);
    if (c === 34 /* " */) return i;
    if (c === 92 /* \ */) i++;
  }
  return -1;
}

/**
 * The shape every line of Porcupine's files has,
 * `{:process P, :type :T, :f :F, :key "K", :value nil|"V"}`, scanned by hand
 * (no regular expression, no intermediate map); `undefined` for anything
 * else, which then goes through the general EDN reader.
 */
function scanLine(line: string): Line | undefined {
  if (!line.startsWith('{:process ')) return undefined;
  let i = 10;
  let process = 0;
  const digits = i;
  for (let c = line.charCodeAt(i); c >= 48 && c <= 57; c = line.charCodeAt(++i)) process = process * 10 + (c - 48);
  if (i === digits || !line.startsWith(', :type :', i)) return undefined;
  i += 9;
  let end = line.indexOf(',', i);
  if (end < 0) return undefined;
  const type = line.slice(i, end);
  if (!line.startsWith(', :f :', end)) return undefined;
  i = end + 6;
  end = line.indexOf(',', i);
  if (end < 0) return undefined;
  const f = line.slice(i, end);
  if (!line.startsWith(', :key "', end)) return undefined;
  i = end + 8;
  end = stringEnd(line, i);
  if (end < 0) return undefined;
  const key = unescape(line.slice(i, end));
  if (!line.startsWith(', :value ', end + 1)) return undefined;
  i = end + 10;
  let value: string | undefined;
  if (line.startsWith('nil}', i)) {
    i += 4;
  } else {
    if (line.charCodeAt(i) !== 34 /* " */) return undefined;
    i++;
    end = stringEnd(line, i);
    if (end < 0 || line.charCodeAt(end + 1) !== 125 /* } */) return undefined;
    value = unescape(line.slice(i, end));
    i = end + 2;
  }
  for (; i < line.length; i++) {
    const c = line.charCodeAt(i);
    if (c !== 32 && c !== 9 && c !== 13) return undefined;
  }
  return { process, type, f, key, value };
}

/** Parse one line into the fields the history needs. */
function parseLine(line: string, ln: number): Line {
  const fast = scanLine(line);
  if (fast !== undefined) return fast;
  const m = parseEdnMap(line, ln);
  const process = m.get('process');
  const type = keyword(m.get('type'));
  const f = keyword(m.get('f'));
  if (typeof process !== 'number' || type === undefined || f === undefined) {
    throw strataError('ErrInvalidArgument', `line ${ln}: needs :process, :type and :f`);
  }
  const key = m.get('key');
  const value = m.get('value');
  return {
    process,
    type,
    f,
    key: typeof key === 'string' ? key : String(key),
    value: typeof value === 'string' ? value : typeof value === 'number' ? String(value) : undefined,
  };
}

/**
 * One whole line of the shape Porcupine's files use, matched in place (sticky,
 * from a line start) by the regular-expression engine: on a cold start its
 * compiled matcher beats a hand-written scanner that V8 has not optimised yet
 * (about 15 vs 25–45 ms for the 720 KB of kv files). Groups: process, type,
 * f, key, value (absent for nil); strings still escaped.
 */
const LINE = /\{:process (\d+), :type :(\w+), :f :(\w+), :key "((?:[^"\\\n]|\\.)*)", :value (?:nil|"((?:[^"\\\n]|\\.)*)")\}[ \t\r]*(?:\n|$)/y;

/** Parse the text of a Porcupine kv history (blank lines are skipped). */
export function parseKvLog(text: string): KvHistory {
  const ops: Open[] = [];
  const open = new Map<number, Open>();
  // Operations a :fail says did not happen (most files have none).
  const dropped = new Set<Open>();
  let ln = 0;
  for (let at = 0; at < text.length; ln++) {
    let process: number;
    let type: string;
    let f: string;
    let keyStr: string;
    let valStr: string | undefined;
    LINE.lastIndex = at;
    const m = LINE.exec(text);
    if (m !== null) {
      at = LINE.lastIndex;
      process = Number(m[1]);
      type = m[2] as string;
      f = m[3] as string;
      keyStr = unescape(m[4] as string);
      valStr = m[5] === undefined ? undefined : unescape(m[5]);
    } else {
      let nl = text.indexOf('\n', at);
      if (nl < 0) nl = text.length;
      const line = text.slice(at, nl);
      at = nl + 1;
      if (line.trim() === '') continue;
      ({ process, type, f, key: keyStr, value: valStr } = parseLine(line, ln + 1));
    }
    if (type === 'invoke') {
      let input: KvInput;
      if (f === 'get') input = { type: 'get', key: keyStr };
      else if (f === 'put') input = { type: 'put', key: keyStr, value: valStr ?? '' };
      else if (f === 'append') input = { type: 'append', key: keyStr, value: valStr ?? '' };
      else throw strataError('ErrInvalidArgument', `line ${ln + 1}: unknown :f :${f}`);
      const op: Open = { clientId: process, input, call: ln, output: undefined, return: Infinity };
      ops.push(op);
      open.set(process, op);
      continue;
    }
    const op = open.get(process);
    if (op === undefined) continue;
    if (type === 'ok') op.output = f === 'get' ? { value: valStr } : {};
    else if (type === 'fail') dropped.add(op);
    else continue;
    op.return = ln;
    open.delete(process);
  }
  return dropped.size === 0 ? ops : ops.filter((op) => !dropped.has(op));
}

/** Read and parse a Porcupine kv history file. */
export function readKvLog(path: string): KvHistory {
  return parseKvLog(readFileSync(path, 'utf8'));
}

/** The KV model for Porcupine's kv histories: absent keys read as `''`. */
export const porcupineKvModel = createKvModel({ absent: '' });
