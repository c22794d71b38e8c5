// CLI start-up and whole-process command time.
// Run: npm run build && node dist/bench/cli.js   (BENCH_RUNS sets the repetitions, default 10)
// Prints the median of: bare `node -e ""`, `boardctl --help`, and `boardctl exec "pass"` against the virtual
// board, plus the same exec against a scripted board over TCP (CLI + protocol cost without the VM).
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { closeAllVirtualBoards, openVirtualTransport } from '../emulator/board.js';
import { RawReplClient } from '../protocol/raw-repl.js';
import { servePeer } from '../test/helpers/scripted-peer.js';

const RUNS = Number(process.env.BENCH_RUNS ?? 10);
// The virtual board keeps its flash under XDG_DATA_HOME: use a scratch one, not the user's boards.
const DATA_HOME = mkdtempSync(join(tmpdir(), 'boardctl-bench-'));
process.env.XDG_DATA_HOME = DATA_HOME;
const MAIN = fileURLToPath(new URL('../cli/main.js', import.meta.url));

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

/** Median wall time of a node process, in ms, or the first line of its error. */
function time(args: string[]): { ms: number } | { error: string } {
  const times: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    const t0 = performance.now();
    const r = spawnSync(process.execPath, args, { encoding: 'utf8', env: { ...process.env, BOARDCTL_PORT: '' } });
    times.push(performance.now() - t0);
    if (r.status !== 0) return { error: (r.stderr || `exit ${r.status}`).trim().split('\n')[0]! };
  }
  return { ms: median(times) };
}

function show(label: string, r: { ms: number } | { error: string }): void {
  console.log(`${label.padEnd(44)} ${'ms' in r ? `${r.ms.toFixed(1)} ms` : `failed: ${r.error}`}`);
}

// The scripted board lives in this process, so these runs spawn asynchronously to keep its socket served.
async function overTcp(): Promise<{ ms: number } | { error: string }> {
  const server = await servePeer();
  try {
    const times: number[] = [];
    for (let i = 0; i < RUNS; i++) {
      const t0 = performance.now();
      const code = await new Promise<number | null>((resolve) => {
        spawn(process.execPath, [MAIN, '-p', server.url, 'exec', 'pass'], { stdio: 'ignore' }).on('close', resolve);
      });
      times.push(performance.now() - t0);
      if (code !== 0) return { error: `exit ${code}` };
    }
    return { ms: median(times) };
  } finally {
    await server.close();
  }
}

/** Where the virtual exec's time goes, measured in this process: board power-on, first exec, later execs. */
async function virtualPhases(): Promise<void> {
  let t0 = performance.now();
  const lap = (label: string) => {
    const t = performance.now();
    console.log(`  ${label.padEnd(42)} ${(t - t0).toFixed(1)} ms`);
    t0 = t;
  };
  const board = new RawReplClient(await openVirtualTransport('virtual'));
  lap('virtual board power-on to REPL');
  await board.exec('pass');
  lap('first exec (raw REPL + soft reset)');
  for (let i = 0; i < RUNS; i++) await board.exec('pass');
  const t = performance.now();
  console.log(`  ${'later exec "pass" (mean)'.padEnd(42)} ${((t - t0) / RUNS).toFixed(2)} ms`);
  await board.close();
  await closeAllVirtualBoards();
}

console.log(`boardctl CLI timings, median of ${RUNS} runs (goal: --help <= 150 ms)`);
show('node -e "" (baseline)', time(['-e', '']));
show('boardctl --help', time([MAIN, '--help']));
show('boardctl exec --help (no extension modules)', time([MAIN, 'exec', '--help']));
show('boardctl -p virtual exec "pass"', time([MAIN, '-p', 'virtual', 'exec', 'pass']));
show('boardctl -p socket://… exec "pass" (scripted)', await overTcp());
console.log('virtual board, in process:');
await virtualPhases();
rmSync(DATA_HOME, { recursive: true, force: true });
