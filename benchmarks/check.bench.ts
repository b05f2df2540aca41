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
//
// "user models (generic path)": the same sets checked with models defined
// here the way an outside harness would write them, after Porcupine's Go test
// models (a register with a number state; kv with a string state built by
// concatenation, partitioned by key; kv unpartitioned with a Map state copied
// on each write and an `equal`). They have no compiler, so they take the
// generic path (`model.step`, state interning, the transition cache).
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { printTable, writeResults, progress, type Row } from './lib.ts';
import type { KvInput, KvOutput, Model, RegisterInput, RegisterOutput, Verdict } from '../src/check/index.ts';

type CheckModule = typeof import('../src/check/index.ts');
let lib: CheckModule;

const dir = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'shared', 'testdata', 'porcupine');

interface SetResult {
  ms: number;
  steps: number;
  verdicts: Verdict[];
}

// Porcupine-style user models (see the top of the file).
type RegModel = Model<number | undefined, RegisterInput, RegisterOutput>;
type KvModelAny = Model<unknown, KvInput, KvOutput>;

/** Porcupine's etcd register model, written as a user would. */
const userRegister: RegModel = {
  init: () => undefined,
  step: (state, input, output) => {
    if (input.type === 'read') return [output === undefined || output.value === state, state];
    if (input.type === 'write') return [true, input.value];
    const swaps = state === input.expected;
    return [output?.ok === undefined || output.ok === swaps, swaps ? input.value : state];
  },
};

/** Porcupine's kvModel: one key's value as a string, partitioned by key. */
const userKvPartitioned: Model<string, KvInput, KvOutput> = {
  init: () => '',
  step: (state, input, output) => {
    if (input.type === 'get') return [output === undefined || output.value === state, state];
    if (input.type === 'put') return [true, input.value];
    if (input.type === 'append') return [true, state + input.value];
    return [false, state];
  },
  partition: (history) => lib.partitionByKey(history),
};

/** Porcupine's kvNoPartitionModel: a Map copied on each write, with `equal`. */
const userKvMap: Model<Map<string, string>, KvInput, KvOutput> = {
  init: () => new Map(),
  step: (state, input, output) => {
    const cur = state.get(input.key) ?? '';
    if (input.type === 'get') return [output === undefined || output.value === cur, state];
    if (input.type !== 'put' && input.type !== 'append') return [false, state];
    const next = new Map(state);
    next.set(input.key, input.type === 'put' ? input.value : cur + input.value);
    return [true, next];
  },
  equal: (a, b) => {
    if (a.size !== b.size) return false;
    for (const [k, v] of a) if (b.get(k) !== v) return false;
    return true;
  },
};

function runJepsen(files: readonly string[], texts: ReadonlyMap<string, string>, user = false): SetResult {
  const t0 = performance.now();
  let steps = 0;
  const verdicts: Verdict[] = [];
  for (const f of files) {
    const history = lib.parseJepsenLog(texts.get(f) as string);
    const r = user ? lib.checkLinearizability(userRegister, history) : lib.checkLinearizability(lib.registerModel, history);
    steps += r.steps;
    verdicts.push(r.result);
  }
  return { ms: performance.now() - t0, steps, verdicts };
}

function runKv(files: readonly string[], texts: ReadonlyMap<string, string>, partition: boolean, timeoutMs?: number, user = false): SetResult {
  const t0 = performance.now();
  let steps = 0;
  const verdicts: Verdict[] = [];
  const model: KvModelAny = user
    ? ((partition ? userKvPartitioned : userKvMap) as unknown as KvModelAny)
    : (lib.porcupineKvModel as unknown as KvModelAny);
  for (const f of files) {
    const opts = timeoutMs === undefined ? { partition } : { partition, timeoutMs };
    const r = lib.checkLinearizability(model, lib.parseKvLog(texts.get(f) as string), opts);
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
  const user = name.startsWith('user-');
  const set = user ? name.slice(5) : name;
  if (set === 'jepsen') return runJepsen(d.jepsen, d.texts, user);
  if (set === 'kv-partitioned') return runKv(d.kv, d.texts, true, undefined, user);
  if (set === 'c50-ok-partitioned') return runKv(['kv/c50-ok.txt'], d.texts, true, undefined, user);
  return runKv(d.kv.slice(0, 4), d.texts, false, user ? 60_000 : undefined, user);
}

const coldSets: { name: string; label: string }[] = [
  { name: 'jepsen', label: 'jepsen (102 files)' },
  { name: 'kv-partitioned', label: 'kv partitioned (6 files)' },
  { name: 'c50-ok-partitioned', label: '  kv/c50-ok.txt partitioned' },
  { name: 'kv-unpartitioned', label: 'kv c01+c10 unpartitioned' },
  { name: 'user-jepsen', label: 'user models: jepsen (102 files)' },
  { name: 'user-kv-partitioned', label: 'user models: kv partitioned (6 files)' },
  { name: 'user-c50-ok-partitioned', label: 'user models:   kv/c50-ok.txt partitioned' },
  { name: 'user-kv-unpartitioned', label: 'user models: kv c01+c10 unpartitioned' },
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
    'user models: jepsen (102 files)': '~620',
    'user models: kv partitioned (6 files)': '~200',
    'user models:   kv/c50-ok.txt partitioned': '~180',
    'user models: kv c01+c10 unpartitioned': '~5000',
  };
  const sets: { name: string; run: () => SetResult }[] = [
    { name: 'jepsen (102 files)', run: () => runJepsen(jepsen, texts) },
    { name: 'kv partitioned (6 files)', run: () => runKv(kv, texts, true) },
    // (c50-ok alone is listed among the files below.)
    ...kv.map((f) => ({ name: `  ${f} partitioned`, run: () => runKv([f], texts, true) })),
    { name: 'kv c01+c10 unpartitioned', run: () => runKv(kv.slice(0, 4), texts, false) },
    ...kv.slice(0, 4).map((f) => ({ name: `  ${f} unpartitioned`, run: () => runKv([f], texts, false) })),
    // User models (generic path).
    { name: 'user models: jepsen (102 files)', run: () => runJepsen(jepsen, texts, true) },
    { name: 'user models: kv partitioned (6 files)', run: () => runKv(kv, texts, true, undefined, true) },
    { name: 'user models:   kv/c50-ok.txt partitioned', run: () => runKv(['kv/c50-ok.txt'], texts, true, undefined, true) },
    { name: 'user models: kv c01+c10 unpartitioned', run: () => runKv(kv.slice(0, 4), texts, false, 60_000, true) },
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
