// Fault trials through the fault-injecting link (bench/fault-trials.ts): 200 seeded trials (cp up, cp down,
// exec in turn) with a byte faulted at 1e-4 and at 1e-3 (a drop, a bit flip, a duplicate or a 20 ms delay,
// a quarter each; both directions).
// Goals: silent wrong data 0, hung 0, and at 1e-4 at least 95% of the trials succeed (after retries).
// Run: npm run build && node dist/bench/faults.js [trials] [rates, e.g. 1e-4,1e-3] [first seed]
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const count = Number(process.argv[2] ?? 200);
const rates = process.argv[3] ? process.argv[3].split(',').map(Number) : [1e-4, 1e-3];
const firstSeed = Number(process.argv[4] ?? 1);

async function main(): Promise<void> {
  const home = mkdtempSync(join(tmpdir(), 'boardctl-bench-faults-'));
  process.env.BOARDCTL_HOME = home;
  const { createBoard } = await import('../emulator/board-store.js');
  const { closeAllVirtualBoards } = await import('../emulator/board.js');
  const { runTrials, tally } = await import('./fault-trials.js');
  type Trial = Awaited<ReturnType<typeof runTrials>>[number];
  createBoard('bench-faults');
  try {
    console.log(`${count} trials per rate (cp up / cp down / exec in turn, 4 KB files, retries 2; rate = chance a byte is faulted)`);
    console.log(`${'rate'.padEnd(6)} ${'ok'.padStart(5)} ${'retried'.padStart(8)} ${'failed'.padStart(7)} ${'silent'.padStart(7)} ${'hung'.padStart(5)} ${'out-dmg'.padStart(8)}  succeeded   mean s/trial`);
    for (const rate of rates) {
      const started = Date.now();
      const hostDir = join(home, `host-${rate}`);
      mkdirSync(hostDir);
      const trials = await runTrials({ board: 'bench-faults', rate, count, hostDir, firstSeed });
      const t = tally(trials);
      const succeeded = t.ok + t['ok-after-retry'] + t['output-damaged'];
      console.log(
        `${rate.toExponential(0).padEnd(6)} ${String(t.ok).padStart(5)} ${String(t['ok-after-retry']).padStart(8)} ${String(t['failed-clearly']).padStart(7)} ${String(t['silent-wrong']).padStart(7)} ${String(t.hung).padStart(5)} ${String(t['output-damaged']).padStart(8)}  ${((100 * succeeded) / trials.length).toFixed(1).padStart(7)}%   ${((Date.now() - started) / 1000 / trials.length).toFixed(2)}`,
      );
      for (const x of trials.filter((x) => x.verdict === 'silent-wrong' || x.verdict === 'hung' || /DEVICE_EXCEPTION/.test(x.detail ?? ''))) {
        console.log(`  ${x.verdict} ${x.kind} seed ${x.seed}: ${x.detail ?? ''}`);
      }
      const failures = new Map<string, Trial[]>();
      for (const x of trials.filter((x) => x.verdict === 'failed-clearly')) {
        const key = `${x.kind}: ${(x.detail ?? '?').replace(/\d+/g, 'N').slice(0, 90)}`;
        failures.set(key, [...(failures.get(key) ?? []), x]);
      }
      for (const [k, xs] of [...failures].sort((a, b) => b[1].length - a[1].length).slice(0, 8)) {
        console.log(`  failed ${xs.length}x ${k} (seeds ${xs.slice(0, 5).map((x) => x.seed).join(' ')})`);
      }
    }
    console.log('silent: reported success with wrong data (goal 0); out-dmg: exec output damaged on the way back (a terminal stream, unchecked, as with mpremote)');
  } finally {
    await closeAllVirtualBoards();
    rmSync(home, { recursive: true, force: true });
  }
}

await main();
