// A VM's state right after the runtime was installed, to soft-reset by restoring it instead of loading and
// installing a new VM (most of a soft reset's time: compiling the wasm, then compiling and running the runtime's
// Python). The state is the VM's linear memory (heap, C stack, malloc arena, the C side of the proxy tables) and
// the JavaScript side of its proxy tables, which the package keeps on globalThis: the ids in memory must keep
// naming the same JavaScript objects. Restoring gives the heap, modules and globals of a fresh boot, as a
// soft reset does on a board. Taken and restored only between calls into the VM, when its C stack pointer (the
// one mutable wasm global that moves) is at its base; a JavaScript exception that unwound the VM leaves it
// elsewhere, and then the snapshot does not apply (restoreSnapshot says so) and the VM must be replaced.
import type { MicroPythonVm } from './vm-loader.js';

interface ProxyTables {
  proxy_js_ref: unknown[];
  proxy_js_ref_next: number;
  proxy_js_ref_map: Map<unknown, number>;
  proxy_js_map: Map<number, unknown>;
  proxy_js_existing: unknown[];
}

export interface VmSnapshot {
  /** Linear memory up to its last non-zero page; the rest was zero. */
  memory: Uint8Array;
  tables: ProxyTables;
  stackPointer: number;
}

const PAGE = 64 * 1024;
const ZERO_PAGE = new Uint8Array(PAGE);

function tablesNow(): ProxyTables {
  const g = globalThis as unknown as Partial<ProxyTables>;
  if (!Array.isArray(g.proxy_js_ref) || !(g.proxy_js_ref_map instanceof Map) || !(g.proxy_js_map instanceof Map) || !Array.isArray(g.proxy_js_existing)) {
    throw new Error('MicroPython VM layout changed: its proxy tables are not where the snapshot expects them');
  }
  return g as ProxyTables;
}

function copyTables(t: ProxyTables): ProxyTables {
  return {
    proxy_js_ref: [...t.proxy_js_ref],
    proxy_js_ref_next: t.proxy_js_ref_next,
    proxy_js_ref_map: new Map(t.proxy_js_ref_map),
    proxy_js_map: new Map(t.proxy_js_map),
    proxy_js_existing: [...t.proxy_js_existing],
  };
}

/** The VM's state now, or undefined where the VM does not export its stack pointer (no way to check a restore). */
export function takeSnapshot(vm: MicroPythonVm): VmSnapshot | undefined {
  if (!vm.stackPointer) return undefined;
  const mem = Buffer.from(vm.wasmMemory.buffer);
  // Memory past the malloc arena's top was never touched: keep only up to the last page holding data. Found a
  // page at a time (memcmp), not a word at a time: most of the 16 MiB is that untouched tail.
  let used = mem.length - (mem.length % PAGE || PAGE);
  while (used > 0 && mem.subarray(used, used + PAGE).equals(ZERO_PAGE.subarray(0, mem.length - used))) used -= PAGE;
  used = Math.min(mem.length, used + PAGE);
  return { memory: new Uint8Array(vm.wasmMemory.buffer, 0, used).slice(), tables: copyTables(tablesNow()), stackPointer: vm.stackPointer() };
}

/** Put the VM back in the snapshot's state; false (and nothing changed) when its stack is not where it was. */
export function restoreSnapshot(vm: MicroPythonVm, snap: VmSnapshot): boolean {
  if (vm.stackPointer?.() !== snap.stackPointer) return false;
  const mem = Buffer.from(vm.wasmMemory.buffer);
  mem.set(snap.memory);
  // Past it, zero what the last session wrote. Pages compared first: writing zeros over memory never touched
  // would give the worker's process that memory for good (and page faults cost more than the comparison).
  for (let at = snap.memory.length; at < mem.length; at += PAGE) {
    const page = mem.subarray(at, at + PAGE);
    if (!page.equals(ZERO_PAGE.subarray(0, page.length))) page.fill(0);
  }
  Object.assign(globalThis, copyTables(snap.tables));
  return true;
}
