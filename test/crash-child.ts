// Running a crash-test child process: `node --import tsx <script> <args>` whose
// stdout is a line protocol (`kind value`), killed with SIGKILL when the test
// decides. Shared by the storage crash tests.
import { spawn } from 'node:child_process';

/**
 * Start `script` (a path) with `args` under tsx and hand each stdout line, split
 * at the first space, to `onLine` together with `kill` (SIGKILL the child).
 * Resolves once the child is gone after `kill`; rejects if it exits on its own
 * with a code, or if `onLine` throws.
 */
export async function runCrashChild(script: string, args: readonly string[], onLine: (kind: string, value: string, kill: () => void) => void): Promise<void> {
  const proc = spawn(process.execPath, ['--import', import.meta.resolve('tsx'), script, ...args], { cwd: process.cwd(), stdio: ['ignore', 'pipe', 'inherit'] });
  const exited = new Promise<number | null>((r) => proc.once('exit', (code) => r(code)));
  let killed = false;
  const kill = (): void => {
    killed = true;
    proc.kill('SIGKILL');
  };
  let buf = '';
  let failure: unknown;
  proc.stdout.on('data', (chunk: Buffer) => {
    buf += chunk.toString();
    let nl: number;
    while ((nl = buf.indexOf('\n')) >= 0) {
      const line = buf.slice(0, nl);
      buf = buf.slice(nl + 1);
      const sp = line.indexOf(' ');
      try {
        onLine(sp < 0 ? line : line.slice(0, sp), sp < 0 ? '' : line.slice(sp + 1), kill);
      } catch (err) {
        failure ??= err;
        kill();
      }
    }
  });
  const code = await exited;
  if (failure !== undefined) throw failure;
  if (code !== null && !killed) throw new Error(`child exited with ${code}`);
}
