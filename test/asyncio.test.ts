// asyncio as on the ports (issue 16 item 2), on the real board runtime (worker, rings, resets): programs as users
// write them run unchanged, the examples of MicroPython's asyncio docs print what the docs say, and a program's
// top-level asyncio.run() is driven by the host so that its garbage is collected (issue 11 item 7).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createServer, type AddressInfo } from 'node:net';
import { RawReplClient } from '../protocol/raw-repl.js';
import { VM_MEMORY_CEILING } from '../emulator/vm/memory.js';
import type { TimelineEvent } from '../emulator/peripherals/timeline.js';
import { TestBoard } from './helpers/test-board.js';

const fixture = (name: string) => readFileSync(join(import.meta.dirname, 'fixtures/asyncio', name), 'utf8');
const MiB = 1024 * 1024;

// The ESP32 DevKit as tutorials wire it: LED on GPIO 2, BOOT button on GPIO 0, a TMP102 on SCL 22 / SDA 21.
const DEVKIT = [
  { type: 'led' as const, id: 'led', pin: 2 },
  { type: 'button' as const, id: 'boot', pin: 0, pressedLevel: 0 as const },
  { type: 'tmp102' as const, id: 'temp', bus: { scl: 22, sda: 21 }, address: 0x48, celsius: 22.5 },
];

let tb: TestBoard;
beforeAll(async () => {
  tb = await TestBoard.open({ parts: DEVKIT });
});
afterAll(async () => {
  await tb?.close();
});

/** A fresh VM, as run-tests.py gives each test: no task of an earlier program is left in the loop. */
const softReset = () => tb.runToReset('import machine\nmachine.soft_reset()', 'soft');
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const pause = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('asyncio on the virtual board', () => {
  it('runs the seed program from main.py: blink, TMP102 JSON, a button IRQ through a ThreadSafeFlag, Ctrl-C', async () => {
    await tb.run(`with open('main.py', 'w') as f:\n    f.write(${JSON.stringify(fixture('seed_main.py'))})`);
    await tb.control('trace', { clear: true });
    const boot = await tb.reset(undefined, '{"celsius": 22.5}');
    expect(boot).not.toContain('Traceback');
    await tb.control('set', { what: 'temp', value: 31.25 });
    await tb.con.expect('{"celsius": 31.25}');
    await tb.control('set', { what: 'button', id: 'boot', pressed: true });
    await pause(30);
    await tb.control('set', { what: 'button', id: 'boot', pressed: false });
    await tb.con.expect('{"button": 1}');
    await pause(1500);

    // The LED's edges, 100 ms apart (the median, so that a loaded host's hiccup does not count).
    const { events } = (await tb.control('trace')) as { events: TimelineEvent[] };
    const edges = events.filter((e) => e.kind === 'pin' && e.pin === 2).map((e) => e.t / 1000);
    expect(edges.length).toBeGreaterThan(10);
    const gaps = edges.slice(1).map((t, i) => t - edges[i]!);
    // Never early; late only by what a loaded host's scheduling adds to each sleep (a median of 112.7 ms at load 11),
    // well short of two periods.
    expect(median(gaps)).toBeGreaterThanOrEqual(98);
    expect(median(gaps)).toBeLessThan(160);

    // Ctrl-C ends asyncio.run() with KeyboardInterrupt, as on the board, and the REPL is back.
    await tb.con.send('\x03');
    const end = await tb.con.expect('>>> ');
    expect(end).toMatch(/Traceback \(most recent call last\):\r\n {2}File "main.py", line \d+, in <module>\r\n[^]*KeyboardInterrupt: \r\n/);
    expect(end, "no frame of the host's driver").not.toContain('_host_');
    await tb.con.send('print(6 * 7)\r');
    await tb.con.expect('42\r\n>>> ');
    await tb.run("import os\nos.remove('main.py')");
  }, 60_000);

  const DOCS = ['gather', 'wait_for', 'event', 'lock', 'cancel', 'streams'];

  it.each(DOCS)('prints what the docs say: %s (a raw-REPL exec, driven by the host)', async (name) => {
    await softReset();
    const out = await tb.run(fixture(`docs_${name}.py`));
    expect(out).toBe(fixture(`docs_${name}.exp`));
  });

  it.each(DOCS)('prints what the docs say: %s (run by exec(): the loop runs inside that call)', async (name) => {
    await softReset();
    expect(await tb.run(`exec(${JSON.stringify(fixture(`docs_${name}.py`))})`)).toBe(fixture(`docs_${name}.exp`));
  });

  it('goes on with the program after a run, returns what the run returned, raises its exception at the run', async () => {
    await softReset();
    const out = await tb.run(
      [
        'import asyncio',
        'async def answer():',
        '    await asyncio.sleep_ms(5)',
        '    return 42',
        'async def boom():',
        '    await asyncio.sleep_ms(5)',
        "    raise ValueError('boom')",
        'r = asyncio.run(answer())',
        "print('run returned', r)",
        'loop = asyncio.get_event_loop()',
        "print('until complete', loop.run_until_complete(answer()))",
        'async def stopper():',
        '    await asyncio.sleep_ms(20)',
        '    loop.stop()',
        'loop.create_task(stopper())',
        'loop.run_forever()',
        "print('stopped')",
        'try:',
        '    asyncio.run(boom())',
        'except ValueError as e:',
        "    print('caught', e)",
        'finally:',
        '    asyncio.new_event_loop()',
        "print('end')",
      ].join('\n'),
    );
    expect(out).toBe('run returned 42\nuntil complete 42\nstopped\ncaught boom\nend\n');
    // Uncaught, the exception is the program's, with the program as its outermost frame.
    const err = await tb.run('import asyncio\nasync def f():\n    raise ValueError(7)\nasyncio.run(f())').catch((e) => String(e));
    expect(err).toMatch(/Traceback \(most recent call last\):\n {2}File "<stdin>", line 4, in <module>\n[^]*ValueError: 7\n$/);
  });

  it('ends a run on Ctrl-C while its tasks are busy, with the program\'s handler and finally run', async () => {
    await softReset();
    await tb.con.rawRepl();
    await tb.con.send(
      [
        'import asyncio',
        'n = [0]',
        'async def spin():',
        '    while True:',
        '        n[0] += 1',
        '        await asyncio.sleep(0)',
        'async def main():',
        '    await asyncio.gather(spin(), spin())',
        'try:',
        '    asyncio.run(main())',
        'except KeyboardInterrupt:',
        "    print('interrupted after', n[0] > 100)",
        'finally:',
        "    print('finally')",
        '\x04',
      ].join('\n'),
    );
    await tb.con.expect('OK');
    await pause(500);
    await tb.con.send('\x03');
    expect(await tb.con.expect('\x04>')).toBe('interrupted after True\r\nfinally\r\n\x04\x04>');
  });

  it('resets from a task: machine.soft_reset() and sys.exit() give a soft reboot, machine.reset() a hard one', async () => {
    const task = (body: string) => `import asyncio, machine, sys\nasync def main():\n    await asyncio.sleep_ms(10)\n    ${body}\nasyncio.run(main())`;
    expect(await tb.runToReset(task('machine.soft_reset()'), 'soft')).toContain('MPY: soft reboot');
    expect(await tb.runToReset(task('sys.exit()'), 'soft')).toContain('MPY: soft reboot');
    expect(await tb.runToReset(task('machine.reset()'), 'hard')).toContain('rst:0xc (SW_CPU_RESET)');
    expect(await tb.run('import machine\nprint(machine.reset_cause() == machine.HARD_RESET)')).toBe('True\n');
  });

  it('runs a loop started inside a task, from the friendly REPL, and as mpremote runs a script (raw paste)', async () => {
    await softReset();
    const nested = await tb.run(
      'import asyncio\nasync def inner():\n    await asyncio.sleep_ms(5)\n    return 1\n' +
        'async def outer():\n    def blocking():\n        return asyncio.run(inner())\n    return blocking() + 1\n' +
        "print(asyncio.run(outer()))",
    );
    expect(nested).toBe('2\n');
    await tb.con.friendlyPrompt();
    await tb.con.send('import asyncio\r');
    await tb.con.expect('>>> ');
    await tb.con.send('asyncio.run(asyncio.sleep_ms(10))\r');
    await tb.con.send("print('ok')\r");
    await tb.con.expect('ok\r\n>>> ');
    const client = new RawReplClient(tb.transport, { resume: true });
    const { stdout, stderr } = await client.exec(fixture('docs_lock.py'));
    expect(stderr).toBe('');
    expect(stdout.replace(/\r\n/g, '\n')).toBe(fixture('docs_lock.exp'));
  });

  it('polls a UART with select.poll, and wakes a task from a hard IRQ handler through a ThreadSafeFlag', async () => {
    await softReset();
    const out = tb.run(
      [
        'import asyncio, select',
        'from machine import Pin, UART',
        'u = UART(1, 9600)',
        'p = select.poll()',
        'p.register(u, select.POLLIN)',
        'print(p.poll(0))',
        "u.write(b'x')",
        'print([(o is u, ev) for o, ev in p.poll(10)])',
        'print(u.read())',
        'flag = asyncio.ThreadSafeFlag()',
        'btn = Pin(0, Pin.IN, Pin.PULL_UP)',
        'btn.irq(lambda p: flag.set(), Pin.IRQ_FALLING, hard=True)',
        'async def main():',
        '    await asyncio.wait_for_ms(flag.wait(), 20000)',
        "    print('woken')",
        'asyncio.run(main())',
      ].join('\n'),
      25_000,
    );
    // Pressed until the run ends: a press before the program armed the IRQ (a loaded host) is not seen.
    let settled = false;
    void out.finally(() => (settled = true)).catch(() => {});
    while (!settled) {
      await pause(200);
      await tb.control('set', { what: 'button', id: 'boot', pressed: true });
      await pause(20);
      await tb.control('set', { what: 'button', id: 'boot', pressed: false });
    }
    expect(await out).toBe('[]\n[(True, 1)]\nb\'x\'\nwoken\n');
  });

  it('reads sys.stdin through a StreamReader while other tasks run (the link\'s input, as on the board)', async () => {
    await softReset();
    await tb.con.rawRepl();
    await tb.con.send(
      [
        'import asyncio, sys',
        'ticks = [0]',
        'async def ticker():',
        '    while True:',
        '        await asyncio.sleep_ms(20)',
        '        ticks[0] += 1',
        'async def main():',
        '    asyncio.create_task(ticker())',
        "    print('ready')",
        '    c = await asyncio.StreamReader(sys.stdin).read(1)',
        '    line = await asyncio.StreamReader(sys.stdin.buffer).readline()',
        '    print(repr(c), line, ticks[0] > 3)',
        'asyncio.run(main())',
        '\x04',
      ].join('\n'),
    );
    await tb.con.expect('ready\r\n');
    await pause(100);
    await tb.con.send('x');
    await pause(100);
    await tb.con.send('yz\n');
    expect(await tb.con.expect('\x04>')).toBe("'x' b'yz\\n' True\r\n\x04\x04>");
  });

  it('serves and connects TCP streams (start_server, open_connection) over the ESP32 board\'s network', async () => {
    await softReset();
    // A port the host has free (the board binds what it is given, as a program on silicon would).
    const port = await new Promise<number>((done) => {
      const probe = createServer().listen(0, '127.0.0.1', () => {
        const { port: p } = probe.address() as AddressInfo;
        probe.close(() => done(p));
      });
    });
    const out = await tb.run(
      [
        'import asyncio, network, time',
        'w = network.WLAN(network.STA_IF)',
        'w.active(True)',
        "w.connect('boardctl', 'micropython')",
        'while not w.isconnected():',
        '    time.sleep_ms(50)',
        'async def handle(r, wr):',
        "    wr.write(b'echo ' + await r.readline())",
        '    await wr.drain()',
        '    wr.close()',
        'async def main():',
        `    srv = await asyncio.start_server(handle, '127.0.0.1', ${port})`,
        `    r, wr = await asyncio.open_connection('127.0.0.1', ${port})`,
        "    wr.write(b'hi\\n')",
        '    await wr.drain()',
        '    print(await r.readline())',
        '    wr.close()',
        '    srv.close()',
        'asyncio.run(main())',
      ].join('\n'),
      30_000,
    );
    expect(out).toBe("b'echo hi\\n'\n");
  });

  it('collects the garbage of a long run: ten times the memory ceiling allocated by tasks, memory flat', async () => {
    await softReset();
    const total = () => tb.run('import gc, micropython\ngc.collect()\nmicropython.mem_info()').then((o) => Number(/total: (\d+)/.exec(o)![1]));
    const heap0 = await total();
    const rss0 = process.memoryUsage().rss;
    const chunk = 20_000;
    const perTask = Math.ceil((10 * VM_MEMORY_CEILING) / chunk / 4);
    const out = await tb.run(
      [
        'import asyncio',
        'async def churn(n):',
        '    for i in range(n):',
        `        junk = bytearray(${chunk})`,
        '        if i % 8 == 0:',
        '            await asyncio.sleep_ms(0)',
        '    return n',
        'async def main():',
        `    return await asyncio.gather(*[churn(${perTask}) for _ in range(4)])`,
        'print(sum(asyncio.run(main())))',
      ].join('\n'),
      300_000,
    );
    expect(Number(out) * chunk).toBeGreaterThan(10 * VM_MEMORY_CEILING);
    expect(await total()).toBeLessThan(4 * heap0);
    expect(process.memoryUsage().rss - rss0).toBeLessThan(64 * MiB);
    expect(await tb.run('import machine\nprint(machine.reset_cause() == machine.WDT_RESET)')).toBe('False\n');
  }, 320_000);
});
