// A board's worker starts compiling the VM's wasm for the likely heap as soon as its code runs (early-vm.ts, on
// V8's background threads), so the compile overlaps the package's own start. The VM must then be made from that
// compile, still bounded to its heap; another heap size gets a compile of its own, once. Real VMs, in this process;
// early-vm is imported only here, after the watch on WebAssembly.compile is in place.
import { describe, expect, it, vi } from 'vitest';
import type { VmHooks } from '../emulator/vm/vm-loader.js';

// (The tests compile without the DOM lib, which declares WebAssembly.)
const wasmApi = (globalThis as unknown as { WebAssembly: { compile(bytes: Uint8Array): Promise<object> } }).WebAssembly;

class Printed implements VmHooks {
  out: number[] = [];
  output(bytes: Uint8Array): void {
    this.out.push(...bytes);
  }
  wrote(): void {}
  ticks(original: () => number): number {
    return original();
  }
  wallClock(): number {
    return Date.now();
  }
  heapTotal(vm: { runPython(code: string): unknown }): number {
    this.out = [];
    vm.runPython('import gc\ngc.collect()\nprint(gc.mem_free() + gc.mem_alloc())');
    return Number(Buffer.from(this.out).toString());
  }
}

describe("the VM's wasm, compiled ahead of its load", () => {
  it('starts compiling when the worker loads, and a VM of that heap is made from it, bounded to that heap', async () => {
    const compile = vi.spyOn(wasmApi, 'compile');
    try {
      const { LIKELY_SHAPE, takeVm } = await import('../emulator/vm/early-vm.js');
      expect(compile).toHaveBeenCalledTimes(1);
      const hooks = new Printed();
      const { vm } = await takeVm(hooks, LIKELY_SHAPE);
      expect(compile).toHaveBeenCalledTimes(1);
      const total = hooks.heapTotal(vm);
      expect(total).toBeGreaterThan(120 * 1024);
      expect(total).toBeLessThanOrEqual(LIKELY_SHAPE.heapBytes);

      // Another heap size is compiled for itself, once: a second VM of that size reuses the compile.
      const other = { heapBytes: 200 * 1024, family: 'esp32' as const };
      // (The package keeps one VM's tables on globalThis: each VM is used before the next one loads.)
      const first = new Printed();
      const a = await takeVm(first, other);
      const otherTotal = first.heapTotal(a.vm);
      expect(otherTotal).toBeGreaterThan(LIKELY_SHAPE.heapBytes);
      expect(otherTotal).toBeLessThanOrEqual(other.heapBytes);
      const b = await takeVm(new Printed(), other);
      expect(b.vm).not.toBe(a.vm);
      expect(compile).toHaveBeenCalledTimes(2);
    } finally {
      compile.mockRestore();
    }
  });
});
