// `boardctl sim serve` (and `share`) as a child process, the way users run them: started, read up to its first
// line(s), stopped with SIGTERM.
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';

export const cliPath = join(new URL('../..', import.meta.url).pathname, 'dist/cli/main.js');

/** Start `boardctl ARGS…` and resolve with its first `lines` lines of stdout. */
export function startCli(args: string[], env: NodeJS.ProcessEnv, lines = 1): Promise<{ child: ChildProcess; lines: string[] }> {
  const child = spawn(process.execPath, [cliPath, ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] });
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
