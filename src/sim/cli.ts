/**
 * `npm run fuzz -- [options]`: run simulation seeds in sequence.
 *
 *   --seeds N            how many seeds (default 100), from --from (default 1)
 *   --seed S             run exactly seed S (replay)
 *   --nodes K            cluster size (default 5)
 *   --ticks T            fault-phase ticks per seed (default 400)
 *   --faults F           swarm (default) | all | none | comma list of
 *                        drop,dup,delay,reorder,partition,crash,pause,slowdisk,skew
 *   --membership         random membership changes
 *   --no-liveness        skip the liveness phase
 *   --snapshot-count N   snapshot every N entries (default 200)
 *   --catch-up N         entries kept behind a snapshot (default 50)
 *   --mutation M         plant a core bug: voteTwice | commitWithoutQuorum
 *   --trace FILE         write the (single-seed) trace as JSON lines
 *   --shrink             shrink the first failure and write its decision log
 *   --schedule FILE      replay a (shrunk) decision log for --seed
 *   --check-determinism  run each seed twice and compare traces
 *   --keep-going         do not stop at the first failing seed
 *   --workload SPEC      clients=3,read=0.1,idle=0.15,think=2 (the default client load)
 *   --kv                 run the KV simulation instead (StrataNodes, linearizability
 *                        + hashKV agreement); takes --seeds, --seed, --nodes, --duration MS
 *
 * Prints a progress line per seed and a summary table; exits 1 on a
 * violation, printing the seed, profile, states and a replay command.
 */
import { writeFileSync, readFileSync } from 'node:fs';
import { checkDeterminism } from './determinism.ts';
import type { FaultAction } from './faults.ts';
import { FAULT_FAMILIES, describeProfile, profileOf } from './profile.ts';
import type { FaultFamily, FaultProfile } from './profile.ts';
import { shrinkRun } from './shrink.ts';
import { Simulation } from './simulation.ts';
import { workloadFromSpec } from './workload.ts';
import type { FaultsOption, RunOptions, SimResult, SimulationOptions } from './simulation.ts';

interface Args {
  seeds: number;
  from: number;
  seed: number | undefined;
  nodes: number;
  ticks: number;
  faults: string;
  membership: boolean;
  liveness: boolean;
  snapshotCount: number;
  mutation: string | undefined;
  trace: string | undefined;
  shrink: boolean;
  schedule: string | undefined;
  determinism: boolean;
  keepGoing: boolean;
  workload: string | undefined;
  catchUp: number | undefined;
}

function out(s: string): void {
  process.stdout.write(s + '\n');
}

function parse(argv: readonly string[]): Args {
  const a: Args = {
    seeds: 100,
    from: 1,
    seed: undefined,
    nodes: 5,
    ticks: 400,
    faults: 'swarm',
    membership: false,
    liveness: true,
    snapshotCount: 200,
    mutation: undefined,
    trace: undefined,
    shrink: false,
    schedule: undefined,
    determinism: false,
    keepGoing: false,
    workload: undefined,
    catchUp: undefined,
  };
  for (let i = 0; i < argv.length; i++) {
    const k = argv[i] as string;
    const v = (): string => {
      const x = argv[++i];
      if (x === undefined) throw new Error(`${k} needs a value`);
      return x;
    };
    const num = (): number => {
      const x = Number(v());
      if (!Number.isFinite(x)) throw new Error(`${k} needs a number`);
      return x;
    };
    if (k === '--seeds') a.seeds = num();
    else if (k === '--from') a.from = num();
    else if (k === '--seed') a.seed = num();
    else if (k === '--nodes') a.nodes = num();
    else if (k === '--ticks') a.ticks = num();
    else if (k === '--faults') a.faults = v();
    else if (k === '--membership') a.membership = true;
    else if (k === '--no-liveness') a.liveness = false;
    else if (k === '--snapshot-count') a.snapshotCount = num();
    else if (k === '--mutation') a.mutation = v();
    else if (k === '--trace') a.trace = v();
    else if (k === '--shrink') a.shrink = true;
    else if (k === '--schedule') a.schedule = v();
    else if (k === '--check-determinism') a.determinism = true;
    else if (k === '--keep-going') a.keepGoing = true;
    else if (k === '--workload') a.workload = v();
    else if (k === '--catch-up') a.catchUp = num();
    else if (k === '--help' || k === '-h') {
      out('usage: npm run fuzz -- [--seeds N] [--from S] [--seed S] [--nodes K] [--ticks T] [--faults swarm|all|none|drop,crash,...]');
      out('       [--membership] [--no-liveness] [--snapshot-count N] [--mutation voteTwice|commitWithoutQuorum]');
      out('       [--trace FILE] [--shrink] [--schedule FILE] [--check-determinism] [--keep-going] [--workload SPEC]');
      out('       npm run fuzz -- --kv [--seeds N] [--seed S] [--nodes K] [--duration MS]');
      process.exit(0);
    } else throw new Error(`unknown option ${k}`);
  }
  return a;
}

function faultsOf(spec: string): FaultsOption {
  if (spec === 'swarm' || spec === 'all' || spec === 'none') return spec;
  const fams = spec.split(',').map((s) => s.trim()).filter((s) => s.length > 0);
  for (const f of fams) if (!(FAULT_FAMILIES as readonly string[]).includes(f)) throw new Error(`unknown fault family ${f}`);
  return profileOf(fams as FaultFamily[]);
}

function replayCommand(a: Args, seed: number, scheduleFile?: string): string {
  const parts = ['npm run fuzz --', `--seed ${seed}`, `--nodes ${a.nodes}`, `--ticks ${a.ticks}`];
  if (a.faults !== 'swarm') parts.push(`--faults ${a.faults}`);
  if (a.membership) parts.push('--membership');
  if (!a.liveness) parts.push('--no-liveness');
  if (a.snapshotCount !== 200) parts.push(`--snapshot-count ${a.snapshotCount}`);
  if (a.catchUp !== undefined) parts.push(`--catch-up ${a.catchUp}`);
  if (a.mutation !== undefined) parts.push(`--mutation ${a.mutation}`);
  if (a.workload !== undefined) parts.push(`--workload ${a.workload}`);
  if (scheduleFile !== undefined) parts.push(`--schedule ${scheduleFile}`);
  return parts.join(' ');
}

function report(r: SimResult): void {
  const v = r.violations[0];
  if (v === undefined) return;
  out(`\nVIOLATION seed=${r.seed} tick=${v.tick} invariant=${v.invariant}`);
  out(`  ${v.message}`);
  out(`  profile: ${r.profileText}`);
  if (v.states !== undefined) out(v.states);
  if (r.violations.length > 1) out(`  (+${r.violations.length - 1} more violations)`);
}

async function main(): Promise<number> {
  const a = parse(process.argv.slice(2));
  const seeds = a.seed !== undefined ? [a.seed] : Array.from({ length: a.seeds }, (_, i) => a.from + i);
  const testFaults =
    a.mutation === undefined
      ? undefined
      : a.mutation === 'voteTwice'
        ? { voteTwice: true }
        : a.mutation === 'commitWithoutQuorum'
          ? { commitWithoutQuorum: true }
          : undefined;
  if (a.mutation !== undefined && testFaults === undefined) throw new Error(`unknown mutation ${a.mutation}`);
  let schedule: FaultAction[] | undefined;
  let scheduleProfile: FaultProfile | undefined;
  if (a.schedule !== undefined) {
    const doc = JSON.parse(readFileSync(a.schedule, 'utf8')) as { schedule: FaultAction[]; profile: FaultProfile; ticks: number; liveness: boolean };
    schedule = doc.schedule;
    scheduleProfile = doc.profile;
    a.ticks = doc.ticks;
    a.liveness = doc.liveness;
  }
  const traceLines: string[] = [];
  const totals = { runs: 0, failed: 0, elections: 0, commits: 0, delivered: 0, ticks: 0, steps: 0 };
  const cpu0 = process.cpuUsage();
  let firstFailure: { r: SimResult; options: SimulationOptions; run: RunOptions } | undefined;
  for (const seed of seeds) {
    const options: SimulationOptions = {
      seed,
      nodes: a.nodes,
      faults: scheduleProfile ?? faultsOf(a.faults),
      membership: a.membership,
      snapshotCount: a.snapshotCount,
      ...(a.catchUp !== undefined ? { snapshotCatchUpEntries: a.catchUp } : {}),
      ...(a.workload !== undefined ? { workload: workloadFromSpec(a.workload) } : {}),
      ...(testFaults !== undefined ? { testFaults } : {}),
      ...(schedule !== undefined ? { schedule } : {}),
      ...(a.trace !== undefined && seeds.length === 1 ? { trace: { sink: (l: string) => traceLines.push(l) } } : {}),
    };
    const run: RunOptions = { ticks: a.ticks, liveness: a.liveness };
    if (a.determinism) {
      const d = await checkDeterminism(options, run);
      if (!d.ok) {
        out(`\nNONDETERMINISM seed=${seed} at event ${d.divergence?.index}:`);
        out(`  first:  ${JSON.stringify(d.divergence?.first)}`);
        out(`  second: ${JSON.stringify(d.divergence?.second)}`);
        return 1;
      }
    }
    const sim = new Simulation(options);
    const r = await sim.run(run);
    totals.runs++;
    totals.elections += r.stats.elections;
    totals.commits += r.stats.proposalsCommitted;
    totals.delivered += r.stats.messagesDelivered;
    totals.ticks += r.stats.ticks;
    totals.steps += r.stats.steps;
    const line = `seed ${seed} (${totals.runs}/${seeds.length}) ${r.ok ? 'ok' : 'FAIL'} hash=${r.traceHash} elections=${r.stats.elections} commits=${r.stats.proposalsCommitted} crashes=${r.stats.crashes} | ${r.profileText}`;
    if (process.stderr.isTTY) process.stderr.write(`\r\x1b[K${line.slice(0, 160)}`);
    else process.stderr.write(line + '\n');
    if (!r.ok) {
      totals.failed++;
      report(r);
      out(`  replay: ${replayCommand(a, seed, a.schedule)}`);
      if (firstFailure === undefined) firstFailure = { r, options, run };
      if (!a.keepGoing) break;
    }
  }
  if (process.stderr.isTTY) process.stderr.write('\n');
  if (a.trace !== undefined && traceLines.length > 0) {
    writeFileSync(a.trace, traceLines.join('\n') + '\n');
    out(`trace: ${traceLines.length} events written to ${a.trace}`);
  }
  const cpu = process.cpuUsage(cpu0);
  const cpuSec = (cpu.user + cpu.system) / 1e6;
  const simSec = (totals.ticks * 100) / 1000;
  out('');
  out('| seeds | failed | elections | commits | simulated s | commits/sim s | ticks/cpu s | msgs delivered/cpu s | cpu s |');
  out('|---|---|---|---|---|---|---|---|---|');
  out(
    `| ${totals.runs} | ${totals.failed} | ${totals.elections} | ${totals.commits} | ${simSec.toFixed(0)} | ${(totals.commits / Math.max(simSec, 1e-9)).toFixed(1)} | ${(totals.ticks / cpuSec).toFixed(0)} | ${(totals.delivered / cpuSec).toFixed(0)} | ${cpuSec.toFixed(1)} |`,
  );
  if (firstFailure !== undefined && a.shrink) {
    out('\nshrinking…');
    const s = await shrinkRun(firstFailure.options, firstFailure.run, firstFailure.r, {
      onProgress: (m) => process.stderr.write(m + '\n'),
    });
    if (s !== undefined) {
      const file = `sim-failure-${s.seed}.json`;
      writeFileSync(file, JSON.stringify({ seed: s.seed, ticks: s.ticks, liveness: s.liveness, profile: s.profile, schedule: s.schedule, violation: s.violation }, null, 2) + '\n');
      out(`shrunk: ${s.originalActions} → ${s.schedule.length} fault actions, ${s.ticks} ticks, profile ${describeProfile(s.profile)} (${s.runs} runs)`);
      out(`  ${s.violation.invariant}: ${s.violation.message}`);
      out(`  replay: ${replayCommand({ ...a, ticks: s.ticks, liveness: s.liveness }, s.seed, file)}`);
    }
  }
  return totals.failed > 0 ? 1 : 0;
}

// `--kv` runs the KV simulation instead: StrataNodes under a client workload,
// the history checked for linearizability and every member's hashKV compared.
const run = process.argv.includes('--kv')
  ? import('../server/kv-fuzz.ts').then(({ kvFuzzMain }) =>
      kvFuzzMain(
        process.argv.slice(2).filter((a) => a !== '--kv'),
        (line) => process.stdout.write(`${line}\n`),
      ),
    )
  : main();
run.then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(`${err instanceof Error ? err.stack ?? err.message : String(err)}\n`);
    process.exit(2);
  },
);
