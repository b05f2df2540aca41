// Linearizability checker on Porcupine's test data (issue #7): the whole Jepsen
// etcd set, the kv set partitioned by key, and kv c01 + c10 (and c50, under a
// time budget) without partitioning. Times include parsing, as a user sees them.
// `CHECK_REPEATS=n` repeats every set n times (default 3) and reports the best
// and the first run; `CHECK_C50_NOPART_MS` is the budget for c50
// unpartitioned (default 10000; 0 skips it). "cold" runs each main set once in
// a fresh child process (new V8, nothing compiled, no memory mapped yet), as an
// outside benchmark that starts one process per set sees it; the module is
// imported before the clock starts. `CHECK_COLD_RUNS=n` (default 3) such
// processes per set, median reported; `CHECK_COLD_MODULE=path` imports another
// build (e.g. `dist/check/index.js`) in the children instead of the sources.
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { printTable, writeResults, progress, type Row } from './lib.ts';
import type { Verdict } from '../src/check/index.ts';

type CheckModule = typeof import('../src/check/index.ts');
let lib: CheckModule;

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
    const r = lib.checkLinearizability(lib.registerModel, lib.parseJepsenLog(texts.get(f) as string));
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
    const r = lib.checkLinearizability(lib.porcupineKvModel, lib.parseKvLog(texts.get(f) as string), opts);
    steps += r.steps;
    verdicts.push(r.result);
  }
  return { ms: performance.now() - t0, steps, verdicts };
}

interface Data {
  texts: Map<string, string>;
  jepsen: string[];
  kv: string[];
}

function load(): Data {
  const texts = new Map<string, string>();
  const jepsen = readdirSync(join(dir, 'jepsen'))
    .filter((f) => f.endsWith('.log'))
    .sort()
    .map((f) => `jepsen/${f}`);
  const kv = ['c01-bad', 'c01-ok', 'c10-bad', 'c10-ok', 'c50-bad', 'c50-ok'].map((f) => `kv/${f}.txt`);
  for (const f of [...jepsen, ...kv]) texts.set(f, readFileSync(join(dir, f), 'utf8'));
  return { texts, jepsen, kv };
}

/** The sets run cold, by name (the child process runs one). */
function coldSet(name: string, d: Data): SetResult {
  if (name === 'jepsen') return runJepsen(d.jepsen, d.texts);
  if (name === 'kv-partitioned') return runKv(d.kv, d.texts, true);
  if (name === 'c50-ok-partitioned') return runKv(['kv/c50-ok.txt'], d.texts, true);
  return runKv(d.kv.slice(0, 4), d.texts, false);
}

const coldSets: { name: string; label: string }[] = [
  { name: 'jepsen', label: 'jepsen (102 files)' },
  { name: 'kv-partitioned', label: 'kv partitioned (6 files)' },
  { name: 'c50-ok-partitioned', label: '  kv/c50-ok.txt partitioned' },
  { name: 'kv-unpartitioned', label: 'kv c01+c10 unpartitioned' },
];

/** Run one set in a fresh process; returns its time in ms. */
function runCold(name: string): SetResult {
  const out = execFileSync(process.execPath, [...process.execArgv, fileURLToPath(import.meta.url)], {
    env: { ...process.env, CHECK_COLD_CHILD: name },
    encoding: 'utf8',
  });
  const line = out.trim().split('\n').at(-1) as string;
  return JSON.parse(line) as SetResult;
}

export async function main(): Promise<void> {
  lib = await import('../src/check/index.ts');
  const repeats = Math.max(1, Number(process.env.CHECK_REPEATS ?? 3));
  const coldRuns = Math.max(0, Number(process.env.CHECK_COLD_RUNS ?? 3));
  const c50Budget = Number(process.env.CHECK_C50_NOPART_MS ?? 10000);
  const { texts, jepsen, kv } = load();

  // Porcupine (Go, 2 cores) on this machine, from issue #7.
  const porcupine: Record<string, string> = {
    'jepsen (102 files)': '~620',
    'kv partitioned (6 files)': '~200',
    'kv c01+c10 unpartitioned': '~5000',
  };
  const sets: { name: string; run: () => SetResult }[] = [
    { name: 'jepsen (102 files)', run: () => runJepsen(jepsen, texts) },
    { name: 'kv partitioned (6 files)', run: () => runKv(kv, texts, true) },
    // (c50-ok alone is listed among the files below.)
    ...kv.map((f) => ({ name: `  ${f} partitioned`, run: () => runKv([f], texts, true) })),
    { name: 'kv c01+c10 unpartitioned', run: () => runKv(kv.slice(0, 4), texts, false) },
    ...kv.slice(0, 4).map((f) => ({ name: `  ${f} unpartitioned`, run: () => runKv([f], texts, false) })),
  ];
  const rows: Row[] = [];
  const cold = new Map<string, number>();
  for (const set of coldSets) {
    if (coldRuns === 0) break;
    const times: number[] = [];
    for (let i = 0; i < coldRuns; i++) {
      progress(`check bench: ${set.name} cold process ${i + 1}/${coldRuns}`);
      times.push(runCold(set.name).ms);
    }
    times.sort((a, b) => a - b);
    cold.set(set.label, times[Math.floor(times.length / 2)] as number);
  }
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
      'cold ms': cold.has(set.name) ? Math.round(cold.get(set.name) as number) : '',
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
        'cold ms': '',
        'first ms': Math.round(res.ms),
        'best ms': Math.round(res.ms),
        'porcupine ms': '',
        steps: res.steps,
        verdicts: res.verdicts.join(','),
      });
    }
  }
  printTable('Linearizability checker on Porcupine test data (times include parsing)', rows);
  writeResults('check', rows, { repeats, c50Budget, coldRuns });
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const child = process.env.CHECK_COLD_CHILD;
  if (child !== undefined) {
    const module = process.env.CHECK_COLD_MODULE;
    lib = (await import(module !== undefined ? pathToFileURL(module).href : '../src/check/index.ts')) as CheckModule;
    const data = load();
    process.stdout.write(JSON.stringify(coldSet(child, data)) + '\n');
  } else await main();
}
