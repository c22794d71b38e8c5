// Loads one MicroPython VM instance (the npm WebAssembly build) with our hooks spliced into its wasm imports.
// The package's loader gives no way to hook the clock or the memory, so we wrap WebAssembly.instantiate while it
// runs: the clock import is wrapped, the heap bounded at the size asked for, and memory growth capped (memory.ts).
import { checksum } from '../../protocol/code-cache.js';
import { nodeCrypto } from '../../protocol/lazy-builtin.js';
import { vmWasmFile } from './wasm-file.js';
import { boundHeap, capGrowth, VM_MEMORY_CEILING, wasmFacts, type LinearMemory, type VmFlags } from './memory.js';
import { workerBuild } from './worker-build.js';

export interface MicroPythonVm {
  runPython(code: string): unknown;
  /** As runPython, compiling with top-level await allowed (synchronous for code that returns None). */
  runPythonAsync(code: string): unknown;
  /** A module, imported by the VM, as a proxy. */
  pyimport(name: string): unknown;
  /** __main__'s globals. */
  globals: { get(key: string): unknown; set(key: string, value: unknown): void; delete(key: string): void };
  registerJsModule(name: string, module: object): void;
  replInit(): void;
  replProcessChar(chr: number): number;
  FS: {
    mkdir(path: string): void;
    writeFile(path: string, data: string | Uint8Array): void;
    /** A file `name` in folder `parent` (a path) holding data, readable and writable as canRead and canWrite say. */
    createDataFile(parent: string, name: string, data: Uint8Array, canRead: boolean, canWrite: boolean): void;
    chmod(path: string, mode: number): void;
    analyzePath(path: string): { exists: boolean };
    /** The node at a path (a missing one throws the package's ErrnoError). */
    lookupPath(path: string): { node: object };
  };
  _module: {
    _mp_sched_keyboard_interrupt(): void;
    _mp_hal_get_interrupt_char(): number;
    /** Give up a handle's id on a Python object (what the package does when it finalises the handle). */
    _proxy_c_free_obj(ref: number): void;
  };
  /** The VM's linear memory (its heap, C stack and malloc arena). */
  wasmMemory: LinearMemory;
  /** False when the package's wasm was not the one whose heap we know how to bound (only the ceiling holds). */
  heapBounded: boolean;
  /** Where the port's GC and compiler flags live, or undefined for a wasm we do not know (loops run as written). */
  flags: VmFlags | undefined;
  /** Where malloc's break is kept in memory (past it the VM has written nothing), for a wasm we know. */
  breakAddress: number | undefined;
  /** The VM's C stack pointer (emscripten's), where the wasm exports it. */
  stackPointer?: () => number;
  /** Grow linear memory to at least this many bytes as the VM's own malloc would (the package's views follow). */
  growMemory(bytes: number): boolean;
  /** SHA-256 of the package's wasm as shipped (before our edits): which VM build this is. */
  wasmDigest: string;
  /** The package's handle on a Python object by its proxy id: passed back into Python, it is that object. */
  PyProxy: new (ref: number) => object;
}

/** The error the VM's runPython throws for an uncaught Python exception. */
export interface PythonError extends Error {
  type: string;
}

export function isPythonError(err: unknown): err is PythonError {
  return err instanceof Error && err.name === 'PythonError';
}

export interface VmHooks {
  /** The bytes of one write the VM makes to stdout or stderr: a view of its memory, valid during the call only. */
  output(bytes: Uint8Array): void;
  /** After each write the VM makes to stdout or stderr (a print, a protocol reply such as the raw REPL's OK). */
  wrote(): void;
  /** Wraps the VM's millisecond clock import (called in tight loops by time.sleep). */
  ticks(original: () => number): number;
  /** The VM's calendar clock import (Unix ms), read by time.time(), localtime() and gmtime(). */
  wallClock(): number;
  /** Linear memory may not grow past this many bytes (default VM_MEMORY_CEILING); refusals are reported here. */
  memoryCeiling?: number;
  memoryRefused?(requested: number): void;
}

// Python frames live on the VM's own stack (the package's default is 2048 words, 8 KB). Every nested import also
// passes through the board runtime's import hook, so a project whose imports nest 20 deep needs more.
const PYSTACK_WORDS = 16 * 1024;

type Imports = Record<string, Record<string, unknown>>;

/** What this project uses of WebAssembly (it compiles without the DOM lib, which declares it). */
interface Wasm {
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object, imports?: unknown) => unknown;
  instantiate(source: unknown, imports?: unknown): Promise<unknown>;
}
const wasmApi = (globalThis as unknown as { WebAssembly: Wasm }).WebAssembly;

/** The package's wasm made ready for one heap size: our edits made, compiled. */
interface PreparedWasm {
  /** The bytes as shipped, to recognise them when the package instantiates. */
  source: Uint8Array;
  digest: string;
  heapBounded: boolean;
  flags: VmFlags | undefined;
  breakAddress: number | undefined;
  module: object;
}

/** One per heap size, kept for the worker's life: every later VM of that size (a recovery, a reload) skips the compile. */
const prepared = new Map<number, PreparedWasm>();

function prepareWasm(source: Uint8Array, heapBytes: number): PreparedWasm {
  const known = prepared.get(heapBytes);
  if (known && Buffer.from(known.source.buffer, known.source.byteOffset, known.source.byteLength).equals(source)) return known;
  // The bundle's build found the digest and facts of the wasm it was built with (a pass over its code: ~5 ms of
  // a boot); the same bytes have its checksum (no node:crypto in the thread).
  const built = workerBuild && checksum(source).toString(16) === workerBuild.wasm.sum ? workerBuild.wasm : undefined;
  const digest = built?.digest ?? nodeCrypto().createHash('sha256').update(source).digest('hex');
  const facts = built?.facts ?? wasmFacts(source);
  const bounded = boundHeap(source, heapBytes, facts.heapEdits);
  // Compiled and, below, instantiated synchronously: V8's async compile and instantiate wait behind the TurboFan
  // compile of the bytecode loop that the main thread's scratch run began (early-tier-up.ts), 40-90 ms on two
  // cores, while compiling here takes 1-6 ms (baseline code is compiled lazily; the main thread's module is shared).
  const module = new wasmApi.Module(bounded ?? source);
  const entry = { source, digest, heapBounded: bounded !== undefined, flags: facts.flags, breakAddress: facts.breakAddress, module };
  prepared.set(heapBytes, entry);
  return entry;
}

let activeHooks: VmHooks | undefined;
let heapBounded = false;
let flags: VmFlags | undefined;
let breakAddress: number | undefined;
let heapSize = 0;
let memory: LinearMemory | undefined;
let stackPointer: (() => number) | undefined;
let growMemory: ((bytes: number) => boolean) | undefined;
let wasmDigest = '';
let patched = false;

function patchInstantiate(): void {
  if (patched) return;
  patched = true;
  const original = wasmApi.instantiate.bind(wasmApi);
  wasmApi.instantiate = (source: unknown, importsArg?: unknown) => {
    const imports = importsArg as Imports | undefined;
    const env = imports?.env;
    const hooks = activeHooks;
    if (!hooks || !env || typeof env.mp_js_ticks_ms !== 'function' || !(source instanceof Uint8Array)) {
      return original(source, importsArg);
    }
    const ticks = env.mp_js_ticks_ms as () => number;
    env.mp_js_ticks_ms = () => hooks.ticks(ticks);
    if (typeof env.mp_js_time_ms === 'function') env.mp_js_time_ms = () => hooks.wallClock();
    // The random module's seed at each boot, as a board's comes from its hardware RNG: V8 seeds Math.random from
    // the system's entropy for each thread (the package's globalThis.crypto would first load all of WebCrypto,
    // ~40 ms of a worker's CPU; node:crypto ~2-3 ms).
    if (typeof env.mp_js_random_u32 === 'function') env.mp_js_random_u32 = () => Math.floor(Math.random() * 0x1_0000_0000);
    const write = env.fd_write as (fd: number, iov: number, iovcnt: number, written: number) => number;
    let mem: LinearMemory | undefined;
    // stdout and stderr are taken from the VM's memory a write at a time; the package's own path hands them over
    // a byte at a time, each in a new Uint8Array (most of a print's cost).
    env.fd_write = (fd: number, iov: number, iovcnt: number, written: number) => {
      if ((fd !== 1 && fd !== 2) || !mem) return write(fd, iov, iovcnt, written);
      const words = new DataView(mem.buffer);
      let total = 0;
      for (let i = 0; i < iovcnt; i++) {
        const len = words.getUint32(iov + 8 * i + 4, true);
        if (len) hooks.output(new Uint8Array(mem.buffer, words.getUint32(iov + 8 * i, true), len));
        total += len;
      }
      words.setUint32(written, total, true);
      hooks.wrote();
      return 0;
    };
    capGrowth(env, hooks.memoryCeiling ?? VM_MEMORY_CEILING, (n) => hooks.memoryRefused?.(n));
    growMemory = env.emscripten_resize_heap as (bytes: number) => boolean;
    try {
      const wasm = prepareWasm(source, heapSize);
      wasmDigest = wasm.digest;
      heapBounded = wasm.heapBounded;
      flags = wasm.flags;
      breakAddress = wasm.breakAddress;
      const instance = new wasmApi.Instance(wasm.module, importsArg) as { exports: { memory: LinearMemory; emscripten_stack_get_current?: () => number } };
      memory = instance.exports.memory;
      mem = memory;
      stackPointer = instance.exports.emscripten_stack_get_current;
      return Promise.resolve({ module: wasm.module, instance });
    } catch (err) {
      return Promise.reject(err);
    }
  };
}

export async function loadVm(hooks: VmHooks, heapBytes: number): Promise<MicroPythonVm> {
  patchInstantiate();
  const { loadMicroPython } = await import('@micropython/micropython-webassembly-pyscript');
  activeHooks = hooks;
  heapSize = heapBytes;
  heapBounded = false;
  flags = undefined;
  breakAddress = undefined;
  memory = undefined;
  stackPointer = undefined;
  growMemory = undefined;
  try {
    // What reaches the package's stdout is what fd_write did not take (none of the VM's own writes).
    const out = (data: Uint8Array | string) => hooks.output(data as Uint8Array);
    const vm = await loadMicroPython({ stdout: out, stderr: out, linebuffer: false, heapsize: heapBytes, pystack: PYSTACK_WORDS, url: vmWasmFile() });
    if (!memory || !growMemory) throw new Error('the MicroPython package did not instantiate its wasm through WebAssembly.instantiate');
    return Object.assign(vm, { wasmMemory: memory, heapBounded, flags, breakAddress, stackPointer, growMemory, wasmDigest }) as unknown as MicroPythonVm;
  } finally {
    activeHooks = undefined;
  }
}
