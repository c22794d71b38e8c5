// A reader that leaves early (`boardctl exec … | head`): boardctl stops the board's program and ends quietly with
// a SIGPIPE status, instead of crashing on EPIPE with a stack trace.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { boardctl } from './helpers/boardctl.js';
import { ensureBuilt, MAIN } from './helpers/built-cli.js';

let home: string;
beforeAll(async () => {
  await ensureBuilt();
  home = mkdtempSync(join(tmpdir(), 'boardctl-epipe-'));
});
afterAll(() => rmSync(home, { recursive: true, force: true }));

it('stops the program, says nothing and exits 141 when stdout is closed by its reader', async () => {
  const env = { ...process.env, BOARDCTL_PORT: '', BOARDCTL_HOME: home };
  const program = "for i in range(300000): print(i)\nopen('finished', 'w').close()";
  const child = spawn(process.execPath, [MAIN, '-p', 'virtual', 'exec', program], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (d) => (stderr += d));
  const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
  try {
    // Read until the program is printing, then leave as `head` does.
    await new Promise<void>((resolve) => child.stdout.once('data', () => resolve()));
    child.stdout.destroy();
    const code = await new Promise<number | null>((resolve) => child.on('close', (c) => resolve(c)));
    expect(code).toBe(141);
    expect(stderr).not.toMatch(/EPIPE|Error|at /);
  } finally {
    clearTimeout(timer);
    child.kill('SIGKILL');
  }
  // The program was stopped before its end: the file its last line makes is not on the board.
  const ls = await boardctl(['-p', 'virtual', 'fs', 'ls', ':'], { BOARDCTL_HOME: home });
  expect(ls.code).toBe(0);
  expect(ls.stdout).not.toContain('finished');
}, 60_000);
