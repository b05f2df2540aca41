// Linearizability checker on Porcupine's test data (issue #7): the whole Jepsen
// etcd set, the kv set partitioned by key, and kv c01 + c10 (and c50, under a
// time budget) without partitioning. Times include parsing, as a user sees them.
// `CHECK_REPEATS=n` repeats every set n times (default 3) and reports the best
// and the first (cold) run; `CHECK_C50_NOPART_MS` is the budget for c50
// unpartitioned (default 10000; 0 skips it).
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { printTable, writeResults, progress, type Row } from './lib.ts';
import {
  checkLinearizability,
  parseJepsenLog,
  parseKvLog,
  porcupineKvModel,
  registerModel,
  type Verdict,
} from '../src/check/index.ts';

const dir = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'shared', 'testdata', 'porcupine');

interface SetResult {
  ms: number;
  steps: number;
  verdicts: Verdict[];
}

function runJepsen(files: readonly string[], texts: ReadonlyMap<string, string>): SetResult {
  const t0 = performance.now();
  let steps = 0;
  const verdicts: Verdict[] = [];
  for (const f of files) {
    const r = checkLinearizability(registerModel, parseJepsenLog(texts.get(f) as string));
    steps += r.steps;
    verdicts.push(r.result);
  }
  return { ms: performance.now() - t0, steps, verdicts };
}

function runKv(files: readonly string[], texts: ReadonlyMap<string, string>, partition: boolean, timeoutMs?: number): SetResult {
  const t0 = performance.now();
  let steps = 0;
  const verdicts: Verdict[] = [];
  for (const f of files) {
    const opts = timeoutMs === undefined ? { partition } : { partition, timeoutMs };
    const r = checkLinearizability(porcupineKvModel, parseKvLog(texts.get(f) as string), opts);
    steps += r.steps;
    verdicts.push(r.result);
  }
  return { ms: performance.now() - t0, steps, verdicts };
}

export async function main(): Promise<void> {
  const repeats = Math.max(1, Number(process.env.CHECK_REPEATS ?? 3));
  const c50Budget = Number(process.env.CHECK_C50_NOPART_MS ?? 10000);
  const texts = new Map<string, string>();
  const jepsen = readdirSync(join(dir, 'jepsen'))
    .filter((f) => f.endsWith('.log'))
    .sort()
    .map((f) => `jepsen/${f}`);
  const kv = ['c01-bad', 'c01-ok', 'c10-bad', 'c10-ok', 'c50-bad', 'c50-ok'].map((f) => `kv/${f}.txt`);
  for (const f of [...jepsen, ...kv]) texts.set(f, readFileSync(join(dir, f), 'utf8'));

  // Porcupine (Go, 2 cores) on this machine, from issue #7.
  const porcupine: Record<string, string> = {
    'jepsen (102 files)': '~620',
    'kv partitioned (6 files)': '~200',
    'kv c01+c10 unpartitioned': '~5000',
  };
  const sets: { name: string; run: () => SetResult }[] = [
    { name: 'jepsen (102 files)', run: () => runJepsen(jepsen, texts) },
    { name: 'kv partitioned (6 files)', run: () => runKv(kv, texts, true) },
    ...kv.map((f) => ({ name: `  ${f} partitioned`, run: () => runKv([f], texts, true) })),
    { name: 'kv c01+c10 unpartitioned', run: () => runKv(kv.slice(0, 4), texts, false) },
    ...kv.slice(0, 4).map((f) => ({ name: `  ${f} unpartitioned`, run: () => runKv([f], texts, false) })),
  ];
  const rows: Row[] = [];
  for (const set of sets) {
    const times: number[] = [];
    let last: SetResult | undefined;
    for (let i = 0; i < repeats; i++) {
      progress(`check bench: ${set.name.trim()} run ${i + 1}/${repeats}`);
      last = set.run();
      times.push(last.ms);
    }
    const res = last as SetResult;
    const linearizable = res.verdicts.filter((v) => v === 'linearizable').length;
    rows.push({
      set: set.name,
      'first ms': Math.round(times[0] as number),
      'best ms': Math.round(Math.min(...times)),
      'porcupine ms': porcupine[set.name] ?? '',
      steps: res.steps,
      verdicts: `${linearizable} lin / ${res.verdicts.length - linearizable - res.verdicts.filter((v) => v === 'unknown').length} not / ${
        res.verdicts.filter((v) => v === 'unknown').length
      } unknown`,
    });
  }
  if (c50Budget > 0) {
    for (const f of kv.slice(4)) {
      progress(`check bench: ${f} unpartitioned (budget ${c50Budget} ms)`);
      const res = runKv([f], texts, false, c50Budget);
      rows.push({
        set: `  ${f} unpartitioned (budget ${c50Budget} ms)`,
        'first ms': Math.round(res.ms),
        'best ms': Math.round(res.ms),
        'porcupine ms': '',
        steps: res.steps,
        verdicts: res.verdicts.join(','),
      });
    }
  }
  printTable('Linearizability checker on Porcupine test data (times include parsing)', rows);
  writeResults('check', rows, { repeats, c50Budget });
}

if (import.meta.url === `file://${process.argv[1]}`) await main();
