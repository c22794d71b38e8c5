// A soft reset restores the VM's state from just after its runtime was installed (vm-snapshot.ts) instead of
// loading a new VM: what a program leaves behind must be gone as after a real soft reset, every time.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openBoard } from '../cli/api.js';
import { createBoard } from '../emulator/board-store.js';
import type { Board } from '../protocol/board.js';
import { ensureBuilt } from './helpers/built-cli.js';
import { restoreSnapshot, takeSnapshot, usedBytes, writePages, writtenExtent } from '../emulator/vm/vm-snapshot.js';
import { loadVm } from '../emulator/vm/vm-loader.js';
import { boardctl } from './helpers/boardctl.js';

const home = mkdtempSync(join(tmpdir(), 'boardctl-snapshot-'));

beforeAll(async () => {
  createBoard('snap', { home });
  await ensureBuilt();
}, 180_000);
afterAll(() => rmSync(home, { recursive: true, force: true }));

/** What a fresh boot looks like from Python: globals, loaded modules, the free heap. */
const STATE =
  "import sys, gc\ngc.collect()\nprint(sorted(k for k in globals() if not k.startswith('__')), sorted(sys.modules), gc.mem_free())";

describe('soft reset from the VM snapshot', () => {
  it('leaves nothing of the last program (globals, modules, heap, an IRQ handler); files and boot.py stay', async () => {
    const program = [
      "with open('boot.py', 'w') as f: f.write(\"with open('boots', 'a') as f: f.write('b')\\n\")",
      "with open('side.py', 'w') as f: f.write('print(\"side imported\")\\nVALUE = 7\\n')",
    ].join('\n');
    // A program that changes all it can: globals, an imported module, a heap full of objects, a JS-side callback
    // (a pin IRQ handler), sys.modules, and a long string.
    const mess = [
      'import side, machine, sys',
      'junk = [bytearray(100) for _ in range(300)]',
      "machine.Pin(4, machine.Pin.IN).irq(lambda p: print('irq'), machine.Pin.IRQ_RISING)",
      'sys.modules["fake"] = side',
      "big = 'x' * 20000",
    ].join('\n');
    const chain = ['exec', program, '+', 'soft-reset', '+', 'exec', STATE];
    for (let i = 0; i < 3; i++) chain.push('+', 'exec', mess, '+', 'soft-reset', '+', 'exec', STATE);
    chain.push('+', 'exec', "import side\nprint(side.VALUE, open('boots').read())");
    const run = await boardctl(['-p', 'virtual:snap', ...chain], { BOARDCTL_HOME: home, BOARDCTL_DEBUG: 'timing' });
    expect(run.code, run.stderr).toBe(0);
    // Every soft reset after the first boot came from the snapshot, none loaded a VM.
    const trace = run.stderr.split('\n').filter((l) => l.startsWith('boardctl timing:'));
    expect(trace.filter((l) => /board: VM loaded( \(started before its config\))?$/.test(l))).toHaveLength(1);
    expect(trace.filter((l) => l.endsWith('board: VM restored from its snapshot'))).toHaveLength(5);
    const lines = run.stdout.split(/\r?\n/).filter(Boolean);
    const states = lines.filter((l) => l.startsWith('['));
    expect(states).toHaveLength(4);
    // The same fresh state after each reset, to the byte of free heap.
    expect(new Set(states).size).toBe(1);
    expect(states[0]).not.toMatch(/side|fake|junk/);
    // The module ran again on each fresh import; the IRQ handler never fired; files stayed.
    expect(lines.filter((l) => l === 'side imported')).toHaveLength(4);
    expect(lines).not.toContain('irq');
    // boot.py ran at each of the four soft resets after it was written.
    expect(lines.at(-1)).toBe('7 bbbb');
  });

  it('replaces the VM after a host-side error unwound it, and soft resets from the new one keep working', async () => {
    let board: Board | undefined;
    try {
      process.env.BOARDCTL_HOME = home;
      board = await openBoard('virtual:snap');
      const free = async () => Number((await board!.exec('import gc\ngc.collect()\nprint(gc.mem_free())')).stdout);
      await board.softReset();
      const before = await free();
      // C recursion in re overflows the host's stack: the VM is left mid-call and must not be restored.
      await board.exec("import re\nre.match('(a*)*', 'aaa')").catch(() => undefined);
      const after: number[] = [];
      for (let i = 0; i < 3; i++) {
        await board.softReset();
        after.push(await free());
        await board.exec('x = [0] * 1000');
      }
      // The new VM's boot state, each time (a few bytes from the first VM's, which also listed the VM's modules).
      expect(new Set(after).size).toBe(1);
      expect(Math.abs(after[0]! - before)).toBeLessThan(200);
      expect(await board.eval("'x' in globals()")).toBe('True');
      await board.softReset();
      expect(await board.eval("'x' in globals()")).toBe('False');
    } finally {
      await board?.close();
      delete process.env.BOARDCTL_HOME;
    }
  });
});

describe('memory pages (boot image restore, snapshot extent)', () => {
  const PAGE = 4096;
  const fill = (mem: Uint8Array, page: number, byte: number) => mem.fill(byte, page * PAGE, (page + 1) * PAGE);

  it('writes an image into a fresh memory: its pages, zeros over what the fresh VM wrote, the rest left as it is', () => {
    const buffer = new ArrayBuffer(64 * PAGE);
    const mem = new Uint8Array(buffer);
    // The fresh VM wrote pages 0-5; the image holds pages 1, 3 and 20.
    for (let p = 0; p < 6; p++) fill(mem, p, 0xee);
    fill(mem, 30, 0x55); // past what the fresh VM wrote: not looked at
    const bytes = new Uint8Array(3 * PAGE);
    bytes.fill(1, 0, PAGE);
    bytes.fill(3, PAGE, 2 * PAGE);
    bytes.fill(20, 2 * PAGE);
    writePages(buffer, { pages: [1, 3, 20], bytes, pageSize: PAGE }, 6 * PAGE);
    const want = new Uint8Array(buffer.byteLength);
    fill(want, 1, 1);
    fill(want, 3, 3);
    fill(want, 20, 20);
    fill(want, 30, 0x55);
    expect(Buffer.from(mem).equals(Buffer.from(want))).toBe(true);
  });

  it('finds the end of the last page holding data, below a limit when given', () => {
    const buffer = new ArrayBuffer(64 * 65536);
    const mem = new Uint8Array(buffer);
    expect(usedBytes(buffer)).toBe(0);
    mem[3 * 65536 + 7] = 1;
    expect(usedBytes(buffer)).toBe(4 * 65536);
    mem[40 * 65536] = 1;
    expect(usedBytes(buffer)).toBe(41 * 65536);
    expect(usedBytes(buffer, 10 * 65536)).toBe(4 * 65536);
  });

  it("zeroes, at a restore, all the session wrote past the snapshot: up to malloc's break, which bounds the look", async () => {
    const out: number[] = [];
    const vm = await loadVm({ output: (bytes) => out.push(...bytes), wrote() {}, ticks: (t) => t(), wallClock: Date.now }, 152 * 1024);
    const snap = takeSnapshot(vm)!;
    // Live data beyond the board's heap: the port adds heap areas from malloc, far past the snapshot.
    vm.runPython("keep = [bytearray(b'U' * 1000) for _ in range(600)]");
    expect(writtenExtent(vm)).toBeGreaterThan(snap.memory.length + 500 * 1024);
    expect(usedBytes(vm.wasmMemory.buffer)).toBeGreaterThan(snap.memory.length);
    expect(restoreSnapshot(vm, snap)).toBe(true);
    // Nothing past the snapshot is left, and the VM is as it was (its break too).
    expect(usedBytes(vm.wasmMemory.buffer)).toBe(snap.memory.length);
    expect(writtenExtent(vm)).toBeLessThanOrEqual(snap.memory.length);
    vm.runPython("print('keep' in globals())");
    expect(Buffer.from(out).toString()).toBe('False\n');
  });
});
