/**
 * Parser for Jepsen's etcd register logs as shipped with Porcupine
 * (`INFO  jepsen.util - P  :TYPE  :F  VALUE` lines) into a register history.
 *
 * Times are line numbers. `:invoke` opens an operation for process P; `:ok`
 * closes it with its result; `:fail :cas` closes a CAS that did not swap;
 * `:fail :read` (a timed-out read) closes a read whose result is unknown; any
 * other `:fail` means the operation did not happen and drops it. Anything
 * else (`:info`: outcome unknown) leaves it open, and operations still open at
 * the end are pending (`return: Infinity`, `output: undefined`).
 */
import { readFileSync } from 'node:fs';
import type { Operation } from '../types.ts';
import type { RegisterInput, RegisterOutput } from '../models/register.ts';
import { strataError } from '../../errors.ts';

/** A history of the integer register. */
export type RegisterHistory = Operation<RegisterInput<number>, RegisterOutput<number>>[];

const LINE = /^\s*INFO\s+jepsen\.util\s+-\s+(\d+)\s+:(\w+)\s+:(\w+)\s*(.*?)\s*$/;

/** An operation while its file is read; its `return` and `output` are filled in when it closes. */
type Open = { -readonly [K in keyof RegisterHistory[number]]: RegisterHistory[number][K] };

function int(s: string, line: number): number {
  if (!/^-?\d+$/.test(s)) throw strataError('ErrInvalidArgument', `line ${line}: expected an integer, got ${JSON.stringify(s)}`);
  return Number(s);
}

function casArgs(s: string, line: number): [number, number] {
  const m = /^\[\s*(-?\d+)\s+(-?\d+)\s*\]$/.exec(s);
  if (m === null) throw strataError('ErrInvalidArgument', `line ${line}: expected [A B], got ${JSON.stringify(s)}`);
  return [Number(m[1]), Number(m[2])];
}

function isSpace(c: number): boolean {
  return c === 32 || c === 9 || c === 13 || c === 11 || c === 12;
}

function isWord(c: number): boolean {
  return (c >= 97 && c <= 122) || (c >= 65 && c <= 90) || (c >= 48 && c <= 57) || c === 95;
}

/** The fields of an event line. */
interface Event {
  process: number;
  type: string;
  f: string;
  arg: string;
}

/**
 * Scan `INFO jepsen.util - P :TYPE :F ARG` by hand (the common case, ASCII
 * spacing); `undefined` sends the line to the regular expression.
 */
function scanLine(line: string): Event | undefined {
  let i = 0;
  const n = line.length;
  while (i < n && isSpace(line.charCodeAt(i))) i++;
  if (!line.startsWith('INFO', i)) return undefined;
  const ws = (): boolean => {
    const start = i;
    while (i < n && isSpace(line.charCodeAt(i))) i++;
    return i > start;
  };
  i += 4;
  if (!ws() || !line.startsWith('jepsen.util', i)) return undefined;
  i += 11;
  if (!ws() || line.charCodeAt(i) !== 45 /* - */) return undefined;
  i++;
  if (!ws()) return undefined;
  let process = 0;
  const digits = i;
  for (let c = line.charCodeAt(i); c >= 48 && c <= 57; c = line.charCodeAt(++i)) process = process * 10 + (c - 48);
  if (i === digits || i - digits > 15 || !ws() || line.charCodeAt(i) !== 58 /* : */) return undefined;
  let start = ++i;
  while (i < n && isWord(line.charCodeAt(i))) i++;
  if (i === start) return undefined;
  const type = line.slice(start, i);
  if (!ws() || line.charCodeAt(i) !== 58) return undefined;
  start = ++i;
  while (i < n && isWord(line.charCodeAt(i))) i++;
  if (i === start) return undefined;
  const f = line.slice(start, i);
  let end = n;
  while (end > i && isSpace(line.charCodeAt(end - 1))) end--;
  while (i < end && isSpace(line.charCodeAt(i))) i++;
  for (let k = i; k < end; k++) if (line.charCodeAt(k) > 126) return undefined; // other spaces: leave to the regex
  return { process, type, f, arg: line.slice(i, end) };
}

function parseEvent(line: string): Event | undefined {
  const fast = scanLine(line);
  if (fast !== undefined) return fast;
  const m = LINE.exec(line);
  if (m === null) return undefined;
  return { process: Number(m[1]), type: m[2] as string, f: m[3] as string, arg: m[4] as string };
}

/**
 * One whole event line of the usual shape (ASCII spacing, a printable ASCII
 * argument), matched in place (sticky, from a line start): on a cold start the
 * regular-expression engine's compiled matcher beats slicing each line and
 * scanning it with code V8 has not optimised yet (the Jepsen set's 820 KB:
 * ~45 → ~15 ms). Groups: process, type, f, argument (absent when empty).
 * Other lines go through {@link parseEvent}, so the result is the same.
 */
const EVENT = /[ \t]*INFO[ \t]+jepsen\.util[ \t]+-[ \t]+(\d+)[ \t]+:(\w+)[ \t]+:(\w+)(?:[ \t]+([\x21-\x7e](?:[ \t]*[\x21-\x7e])*))?[ \t\r]*(?:\n|$)/y;

/** Parse the text of a Jepsen etcd log. Lines that are not client events are skipped. */
export function parseJepsenLog(text: string): RegisterHistory {
  const ops: Open[] = [];
  const open = new Map<number, Open>();
  // Operations a :fail says did not happen (most files have none).
  const dropped = new Set<Open>();
  let ln = -1;
  for (let at = 0; at <= text.length; ) {
    ln++;
    let process: number;
    let type: string;
    let f: string;
    let arg: string;
    EVENT.lastIndex = at;
    const m = at < text.length ? EVENT.exec(text) : null;
    if (m !== null) {
      at = EVENT.lastIndex;
      process = Number(m[1]);
      type = m[2] as string;
      f = m[3] as string;
      arg = m[4] ?? '';
    } else {
      let nl = text.indexOf('\n', at);
      if (nl < 0) nl = text.length;
      const e = parseEvent(text.slice(at, nl));
      at = nl + 1;
      if (e === undefined) continue;
      ({ process, type, f, arg } = e);
    }
    if (type === 'invoke') {
      let input: RegisterInput<number>;
      if (f === 'read') input = { type: 'read' };
      else if (f === 'write') input = { type: 'write', value: int(arg, ln + 1) };
      else if (f === 'cas') {
        const [expected, value] = casArgs(arg, ln + 1);
        input = { type: 'cas', expected, value };
      } else continue;
      const op: Open = { clientId: process, input, call: ln, output: undefined, return: Infinity };
      ops.push(op);
      open.set(process, op);
      continue;
    }
    const op = open.get(process);
    if (op === undefined || op.input.type !== f) continue;
    if (type === 'ok') {
      if (f === 'read') op.output = { value: arg === 'nil' ? undefined : int(arg, ln + 1) };
      else if (f === 'cas') op.output = { ok: true };
      else op.output = {};
    } else if (type === 'fail') {
      if (f === 'cas') op.output = { ok: false };
      else if (f === 'read') op.output = undefined;
      else dropped.add(op);
    } else continue;
    op.return = ln;
    open.delete(process);
  }
  return dropped.size === 0 ? ops : ops.filter((op) => !dropped.has(op));
}

/** Read and parse a Jepsen etcd log file. */
export function readJepsenLog(path: string): RegisterHistory {
  return parseJepsenLog(readFileSync(path, 'utf8'));
}
