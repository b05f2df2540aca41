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

interface Open {
  process: number;
  input: KvInput;
  call: number;
  output: KvOutput | undefined;
  return: number;
  dropped: boolean;
}

// The shape every line of Porcupine's files has; anything else goes through parseEdnMap.
const STRING = '"((?:[^"\\\\]|\\\\.)*)"';
const FAST = new RegExp(`^\\{:process (\\d+), :type :(\\w+), :f :(\\w+), :key ${STRING}, :value (?:nil|${STRING})\\}\\s*$`);

function unescape(s: string): string {
  return s.includes('\\') ? s.replace(/\\(.)/g, (_m, c: string) => (c === 'n' ? '\n' : c === 't' ? '\t' : c === 'r' ? '\r' : c)) : s;
}

/** Parse one line into the fields the history needs. */
function parseLine(line: string, ln: number): Map<string, EdnValue> {
  const m = FAST.exec(line);
  if (m === null) return parseEdnMap(line, ln);
  const out = new Map<string, EdnValue>();
  out.set('process', Number(m[1]));
  out.set('type', { keyword: m[2] as string });
  out.set('f', { keyword: m[3] as string });
  out.set('key', unescape(m[4] as string));
  out.set('value', m[5] === undefined ? null : unescape(m[5]));
  return out;
}

/** Parse the text of a Porcupine kv history (blank lines are skipped). */
export function parseKvLog(text: string): KvHistory {
  const ops: Open[] = [];
  const open = new Map<number, Open>();
  const lines = text.split('\n');
  for (let ln = 0; ln < lines.length; ln++) {
    const line = lines[ln] as string;
    if (line.trim() === '') continue;
    const m = parseLine(line, ln + 1);
    const process = m.get('process');
    const type = keyword(m.get('type'));
    const f = keyword(m.get('f'));
    const key = m.get('key');
    const value = m.get('value');
    if (typeof process !== 'number' || type === undefined || f === undefined) {
      throw strataError('ErrInvalidArgument', `line ${ln + 1}: needs :process, :type and :f`);
    }
    const keyStr = typeof key === 'string' ? key : String(key);
    const valStr = typeof value === 'string' ? value : typeof value === 'number' ? String(value) : undefined;
    if (type === 'invoke') {
      let input: KvInput;
      if (f === 'get') input = { type: 'get', key: keyStr };
      else if (f === 'put') input = { type: 'put', key: keyStr, value: valStr ?? '' };
      else if (f === 'append') input = { type: 'append', key: keyStr, value: valStr ?? '' };
      else throw strataError('ErrInvalidArgument', `line ${ln + 1}: unknown :f :${f}`);
      const op: Open = { process, input, call: ln, output: undefined, return: Infinity, dropped: false };
      ops.push(op);
      open.set(process, op);
      continue;
    }
    const op = open.get(process);
    if (op === undefined) continue;
    if (type === 'ok') op.output = f === 'get' ? { value: valStr } : {};
    else if (type === 'fail') op.dropped = true;
    else continue;
    op.return = ln;
    open.delete(process);
  }
  return ops
    .filter((op) => !op.dropped)
    .map((op) => ({ clientId: op.process, input: op.input, call: op.call, output: op.output, return: op.return }));
}

/** Read and parse a Porcupine kv history file. */
export function readKvLog(path: string): KvHistory {
  return parseKvLog(readFileSync(path, 'utf8'));
}

/** The KV model for Porcupine's kv histories: absent keys read as `''`. */
export const porcupineKvModel = createKvModel({ absent: '' });
