// MicroPython's run-perfbench.py (tests/perf_bench of ../shared/fixtures/micropython-tests) on a served board
// (`boardctl sim serve`, driven over its pty as the README of the fixture says) next to the bare VM package (the
// same runner, with the package standing in for the unix port's executable), printed as ratios: what the board
// costs over the VM alone. Goal: no more than 5% (geometric mean of the time ratios <= 1.05).
// Run: npm run build && node dist/bench/perfbench.js   (BENCH_PERF_N / BENCH_PERF_M: run-perfbench.py's N and M,
// default 100 100 as for an ESP32; BENCH_PERF_AVERAGE: runs per benchmark, default 3)
import { spawn } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { findFixture, root, ServedBoard, type Fixture } from '../test/conformance/lane.js';
import { boardHeapBytes } from '../emulator/vm/memory.js';

const N = process.env.BENCH_PERF_N ?? '100';
const M = process.env.BENCH_PERF_M ?? '100';
const AVERAGE = process.env.BENCH_PERF_AVERAGE ?? '3';
// The esp32 profile's heap (README: Heap), so both sides pick the same benchmark parameters and collect alike.
const HEAP = boardHeapBytes({ platform: 'esp32' });

interface Score {
  time: number;
  score: number;
}

/** run-perfbench.py's result lines: "perf_bench/NAME.py: TIME_US TIME_SD% SCORE SCORE_SD%". */
function parse(out: string): Map<string, Score | string> {
  const results = new Map<string, Score | string>();
  for (const line of out.split('\n')) {
    const m = /^(perf_bench\/\S+\.py): (.*)$/.exec(line.trim());
    if (!m) continue;
    const nums = m[2]!.split(' ').map(Number);
    results.set(m[1]!, nums.length === 4 && nums.every((n) => Number.isFinite(n)) ? { time: nums[0]!, score: nums[2]! } : m[2]!);
  }
  return results;
}

function perfbench(fx: Fixture, args: string[], env: NodeJS.ProcessEnv): Promise<string> {
  return new Promise((done, fail) => {
    const child = spawn(fx.python, ['-u', 'run-perfbench.py', '-a', AVERAGE, ...args, N, M], {
      cwd: fx.testsDir,
      env: { ...process.env, MICROPY_CPYTHON3: fx.python, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout!.on('data', (d: Buffer) => (out += d));
    child.stderr!.on('data', (d: Buffer) => (out += d));
    // Exit 1: some benchmark failed (reported in its line), the others still count.
    child.on('close', (code) => (code === 0 || code === 1 ? done(out) : fail(new Error(`run-perfbench.py exited ${code}:\n${out.slice(-2000)}`))));
  });
}

const found = findFixture();
if ('missing' in found) {
  console.log(`perfbench skipped: ${found.missing}`);
  process.exit(0);
}
const fx = found;
const home = mkdtempSync(join(tmpdir(), 'boardctl-perfbench-'));
// run-perfbench.py runs "$MICROPY_MICROPYTHON -X emit=…" with the benchmark on stdin: the bare package, so.
const bareVm = join(home, 'micropython');
writeFileSync(bareVm, `#!/bin/sh\nexec "${process.execPath}" "${join(root, 'dist/bench/micropython-tests-bare.js')}" --stdin ${HEAP}\n`);
chmodSync(bareVm, 0o755);

const board = await ServedBoard.start(home, 'perf', []);
try {
  console.log(`run-perfbench.py ${N} ${M}, ${AVERAGE} runs each: bare VM package, then a served esp32 board`);
  const bare = parse(await perfbench(fx, ['-r', join(home, 'bare')], { MICROPY_MICROPYTHON: bareVm }));
  const served = parse(await perfbench(fx, ['-t', `port:${board.link}`, '-r', join(home, 'board')], {}));
  console.log('benchmark                          bare us     board us   time ratio  score ratio');
  const ratios: number[] = [];
  for (const [name, b] of bare) {
    const s = served.get(name);
    if (typeof b === 'string' || typeof s !== 'object') {
      console.log(`${name.padEnd(32)} ${typeof b === 'string' ? b : `${b.time.toFixed(0)}`} | board: ${typeof s === 'object' ? s.time.toFixed(0) : (s ?? 'not run')}`);
      continue;
    }
    const ratio = s.time / b.time;
    ratios.push(ratio);
    console.log(
      `${name.padEnd(32)} ${b.time.toFixed(0).padStart(10)} ${s.time.toFixed(0).padStart(12)} ${ratio.toFixed(3).padStart(12)} ${(s.score / b.score).toFixed(3).padStart(12)}`,
    );
  }
  const geo = Math.exp(ratios.reduce((a, r) => a + Math.log(r), 0) / Math.max(1, ratios.length));
  console.log(`board / bare VM, geometric mean of ${ratios.length} time ratios: ${geo.toFixed(3)} (goal <= 1.05)`);
} finally {
  await board.stop();
  rmSync(home, { recursive: true, force: true });
}
