// The built CLI as users run it: `node dist/cli/boardctl.cjs …` in a child process (see built-cli.ts for the build).
import { spawn } from 'node:child_process';
import { MAIN } from './built-cli.js';

export interface CliRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Run boardctl with `args`; killed after `timeoutMs` (then code is null). BOARDCTL_PORT is cleared. */
export function boardctl(args: string[], env: Record<string, string> = {}, nodeArgs: string[] = [], timeoutMs = 20_000): Promise<CliRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [...nodeArgs, MAIN, ...args], {
      env: { ...process.env, BOARDCTL_PORT: '', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    const timer = setTimeout(() => {
      stderr += `\n[test: killed after ${timeoutMs} ms]\n`; // so a failure says the run was cut, not how it ended
      child.kill('SIGKILL');
    }, timeoutMs);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}
