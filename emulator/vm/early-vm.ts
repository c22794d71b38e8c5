// The part of a board's boot that needs no config: importing the VM package, compiling and instantiating its wasm,
// writing the port's frozen files into the new VM's file system. A worker thread may start before its board is
// known (emulator/worker-thread.ts) and wait for the config in a message; it does this work meanwhile, for the
// heap and port family most boards have, and the board takes that VM if its config asks for the same (else it
// loads its own, as without it). Nothing of the board is in it yet: the VM has run only the package's own start.
import { loadVm, type MicroPythonVm, type VmHooks } from './vm-loader.js';
import { writeFrozenFiles, type PortFamily } from './frozen.js';
import { boardHeapBytes } from './memory.js';

/** What a VM is loaded for: the heap it is built with (memory.ts) and the frozen files it holds. */
export interface VmShape {
  heapBytes: number;
  family: PortFamily;
}

/** The guess before the config: the esp32 family (three of the four profiles, and every new board's default). */
export const LIKELY_SHAPE: VmShape = { heapBytes: boardHeapBytes({ platform: 'esp32' }), family: 'esp32' };

/**
 * Hooks for a VM whose owner does not exist yet: each call goes to the owner's hooks once set. The package calls
 * none of them while it starts, but a clock read then gets the plain clock, and output would be dropped.
 */
class HookRelay implements VmHooks {
  owner: VmHooks | undefined;
  output(bytes: Uint8Array): void {
    this.owner?.output(bytes);
  }
  wrote(): void {
    this.owner?.wrote();
  }
  ticks(original: () => number): number {
    return this.owner ? this.owner.ticks(original) : original();
  }
  wallClock(): number {
    return this.owner ? this.owner.wallClock() : Date.now();
  }
  memoryRefused(requested: number): void {
    this.owner?.memoryRefused?.(requested);
  }
}

let early: { shape: VmShape; relay: HookRelay; vm: Promise<MicroPythonVm> } | undefined;

async function load(hooks: VmHooks, shape: VmShape): Promise<MicroPythonVm> {
  const vm = await loadVm(hooks, shape.heapBytes);
  writeFrozenFiles(vm.FS, shape.family);
  return vm;
}

/** Start loading a VM of this shape now, for the board this thread is about to get (at most one waits). */
export function prepareVm(shape: VmShape): Promise<MicroPythonVm> {
  if (early) return early.vm;
  const relay = new HookRelay();
  const vm = load(relay, shape);
  vm.catch(() => undefined); // a failed early load is only reported if a board takes it (then it loads its own)
  early = { shape, relay, vm };
  return vm;
}

/**
 * A VM of this shape with the frozen files in place, its clock, output and memory hooks `hooks`: the one
 * prepareVm started when it matches, else a new one. Hooks asking for their own memory ceiling get a new one.
 */
export async function takeVm(hooks: VmHooks, shape: VmShape): Promise<{ vm: MicroPythonVm; early: boolean }> {
  const taken = early;
  early = undefined;
  if (taken) {
    // Waited for even when it does not fit: the loader handles one load at a time.
    const vm = await taken.vm.catch(() => undefined);
    const fits = taken.shape.heapBytes === shape.heapBytes && taken.shape.family === shape.family && hooks.memoryCeiling === undefined;
    if (vm && fits) {
      taken.relay.owner = hooks;
      return { vm, early: true };
    }
  }
  return { vm: await load(hooks, shape), early: false };
}
