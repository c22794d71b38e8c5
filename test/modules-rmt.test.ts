// Issue 16 item 3 (esp32): esp32.RMT as parts see it: write_pulses trains reach the pin's timeline with the levels
// and durations its resolution gives (library/esp32.html, RMT), wait_done returns once the train has played.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TimelineEvent } from '../emulator/peripherals/index.js';
import { TestBoard } from './helpers/test-board.js';

let board: TestBoard;
beforeAll(async () => {
  board = await TestBoard.open({ profile: 'esp32' });
});
afterAll(async () => {
  await board?.close();
});

const edges = async (pin: number) => {
  const { events } = (await board.control('trace', { clear: true })) as { events: TimelineEvent[] };
  return events.filter((e): e is Extract<TimelineEvent, { kind: 'pin' }> => e.kind === 'pin' && e.pin === pin);
};
const gaps = (e: { t: number }[]) => e.slice(1).map((x, i) => x.t - e[i]!.t);

describe('esp32.RMT', () => {
  it('plays a train of pulses on the pin with the durations of its resolution; wait_done waits for the end', async () => {
    await board.control('trace', { clear: true });
    const out = await board.run(
      'import esp32, time\nfrom machine import Pin\n' +
        'r = esp32.RMT(0, pin=Pin(4), resolution_hz=1000000)\n' +
        't = time.ticks_ms()\nr.write_pulses((20000, 10000, 30000), 1)\nprint(r.active(), r.wait_done())\n' +
        'print(r.wait_done(timeout=1000), time.ticks_diff(time.ticks_ms(), t) >= 60, r.active())\n' +
        'r2 = esp32.RMT(1, pin=Pin(5), clock_div=80)\nr2.write_pulses(5000, [1, 0, 1, 1, 0])\n' +
        'r2.write_pulses([4000, 6000], [0, 1])\nprint(r2.wait_done(timeout=1000), r2.source_freq(), r2.clock_div(), r2)\n' +
        'r.deinit()\nr2.deinit()',
    );
    expect(out).toBe(
      'True False\nTrue True False\nTrue 80000000 80 RMT(pin=5, source_freq=80000000, resolution_hz=1000000, idle_level=0)\n',
    );
    const { events } = (await board.control('trace', {})) as { events: TimelineEvent[] };
    const pin = (n: number) => events.filter((e): e is Extract<TimelineEvent, { kind: 'pin' }> => e.kind === 'pin' && e.pin === n);
    const e4 = pin(4);
    expect(e4.map((x) => x.level)).toEqual([1, 0, 1, 0]);
    gaps(e4).forEach((g, i) => expect(Math.abs(g - [20000, 10000, 30000][i]!)).toBeLessThan(5));
    // Mode 2 then mode 3: 5 ms each of 1,0,1,1,0; then (once the first train is done: a poll later) 4 ms low,
    // 6 ms high, back to the idle level.
    const e5 = pin(5);
    expect(e5.map((x) => x.level)).toEqual([1, 0, 1, 0, 1, 0]);
    const g5 = gaps(e5);
    [5000, 5000, 10000].forEach((want, i) => expect(Math.abs(g5[i]! - want)).toBeLessThan(5));
    expect(g5[3]).toBeGreaterThanOrEqual(9000 - 5);
    expect(Math.abs(g5[4]! - 6000)).toBeLessThan(5);
  });

  it('loops a train until loop(False), finishing the iteration', async () => {
    await board.control('trace', { clear: true });
    await board.run(
      'import esp32, time\nr = esp32.RMT(pin=12, resolution_hz=100000)\nr.loop(True)\nr.write_pulses((1000, 1000))\n' +
        'time.sleep_ms(95)\nr.loop(False)\nprint(r.wait_done(timeout=100))\nr.deinit()',
    );
    const e = await edges(12);
    expect(e.length).toBeGreaterThanOrEqual(8);
    expect(e.at(-1)!.level).toBe(0);
    for (const g of gaps(e)) expect(Math.abs(g - 10_000)).toBeLessThan(5);
  });

  it('rejects bad arguments as the firmware does', async () => {
    const out = await board.run(
      'import esp32\n' +
        'def t(f):\n    try:\n        f()\n    except Exception as e:\n        print(type(e).__name__)\n' +
        't(lambda: esp32.RMT(0))\nt(lambda: esp32.RMT(0, pin=4, clock_div=0))\n' +
        't(lambda: esp32.RMT(0, pin=4, resolution_hz=1000, clock_div=8))\nt(lambda: esp32.RMT(0, pin=4, num_symbols=65))\n' +
        'r = esp32.RMT(0, pin=4)\nt(lambda: r.write_pulses((0, 10)))\nt(lambda: r.write_pulses((10, 40000)))\n' +
        't(lambda: r.write_pulses((10, 20), (1,)))\nt(lambda: r.write_pulses(10, 1))\nt(lambda: r.write_pulses("ab"))\n' +
        'r.deinit()',
    );
    // A missing pin is mp_arg_parse_all's TypeError ("'pin' argument required").
    expect(out).toBe('TypeError\nValueError\nValueError\nValueError\nValueError\nValueError\nValueError\nTypeError\nTypeError\n');
  });
});
