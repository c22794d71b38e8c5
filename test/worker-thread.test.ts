// A virtual board's VM thread may be started before the board is known (emulator/worker-thread.ts): the CLI does it
// as soon as it sees a virtual port, so the thread's start overlaps the board's module loading. The board must then
// run on that thread, and a thread nobody took must never hold a process open.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { dropEarlyWorker, startWorkerEarly } from '../emulator/worker-thread.js';
import { ensureBuilt, ROOT } from './helpers/built-cli.js';
import { boardctl } from './helpers/boardctl.js';
import { TestBoard } from './helpers/test-board.js';

let board: TestBoard | undefined;
beforeAll(() => ensureBuilt(), 180_000);
afterEach(async () => {
  await board?.close();
  board = undefined;
  await dropEarlyWorker();
});

describe('a board VM thread started early', () => {
  it('is the thread the next board boots and runs on, and goes when that board closes', async () => {
    const early = startWorkerEarly();
    const exited = new Promise((resolve) => early.once('exit', resolve));
    board = await TestBoard.open();
    expect(await board.run('import os\nprint(6 * 7, os.listdir())')).toBe("42 ['boot.py']\n");
    await board.close();
    board = undefined;
    // Had the board started a thread of its own, this one would still be waiting for a board.
    await exited;
  });

  it('does not keep a process alive when no board takes it', async () => {
    const script = `import('${join(ROOT, 'dist/emulator/worker-thread.js')}').then((m) => { m.startWorkerEarly(); console.log('started'); })`;
    const run = await new Promise<{ code: number | null; out: string }>((resolve, reject) => {
      const child = spawn(process.execPath, ['-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
      let out = '';
      child.stdout.on('data', (d) => (out += d));
      const timer = setTimeout(() => child.kill('SIGKILL'), 20_000);
      child.on('error', reject);
      child.on('close', (code) => {
        clearTimeout(timer);
        resolve({ code, out });
      });
    });
    expect(run).toEqual({ code: 0, out: 'started\n' });
  });

  it('lets the CLI end at once with its error when the virtual board it named does not exist', async () => {
    const home = mkdtempSync(join(tmpdir(), 'boardctl-early-'));
    try {
      const run = await boardctl(['-p', 'virtual:nosuch', 'exec', 'pass'], { BOARDCTL_HOME: home });
      expect(run.code).not.toBeNull(); // not killed at the helper's deadline
      expect(run.code).not.toBe(0);
      expect(run.stderr).toMatch(/nosuch/);
    } finally {
      rmSync(home, { recursive: true, force: true });
    }
  });
});
