// Issue #7: the checker gives Porcupine's verdicts on Porcupine's own test data
// (../shared/testdata/porcupine, verdicts.tsv lists the expected ones).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  checkLinearizability,
  readJepsenLog,
  readKvLog,
  registerModel,
  porcupineKvModel,
  type CheckResult,
} from '../src/check/index.ts';

const dir = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'shared', 'testdata', 'porcupine');

function expected(): [string, 'linearizable' | 'not-linearizable'][] {
  return readFileSync(join(dir, 'verdicts.tsv'), 'utf8')
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => {
      const [file, verdict] = l.split('\t') as [string, string];
      return [file, verdict.trim() === 'linearizable' ? 'linearizable' : 'not-linearizable'];
    });
}

function check(file: string, partition: boolean): CheckResult<unknown> {
  const path = join(dir, file);
  return file.startsWith('jepsen/')
    ? (checkLinearizability(registerModel, readJepsenLog(path), { partition }) as CheckResult<unknown>)
    : (checkLinearizability(porcupineKvModel, readKvLog(path), { partition }) as CheckResult<unknown>);
}

test('issue #7: every file in verdicts.tsv gets Porcupine\'s verdict (kv partitioned by key)', (t) => {
  assert.ok(existsSync(join(dir, 'verdicts.tsv')), `test data missing at ${dir}`);
  const cases = expected();
  assert.ok(cases.length >= 80, `expected the full verdict list, got ${cases.length}`);
  const wrong: string[] = [];
  for (const [file, want] of cases) {
    const r = check(file, true);
    t.diagnostic(`${file}: ${r.result} (expected ${want}, ${r.steps} steps)`);
    if (r.result !== want) wrong.push(`${file}: got ${r.result}, expected ${want}`);
    if (r.result === 'not-linearizable') {
      // A verdict of "not linearizable" always comes with a counterexample.
      assert.ok(r.counterexample !== undefined && r.counterexample.length > 0, `${file}: no counterexample`);
    }
  }
  assert.deepEqual(wrong, []);
});

test('issue #7: kv c01 and c10 give the same verdicts without partitioning', (t) => {
  for (const [file, want] of expected().filter(([f]) => /kv\/c(01|10)-/.test(f))) {
    const r = check(file, false);
    t.diagnostic(`${file} unpartitioned: ${r.result} (${r.steps} steps, ${r.states} states)`);
    assert.equal(r.partitions.length, 1);
    assert.equal(r.result, want, file);
  }
});

test('issue #7: jepsen/etcd_095.log (empty, cluster never started) is trivially linearizable', () => {
  const h = readJepsenLog(join(dir, 'jepsen/etcd_095.log'));
  assert.equal(h.length, 0);
  assert.equal(checkLinearizability(registerModel, h).result, 'linearizable');
});
