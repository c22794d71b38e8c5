// Fleet runs (issue 19.1), through the built CLI as users run it: exec on N = 1, 5 and 20 virtual boards in
// parallel (wall time and its ratio to N = 1), and a cp of 32 KiB + exec chain on 10 boards against one. The
// goal, asserted here only: 10 boards take less than 3x the time of one.
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const run = promisify(execFile);
const cli = fileURLToPath(new URL('../cli/boardctl.cjs', import.meta.url));
const home = mkdtempSync(join(tmpdir(), 'boardctl-bench-fleet-'));
const env = { ...process.env, BOARDCTL_HOME: home };
const boards = (n: number) => Array.from({ length: n }, (_, i) => `virtual:f${i}`).join(',');
const TRIES = 2;

/** Best wall time (s) of TRIES runs of `boardctl -p BOARDS --jobs N ARGS…`. */
async function wall(n: number, args: string[]): Promise<number> {
  let best = Infinity;
  for (let i = 0; i < TRIES; i++) {
    const t0 = performance.now();
    await run(process.execPath, [cli, '-p', boards(n), '--jobs', String(n), ...args], { env, maxBuffer: 1 << 24 });
    best = Math.min(best, (performance.now() - t0) / 1000);
  }
  return best;
}

async function main(): Promise<number> {
  for (let i = 0; i < 20; i++) await run(process.execPath, [cli, 'sim', 'create', `f${i}`], { env });
  const exec = ['exec', 'import machine; print(machine.unique_id())'];
  const one = await wall(1, exec);
  console.log(`exec on  1 board : ${one.toFixed(2)} s`);
  for (const n of [5, 20]) {
    const s = await wall(n, exec);
    console.log(`exec on ${String(n).padStart(2)} boards: ${s.toFixed(2)} s  ${(s / one).toFixed(2)}x of one board`);
  }
  const file = join(home, 'data.bin');
  writeFileSync(file, randomBytes(32 * 1024));
  const chain = ['cp', file, ':data.bin', '+', 'exec', "import os; print(os.stat('data.bin')[6])"];
  const cpOne = await wall(1, chain);
  const cpTen = await wall(10, chain);
  const ratio = cpTen / cpOne;
  console.log(`cp 32 KiB + exec on  1 board : ${cpOne.toFixed(2)} s`);
  console.log(`cp 32 KiB + exec on 10 boards: ${cpTen.toFixed(2)} s  ${ratio.toFixed(2)}x of one board (goal: under 3x)`);
  if (ratio >= 3) {
    console.log('FAIL: 10 boards took 3x the time of one or more');
    return 1;
  }
  return 0;
}

try {
  process.exitCode = await main();
} finally {
  rmSync(home, { recursive: true, force: true });
}
