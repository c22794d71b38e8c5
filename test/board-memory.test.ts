// Memory as on a board (issue 11 item 7), on the real board runtime: worker, rings, resets. The heap has the
// profile's size, MemoryError comes past it, garbage is collected between the steps the runtime drives, and the
// host's memory stays bounded whatever a program does.
import { afterAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { VirtualBoard } from '../emulator/board.js';
import { createBoard } from '../emulator/board-store.js';
import { VM_MEMORY_CEILING } from '../emulator/vm/memory.js';
import type { ProfileName } from '../emulator/profiles.js';
import { BoardConsole } from './helpers/board-console.js';

const home = mkdtempSync(join(tmpdir(), 'boardctl-mem-'));
afterAll(() => rmSync(home, { recursive: true, force: true }));
const MiB = 1024 * 1024;

async function withBoard(name: string, profile: ProfileName, fn: (con: BoardConsole) => Promise<void>): Promise<void> {
  createBoard(name, { home, profile });
  const board = await VirtualBoard.open(name, { home });
  try {
    await board.whenReady();
    const t = board.attach();
    const con = new BoardConsole({ write: (d) => t.write(d), onData: (l) => t.onData(l), close: () => t.close() });
    await con.rawRepl();
    await fn(con);
  } finally {
    await board.close();
  }
}

async function run(con: BoardConsole, code: string, timeoutMs = 20_000): Promise<string> {
  const [out, err] = await con.rawExec(code, timeoutMs);
  expect(err).toBe('');
  return out;
}

const MEM_REPORT =
  'import gc, micropython\ngc.collect()\nprint(gc.mem_free(), gc.mem_alloc())\nmicropython.mem_info()';

function report(out: string): { free: number; alloc: number; total: number; split: number } {
  const [free, alloc] = out.split('\r\n')[0]!.split(' ').map(Number);
  const m = /GC: total: (\d+), used: (\d+), free: (\d+), max new split: (\d+)/.exec(out)!;
  expect(Number(m[2])).toBe(alloc);
  expect(Number(m[3])).toBe(free);
  return { free: free!, alloc: alloc!, total: Number(m[1]), split: Number(m[4]) };
}

describe('board memory', () => {
  it('has the heap of an ESP32 without PSRAM, and of a Pico, as gc and mem_info report it', async () => {
    await withBoard('mem-esp', 'esp32', async (con) => {
      const r = report(await run(con, MEM_REPORT));
      expect(r.free).toBeGreaterThan(110_000);
      expect(r.free).toBeLessThan(160_000);
      expect(r.free + r.alloc).toBe(r.total);
      expect(r.split).toBe(0);
    });
    await withBoard('mem-pico', 'rp2-pico', async (con) => {
      const r = report(await run(con, MEM_REPORT));
      expect(r.free).toBeGreaterThan(190_000);
      expect(r.free).toBeLessThan(230_000);
    });
  });

  it('raises MemoryError for what cannot fit in the heap, and frees a program\'s garbage when it ends', async () => {
    await withBoard('mem-garbage', 'esp32', async (con) => {
      const boot = report(await run(con, MEM_REPORT));
      expect(await run(con, 'try:\n    b = bytearray(200_000)\nexcept MemoryError as e:\n    print(e)')).toBe(
        'memory allocation failed, allocating 200000 bytes\r\n',
      );
      // 10 MB of garbage in one program's loop: the loop is stepped, so the heap is collected while it runs and
      // stays within a few board heaps (the VM alone would grow it past 10 MB); what remains is given back after.
      const during = await run(con, 'for i in range(10_000):\n    x = bytearray(1000)\ndel x\nimport micropython\nmicropython.mem_info()');
      expect(Number(/total: (\d+)/.exec(during)![1])).toBeLessThan(4 * boot.total);
      const after = report(await run(con, MEM_REPORT));
      expect(after.total).toBeLessThan(4 * boot.total);
      expect(Math.abs(after.alloc - boot.alloc)).toBeLessThan(4096);
    });
  });

  it('keeps what is reachable through every kind of root while collecting around it (torture)', async () => {
    await withBoard('mem-torture', 'esp32', async (con) => {
      // Live data spread over several heap areas, held by a global, a suspended generator, a closure only the
      // host holds (a Timer callback), and a bound method; garbage and collections in between.
      await run(
        con,
        [
          'import machine, hashlib, binascii',
          'def digest(items):',
          '    h = hashlib.sha256()',
          '    for it in items:',
          '        h.update(it)',
          "    return binascii.hexlify(h.digest()).decode()",
          'held = [bytes((i * 7 + j) & 255 for j in range(40 + i % 50)) for i in range(3000)]',
          'def gen(seed):',
          '    mine = [bytearray((seed + k) & 255 for k in range(64)) for _ in range(200)]',
          '    while True:',
          '        yield mine',
          'g = gen(5)',
          'next(g)',
          'class Box:',
          '    def __init__(self):',
          "        self.data = [str(i) * 3 for i in range(500)]",
          '    def get(self):',
          '        return self.data',
          'get = Box().get',
          'ticks = [0]',
          'def make_cb():',
          '    secret = [bytes([i % 256]) * 32 for i in range(300)]',
          '    want = digest(secret)',
          '    def cb(t):',
          '        junk = [bytearray(200) for _ in range(50)]',
          '        ticks[0] += 1 if digest(secret) == want else 1000',
          '    return cb',
          'tim = machine.Timer(0)',
          'tim.init(period=5, callback=make_cb())',
          'want = (digest(held), digest(next(g)), digest(s.encode() for s in get()))',
          'print(len(want))',
        ].join('\n'),
      );
      for (let round = 0; round < 20; round++) {
        await run(con, '_ = [bytearray(3000) for _ in range(400)]\nimport gc\ngc.collect()');
      }
      const out = await run(
        con,
        'import time\ntime.sleep_ms(300)\ntim.deinit()\n' +
          'print(want == (digest(held), digest(next(g)), digest(s.encode() for s in get())), ticks[0] > 0, ticks[0] < 1000)',
        60_000,
      );
      expect(out).toBe('True True True\r\n');
    });
  }, 120_000); // CPU-bound: 20 collections of a full heap took over 30 s at load 16

  it('frees the garbage of timer callbacks while the board idles: 10x the memory ceiling, host flat', async () => {
    await withBoard('mem-timer', 'esp32', async (con) => {
      const perCall = 2 * MiB;
      const calls = Math.ceil((10 * VM_MEMORY_CEILING) / perCall);
      await run(
        con,
        'import machine\nn = [0]\n' +
          'def cb(t):\n    if n[0] < ' + calls + ':\n        for i in range(' + perCall / 50_000 + '):\n' +
          '            x = bytearray(50_000)\n        n[0] += 1\n' +
          'tim = machine.Timer(0)\ntim.init(period=1, callback=cb)',
      );
      const rss0 = process.memoryUsage().rss;
      let done = 0;
      for (let i = 0; i < 600 && done < calls; i++) {
        done = Number((await run(con, 'print(n[0])')).trim());
        await new Promise((r) => setTimeout(r, 100));
      }
      expect(done).toBe(calls);
      await run(con, 'tim.deinit()');
      expect(process.memoryUsage().rss - rss0).toBeLessThan(64 * MiB);
    });
  }, 120_000);

  it('ends a program whose live data runs away in MemoryError, as the board heap would, with the host\'s growth under 64 MB', async () => {
    await withBoard('mem-runaway', 'esp32', async (con) => {
      const rss0 = process.memoryUsage().rss;
      await con.send('l = []\nwhile True:\n    l.append(bytearray(10_000))\n\x04');
      const text = await con.expect(/\x04>$/, 30_000);
      expect(text).toMatch(/MemoryError/);
      expect(text).not.toContain('[boardctl] the VM asked for');
      expect(process.memoryUsage().rss - rss0).toBeLessThan(64 * MiB);
      expect(await run(con, 'del l\nimport machine\nprint(machine.reset_cause() == machine.WDT_RESET)')).toBe('False\r\n');
    });
  });
});
