// A VM's state right after the runtime was installed, to soft-reset by restoring it instead of loading and
// installing a new VM (most of a soft reset's time: compiling the wasm, then compiling and running the runtime's
// Python). The state is the VM's linear memory (heap, C stack, malloc arena, the C side of the proxy tables) and
// the JavaScript side of its proxy tables, which the package keeps on globalThis: the ids in memory must keep
// naming the same JavaScript objects. Restoring gives the heap, modules and globals of a fresh boot, as a
// soft reset does on a board. Taken and restored only between calls into the VM, when its C stack pointer (the
// one mutable wasm global that moves) is at its base; a JavaScript exception that unwound the VM leaves it
// elsewhere, and then the snapshot does not apply (restoreSnapshot says so) and the VM must be replaced.
import type { MicroPythonVm } from './vm-loader.js';

export interface ProxyTables {
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

/**
 * Bytes of memory up to the end of its last page (of `page` bytes) below `limit` that holds anything but zeros.
 * Found a page at a time (memcmp), from the top down: most of the 16 MiB is the untouched tail.
 */
export function usedBytes(memory: ArrayBuffer, limit = memory.byteLength, page = PAGE): number {
  const mem = Buffer.from(memory, 0, Math.min(limit, memory.byteLength));
  let at = mem.length - (mem.length % page || page);
  while (at >= 0 && mem.subarray(at, at + page).equals(ZERO_PAGE.subarray(0, Math.min(page, mem.length - at)))) at -= page;
  return Math.min(mem.length, at + page);
}

/**
 * The VM's state now, or undefined where the VM does not export its stack pointer (no way to check a restore).
 * `limit`: memory past it is known to be zero (a caller that knows, as after restoring a boot image, spares the
 * reading of the untouched tail: each of its pages costs a page fault the first time it is read).
 */
export function takeSnapshot(vm: MicroPythonVm, limit?: number): VmSnapshot | undefined {
  if (!vm.stackPointer) return undefined;
  const used = usedBytes(vm.wasmMemory.buffer, Math.min(limit ?? Infinity, writtenExtent(vm)));
  return { memory: new Uint8Array(vm.wasmMemory.buffer, 0, used).slice(), tables: copyTables(tablesNow()), stackPointer: vm.stackPointer() };
}

/**
 * How far the VM can have written: its malloc break (rounded up to a page; everything the port and the package
 * write lies below it, the C stack and static data included), or all of memory where the break is not known.
 */
export function writtenExtent(vm: MicroPythonVm): number {
  const length = vm.wasmMemory.buffer.byteLength;
  if (vm.breakAddress === undefined) return length;
  const brk = new DataView(vm.wasmMemory.buffer).getUint32(vm.breakAddress, true);
  // A break that cannot be one (outside memory, below the word that holds it) means the wasm is not what we know.
  return brk > vm.breakAddress && brk <= length ? Math.min(length, Math.ceil(brk / PAGE) * PAGE) : length;
}

/**
 * Zero the pages of mem[from, to) that hold anything. Pages compared first: writing zeros over memory never
 * touched would give the worker's process that memory for good (and page faults cost more than the comparison).
 */
export function zeroPages(mem: Buffer, from: number, to: number, page = PAGE): void {
  for (let at = from; at < to; at += page) {
    const p = mem.subarray(at, Math.min(at + page, to));
    if (!p.equals(ZERO_PAGE.subarray(0, p.length))) p.fill(0);
  }
}

/** Memory as pages: the indexes of those held (the others are zero) and their bytes, in that order. */
export interface MemoryPages {
  pages: number[];
  bytes: Uint8Array;
  pageSize: number;
}

/**
 * Make the memory of a VM just loaded hold `image`, where the loaded VM had written nothing past `freshBytes`:
 * only what differs is written (the image's pages, zeros over the fresh VM's pages the image has none of); past
 * freshBytes the memory was never touched and stays so (no page faults).
 */
export function writePages(memory: ArrayBuffer, image: MemoryPages, freshBytes: number): void {
  const mem = Buffer.from(memory);
  const { pages, bytes, pageSize } = image;
  const held = new Set(pages);
  for (let page = 0; page * pageSize < freshBytes; page++) {
    if (!held.has(page)) zeroPages(mem, page * pageSize, (page + 1) * pageSize, pageSize);
  }
  pages.forEach((page, k) => mem.set(bytes.subarray(k * pageSize, (k + 1) * pageSize), page * pageSize));
}

/** Whether a state taken with this stack pointer applies to the VM now (see the top of this file). */
export function stackMatches(vm: MicroPythonVm, stackPointer: number): boolean {
  return vm.stackPointer?.() === stackPointer;
}

/** Make these the package's proxy tables (a copy: the VM changes its tables as it runs). */
export function installTables(tables: ProxyTables): void {
  Object.assign(globalThis, copyTables(tables));
}

/** Put the VM back in the snapshot's state; false (and nothing changed) when its stack is not where it was. */
export function restoreSnapshot(vm: MicroPythonVm, snap: VmSnapshot): boolean {
  if (!stackMatches(vm, snap.stackPointer)) return false;
  const mem = Buffer.from(vm.wasmMemory.buffer);
  // Past the snapshot, zero what the last session wrote: up to its break (read before the snapshot's is put back).
  const written = writtenExtent(vm);
  mem.set(snap.memory);
  zeroPages(mem, snap.memory.length, written);
  installTables(snap.tables);
  return true;
}
