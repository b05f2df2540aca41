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

interface Open {
  process: number;
  input: RegisterInput<number>;
  call: number;
  output: RegisterOutput<number> | undefined;
  return: number;
  dropped: boolean;
}

function int(s: string, line: number): number {
  if (!/^-?\d+$/.test(s)) throw strataError('ErrInvalidArgument', `line ${line}: expected an integer, got ${JSON.stringify(s)}`);
  return Number(s);
}

function casArgs(s: string, line: number): [number, number] {
  const m = /^\[\s*(-?\d+)\s+(-?\d+)\s*\]$/.exec(s);
  if (m === null) throw strataError('ErrInvalidArgument', `line ${line}: expected [A B], got ${JSON.stringify(s)}`);
  return [Number(m[1]), Number(m[2])];
}

/** Parse the text of a Jepsen etcd log. Lines that are not client events are skipped. */
export function parseJepsenLog(text: string): RegisterHistory {
  const ops: Open[] = [];
  const open = new Map<number, Open>();
  const lines = text.split('\n');
  for (let ln = 0; ln < lines.length; ln++) {
    const m = LINE.exec(lines[ln] as string);
    if (m === null) continue;
    const process = Number(m[1]);
    const type = m[2] as string;
    const f = m[3] as string;
    const arg = m[4] as string;
    if (type === 'invoke') {
      let input: RegisterInput<number>;
      if (f === 'read') input = { type: 'read' };
      else if (f === 'write') input = { type: 'write', value: int(arg, ln + 1) };
      else if (f === 'cas') {
        const [expected, value] = casArgs(arg, ln + 1);
        input = { type: 'cas', expected, value };
      } else continue;
      const op: Open = { process, input, call: ln, output: undefined, return: Infinity, dropped: false };
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
      else op.dropped = true;
    } else continue;
    op.return = ln;
    open.delete(process);
  }
  return ops
    .filter((op) => !op.dropped)
    .map((op) => ({ clientId: op.process, input: op.input, call: op.call, output: op.output, return: op.return }));
}

/** Read and parse a Jepsen etcd log file. */
export function readJepsenLog(path: string): RegisterHistory {
  return parseJepsenLog(readFileSync(path, 'utf8'));
}
