// A virtual board's VM thread may be started before the board is known (emulator/worker-thread.ts): the CLI does it
// before commander loads when its command line names a virtual port (cli/early-start.ts), so the thread's start
// overlaps the CLI's module loading. The board must then run on that thread, and a thread nobody took must never
// hold a process open or touch a board.
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { dropEarlyWorker, startWorkerEarly } from '../emulator/worker-thread.js';
import { boardsDir } from '../emulator/board-store.js';
import { autoConnectsVirtual, firstPort } from '../cli/early-start.js';
import type { Config } from '../cli/config.js';
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

/** The phases of a BOARDCTL_DEBUG=timing trace, in order. */
const phases = (stderr: string) => stderr.split('\n').flatMap((l) => /^boardctl timing: .* ms {2}(.+)$/.exec(l)?.[1] ?? []);

describe('the CLI starts the thread before its command line loads', () => {
  const none: Config = { boards: {}, groups: {}, commands: {}, files: [] };
  const env = {} as NodeJS.ProcessEnv;

  it('for the port the first command connects to: -p, --port=, connect, $BOARDCTL_PORT, the config (names resolved)', () => {
    expect(firstPort(['-p', 'virtual', 'exec', 'pass'], none, env)).toBe('virtual');
    expect(firstPort(['--port=virtual:b', 'exec', 'pass'], none, env)).toBe('virtual:b');
    expect(firstPort(['--baud', '9600', '--port', 'virtual:b', 'eval', '1'], none, env)).toBe('virtual:b');
    expect(firstPort(['-p', '/dev/ttyUSB0', 'connect', 'virtual:c', 'exec', 'x'], none, env)).toBe('virtual:c');
    expect(firstPort(['exec', 'x', '+', 'connect', 'virtual:c', 'exec', 'y'], none, { BOARDCTL_PORT: 'virtual:e' })).toBe('virtual:e');
    expect(firstPort(['-p', 'virtual:f?faults=drop:1e-4,seed=7', 'exec', 'x'], none, env)).toBe('virtual:f?faults=drop:1e-4,seed=7');
    const config: Config = { ...none, port: 'kitchen', boards: { kitchen: 'virtual:k', desk: 'virtual:d' } };
    expect(firstPort([], config, env)).toBe('virtual:k'); // no command: the REPL
    expect(firstPort(['-p', 'desk', 'exec', 'x'], config, env)).toBe('virtual:d');
    expect(firstPort(['-p', 'u0', 'exec', 'x'], config, env)).toBe('u0');
  });

  it('not where the command line asks for help, runs on several boards, or leaves the port to auto-detection', () => {
    expect(firstPort(['exec', 'x'], none, env)).toBeUndefined();
    expect(firstPort(['connect', 'auto', 'exec', 'x'], none, { BOARDCTL_PORT: 'virtual' })).toBeUndefined();
    expect(firstPort(['-p', 'virtual', 'exec', '--help'], none, env)).toBeUndefined();
    expect(firstPort(['-p', 'virtual:a,virtual:b', 'exec', 'x'], none, env)).toBeUndefined();
    expect(firstPort(['-p', 'virtual:*', 'exec', 'x'], none, env)).toBeUndefined();
    expect(firstPort(['--all', 'exec', 'x'], none, { BOARDCTL_PORT: 'virtual' })).toBeUndefined();
    expect(firstPort(['-p', 'rack', 'exec', 'x'], { ...none, groups: { rack: ['virtual:a'] } }, env)).toBeUndefined();
  });

  it('for a command left to auto-detection where no tty is a USB one (Linux sysfs, here a folder of links like it)', () => {
    const sys = mkdtempSync(join(tmpdir(), 'boardctl-ttys-'));
    try {
      symlinkSync('../../devices/pnp0/00:00/00:00:0/00:00:0.0/tty/ttyS0', join(sys, 'ttyS0'));
      symlinkSync('../../devices/virtual/tty/tty1', join(sys, 'tty1'));
      const auto = (argv: string[], config = none, e = env) => autoConnectsVirtual(argv, config, e, sys);
      const linux = process.platform === 'linux';
      expect(auto(['exec', 'x'])).toBe(linux);
      expect(auto([])).toBe(linux); // the REPL
      expect(auto(['connect', 'auto', 'ls'])).toBe(linux);
      // A port given anywhere, a command that opens no board this way, help, a fleet: not this rule's.
      expect(auto(['-p', '/dev/ttyUSB0', 'exec', 'x'])).toBe(false);
      expect(auto(['exec', 'x'], none, { BOARDCTL_PORT: 'u0' })).toBe(false);
      expect(auto(['exec', 'x'], { ...none, port: 'u0' })).toBe(false);
      for (const argv of [['devs'], ['sim', 'list'], ['flash', 'chip-id'], ['exec', '--help'], ['--all', 'exec', 'x']]) expect(auto(argv), argv.join(' ')).toBe(false);
      // A USB serial port is there: auto-connect tries it first.
      symlinkSync('../../devices/pci0000:00/0000:00:14.0/usb1/1-2/1-2:1.0/ttyUSB0/tty/ttyUSB0', join(sys, 'ttyUSB0'));
      expect(auto(['exec', 'x'])).toBe(false);
    } finally {
      rmSync(sys, { recursive: true, force: true });
    }
  });

  it('an exec runs on that thread: it starts before the CLI bundle compiles, and no other starts', async () => {
    const home = mkdtempSync(join(tmpdir(), 'boardctl-early-'));
    try {
      const run = await boardctl(['-p', 'virtual', 'exec', 'print(6*7)'], { BOARDCTL_HOME: home, BOARDCTL_DEBUG: 'timing' }, [], 60_000);
      expect(run).toMatchObject({ code: 0, stdout: expect.stringMatching(/^42\r?\n$/) });
      const trace = phases(run.stderr);
      expect(trace.indexOf('board VM thread started')).toBeGreaterThanOrEqual(0);
      // The bin starts it (cli/boardctl.ts), before it reads the code cache and compiles the bundle.
      expect(trace.indexOf('board VM thread started')).toBeLessThan(trace.findIndex((p) => p.startsWith('code cache')));
      expect(trace.indexOf('code cache not used (none yet)')).toBeLessThan(trace.indexOf('node started, CLI modules loaded'));
      // A second thread (the board's own) would load the worker's modules too.
      expect(trace.filter((p) => p === 'board: worker modules loaded')).toHaveLength(1);
      expect(trace).toContain('board: config received');
      // The thread's own first line, once Node's start of it is done, comes before it reads its code cache.
      expect(trace.indexOf('board: thread running')).toBeGreaterThan(trace.indexOf('board VM thread started'));
      expect(trace.indexOf('board: thread running')).toBeLessThan(trace.findIndex((p) => p.startsWith('board: code cache')));
    } finally {
      rmSync(home, { recursive: true, force: true });
    }
  }, 90_000);

  // Where this machine has a USB serial port (or is no Linux), auto-detection may find a board: nothing to see.
  const noUsb = autoConnectsVirtual(['exec', 'x'], none, env);
  it.skipIf(!noUsb)('an exec left to auto-detection starts it as early where it will get the virtual board', async () => {
    const home = mkdtempSync(join(tmpdir(), 'boardctl-early-'));
    try {
      const run = await boardctl(['exec', 'print(6*7)'], { BOARDCTL_HOME: home, BOARDCTL_DEBUG: 'timing', XDG_CONFIG_HOME: join(home, 'config') }, [], 60_000);
      expect(run).toMatchObject({ code: 0, stdout: expect.stringMatching(/^42\r?\n$/) });
      expect(run.stderr).toContain('no board found; using the virtual board');
      const trace = phases(run.stderr);
      expect(trace.indexOf('board VM thread started')).toBeGreaterThanOrEqual(0);
      expect(trace.indexOf('board VM thread started')).toBeLessThan(trace.findIndex((p) => p.startsWith('code cache')));
      expect(trace.filter((p) => p === 'board: worker modules loaded')).toHaveLength(1);
    } finally {
      rmSync(home, { recursive: true, force: true });
    }
  }, 90_000);
  if (!noUsb) console.log('skipped: the early thread for auto-detection (this machine has a USB serial port, or is not Linux)');

  it('a command that never opens the board costs the thread only: no board is made, booted or locked', async () => {
    const home = mkdtempSync(join(tmpdir(), 'boardctl-early-'));
    try {
      const run = await boardctl(['-p', 'virtual', 'devs'], { BOARDCTL_HOME: home, BOARDCTL_DEBUG: 'timing' });
      expect(run.code).toBe(0);
      const trace = phases(run.stderr);
      expect(trace).toContain('board VM thread started');
      expect(trace).not.toContain('board: config received');
      expect(existsSync(boardsDir(home))).toBe(false);
    } finally {
      rmSync(home, { recursive: true, force: true });
    }
  });
});
