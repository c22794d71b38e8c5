// asyncio on the virtual board (issue 16 item 2), on the real board runtime (worker, rings, resets):
// - task switches per second (100 tasks each looping on `await asyncio.sleep_ms(0)`) and sleep_ms(0) round trips
//   of one task, timed inside the VM with ticks_us, for a run the host steps (a raw-REPL exec's top-level
//   asyncio.run) and a run inside a call (exec()), against the same VM resuming 100 plain generators round-robin
//   in the same run, and against the ESP32 figure below;
// - CPU of this process (board worker included) while every task sleeps, against the same board idle at its prompt;
// - Ctrl-C latency into asyncio.run, tasks asleep and tasks busy (the goal is under 100 ms), against Ctrl-C into a
//   plain time.sleep() in the same run (the link's and the worker's share of it);
// - a soak: the seed-style program of the acceptance (test/fixtures/asyncio/seed_main.py) run from main.py for
//   10 minutes (BENCH_SOAK_S overrides; 0 skips it): host RSS, the board's output rate, no memory-ceiling reset.
// Run: npm run build && node dist/bench/asyncio.js
import { readFileSync } from 'node:fs';
import { TestBoard } from '../test/helpers/test-board.js';

// peterhinch/micropython-async, v3/as_demos/rate.py and its issue #79: an ESP32 at its standard clock (MicroPython
// v1.18) resumes 100 tasks that loop on sleep_ms(0) 3104 times a second, 322 us per task switch.
const ESP32_SWITCHES_PER_S = 3104;
const ESP32_US_PER_SWITCH = 322;
const TASKS = 100;
const MEASURE_MS = 2000;
const TRIALS = 10;
const SOAK_S = Number(process.env.BENCH_SOAK_S ?? 600);
const MiB = 1024 * 1024;

const pause = (ms: number) => new Promise((r) => setTimeout(r, ms));
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

/** Board-side timing code; each function prints `KEY count microseconds`. */
const TIMING = `
import asyncio, time
count = 0

async def spinner():
    global count
    while True:
        count += 1
        await asyncio.sleep_ms(0)

async def switches(key, n, ms):
    global count
    tasks = [asyncio.create_task(spinner()) for _ in range(n)]
    await asyncio.sleep_ms(50)
    count = 0
    t0 = time.ticks_us()
    await asyncio.sleep_ms(ms)
    print(key, count, time.ticks_diff(time.ticks_us(), t0))
    for t in tasks:
        t.cancel()

async def round_trips(key, n):
    t0 = time.ticks_us()
    for _ in range(n):
        await asyncio.sleep_ms(0)
    print(key, n, time.ticks_diff(time.ticks_us(), t0))

def generators(key, n, ms):
    # The VM's own cost of resuming a coroutine, with no scheduler: n generators resumed round-robin.
    def gen():
        while True:
            yield
    gens = [gen() for _ in range(n)]
    done = 0
    t0 = time.ticks_us()
    end = time.ticks_add(time.ticks_ms(), ms)
    while time.ticks_diff(end, time.ticks_ms()) > 0:
        for g in gens:
            next(g)
        done += n
    print(key, done, time.ticks_diff(time.ticks_us(), t0))
`;

/** key -> [count, us] from `KEY count us` lines. */
function parse(out: string): Map<string, [number, number]> {
  return new Map(out.trim().split('\n').map((l) => l.split(' ')).map(([k, c, us]) => [k!, [Number(c), Number(us)]]));
}

async function speed(tb: TestBoard): Promise<void> {
  // A raw-REPL exec whose top-level runs the host steps; the same runs inside one exec() call.
  const program = `${TIMING}
generators('gen', ${TASKS}, ${MEASURE_MS})
asyncio.run(switches('stepped', ${TASKS}, ${MEASURE_MS}))
asyncio.run(round_trips('trip_stepped', 20000))
`;
  const inCall = `${TIMING}
def main():
    asyncio.run(switches('in_call', ${TASKS}, ${MEASURE_MS}))
    asyncio.run(round_trips('trip_in_call', 20000))
main()
`;
  const r = new Map([...parse(await tb.run(program, 60_000)), ...parse(await tb.run(inCall, 60_000))]);
  const perS = (k: string) => (r.get(k)![0] / r.get(k)![1]) * 1e6;
  const usPer = (k: string) => r.get(k)![1] / r.get(k)![0];
  const gen = perS('gen');
  console.log(`task switches, ${TASKS} tasks on sleep_ms(0), ${MEASURE_MS} ms (ESP32: ${ESP32_SWITCHES_PER_S}/s, rate.py)`);
  for (const [k, what] of [['stepped', 'top-level run, stepped by the host'], ['in_call', 'run inside a call']] as const) {
    const s = perS(k);
    console.log(`  ${what.padEnd(36)} ${s.toFixed(0).padStart(8)}/s  ${(s / ESP32_SWITCHES_PER_S).toFixed(1)}x ESP32  ` +
      `${(s / gen).toFixed(3)}x of bare generator resumes`);
  }
  console.log(`  ${'bare generator resumes (baseline)'.padEnd(36)} ${gen.toFixed(0).padStart(8)}/s`);
  console.log(`sleep_ms(0) round trips, one task (ESP32: ${ESP32_US_PER_SWITCH} us per switch with ${TASKS} tasks, rate.py)`);
  for (const [k, what] of [['trip_stepped', 'top-level run, stepped by the host'], ['trip_in_call', 'run inside a call']] as const) {
    const us = usPer(k);
    console.log(`  ${what.padEnd(36)} ${us.toFixed(1).padStart(8)} us  ${(ESP32_US_PER_SWITCH / us).toFixed(1)}x ESP32`);
  }
}

/** CPU of this process (the board's worker thread included) as % of one core over ms. */
async function cpuOver(ms: number): Promise<number> {
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  await pause(ms);
  const c = process.cpuUsage(c0);
  return ((c.user + c.system) / 1000 / (performance.now() - t0)) * 100;
}

async function idle(tb: TestBoard): Promise<void> {
  const ms = 5000;
  await tb.con.rawRepl();
  const atPrompt = await cpuOver(ms);
  await tb.con.send(
    'import asyncio\nflag = asyncio.ThreadSafeFlag()\nasync def sleeper(s):\n    while True:\n        await asyncio.sleep(s)\n' +
      'async def waiter():\n    await flag.wait()\nasync def main():\n    asyncio.create_task(sleeper(3600))\n' +
      '    asyncio.create_task(sleeper(1))\n    await waiter()\nasyncio.run(main())\n\x04',
  );
  await tb.con.expect('OK');
  await pause(200);
  const sleeping = await cpuOver(ms);
  await tb.con.send('\x03');
  await tb.con.expect('\x04>', 5000);
  console.log(`CPU while every task sleeps (3 tasks: sleep(3600), sleep(1) loop, ThreadSafeFlag.wait()), ${ms / 1000} s:`);
  console.log(`  ${sleeping.toFixed(2)}% of a core  (board idle at its prompt: ${atPrompt.toFixed(2)}%; goal < 2%)`);
}

async function ctrlC(tb: TestBoard): Promise<void> {
  const run = (body: string) => `import asyncio\n${body}\nasync def main():\n    await asyncio.gather(task(), task(), task())\nasyncio.run(main())`;
  const programs = {
    // The baseline: the same link, worker and traceback, without asyncio.
    'time.sleep(3600)': 'import time\ntime.sleep(3600)',
    'tasks asleep': run('async def task():\n    await asyncio.sleep(3600)'),
    'tasks busy': run('async def task():\n    while True:\n        await asyncio.sleep_ms(0)'),
  };
  console.log(`Ctrl-C into asyncio.run (3 tasks; until KeyboardInterrupt is seen on the link), ${TRIALS} trials, goal < 100 ms:`);
  let base = NaN;
  for (const [what, code] of Object.entries(programs)) {
    const ms: number[] = [];
    for (let i = 0; i < TRIALS; i++) {
      await tb.con.send(`${code}\n\x04`);
      await tb.con.expect('OK');
      await pause(150);
      const t0 = performance.now();
      await tb.con.send('\x03');
      await tb.con.expect('KeyboardInterrupt', 5000);
      ms.push(performance.now() - t0);
      await tb.con.expect('\x04>', 5000);
    }
    base = Number.isNaN(base) ? median(ms) : base;
    console.log(`  ${what.padEnd(17)} median ${median(ms).toFixed(1).padStart(6)} ms (${(median(ms) / base).toFixed(2)}x time.sleep), ` +
      `max ${Math.max(...ms).toFixed(1)} ms`);
  }
}

async function soak(): Promise<void> {
  const tb = await TestBoard.open({
    parts: [
      { type: 'led', id: 'led', pin: 2 },
      { type: 'button', id: 'boot', pin: 0, pressedLevel: 0 },
      { type: 'tmp102', id: 'temp', bus: { scl: 22, sda: 21 }, address: 0x48, celsius: 22.5 },
    ],
  });
  try {
    const seed = readFileSync(new URL('../../test/fixtures/asyncio/seed_main.py', import.meta.url), 'utf8');
    await tb.run(`with open('main.py', 'w') as f:\n    f.write(${JSON.stringify(seed)})`);
    await tb.reset(undefined, '{"celsius"');
    const rss0 = process.memoryUsage().rss;
    let rssMax = rss0;
    let lines = 0;
    let log = '';
    const end = performance.now() + SOAK_S * 1000;
    while (performance.now() < end) {
      await pause(1000);
      const got = tb.con.take();
      log = (log + got).slice(-2000);
      lines += (got.match(/\{"celsius"/g) ?? []).length;
      rssMax = Math.max(rssMax, process.memoryUsage().rss);
    }
    const rss1 = process.memoryUsage().rss;
    await tb.con.send('\x03');
    await tb.con.expect('>>> ', 5000);
    const cause = await tb.run('import machine\nprint(machine.reset_cause() == machine.WDT_RESET)');
    console.log(`soak ${SOAK_S} s, the seed program (blink 100 ms, TMP102 JSON every 250 ms) from main.py:`);
    console.log(`  ${lines} JSON lines (${(lines / SOAK_S).toFixed(2)}/s, 4/s due); host RSS ${(rss0 / MiB).toFixed(0)} -> ` +
      `${(rss1 / MiB).toFixed(0)} MB (max ${(rssMax / MiB).toFixed(0)} MB); ` +
      (log.includes('as a watchdog would') || cause.trim() === 'True' ? 'the board was RESET at its memory ceiling' : 'no memory-ceiling reset'));
    await tb.run("import os\nos.remove('main.py')");
  } finally {
    await tb.close();
  }
}

const tb = await TestBoard.open();
try {
  await speed(tb);
  await idle(tb);
  await ctrlC(tb);
} finally {
  await tb.close();
}
if (SOAK_S > 0) await soak();
