// The scratch run that starts V8's TurboFan compile of the VM's bytecode loop early (emulator/vm/early-tier-up.ts):
// it runs its program to the end on the package's real wasm, gives up quietly on any other module, and leaves
// the VMs loaded from the same compiled module as they would be without it. Real VMs, loaded in this process.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { describe, expect, it, vi } from 'vitest';
import { startTierUp } from '../emulator/vm/early-tier-up.js';
import { loadVm, precompileVm, type VmHooks } from '../emulator/vm/vm-loader.js';
import { boardHeapBytes } from '../emulator/vm/memory.js';

// (The tests compile without the DOM lib, which declares WebAssembly.)
const wasmApi = (globalThis as unknown as { WebAssembly: { compile(bytes: Uint8Array): Promise<object>; instantiate(source: unknown, imports?: unknown): Promise<unknown> } }).WebAssembly;
const wasmFile = createRequire(import.meta.url).resolve('@micropython/micropython-webassembly-pyscript/micropython.wasm');

/** What a VM printed. */
function printing(): VmHooks & { text: () => string } {
  const out: number[] = [];
  return {
    output: (bytes) => void out.push(...bytes),
    wrote: () => undefined,
    ticks: (original) => original(),
    wallClock: () => Date.now(),
    text: () => Buffer.from(out).toString(),
  };
}

describe('the early start of the bytecode loop\'s TurboFan compile', () => {
  it("runs its loop to the end on a scratch instance of the package's wasm, which no VM shares", async () => {
    const module = await wasmApi.compile(readFileSync(wasmFile));
    expect(await startTierUp(module)).toBe(true);
    // A board's VM (its own compile of the same wasm, this worker's usual path) has nothing of the scratch run.
    const hooks = printing();
    const vm = await loadVm(hooks, boardHeapBytes({ platform: 'esp32' }));
    vm.runPython("print('i' in globals(), [n for n in range(3)])");
    expect(hooks.text()).toBe('False [0, 1, 2]\n');
  });

  it('runs for the first VM made from a compiled module, once, and never for a module only compiled', async () => {
    await loadVm(printing(), 96 * 1024); // the loader's hook on WebAssembly.instantiate is in place from here
    const instantiate = vi.spyOn(wasmApi, 'instantiate');
    // The scratch instance is made from the compiled module; the package instantiates from the wasm's bytes.
    const scratchRuns = () => instantiate.mock.calls.filter(([source]) => !(source instanceof Uint8Array)).length;
    try {
      precompileVm(200 * 1024); // (a worker's guess at its board's heap, which a board of another heap never uses)
      await new Promise((r) => setTimeout(r, 200));
      expect(scratchRuns()).toBe(0);
      const hooks = printing();
      const vm = await loadVm(hooks, 200 * 1024);
      expect(scratchRuns()).toBe(1);
      vm.runPython('print(6 * 7)');
      expect(hooks.text()).toBe('42\n');
      await loadVm(printing(), 200 * 1024); // (a recovery's new VM, of the same module)
      expect(scratchRuns()).toBe(1);
    } finally {
      instantiate.mockRestore();
    }
  });

  it('gives up, without throwing, on a module that is not the VM', async () => {
    // (module (func (export "f"))): no port entry points, no stack.
    const other = await wasmApi.compile(Uint8Array.from([0, 97, 115, 109, 1, 0, 0, 0, 1, 4, 1, 96, 0, 0, 3, 2, 1, 0, 7, 5, 1, 1, 102, 0, 0, 10, 4, 1, 2, 0, 11]));
    expect(await startTierUp(other)).toBe(false);
  });
});
