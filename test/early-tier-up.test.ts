// The main thread's warm-up of a board's VM wasm (emulator/vm/early-tier-up.ts): a scratch run on the package's
// real wasm runs its program to the end, once per heap size, gives up quietly on any other module, and leaves
// the VMs loaded from the same bytes as they would be without it. Real VMs, loaded in this process.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';
import { startTierUp, warmUpVm } from '../emulator/vm/early-tier-up.js';
import { loadVm, type VmHooks } from '../emulator/vm/vm-loader.js';
import { boardHeapBytes } from '../emulator/vm/memory.js';

// (The tests compile without the DOM lib, which declares WebAssembly.)
interface Wasm {
  compile(bytes: Uint8Array): Promise<object>;
  Instance: new (module: object, imports?: object) => object;
}
const wasmApi = (globalThis as unknown as { WebAssembly: Wasm }).WebAssembly;
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
    expect(startTierUp(module)).toBe(true);
    // A board's VM (its own compile of the same wasm, this worker's usual path) has nothing of the scratch run.
    const hooks = printing();
    const vm = await loadVm(hooks, boardHeapBytes({ platform: 'esp32' }));
    vm.runPython("print('i' in globals(), [n for n in range(3)])");
    expect(hooks.text()).toBe('False [0, 1, 2]\n');
  });

  it('warms a heap size once per thread, before it returns: one compile and one scratch run', async () => {
    // (A spy cannot stand in for a constructor: a subclass counts the instances.)
    const Instance = wasmApi.Instance;
    let instances = 0;
    wasmApi.Instance = class extends Instance {
      constructor(module: object, imports?: object) {
        super(module, imports);
        instances++;
      }
    };
    try {
      warmUpVm(200 * 1024);
      expect(instances).toBe(1); // the scratch run's
      warmUpVm(200 * 1024);
      expect(instances).toBe(1);
      const hooks = printing();
      const vm = await loadVm(hooks, 200 * 1024);
      vm.runPython("import gc\ngc.collect()\nprint('i' in globals(), gc.mem_free() + gc.mem_alloc() <= 200 * 1024)");
      expect(hooks.text()).toBe('False True\n');
      expect(instances).toBe(2); // and the VM's own
    } finally {
      wasmApi.Instance = Instance;
    }
  });

  it('gives up, without throwing, on a module that is not the VM', async () => {
    // (module (func (export "f"))): no port entry points, no stack.
    const other = await wasmApi.compile(Uint8Array.from([0, 97, 115, 109, 1, 0, 0, 0, 1, 4, 1, 96, 0, 0, 3, 2, 1, 0, 7, 5, 1, 1, 102, 0, 0, 10, 4, 1, 2, 0, 11]));
    expect(startTierUp(other)).toBe(false);
  });
});
