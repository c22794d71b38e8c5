// 40 seeded trials of cp up, cp down and exec through the fault-injecting link at 1e-3 (a byte in 1000 is
// dropped, flipped, duplicated or delayed, both directions): each ends in success with the right bytes or a
// clear error; never wrong data reported as success or left behind, never a hang (bench/faults.ts prints
// the same at 200 trials and 1e-4 too).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { Trial } from '../bench/fault-trials.js';

const home = mkdtempSync(join(tmpdir(), 'boardctl-faults-'));
process.env.BOARDCTL_HOME = home;

afterAll(async () => {
  const { closeAllVirtualBoards } = await import('../emulator/board.js');
  await closeAllVirtualBoards();
  rmSync(home, { recursive: true, force: true });
});

describe('fault trials', () => {
  it('40 trials at 1e-3: zero silent corruptions, zero hangs', { timeout: 900_000 }, async () => {
    const [{ createBoard }, { runTrials, tally }] = await Promise.all([import('../emulator/board-store.js'), import('../bench/fault-trials.js')]);
    createBoard('fault-trials');
    const trials: Trial[] = await runTrials({ board: 'fault-trials', rate: 1e-3, count: 40, hostDir: home, wallMs: 60_000 });
    const t = tally(trials);
    const bad = trials.filter((x) => x.verdict === 'silent-wrong' || x.verdict === 'hung');
    expect(bad.map((x) => `${x.verdict} ${x.kind} seed ${x.seed}: ${x.detail}`)).toEqual([]);
    // The trials did meet faults, and transfers still got through.
    expect(t['failed-clearly']).toBeGreaterThan(0);
    expect(t.ok + t['ok-after-retry']).toBeGreaterThan(10);
    // Clear: a boardctl error naming what went wrong, never a board traceback or a bug of ours (the bytes a
    // TIMEOUT quotes after "received:" are the evidence, and may hold the guard's refusal).
    for (const x of trials.filter((x) => x.verdict === 'failed-clearly')) {
      expect((x.detail ?? '').split('; received: ')[0]).not.toMatch(/Traceback|not a BoardError|INTERNAL|DEVICE_EXCEPTION/);
    }
  });
});
