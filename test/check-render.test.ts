// Issue #7: renderHistory writes a self-contained HTML file that shows every
// operation, the linearization found, or where none exists.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  checkLinearizability,
  renderHistory,
  registerModel,
  kvModel,
  type Operation,
  type KvInput,
  type KvOutput,
  type RegisterInput,
  type RegisterOutput,
} from '../src/check/index.ts';

type RegOp = Operation<RegisterInput, RegisterOutput>;

function opsIn(html: string): number[] {
  return [...new Set([...html.matchAll(/<g class="op[^"]*" data-op="(\d+)"/g)].map((m) => Number(m[1])))].sort((a, b) => a - b);
}

test('issue #7: renderHistory writes a file containing every operation and the linearization', () => {
  const dir = mkdtempSync(join(tmpdir(), 'strata-check-'));
  try {
    const h: RegOp[] = [
      { clientId: 0, input: { type: 'write', value: 1 }, call: 0, output: {}, return: 10 },
      { clientId: 1, input: { type: 'read' }, call: 2, output: { value: 1 }, return: 4 },
      { clientId: 2, input: { type: 'cas', expected: 1, value: 2 }, call: 5, output: { ok: true }, return: 12 },
      { clientId: 1, input: { type: 'write', value: 9 }, call: 13, output: undefined, return: Infinity },
    ];
    const result = checkLinearizability(registerModel, h);
    assert.equal(result.result, 'linearizable');
    const path = join(dir, 'ok.html');
    const html = renderHistory(registerModel, h, result, { path, title: 'register <demo>' });
    const file = readFileSync(path, 'utf8');
    assert.equal(file, html);
    assert.match(file, /^<!DOCTYPE html>/);
    assert.ok(!/<script|<link|src=/.test(file), 'self-contained: no scripts or external resources');
    assert.ok(file.includes('register &#60;demo&#62;'), 'title is escaped');
    assert.deepEqual(opsIn(file), [0, 1, 2, 3]);
    for (const op of h) assert.ok(file.includes(registerModel.describe?.(op.input, op.output) ?? ''), 'operation text present');
    // Every operation is numbered with its place in the linearization, and has a linearization point.
    for (let k = 1; k <= h.length; k++) assert.ok(file.includes(`linearized ${k} of ${h.length}`));
    assert.equal((file.match(/class="point"/g) ?? []).length, h.length);
    assert.ok(file.includes('op lin pending'), 'pending operation drawn as such');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('issue #7: a failing partition shows its prefix, the stuck operation and the failure line', () => {
  const op = (clientId: number, input: KvInput, output: KvOutput, call: number, ret: number): Operation<KvInput, KvOutput> => ({
    clientId,
    input,
    output,
    call,
    return: ret,
  });
  const h = [
    op(0, { type: 'put', key: 'a', value: '1' }, {}, 0, 1),
    op(1, { type: 'get', key: 'a' }, { value: '1' }, 2, 3),
    op(0, { type: 'put', key: 'b', value: '2' }, {}, 0, 1),
    op(1, { type: 'get', key: 'b' }, { value: '3' }, 4, 5),
  ];
  const result = checkLinearizability(kvModel, h, { allFailures: true });
  assert.equal(result.result, 'not-linearizable');
  const html = renderHistory(kvModel, h, result);
  assert.deepEqual(opsIn(html), [0, 1, 2, 3]);
  assert.ok(html.includes('NOT linearizable'));
  assert.ok(html.includes('class="op stuck" data-op="3"'), 'stuck operation marked');
  assert.ok(html.includes('class="fail"'), 'failure line drawn');
  assert.ok(html.includes('get(&#34;b&#34;) → &#34;3&#34;'));
  // The failing partition comes first.
  assert.ok(html.indexOf('NOT linearizable (2 operations') < html.indexOf('linearizable (2 operations'));
});
