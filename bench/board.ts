// Virtual board figures (issue 2): boot-to-prompt, raw-REPL exec round trip, Ctrl-C latency, CPU while a program
// sleeps, and MicroPython speed against a real ESP32's published figures.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { VirtualBoard } from '../emulator/board.js';
import { createBoard } from '../emulator/board-store.js';
import { BoardConsole } from '../test/helpers/board-console.js';

const home = mkdtempSync(join(tmpdir(), 'boardctl-bench-'));
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const ms = (x: number) => `${x.toFixed(2)} ms`;

async function main(): Promise<void> {
  createBoard('bench', { home });
  let t0 = performance.now();
  const board = await VirtualBoard.open('bench', { home });
  await board.whenReady();
  const bootMs = performance.now() - t0;
  const link = board.attach();
  const con = new BoardConsole({ write: (d) => link.write(d), onData: (l) => link.onData(l), close: () => link.close() });

  await con.rawRepl();
  const rtts: number[] = [];
  for (let i = 0; i < 200; i++) {
    t0 = performance.now();
    await con.rawExec('pass');
    rtts.push(performance.now() - t0);
  }

  // mpremote's way into a command: raw REPL from the friendly prompt (Ctrl-B then Ctrl-A), then its soft reset.
  const rawEntry: number[] = [];
  const softResets: number[] = [];
  for (let i = 0; i < 20; i++) {
    await con.send('\x02');
    await con.expect('>>> ');
    t0 = performance.now();
    await con.send('\x01');
    await con.expect('raw REPL; CTRL-B to exit\r\n>');
    rawEntry.push(performance.now() - t0);
    t0 = performance.now();
    await con.send('\x04');
    await con.expect('soft reboot');
    await con.expect('raw REPL; CTRL-B to exit\r\n>');
    softResets.push(performance.now() - t0);
  }

  const ctrlC: number[] = [];
  for (let i = 0; i < 10; i++) {
    await con.send('import time\nwhile True: time.sleep(0.1)\x04');
    await con.expect('OK');
    await new Promise((r) => setTimeout(r, 150));
    t0 = performance.now();
    await con.send('\x03');
    await con.expect('KeyboardInterrupt');
    ctrlC.push(performance.now() - t0);
    await con.expect('\x04>');
  }

  await con.send('import time\nwhile True: time.sleep(1)\x04');
  await con.expect('OK');
  await new Promise((r) => setTimeout(r, 300));
  const cpu0 = process.cpuUsage();
  const wall0 = performance.now();
  await new Promise((r) => setTimeout(r, 3000));
  const cpu = process.cpuUsage(cpu0);
  const sleepingCpu = ((cpu.user + cpu.system) / 1000 / (performance.now() - wall0)) * 100;
  await con.send('\x03');
  await con.expect('\x04>');

  await con.send('\x02');
  await con.expect('>>> ');
  const idle0 = process.cpuUsage();
  const idleWall = performance.now();
  await new Promise((r) => setTimeout(r, 3000));
  const idle = process.cpuUsage(idle0);
  const idleCpu = ((idle.user + idle.system) / 1000 / (performance.now() - idleWall)) * 100;
  await con.rawRepl();

  const [mulOut] = await con.rawExec(
    'import time\nt = time.ticks_ms()\nx = 1.0001\ny = 1.0\nfor i in range(1000000):\n    y = y * x\nprint(time.ticks_diff(time.ticks_ms(), t))',
    60_000,
  );
  const [jsonOut] = await con.rawExec(
    "import json, time\ns = json.dumps([{'id': i, 'name': 'sensor-%d' % i, 'v': i * 1.5, 'ok': True} for i in range(20)])\n" +
      "s = s[:1024]\ns = s[:s.rindex('}') + 1] + ']'\nn = 200\nt = time.ticks_ms()\nfor i in range(n):\n    json.loads(s)\n" +
      'print(len(s), time.ticks_diff(time.ticks_ms(), t) / n)',
    60_000,
  );
  const mulMs = Number(mulOut.trim());
  const [jsonLen, jsonMs] = jsonOut.trim().split(' ').map(Number);

  console.log('virtual board (esp32 profile), in-process link');
  console.log(`  boot to prompt (power-on, new worker):     ${ms(bootMs)}`);
  console.log(`  raw-REPL exec round trip, median of 200:   ${ms(median(rtts))}  (goal < 2 ms)`);
  console.log(`  raw REPL entry (Ctrl-A), median of 20:     ${ms(median(rawEntry))}`);
  console.log(`  soft reset in the raw REPL, median of 20:  ${ms(median(softResets))}  (boot.py and the fs mount included)`);
  console.log(`  Ctrl-C in time.sleep loop, median of 10:   ${ms(median(ctrlC))}  (goal < 100 ms)`);
  console.log(`  CPU while a program sleeps:                ${sleepingCpu.toFixed(2)} % of a core  (goal < 2 %)`);
  console.log(`  CPU with an idle REPL:                     ${idleCpu.toFixed(2)} % of a core  (goal < 2 %)`);
  console.log(`  1M float multiplies:                       ${mulMs} ms  (real ESP32: 1200 ms -> ${(1200 / mulMs).toFixed(1)}x)`);
  console.log(`  parse ${jsonLen} B of JSON:                   ${jsonMs.toFixed(3)} ms  (real ESP32: 15 ms -> ${(15 / jsonMs).toFixed(0)}x)`);
  await link.close();
  await board.close();
  const boots = await bootsWithAndWithoutImage(5);
  console.log(`  power-on boot from the boot image, median of 5: ${ms(boots.image.wall)} (CPU ${ms(boots.image.cpu)})`);
  console.log(`  power-on boot installing the runtime:         ${ms(boots.fresh.wall)} (CPU ${ms(boots.fresh.cpu)})` +
    `  -> image ${(boots.image.wall / boots.fresh.wall).toFixed(2)}x wall, ${(boots.image.cpu / boots.fresh.cpu).toFixed(2)}x CPU`);
  rmSync(home, { recursive: true, force: true });
}

/**
 * Power-on boots to the prompt (a new worker each), interleaved: restoring the boot image (emulator/vm/boot-image.ts,
 * written by the first boot above) against installing the runtime (BOARDCTL_BOOT_IMAGE=off). Wall and CPU ms
 * (all of this process's threads), medians.
 */
async function bootsWithAndWithoutImage(runs: number): Promise<Record<'image' | 'fresh', { wall: number; cpu: number }>> {
  const got = { image: { wall: [] as number[], cpu: [] as number[] }, fresh: { wall: [] as number[], cpu: [] as number[] } };
  for (let i = 0; i < runs; i++) {
    for (const kind of ['fresh', 'image'] as const) {
      // Read by the worker, whose environment is a copy of this one when it starts.
      process.env.BOARDCTL_BOOT_IMAGE = kind === 'fresh' ? 'off' : 'on';
      const cpu0 = process.cpuUsage();
      const t0 = performance.now();
      const b = await VirtualBoard.open('bench', { home });
      await b.whenReady();
      got[kind].wall.push(performance.now() - t0);
      const cpu = process.cpuUsage(cpu0);
      got[kind].cpu.push((cpu.user + cpu.system) / 1000);
      await b.close();
    }
  }
  delete process.env.BOARDCTL_BOOT_IMAGE;
  const sum = (k: 'image' | 'fresh') => ({ wall: median(got[k].wall)!, cpu: median(got[k].cpu)! });
  return { image: sum('image'), fresh: sum('fresh') };
}

await main();
