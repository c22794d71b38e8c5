// The conformance lane's moving parts: where MicroPython's test suite and a CPython with pyserial are, boards
// served with `boardctl sim serve` (our own code path, as a user runs it), and run-tests.py driving one of them.
import { spawn, spawnSync, execFile, type ChildProcess } from 'node:child_process';
import { createWriteStream, existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { promisify } from 'node:util';
import type { Verdict } from '../../bench/micropython-tests-bare.js';
import { projectRoot as root, sharedFixture } from '../helpers/shared-dir.js';

export { root };
export const cli = join(root, 'dist/cli/boardctl.cjs');
const run = promisify(execFile);

export interface Fixture {
  /** tests/ of MicroPython v1.27.0, read in place. */
  testsDir: string;
  /** A CPython 3 that can `import serial` (run-tests.py drives a port through pyboard.py). */
  python: string;
}

/** The fixture and a usable python, or why the lane cannot run here. */
export function findFixture(): Fixture | { missing: string } {
  const testsDir = join(sharedFixture('micropython-tests'), 'tests');
  if (!existsSync(join(testsDir, 'run-tests.py'))) {
    return { missing: `${testsDir} is absent (MicroPython's test suite; set BOARDCTL_SHARED to the folder holding fixtures/)` };
  }
  // Debian's python3 has python3-serial (.ci/run installs it); a pyenv python3 first on PATH usually has not.
  const candidates = [process.env.BOARDCTL_PYTHON, '/usr/bin/python3', 'python3'].filter((p): p is string => !!p);
  for (const python of candidates) {
    if (spawnSync(python, ['-c', 'import serial'], { stdio: 'ignore' }).status === 0) return { testsDir, python };
  }
  return { missing: `no python3 with pyserial among ${candidates.join(', ')} (Debian: apt-get install python3-serial)` };
}

/** A board served on a pty by `boardctl sim serve NAME --link PATH`, in its own BOARDCTL_HOME. */
export class ServedBoard {
  private constructor(
    private readonly child: ChildProcess,
    readonly link: string,
  ) {}

  /** Create the board, copy `files` (host paths) to its root with `boardctl cp -r`, then serve it. */
  static async start(home: string, name: string, files: string[]): Promise<ServedBoard> {
    const env = { ...process.env, BOARDCTL_HOME: home };
    await run(process.execPath, [cli, 'sim', 'create', name], { env });
    if (files.length) await run(process.execPath, [cli, '-p', `virtual:${name}`, 'cp', '-r', ...files, ':'], { env });
    const link = join(home, `${name}.pty`);
    const child = spawn(process.execPath, [cli, 'sim', 'serve', name, '--link', link], {
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const board = new ServedBoard(child, link);
    await new Promise<void>((ok, fail) => {
      createInterface({ input: child.stdout! }).once('line', (line) =>
        line.startsWith('pty: ') ? ok() : fail(new Error(`sim serve said: ${line}`)),
      );
      child.once('exit', (code) => fail(new Error(`sim serve ${name} exited ${code}`)));
    }).catch(async (err) => {
      await board.stop();
      throw err;
    });
    return board;
  }

  async stop(): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    const exited = new Promise<void>((r) => this.child.once('exit', () => r()));
    this.child.kill('SIGTERM');
    const timer = setTimeout(() => this.child.kill('SIGKILL'), 5000);
    await exited;
    clearTimeout(timer);
  }
}

export type Result = [test: string, verdict: Verdict, reason: string];

export interface RunOutcome {
  results?: Result[];
  /** run-tests.py's exit code (1 when any test failed), or null when it was stopped. */
  code: number | null;
  /** The end of its output, for when it did not finish. */
  tail: string;
}

/** Processes started by runTestsPy that are still running, so a failing test can stop them. */
const running = new Set<ChildProcess>();

/**
 * run-tests.py on `files` (paths relative to tests/) against a served board, as its README says, results in
 * `resultDir` (_results.json, and TEST.exp / TEST.out for each failure). Stopped after deadlineMs.
 */
export function runTestsPy(
  fx: Fixture,
  opts: { link: string; resultDir: string; files: string[]; wiring: string; log: string; deadlineMs: number },
): Promise<RunOutcome> {
  const args = ['run-tests.py', '-t', `port:${opts.link}`, '-r', opts.resultDir, '--target-wiring', opts.wiring];
  // Its own process group, so the CPython runs it starts for expected outputs stop with it.
  const child = spawn(fx.python, ['-u', ...args, ...opts.files], {
    cwd: fx.testsDir,
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
    // run-tests.py takes expected output from `python3` on PATH unless told: use the same CPython throughout.
    env: { ...process.env, MICROPY_CPYTHON3: fx.python },
  });
  running.add(child);
  const log = createWriteStream(opts.log);
  let tail = '';
  const keep = (d: Buffer) => {
    log.write(d);
    tail = (tail + d.toString('latin1')).slice(-4000);
  };
  child.stdout!.on('data', keep);
  child.stderr!.on('data', keep);
  const timer = setTimeout(() => killGroup(child), opts.deadlineMs);
  return new Promise((done) => {
    child.on('close', (code) => {
      clearTimeout(timer);
      running.delete(child);
      log.end();
      const file = join(opts.resultDir, '_results.json');
      const results = existsSync(file)
        ? (JSON.parse(readFileSync(file, 'utf8')) as { results: Result[] }).results
        : undefined;
      done({ results, code, tail });
    });
  });
}

function killGroup(child: ChildProcess): void {
  try {
    process.kill(-child.pid!, 'SIGKILL');
  } catch {
    // already gone
  }
}

/** Stop every run-tests.py still running (afterAll, also when a test failed). */
export function stopRunners(): void {
  for (const child of running) killGroup(child);
}
