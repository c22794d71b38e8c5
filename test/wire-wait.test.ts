// The end of a wire transfer (emulator/peripherals/wire-wait.ts): the worker blocks until ticks_us() reaches the
// deadline the board computed at the transfer's start, never earlier, at once for one already passed, across
// the 2**30 wrap of the µs ticks.
import { performance } from 'node:perf_hooks';
import { describe, expect, it } from 'vitest';
import { ticksDiff, waitUntilTicksUs } from '../emulator/peripherals/wire-wait.js';

const ticksUs = () => Math.floor(performance.now() * 1000) % 2 ** 30;

describe('wire transfer deadlines', () => {
  it('ticks_diff across the wrap, as time.ticks_diff', () => {
    expect(ticksDiff(5, 2 ** 30 - 5)).toBe(10);
    expect(ticksDiff(2 ** 30 - 5, 5)).toBe(-10);
    expect(ticksDiff(1000, 400)).toBe(600);
  });

  it('returns when ticks_us reaches the deadline, not before, and at once for a passed one', () => {
    for (const us of [200, 3000, 12_000]) {
      const t = (ticksUs() + us) % 2 ** 30;
      waitUntilTicksUs(t);
      expect(ticksDiff(ticksUs(), t)).toBeGreaterThanOrEqual(0);
    }
    const t0 = performance.now();
    waitUntilTicksUs((ticksUs() - 5000 + 2 ** 30) % 2 ** 30);
    expect(performance.now() - t0).toBeLessThan(1000);
  });
});
