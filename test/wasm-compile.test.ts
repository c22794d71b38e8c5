// A board's worker compiles the VM's wasm once per heap size, synchronously, when a VM of that heap first loads:
// V8's async compile and instantiate wait behind any TurboFan compile under way (the main thread's warm-up of the
// bytecode loop, early-tier-up.ts), 40-90 ms on two cores. The VM is made from that compile, bounded to its heap;
// another heap size gets a compile of its own, once. Real VMs, in this process.
import { describe, expect, it, vi } from 'vitest';
import type { VmHooks } from '../emulator/vm/vm-loader.js';

// (The tests compile without the DOM lib, which declares WebAssembly.)
const wasmApi = (globalThis as unknown as { WebAssembly: { compile(bytes: Uint8Array): Promise<object>; Module: new (bytes: Uint8Array) => object } })
  .WebAssembly;

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

describe("the VM's wasm, compiled once per heap size", () => {
  it('is compiled synchronously when the first VM of a heap loads, and every later VM of that heap is made from it', async () => {
    const compileAsync = vi.spyOn(wasmApi, 'compile');
    // (A spy cannot stand in for a constructor: a subclass counts the compiles.)
    const Module = wasmApi.Module;
    let compiles = 0;
    wasmApi.Module = class extends Module {
      constructor(bytes: Uint8Array) {
        super(bytes);
        compiles++;
      }
    };
    try {
      const { LIKELY_SHAPE, takeVm } = await import('../emulator/vm/early-vm.js');
      expect(compiles).toBe(0);
      const hooks = new Printed();
      const { vm } = await takeVm(hooks, LIKELY_SHAPE);
      expect(compiles).toBe(1);
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
      expect(compiles).toBe(2);
      expect(compileAsync).not.toHaveBeenCalled();
    } finally {
      wasmApi.Module = Module;
      compileAsync.mockRestore();
    }
  });
});
