// A board's worker loads its VM before its config arrives (emulator/vm/early-vm.ts), for the likely heap and port
// family. The board must get that very VM when its config fits, wired to its own hooks (the VM's output, clocks),
// and a VM of its own shape when it does not. Real VMs, loaded in this process.
import { describe, expect, it } from 'vitest';
import { LIKELY_SHAPE, prepareVm, takeVm } from '../emulator/vm/early-vm.js';
import { frozenFiles } from '../emulator/vm/frozen.js';
import type { VmHooks } from '../emulator/vm/vm-loader.js';

/** The board's side of a VM: what it printed, and how often it read the clocks. */
class RecordingHooks implements VmHooks {
  out: number[] = [];
  ticksRead = 0;
  output(bytes: Uint8Array): void {
    this.out.push(...bytes);
  }
  wrote(): void {}
  ticks(original: () => number): number {
    this.ticksRead++;
    return original();
  }
  wallClock(): number {
    return Date.UTC(2030, 0, 1);
  }
  printed(): string {
    return Buffer.from(this.out).toString();
  }
}

describe('the VM a worker loads before its config', () => {
  it('is the one a board of the likely shape gets, with the board hooks in place', async () => {
    const early = prepareVm(LIKELY_SHAPE);
    const hooks = new RecordingHooks();
    const taken = await takeVm(hooks, { ...LIKELY_SHAPE });
    expect(taken.early).toBe(true);
    expect(taken.vm).toBe(await early);
    taken.vm.runPython("import time\nt = time.ticks_ms()\nprint('year', time.gmtime()[0])");
    expect(hooks.printed()).toBe('year 2030\n');
    expect(hooks.ticksRead).toBeGreaterThan(0);
    // The frozen files of its family are in its file system, whole, as plain files (mode 0666, as writeFile makes).
    expect(taken.vm.FS.analyzePath('/rom/esp32.py').exists).toBe(true);
    const fs = taken.vm.FS as typeof taken.vm.FS & { readFile(path: string): Uint8Array; stat(path: string): { mode: number } };
    for (const [path, src] of frozenFiles('esp32')) {
      expect(Buffer.from(fs.readFile(`/rom/${path}`)).toString('utf8'), path).toBe(src);
      expect(fs.stat(`/rom/${path}`).mode, path).toBe(0o100666);
    }
  });

  it('is not given to a board of another heap and family, which gets a VM of its own shape', async () => {
    const early = prepareVm(LIKELY_SHAPE);
    const hooks = new RecordingHooks();
    const rp2 = { heapBytes: 224 * 1024, family: 'rp2' as const };
    const taken = await takeVm(hooks, rp2);
    expect(taken.early).toBe(false);
    expect(taken.vm).not.toBe(await early);
    // Its family's tree, made as it is looked at (emulator/vm/frozen.ts): a listing shows every name of a folder,
    // a folder's files are there once it is listed, and what the family lacks is not there.
    const fs = taken.vm.FS as typeof taken.vm.FS & { readdir(path: string): string[]; readFile(path: string): Uint8Array };
    const names = (paths: string[], dir: string) => [...new Set(paths.filter((p) => p.startsWith(dir)).map((p) => p.slice(dir.length).split('/')[0]!))].sort();
    const paths = [...frozenFiles('rp2').keys()];
    expect(fs.readdir('/rom').filter((n) => n !== '.' && n !== '..').sort()).toEqual(names(paths, ''));
    expect(fs.readdir('/rom/asyncio').filter((n) => n !== '.' && n !== '..').sort()).toEqual(names(paths, 'asyncio/'));
    expect(Buffer.from(fs.readFile('/rom/asyncio/core.py')).toString('utf8')).toBe(frozenFiles('rp2').get('asyncio/core.py'));
    expect(taken.vm.FS.analyzePath('/rom/rp2.py').exists).toBe(true);
    expect(taken.vm.FS.analyzePath('/rom/esp32.py').exists).toBe(false);
    expect(taken.vm.FS.analyzePath('/rom/asyncio/nothing.py').exists).toBe(false);
    taken.vm.runPython('import gc\ngc.collect()\nprint(gc.mem_free() + gc.mem_alloc())');
    // The whole heap is the asked-for size (less the allocator's own tables).
    const total = Number(hooks.printed());
    expect(total).toBeGreaterThan(200 * 1024);
    expect(total).toBeLessThanOrEqual(rp2.heapBytes);
  });

  it('is given once: the next board of the same shape loads its own', async () => {
    const early = prepareVm(LIKELY_SHAPE);
    expect((await takeVm(new RecordingHooks(), LIKELY_SHAPE)).vm).toBe(await early);
    const second = await takeVm(new RecordingHooks(), LIKELY_SHAPE);
    expect(second.early).toBe(false);
    expect(second.vm).not.toBe(await early);
  });
});
