// CLI start-up and whole-process command times, each next to its goal (issue 20, issue 15) as a ratio against
// `node -e 0` measured in the same run, interleaved so machine load hits every figure alike; PASS or FAIL.
// Run: npm run build && node dist/bench/cli.js   (BENCH_RUNS sets the repetitions, default 11; BENCH_ONLY=hot
// runs only the hot paths)
// The in-process row's trace says which thread its boot waited for (config sent - worker ready, median).
// Also: ls of 300 files and sync of an unchanged 200-file tree on a pty board at an emulated 115200 baud, as
// bytes on the wire and time against the wire limit (what the bytes take at 115200 8N1); cp -r of 100 small files
// there and in-process, with a goal on the link time (port open to close) as a ratio to that limit.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import pty from '@lydell/node-pty';
import { boardsDir, createBoard, lockHolder } from '../emulator/board-store.js';

const RUNS = Number(process.env.BENCH_RUNS ?? 11);
const HOME = mkdtempSync(join(tmpdir(), 'boardctl-bench-cli-'));
const MAIN = fileURLToPath(new URL('../cli/boardctl.cjs', import.meta.url));
const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const ENV = { ...process.env, BOARDCTL_HOME: HOME, BOARDCTL_PORT: '', BOARDCTL_DEBUG: '' };

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

/**
 * CPU ms of the children this process has waited for (Linux: cutime + cstime of /proc/self/stat, in 10 ms
 * ticks), or undefined elsewhere. On a loaded machine a command's CPU time holds still where its wall time does not.
 */
function childrenCpuMs(): number | undefined {
  try {
    const fields = readFileSync('/proc/self/stat', 'utf8').replace(/^.*\) /s, '').split(' ');
    return (Number(fields[13]) + Number(fields[14])) * 10;
  } catch {
    return undefined;
  }
}

interface Run {
  ms: number;
  /** CPU ms of the process (all its threads), where the platform tells. */
  cpuMs?: number;
}

/** One whole process: wall and CPU ms, and its stderr (the timing trace when asked for). */
function once(cmd: string, args: string[], env: NodeJS.ProcessEnv = ENV): Promise<Run & { code: number | null; stderr: string }> {
  const t0 = performance.now();
  const cpu0 = childrenCpuMs();
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { env, stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d) => (stderr += d));
    child.on('error', reject);
    child.on('close', (code) => {
      const cpu1 = childrenCpuMs();
      resolve({ ms: performance.now() - t0, cpuMs: cpu0 === undefined || cpu1 === undefined ? undefined : cpu1 - cpu0, code, stderr });
    });
  });
}

/** Resolves once no live process holds the default virtual board (the one `npm start` opens). */
async function released(): Promise<void> {
  const board = { dir: join(boardsDir(HOME), 'default') };
  for (let i = 0; i < 200 && lockHolder(board) !== undefined; i++) await new Promise((r) => setTimeout(r, 50));
  if (lockHolder(board) !== undefined) throw new Error('npm start left the default board locked for 10 s');
}

/** `npm start` in a terminal: until the TUI shows the REPL prompt (issue 15: under 2 s on a quiet machine). */
function npmStartToPrompt(): Promise<number> {
  const t0 = performance.now();
  return new Promise((resolve, reject) => {
    const term = pty.spawn('npm', ['start', '--silent'], { cwd: ROOT, cols: 100, rows: 30, env: ENV as Record<string, string> });
    let screen = '';
    const timer = setTimeout(() => done(new Error(`no prompt within 60 s; screen: ${screen.slice(-300)}`)), 60_000);
    const done = (err?: Error) => {
      clearTimeout(timer);
      const ms = performance.now() - t0;
      // The next run needs the board: wait until this TUI (npm's child, hung up with the terminal) lets go of it.
      term.onExit(() => void released().then(() => (err ? reject(err) : resolve(ms)), reject));
      term.kill();
    };
    term.onData((d) => {
      screen += d;
      if (screen.includes('>>> ')) done();
    });
  });
}

interface Case {
  label: string;
  run: () => Promise<Run>;
  /** At most this many times node -e 0 (undefined: shown, no goal). */
  goal?: number;
}

async function timedCli(args: string[], env: NodeJS.ProcessEnv = ENV): Promise<Run> {
  const r = await once(process.execPath, [MAIN, ...args], env);
  if (r.code !== 0) throw new Error(`boardctl ${args.join(' ')}: exit ${r.code}: ${r.stderr.trim().split('\n')[0]}`);
  return r;
}

/** `boardctl sim serve` for one board on a pty, as users run it; resolves once the link exists. */
async function serve(name: string, link: string, baud?: number): Promise<ChildProcess> {
  const child = spawn(process.execPath, [MAIN, 'sim', 'serve', name, '--link', link, ...(baud ? ['--baud', String(baud)] : [])], { env: ENV, stdio: 'ignore' });
  for (let i = 0; i < 600 && !existsSync(link); i++) await new Promise((r) => setTimeout(r, 50));
  if (!existsSync(link)) throw new Error(`sim serve made no ${link}`);
  return child;
}

async function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null) return;
  const exited = new Promise((r) => child.once('exit', r));
  child.kill('SIGTERM');
  await exited;
}

function row(label: string, value: string, goal = '', verdict = '', cpu = ''): void {
  console.log(`${label.padEnd(46)} ${value.padStart(18)} ${cpu.padStart(16)}  ${goal.padEnd(12)} ${verdict}`);
}

/** Mean CPU ms of runs (10 ms ticks: a mean, not a median), or undefined where it is not known. */
function meanCpu(runs: Run[]): number | undefined {
  const known = runs.map((r) => r.cpuMs).filter((c) => c !== undefined);
  return known.length === runs.length ? known.reduce((a, b) => a + b, 0) / known.length : undefined;
}

let failed = 0;

async function startupCases(served: string): Promise<void> {
  const inProcess: Case = { label: 'boardctl exec pass, in-process virtual board', run: () => timedCli(['-p', 'virtual', 'exec', 'pass']), goal: 2.5 };
  // The same without the boot image (emulator/vm/boot-image.ts): every process installs the runtime.
  const noImage: Case = {
    label: '  the same, installing the runtime (no image)',
    run: () => timedCli(['-p', 'virtual', 'exec', 'pass'], { ...ENV, BOARDCTL_BOOT_IMAGE: 'off' }),
  };
  // No port given: auto-detection finds no USB serial port (where there is one, this row times its probe).
  const autoPort: Case = {
    label: '  the same, no port given (auto-detection)',
    run: () => timedCli(['exec', 'pass'], { ...ENV, XDG_CONFIG_HOME: join(HOME, 'no-config') }),
  };
  const cases: Case[] = [
    { label: 'node -e 0 (baseline)', run: () => once(process.execPath, ['-e', '0']) },
    { label: 'boardctl --help', run: () => timedCli(['--help']), goal: 1.25 },
    { label: 'boardctl exec --help (commander renders it)', run: () => timedCli(['exec', '--help']) },
    { label: 'boardctl exec pass, served pty board', run: () => timedCli(['-p', served, 'exec', 'pass']), goal: 2 },
    { label: 'boardctl resume exec pass, served pty board', run: () => timedCli(['-p', served, 'resume', 'exec', 'pass']), goal: 1.7 },
    inProcess,
    autoPort,
    noImage,
  ];
  const times = cases.map(() => [] as Run[]);
  for (let i = 0; i < RUNS; i++) for (const [n, c] of cases.entries()) times[n]!.push(await c.run());
  // npm start draws a TUI: fewer runs (each boots a virtual board).
  const npmStart: number[] = [];
  for (let i = 0; i < Math.min(RUNS, 5); i++) {
    npmStart.push(await npmStartToPrompt());
    times[0]!.push(await once(process.execPath, ['-e', '0']));
  }
  const base = median(times[0]!.map((r) => r.ms));
  const baseCpu = meanCpu(times[0]!);
  console.log(`start-up, median of ${RUNS} interleaved runs (wall; CPU: mean), as a ratio to node -e 0 (goal, on wall time: at most)`);
  for (const [n, c] of cases.entries()) {
    const ms = median(times[n]!.map((r) => r.ms));
    const ratio = ms / base;
    const cpu = meanCpu(times[n]!);
    const verdict = c.goal === undefined ? '' : ratio <= c.goal ? 'PASS' : 'FAIL';
    if (verdict === 'FAIL') failed++;
    const cpuText = cpu === undefined || !baseCpu ? '' : `cpu ${cpu.toFixed(0)} ms${n === 0 ? '' : ` ${(cpu / baseCpu).toFixed(2)}x`}`;
    row(c.label, n === 0 ? `${ms.toFixed(0)} ms` : `${ms.toFixed(0)} ms ${ratio.toFixed(2)}x`, c.goal ? `<= ${c.goal}x` : '', verdict, cpuText);
  }
  const pair = [inProcess, noImage].map((c) => times[cases.indexOf(c)]!);
  const [image, fresh] = pair.map((runs) => median(runs.map((r) => r.ms)));
  const [imageCpu, freshCpu] = pair.map(meanCpu);
  row('  in-process exec pass: boot image / no image', `${(image! / fresh!).toFixed(2)}x`, '', '', imageCpu && freshCpu ? `cpu ${(imageCpu / freshCpu).toFixed(2)}x` : '');
  // Which thread an in-process boot waits for: after 0 ms the worker is ready for its config and the main thread
  // is on the critical path; below 0 the config waits for the worker.
  // How long Node takes to start the board's thread (created -> its first code), and how long the process takes to
  // end once its link is closed (the board's power-off, then Node's exit).
  const waits: number[] = [];
  const threadStarts: number[] = [];
  const ends: number[] = [];
  for (let i = 0; i < Math.max(3, Math.floor(RUNS / 3)); i++) {
    const { stderr, ms } = await once(process.execPath, [MAIN, '-p', 'virtual', 'exec', 'pass'], { ...ENV, BOARDCTL_DEBUG: 'timing' });
    waits.push(tracedAt(stderr, /virtual board config sent/)! - tracedAt(stderr, /board: worker modules loaded/)!);
    threadStarts.push(tracedAt(stderr, /board: thread running/)! - tracedAt(stderr, /board VM thread started/)!);
    ends.push(ms - tracedAt(stderr, /link closed/)!);
  }
  row('  in-process: config sent - worker ready', `${median(waits).toFixed(0)} ms`);
  row('  in-process: VM thread created -> its first code', `${median(threadStarts).toFixed(0)} ms`);
  row('  in-process: link closed -> process ended', `${median(ends).toFixed(0)} ms`);
  const ms = median(npmStart);
  row('npm start to the TUI prompt', `${ms.toFixed(0)} ms ${(ms / base).toFixed(2)}x`, '< 2000 ms', ms < 2000 ? 'PASS' : 'FAIL (a loaded machine?)');
}

/** A phase's time in a timing trace ("boardctl timing:  T ms  +D ms  label"), or undefined. */
const tracedAt = (trace: string, label: RegExp) => {
  const line = trace.split('\n').find((l) => label.test(l));
  return line ? Number(/timing:\s+([\d.]+) ms/.exec(line)?.[1]) : undefined;
};

/**
 * Wire bytes of one command, from the timing trace's last line ("link closed (N bytes sent, M received)"),
 * and its time against what those bytes take at `baud` 8N1: the whole process, and the session alone (port
 * open to link closed: what is left once Node's start and the module loads are taken away).
 */
async function onTheWire(label: string, args: string[], baud: number, linkGoal?: number): Promise<void> {
  const times: number[] = [];
  const sessions: number[] = [];
  let bytes = 0;
  for (let i = 0; i < Math.max(3, Math.floor(RUNS / 3)); i++) {
    const r = await once(process.execPath, [MAIN, ...args], { ...ENV, BOARDCTL_DEBUG: 'timing' });
    if (r.code !== 0) throw new Error(`boardctl ${args.join(' ')}: exit ${r.code}: ${r.stderr.trim().split('\n').pop()}`);
    const m = /link closed \((\d+) bytes sent, (\d+) received\)/.exec(r.stderr);
    if (!m) throw new Error(`no wire count in the trace of boardctl ${args.join(' ')}`);
    bytes = Number(m[1]) + Number(m[2]);
    times.push(r.ms);
    sessions.push(tracedAt(r.stderr, /link closed/)! - tracedAt(r.stderr, /port open/)!);
  }
  const wireMs = (bytes * 10 * 1000) / baud;
  const ms = median(times);
  const session = median(sessions);
  const cell = (t: number) => `${t.toFixed(0)} ms ${(t / wireMs).toFixed(2)}x`.padStart(16);
  let verdict = '';
  if (linkGoal !== undefined) {
    const pass = session / wireMs <= linkGoal;
    if (!pass) failed++;
    verdict = `  link <= ${linkGoal}x ${pass ? 'PASS' : 'FAIL'}`;
  }
  console.log(`${label.padEnd(36)} ${`${bytes} B`.padStart(8)} ${`${wireMs.toFixed(0)} ms`.padStart(9)} ${cell(ms)} ${cell(session)}${verdict}`);
}

async function hotPaths(): Promise<void> {
  const baud = 115200;
  // The files go onto the board before it is served (in-process, unpaced): 300 in one folder, a 200-file tree.
  const tree = join(HOME, 'tree');
  for (let d = 0; d < 10; d++) {
    mkdirSync(join(tree, `pkg${d}`), { recursive: true });
    for (let f = 0; f < 20; f++) writeFileSync(join(tree, `pkg${d}`, `m${f}.py`), `# module ${d}/${f}\nVALUE = ${d * 100 + f}\n`);
  }
  // 100 small files (200 bytes of source each) for cp -r.
  const small = join(HOME, 'small');
  mkdirSync(small);
  for (let f = 0; f < 100; f++) writeFileSync(join(small, `s${f}.py`), `# ${f}\n${'x = 1\n'.repeat(40)}`.slice(0, 200));
  createBoard('wire', { home: HOME });
  createBoard('cp-here', { home: HOME });
  const make = "import os\nos.mkdir('many')\nfor i in range(300):\n    with open('many/f%03d.txt' % i, 'w') as f:\n        f.write('x')";
  await timedCli(['-p', 'virtual:wire', 'exec', make, '+', 'sync', tree, ':tree']);
  const link = join(HOME, 'wire-pty');
  const server = await serve('wire', link, baud);
  const chain = Array.from({ length: 20 }, () => ['fs', 'ls', ':']).flatMap((c, i) => (i ? ['+', ...c] : c));
  try {
    console.log(`\nhot paths on a served pty board at an emulated ${baud} baud (bytes both ways; the wire limit is what they take`);
    console.log(`at ${baud} 8N1; whole process and link (port open to close) as a ratio to it; median of ${Math.max(3, Math.floor(RUNS / 3))})`);
    console.log(`${''.padEnd(36)} ${'on wire'.padStart(8)} ${'limit'.padStart(9)} ${'process'.padStart(16)} ${'link'.padStart(16)}`);
    await onTheWire('ls of a 300-file folder', ['-p', link, 'ls', ':many'], baud);
    await onTheWire('sync of an unchanged 200-file tree', ['-p', link, 'sync', tree, ':tree'], baud);
    await onTheWire('the same, to an absolute :/tree', ['-p', link, 'sync', tree, ':/tree'], baud);
    // Goals: the wire alone on the pty (room for the round trips of two receiver runs); in-process, a third of it.
    // -f: each run sends the files again (without it every run after the first finds them unchanged).
    await onTheWire('cp -r of 100 files of 200 bytes', ['-p', link, 'cp', '-f', '-r', small, ':'], baud, 1.5);
    await onTheWire('  the same, in-process (no wire)', ['-p', 'virtual:cp-here', 'cp', '-f', '-r', small, ':'], baud, 0.33);
    await onTheWire('  the same without -f, all unchanged', ['-p', link, 'cp', '-r', small, ':'], baud);
    await onTheWire('a chain of 20 fs ls :', ['-p', link, ...chain], baud);
  } finally {
    await stop(server);
  }
}

try {
  if (process.env.BENCH_ONLY !== 'hot') {
    createBoard('bench', { home: HOME });
    const link = join(HOME, 'bench-pty');
    const server = await serve('bench', link);
    try {
      await startupCases(link);
    } finally {
      await stop(server);
    }
  }
  await hotPaths();
} finally {
  rmSync(HOME, { recursive: true, force: true });
}
process.exitCode = failed ? 1 : 0;
