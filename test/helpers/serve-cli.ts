// `boardctl sim serve` (and `share`) as a child process, the way users run them: started, read up to its first
// line(s), stopped with SIGTERM.
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';

export const cliPath = join(new URL('../..', import.meta.url).pathname, 'dist/cli/boardctl.cjs');

const running = new Set<ChildProcess>();

/** Stop every server this test file started and has not stopped (afterAll: a timed-out test skips its finally). */
export async function stopAllCli(): Promise<void> {
  await Promise.all([...running].map(stopCli));
}

/** Start `boardctl ARGS…` (under `umask` if given) and resolve with its first `lines` lines of stdout. */
export function startCli(args: string[], env: NodeJS.ProcessEnv, lines = 1, umask?: string): Promise<{ child: ChildProcess; lines: string[] }> {
  const argv = [process.execPath, cliPath, ...args];
  const child = umask
    ? spawn('sh', ['-c', `umask ${umask}; exec "$0" "$@"`, ...argv], { env, stdio: ['ignore', 'pipe', 'pipe'] })
    : spawn(argv[0]!, argv.slice(1), { env, stdio: ['ignore', 'pipe', 'pipe'] });
  running.add(child);
  child.once('exit', () => running.delete(child));
  let stderr = '';
  child.stderr!.on('data', (d) => (stderr += d));
  return new Promise((resolve, reject) => {
    const got: string[] = [];
    const rl = createInterface({ input: child.stdout! });
    rl.on('line', (line) => {
      got.push(line);
      if (got.length === lines) resolve({ child, lines: got });
    });
    child.once('exit', (code) => reject(new Error(`boardctl ${args.join(' ')} exited ${code}: ${stderr}`)));
  });
}

export async function stopCli(child: ChildProcess): Promise<number | null> {
  if (child.exitCode !== null) return child.exitCode;
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  child.kill('SIGTERM');
  return exited;
}

/** Resident memory of a process, in MiB. */
export function rssMiB(pid: number): number {
  return Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))![1]) / 1024;
}
