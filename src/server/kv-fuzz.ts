/**
 * A long KV simulation sweep for the command line (`npm run fuzz -- --kv`):
 * `kvFuzzMain(['--seeds', '100', '--seed', '1', '--duration', '20000'])`
 * runs seeds in sequence, prints one line per seed and a summary, and
 * resolves with the exit code (1 on a violation, with the replay seed).
 */
import { runKvSimulation } from './kv-simulation.ts';

function arg(argv: readonly string[], name: string, dflt: number): number {
  const i = argv.indexOf(name);
  if (i < 0) return dflt;
  const v = Number(argv[i + 1]);
  return Number.isFinite(v) ? v : dflt;
}

/** Run the sweep; `write` receives output lines. Resolves with the process exit code. */
export async function kvFuzzMain(argv: readonly string[], write: (line: string) => void): Promise<number> {
  const seeds = arg(argv, '--seeds', 50);
  const first = arg(argv, '--seed', 1);
  const duration = arg(argv, '--duration', 20_000);
  const nodes = arg(argv, '--nodes', 3);
  let failures = 0;
  let ops = 0;
  let unknown = 0;
  for (let seed = first; seed < first + seeds; seed++) {
    const r = await runKvSimulation({ seed, durationMs: duration, nodes });
    ops += r.stats.succeeded;
    if (r.linearizable === 'unknown') unknown++;
    write(`seed ${seed}: ${r.ok ? 'ok' : 'VIOLATION'} ${r.linearizable} ops=${r.stats.ops} crashes=${r.stats.crashes} isolations=${r.stats.isolations} memberChanges=${r.stats.memberChanges} rev=${r.stats.revision}`);
    if (!r.ok) {
      failures++;
      for (const v of r.violations) write(`  ${v}`);
      write(`  replay: npm run fuzz -- --kv --seed ${seed} --seeds 1 --duration ${duration} --nodes ${nodes}`);
    }
  }
  write(`kv fuzz: ${seeds} seeds, ${failures} violations, ${unknown} undecided checks, ${ops} acknowledged operations`);
  return failures > 0 ? 1 : 0;
}
