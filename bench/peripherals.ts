// GPIO toggle rate and I2C transaction time as Python code sees them on the virtual board (goals: toggles
// >= 100 kHz, one 2-byte I2C read <= 0.5 ms), on the real board runtime (worker, hw plugin). Timed inside the VM
// with time.ticks_us, the clock programs use.
// Run: npm run build && node dist/bench/peripherals.js   (BENCH_PERIPH_N sets the iteration count)
import { TestBoard } from '../test/helpers/test-board.js';

const N = Number(process.env.BENCH_PERIPH_N ?? 50_000);

const board = await TestBoard.open();
try {
  const out = await board.run(`
import time
from machine import Pin, I2C

def timed(fn, n):
    fn(n // 10)  # warm up
    t = time.ticks_us()
    fn(n)
    return time.ticks_diff(time.ticks_us(), t)

def toggle_value(n):
    p = Pin(2, Pin.OUT)
    for _ in range(n):
        p.value(1)
        p.value(0)

def toggle_call(n):
    p = Pin(2, Pin.OUT)
    on, off = p.on, p.off
    for _ in range(n):
        on()
        off()

def empty(n):
    for _ in range(n):
        pass

def i2c_read(n):
    i2c = I2C(0, scl=Pin(22), sda=Pin(21))
    for _ in range(n):
        i2c.readfrom(0x48, 2)

n = ${N}
print('empty', timed(empty, n))
print('value', timed(toggle_value, n))
print('onoff', timed(toggle_call, n))
print('i2c', timed(i2c_read, n // 10))
`);
  const us = Object.fromEntries(out.trim().split('\n').map((l) => l.split(' ')).map(([k, v]) => [k, Number(v)]));
  const rate = (key: string) => ((2 * N) / us[key]) * 1e6; // two edges per iteration
  const fmt = (hz: number) => `${(hz / 1000).toFixed(0)} kHz`;
  console.log(`GPIO toggles, Pin.value(x):    ${fmt(rate('value'))}  (goal >= 100 kHz)`);
  console.log(`GPIO toggles, bound on()/off(): ${fmt(rate('onoff'))}`);
  console.log(`I2C readfrom(0x48, 2):          ${(us.i2c / (N / 10) / 1000).toFixed(4)} ms per read  (goal <= 0.5 ms)`);
  console.log(`empty loop overhead:            ${(us.empty / N).toFixed(3)} us per iteration`);
  console.log(`timeline events recorded:       ${((await board.control('trace')) as { events: unknown[] }).events.length} (ring keeps the newest)`);
} finally {
  await board.close();
}
