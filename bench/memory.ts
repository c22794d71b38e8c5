// Memory and speed of the board against the VM package alone (issue 11 item 7):
// - MicroPython's perf_bench scores (tests/run-perfbench.py driving a served board over its pty, with Debian's
//   python3) next to the same programs on the bare package in this process; the board's goal is >= 0.95x.
// - A soak (10 minutes each; BENCH_SOAK_S overrides): a timer callback that allocates while the board idles (its
//   garbage is collected after each call), then main.py's `while True:` loop that allocates and sleeps (stepped
//   by the host, its garbage is collected as it runs): host RSS over time for both, which should stay flat.
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { spawn } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createBoard } from '../emulator/board-store.js';
import { serveBoard } from '../emulator/link/serve.js';
import { VirtualBoard } from '../emulator/board.js';
import { BoardConsole } from '../test/helpers/board-console.js';

// ../shared beside the repository, as in CI (dist/bench is two levels down); BOARDCTL_SHARED points elsewhere.
const SHARED = process.env.BOARDCTL_SHARED ?? new URL('../../../shared/', import.meta.url).pathname;
const TESTS = join(SHARED, 'fixtures/micropython-tests/tests/');
const PYTHON = '/usr/bin/python3';
// N scales the work, M the memory (in KiB) a benchmark may use: an ESP32 without PSRAM has about 130 KiB free.
const N = 1000;
const M = 100;
const home = mkdtempSync(join(tmpdir(), 'boardctl-bench-mem-'));
const MiB = 1024 * 1024;

/** test file -> score (run-perfbench's 1e6 * norm / time); async, as this process serves the board's pty. */
async function boardScores(pty: string): Promise<Map<string, number>> {
  const child = spawn(PYTHON, ['run-perfbench.py', '-t', `port:${pty}`, String(N), String(M)], { cwd: TESTS });
  const r = { stdout: '', stderr: '' };
  child.stdout.on('data', (d: Buffer) => (r.stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (r.stderr += d.toString()));
  await new Promise((resolve) => child.on('close', resolve));
  const scores = new Map<string, number>();
  for (const line of r.stdout.split('\n')) {
    const m = /^(perf_bench\/\S+\.py): [\d.]+ [\d.]+ ([\d.]+) /.exec(line);
    if (m) scores.set(m[1]!, Number(m[2]));
  }
  if (scores.size === 0) throw new Error(`run-perfbench.py gave no scores: ${r.stdout.slice(-500)}${r.stderr.slice(-500)}`);
  return scores;
}

/** The same script run-perfbench sends, on the bare package (its defaults: 1 MiB heap that grows). */
async function bareScores(files: string[]): Promise<Map<string, number>> {
  const { loadMicroPython } = await import('@micropython/micropython-webassembly-pyscript');
  let out = '';
  const vm = await loadMicroPython({ stdout: (d: Uint8Array) => (out += Buffer.from(d).toString()), linebuffer: false });
  const runner = readFileSync(join(TESTS, 'perf_bench/benchrun.py'), 'utf8');
  // The package's ticks_us() has 1 ms resolution (the board's has the host's microseconds): give the bare run the
  // same clock, or its short benchmarks would score at random.
  vm.registerJsModule('_clock', { us: () => Math.round(performance.now() * 1000) });
  vm.runPython(
    'import sys, _clock\nclass _Time:\n    ticks_us = staticmethod(lambda: _clock.us())\n' +
      '    ticks_diff = staticmethod(lambda a, b: a - b)\nsys.modules["time"] = _Time',
  );
  const scores = new Map<string, number>();
  for (const file of files) {
    out = '';
    const src = readFileSync(join(TESTS, file), 'utf8');
    try {
      vm.runPython(`${src}\n${runner}bm_run(${N}, ${M})\n`);
    } catch {
      continue;
    }
    const [time, norm] = out.trim().split(' ').map(Number);
    if (time! > 0 && norm! >= 0) scores.set(file, (1e6 * norm!) / time!);
  }
  return scores;
}

async function perf(): Promise<void> {
  if (!existsSync(join(TESTS, 'run-perfbench.py')) || !existsSync(PYTHON)) {
    console.log(`perf_bench: skipped (needs ${TESTS}run-perfbench.py and ${PYTHON} with pyserial)`);
    return;
  }
  createBoard('perf', { home });
  const served = await serveBoard({ name: 'perf', home });
  let board: Map<string, number>;
  try {
    board = await boardScores(served.ptyPath!);
  } finally {
    await served.close();
  }
  const bare = await bareScores([...board.keys()]);
  console.log(`perf_bench scores (run-perfbench.py ${N} ${M}; higher is faster), board vs the VM package alone`);
  const ratios: number[] = [];
  for (const [file, score] of board) {
    const base = bare.get(file);
    const ratio = base ? score / base : NaN;
    if (base) ratios.push(ratio);
    console.log(`  ${file.padEnd(36)} board ${score.toFixed(1).padStart(9)}  bare ${base?.toFixed(1).padStart(9) ?? '      n/a'}  ${ratio.toFixed(3)}x`);
  }
  const geo = Math.exp(ratios.reduce((a, r) => a + Math.log(r), 0) / ratios.length);
  console.log(`  geometric mean: ${geo.toFixed(3)}x of the bare VM  (goal >= 0.95x)`);
}

async function soak(seconds: number): Promise<void> {
  createBoard('soak', { home });
  const board = await VirtualBoard.open('soak', { home });
  await board.whenReady();
  const link = board.attach();
  const con = new BoardConsole({ write: (d) => link.write(d), onData: (l) => link.onData(l), close: () => link.close() });
  await con.rawRepl();
  await con.rawExec(
    'import machine\nn = [0]\ndef cb(t):\n    x = [bytearray(1000) for i in range(20)]\n    n[0] += 1\n' +
      'tim = machine.Timer(0)\ntim.init(period=10, callback=cb)',
  );
  const rss0 = process.memoryUsage().rss;
  let rssMax = rss0;
  const end = performance.now() + seconds * 1000;
  while (performance.now() < end) {
    await new Promise((r) => setTimeout(r, 1000));
    rssMax = Math.max(rssMax, process.memoryUsage().rss);
  }
  const [calls] = await con.rawExec('tim.deinit()\nprint(n[0])');
  console.log(`soak ${seconds} s, timer callback allocating 20 KB every 10 ms while the board idles:`);
  console.log(`  ${calls.trim()} calls, ${(Number(calls) * 20_000 / MiB).toFixed(0)} MB allocated; host RSS ` +
    `${(rss0 / MiB).toFixed(0)} -> max ${(rssMax / MiB).toFixed(0)} MB (+${((rssMax - rss0) / MiB).toFixed(1)} MB)`);

  // A board's main loop in main.py, as one is usually written (`def main(): while True:`, then `main()`): the host
  // steps the function's loop (emulator/vm/loop-rewrite.ts), so its garbage is collected as it runs. Host RSS is
  // sampled over the run, against the idle-timer run above.
  const loop = 'import time\nn = 0\n\ndef main():\n    global n\n    print("main loop running")\n    while True:\n' +
    '        x = [bytearray(1000) for i in range(20)]\n        n += 1\n        time.sleep_ms(10)\n\nmain()\n';
  await con.rawExec(`with open('main.py', 'w') as f:\n    f.write(${JSON.stringify(loop)})`);
  await con.send('\x02');
  await con.expect('>>> ');
  await con.send('\x04');
  await con.expect('main loop running', 30_000);
  const loop0 = process.memoryUsage().rss;
  let loopMax = loop0;
  const t0 = performance.now();
  const samples: string[] = [];
  for (let k = 1; performance.now() - t0 < seconds * 1000; k++) {
    await new Promise((r) => setTimeout(r, 1000));
    const rss = process.memoryUsage().rss;
    loopMax = Math.max(loopMax, rss);
    if (k % 60 === 0) samples.push(`${k / 60} min ${(rss / MiB).toFixed(0)} MB`);
  }
  const reset = con.take().includes('as a watchdog would');
  await con.send('\x03');
  await con.expect('KeyboardInterrupt', 10_000);
  await con.expect('>>> ');
  await con.send('print(n)\r');
  const iterations = Number(/(\d+)\r\n>>> $/.exec(await con.expect(/\d+\r\n>>> $/))?.[1]);
  console.log(`  main.py \`def main(): while True:\` allocating 20 KB and sleeping 10 ms per iteration, ${seconds} s: ` +
    `${iterations} iterations, ${(iterations * 20_000 / MiB).toFixed(0)} MB allocated, ` +
    (reset ? 'RESET at the memory ceiling' : 'no reset'));
  console.log(`  host RSS ${(loop0 / MiB).toFixed(0)} -> max ${(loopMax / MiB).toFixed(0)} MB ` +
    `(+${((loopMax - loop0) / MiB).toFixed(1)} MB; the idle timer run: +${((rssMax - rss0) / MiB).toFixed(1)} MB)` +
    (samples.length ? `; per minute: ${samples.join(', ')}` : ''));
  await link.close();
  await board.close();
}

try {
  await perf();
  await soak(Number(process.env.BENCH_SOAK_S ?? 600));
} finally {
  rmSync(home, { recursive: true, force: true });
}
