// Memory as on a board. The VM package (MicroPython's webassembly port) is built with MICROPY_GC_SPLIT_HEAP_AUTO
// and a gc_get_max_new_split() that returns a constant 128 MiB: its heap grows without bound, and gc.mem_free()
// adds those 128 MiB to the free blocks. We patch the wasm when it is instantiated (boundHeap): the heap starts at
// the profile's size, gc.mem_free() / micropython.mem_info() count only its blocks, and no single allocation may
// be larger than it (MemoryError, as on silicon).
//
// The port collects garbage only when the call depth from JavaScript returns to zero (ports/webassembly/main.c):
// C locals live in wasm locals, which no scan can see. So garbage is freed between the steps our runtime drives
// (REPL lines, raw-REPL execs, IRQ and timer callbacks while the board is idle), never inside one long program.
// What a program makes meanwhile spills into extra heap areas, which the next collection frees. The host stays
// bounded: linear memory may not grow past a ceiling, and the worker's own heap is watched against another;
// past either the board is reset, as a watchdog would.
import { nodeV8 } from '../../protocol/lazy-builtin.js';
import type { BoardProfile } from '../profiles.js';

const KiB = 1024;
const MiB = 1024 * KiB;

/**
 * The Python heap of each port family, chosen so gc.mem_free() after boot lands where silicon's does:
 * - esp32 without PSRAM: MicroPython's esp32 docs give "around 100KB" for the heap of a plain ESP32 (v1.2x with
 *   the split heap reports 110-160 KB in gc.mem_free(): the first 64000-byte area plus the largest free IDF
 *   block, see micropython#12141 / #12366 and discussion #12316). 152 KiB leaves about 116 KB after our boot
 *   (our runtime's Python, C code on the firmware, takes heap that silicon's flash holds: the heap is sized for it).
 * - rp2 (Pico): the heap is all RAM between .bss and the stacks (micropython#10968), about 190-230 KB free after
 *   boot on v1.2x. 244 KiB leaves about 210 KB after our boot (224 KiB did once; our runtime has grown since).
 */
export function boardHeapBytes(profile: Pick<BoardProfile, 'platform'>): number {
  return profile.platform === 'rp2' ? 244 * KiB : 152 * KiB;
}

/**
 * Most linear memory a board's VM may have. The package starts with 16 MiB (its INITIAL_MEMORY) and, with the heap
 * fixed, only the VM's own malloc (proxies, strings crossing from JavaScript) can ask for more.
 */
export const VM_MEMORY_CEILING = 32 * MiB;
/** Most the worker's JavaScript heap may use (the VM's in-memory files and proxies live there). */
export const WORKER_HEAP_CEILING = 96 * MiB;

// Function bodies of the package's wasm (index in the code section) that the patch edits, as we know them.
const GC_INFO = 21; // gc_info(): stores gc_get_max_new_split() as "max new split"
const GC_MAX_NEW_SPLIT = 1217; // gc_get_max_new_split(): return 134217728
const GET_MAX_NEW_SPLIT_BODY = [0x00, 0x41, 0x80, 0x80, 0x80, 0xc0, 0x00, 0x0b];
const CALL_GET_MAX_NEW_SPLIT = [0x10, 0xfd, 0x89, 0x80, 0x80, 0x00]; // call 1277 (60 imports + 1217), padded LEB

/** Offsets and sizes of the function bodies in a wasm binary's code section; `imports`: its imported functions. */
type Bodies = Array<{ at: number; size: number }> & { imports?: number };

function functionBodies(wasm: Uint8Array): Bodies {
  let p = 8;
  const leb = () => {
    let r = 0;
    let shift = 0;
    let byte;
    do {
      byte = wasm[p++]!;
      r |= (byte & 0x7f) << shift;
      shift += 7;
    } while (byte & 0x80);
    return r >>> 0;
  };
  let imports = 0;
  while (p < wasm.length) {
    const id = wasm[p++];
    const size = leb();
    const end = p + size;
    if (id === 2) {
      // (module, name, kind, type): only functions (kind 0) and memories or tables with a maximum need care
      for (let n = leb(); n > 0; n--) {
        for (let name = 0; name < 2; name++) {
          const len = leb(); // (read before p moves on: `p += leb()` would add to the old p)
          p += len;
        }
        const kind = wasm[p++];
        if (kind === 0) {
          imports++;
          leb();
        } else if (kind === 1 || kind === 2) {
          if (kind === 1) p++;
          const limits = leb();
          leb();
          if (limits & 1) leb();
        } else {
          p += 2; // global: value type, mutability
        }
      }
    }
    if (id !== 10) {
      p = end;
      continue;
    }
    const bodies: Bodies = [];
    for (let n = leb(); n > 0; n--) {
      const bodySize = leb();
      bodies.push({ at: p, size: bodySize });
      p += bodySize;
    }
    bodies.imports = imports;
    return bodies;
  }
  return [];
}

/** value as a five-byte (padded) signed LEB128, the width of the constants and call targets we replace. */
function leb5(value: number): number[] {
  return [0, 7, 14, 21].map((s) => ((value >>> s) & 0x7f) | 0x80).concat((value >>> 28) & 0x07);
}

/** Where boundHeap's two edits go in a wasm binary: the bodies of gc_get_max_new_split() and gc_info()'s call of it. */
export interface HeapEdits {
  split: number;
  call: number;
}

/** Where boundHeap's edits go in this wasm, or undefined when it is not the binary we know. */
export function heapEdits(wasm: Uint8Array): HeapEdits | undefined {
  return findHeapEdits(wasm, functionBodies(wasm));
}

function findHeapEdits(wasm: Uint8Array, bodies: Bodies): HeapEdits | undefined {
  const split = bodies[GC_MAX_NEW_SPLIT];
  const info = bodies[GC_INFO];
  if (!split || !info || split.size !== GET_MAX_NEW_SPLIT_BODY.length) return undefined;
  const bytes = Buffer.from(wasm.buffer, wasm.byteOffset, wasm.byteLength);
  if (!bytes.subarray(split.at, split.at + split.size).equals(Buffer.from(GET_MAX_NEW_SPLIT_BODY))) return undefined;
  const infoBody = bytes.subarray(info.at, info.at + info.size);
  const call = infoBody.indexOf(Buffer.from(CALL_GET_MAX_NEW_SPLIT));
  if (call < 0 || infoBody.indexOf(Buffer.from(CALL_GET_MAX_NEW_SPLIT), call + 1) >= 0) return undefined;
  return { split: split.at, call: info.at + call };
}

/**
 * The wasm with the heap bounded as on a board, or undefined when the binary is not the one we know (`edits`
 * undefined: heapEdits, wasmFacts; then only the memory ceiling holds). Two edits, each the same length as what it replaces:
 * - gc_get_max_new_split() returns heapBytes: a new heap area (which the port adds when a program fills the heap
 *   with garbage it cannot collect yet) is at most one board heap, so an allocation larger than the board's heap
 *   fails with MemoryError, as on silicon;
 * - gc_info() reports 0 for it, so gc.mem_free() and micropython.mem_info() count only the heap's free blocks.
 */
export function boundHeap(wasm: Uint8Array, heapBytes: number, edits: HeapEdits | undefined): Uint8Array | undefined {
  if (!edits) return undefined;
  const out = new Uint8Array(wasm); // a copy (Uint8Array.from iterates: ~8 ms for the 430 KB wasm)
  out.set(leb5(heapBytes), edits.split + 2);
  out.set([0x41, ...leb5(0)], edits.call);
  return out;
}

/** Addresses in linear memory of two of the port's C flags, which the runtime's loop stepping reads and sets. */
export interface VmFlags {
  /** gc_collect_pending: set when the VM wanted a collection (a full heap, gc.collect()) it could not make. */
  gcPending: number;
  /** mp_compile_allow_top_level_await: set while mp_js_do_exec_async compiles. */
  topLevelAwait: number;
}

/** `i32.const 0; i32.const 1; i32.store8 offset=ADDR` (ADDR a padded five-byte LEB128), as a static bool is set. */
const SET_FLAG = [0x41, 0x00, 0x41, 0x01, 0x3a, 0x00];
const CLEAR_FLAG = [0x41, 0x00, 0x41, 0x00, 0x3a, 0x00];

function leb5At(bytes: Uint8Array, at: number): number | undefined {
  let r = 0;
  for (let k = 0; k < 5; k++) {
    const b = bytes[at + k]!;
    if ((k < 4) !== ((b & 0x80) !== 0)) return undefined;
    r += (b & 0x7f) * 2 ** (7 * k);
  }
  return r;
}

function startsWith(bytes: Uint8Array, at: number, pattern: number[]): boolean {
  return pattern.every((b, k) => bytes[at + k] === b);
}

/**
 * The two flags, found in the bodies of the functions that set them, or undefined when the binary is not the one
 * we know: gc_collect() (right after gc_get_max_new_split) is `flag = 1` alone; mp_js_do_exec_async() sets its
 * flag, calls mp_js_do_exec and clears it.
 */
function findVmFlags(wasm: Uint8Array, bodies: Bodies): VmFlags | undefined {
  const collect = bodies[GC_MAX_NEW_SPLIT + 1];
  if (!collect || collect.size !== 13 || wasm[collect.at] !== 0 || !startsWith(wasm, collect.at + 1, SET_FLAG)) return undefined;
  const gcPending = leb5At(wasm, collect.at + 7);
  let topLevelAwait: number | undefined;
  for (const { at, size } of bodies) {
    if (size > 64 || wasm[at] !== 0 || !startsWith(wasm, at + 1, SET_FLAG)) continue;
    const flag = leb5At(wasm, at + 7);
    const end = at + size - 12;
    if (flag !== gcPending && startsWith(wasm, end, CLEAR_FLAG) && leb5At(wasm, end + 6) === flag && wasm[at + size - 1] === 0x0b) {
      if (topLevelAwait !== undefined) return undefined;
      topLevelAwait = flag;
    }
  }
  if (gcPending === undefined || topLevelAwait === undefined) return undefined;
  return { gcPending, topLevelAwait };
}

// emscripten_get_heap_size(): `memory.size << 16`, the function the port's sbrk() calls before it grows memory.
const HEAP_SIZE_BODY = [0x00, 0x3f, 0x00, 0x41, 0x10, 0x74, 0x0b];
const LOAD_STATIC_WORD = Buffer.from([0x41, 0x00, 0x28, 0x02]); // i32.const 0; i32.load align=4 offset=…
const STORE_WORD = Buffer.from([0x36, 0x02]); // i32.store align=4 offset=…

/**
 * Where in linear memory sbrk() keeps the break (the end of what malloc has taken; past it the VM has written
 * nothing), or undefined when the binary is not the one we know: sbrk is the one function that calls
 * emscripten_get_heap_size() and loads and stores the same static word (`i32.const 0; i32.load offset=ADDR` and
 * `i32.store offset=ADDR`, ADDR a padded five-byte LEB128).
 */
function findBreakAddress(wasm: Uint8Array, bodies: Bodies): number | undefined {
  const heapSize = bodies.findIndex(({ at, size }) => size === HEAP_SIZE_BODY.length && startsWith(wasm, at, HEAP_SIZE_BODY));
  if (heapSize < 0 || bodies.imports === undefined) return undefined;
  const bytes = Buffer.from(wasm.buffer, wasm.byteOffset, wasm.byteLength);
  const call = Buffer.from([0x10, ...leb5(bodies.imports + heapSize)]);
  /** The addresses after each occurrence of `op` in body (native searches: the binary is 430 KB). */
  const operands = (body: Buffer, op: Buffer) => {
    const found = new Set<number>();
    for (let k = body.indexOf(op); k >= 0; k = body.indexOf(op, k + 1)) found.add(leb5At(body, k + op.length) ?? -1);
    return found;
  };
  const found = new Set<number>();
  // The calls, found in the whole binary at once; each in the body that holds it (bodies are in address order).
  for (let k = bytes.indexOf(call); k >= 0; k = bytes.indexOf(call, k + 1)) {
    let lo = 0;
    for (let hi = bodies.length - 1; lo < hi; ) {
      const mid = (lo + hi + 1) >> 1;
      if (bodies[mid]!.at <= k) lo = mid;
      else hi = mid - 1;
    }
    const { at, size } = bodies[lo]!;
    if (k < at || k >= at + size || size > 256) continue;
    const body = bytes.subarray(at, at + size);
    const stores = operands(body, STORE_WORD);
    for (const addr of operands(body, LOAD_STATIC_WORD)) if (addr >= 0 && stores.has(addr)) found.add(addr);
  }
  return found.size === 1 ? [...found][0] : undefined;
}

/** What the loader uses of a wasm build besides its code, found in one pass over it (the build of the worker bundle finds it once: cli/bundle.mjs). */
export interface WasmFacts {
  heapEdits: HeapEdits | undefined;
  flags: VmFlags | undefined;
  breakAddress: number | undefined;
}

export function wasmFacts(wasm: Uint8Array): WasmFacts {
  const bodies = functionBodies(wasm);
  return { heapEdits: findHeapEdits(wasm, bodies), flags: findVmFlags(wasm, bodies), breakAddress: findBreakAddress(wasm, bodies) };
}

/** Wrap the VM's memory-growth import so linear memory never passes ceiling bytes; refusals go to onRefused. */
export function capGrowth(
  env: Record<string, unknown>,
  ceiling: number,
  onRefused: (requested: number) => void,
): void {
  const grow = env.emscripten_resize_heap as (requested: number) => boolean;
  env.emscripten_resize_heap = (requested: number) => {
    if (requested >>> 0 > ceiling) {
      onRefused(requested >>> 0);
      return false;
    }
    return grow(requested);
  };
}

/** The VM's linear memory (this project compiles without the DOM lib, which declares WebAssembly). */
export interface LinearMemory {
  readonly buffer: ArrayBuffer;
}

export interface MemoryUse {
  vmBytes: number;
  workerHeapBytes: number;
}

/** What this thread's VM and JavaScript heap use now (in a worker, v8 reports the worker's own isolate). */
export function memoryUse(vmMemory: LinearMemory): MemoryUse {
  return { vmBytes: vmMemory.buffer.byteLength, workerHeapBytes: nodeV8().getHeapStatistics().used_heap_size };
}

/** The console line a board prints when the host resets it for its memory, or undefined while within bounds. */
export function ceilingExceeded(use: MemoryUse): string | undefined {
  const mb = (n: number) => `${Math.round(n / MiB)} MB`;
  if (use.vmBytes > VM_MEMORY_CEILING) {
    return `the VM's memory reached ${mb(use.vmBytes)} (ceiling ${mb(VM_MEMORY_CEILING)})`;
  }
  if (use.workerHeapBytes > WORKER_HEAP_CEILING) {
    return `the board's host heap reached ${mb(use.workerHeapBytes)} (ceiling ${mb(WORKER_HEAP_CEILING)})`;
  }
  return undefined;
}
