// The end of a wire transfer (SPI, UART flush): the worker blocks until time.ticks_us() reaches the deadline the
// board computed from the transfer's start. A blocked thread that a timer wakes is scheduled again sooner than a
// spinning one gets its core back on a loaded host (a Python spin on ticks_us ended up to 50 ms late at load 10,
// a futex wait rarely more than a few), so the wait sleeps in the kernel and spins only its last fraction here.
import { performance } from 'node:perf_hooks';

/** time.ticks_us() wraps at 2**30 (MICROPY_PY_TIME_TICKS_PERIOD), as board-runtime's ticksAt. */
const TICKS_PERIOD = 2 ** 30;
/** The last part of the wait is spun on the clock: a kernel wake-up is this late even on an idle host. */
const SPIN_US = 300;

const cell = new Int32Array(new SharedArrayBuffer(4));

/** time.ticks_diff(t, now) for the µs ticks. */
export function ticksDiff(t: number, now: number): number {
  return ((((t - now) % TICKS_PERIOD) + TICKS_PERIOD + TICKS_PERIOD / 2) % TICKS_PERIOD) - TICKS_PERIOD / 2;
}

/** Block until ticks_us() (floor(performance.now() µs) mod 2**30) reaches `t`; at once if it already has. */
export function waitUntilTicksUs(t: number): void {
  const start = performance.now();
  const end = start + ticksDiff(t, Math.floor(start * 1000) % TICKS_PERIOD) / 1000;
  const sleepMs = end - start - SPIN_US / 1000;
  if (sleepMs > 0) Atomics.wait(cell, 0, 0, sleepMs);
  while (performance.now() < end) {
    // the last few hundred µs: spinning is exact where a wake-up is not
  }
}
