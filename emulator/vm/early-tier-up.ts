// V8 runs the VM's wasm on its baseline code (Liftoff) first and recompiles a function with TurboFan in the
// background once it has run enough. The one that matters, the interpreter's bytecode loop, takes 50-100 ms of a
// background thread to compile, and Node cannot end a process while such a compile runs (the isolate's and the
// platform's teardown wait for it): begun by the board's boot, it outlived a quick command (exec pass) by 20 ms.
// So the main thread begins it once it has handed a board its worker and config (emulator/worker-thread.ts), while
// it waits for the boot: it compiles the wasm for the board's heap and runs a few hundred bytecodes on a scratch
// instance (its own memory, stub imports). V8 keeps one compiled module for the same bytes across a
// process's threads, so the worker's compile of them finds it, with the code the scratch run made: its lazily
// compiled baseline functions (what a VM's start and an exec call) and, once done, the TurboFan loop (sooner for
// programs too: a frame keeps the code it started with, wasm has no on-stack replacement). All of it off the
// worker, the boot's critical path.
import { readFileSync } from 'node:fs';
import { phase } from '../../protocol/timing.js';
import { boundHeap, heapEdits } from './memory.js';
import { vmWasmFile } from './wasm-file.js';

/** What the scratch run needs of the package's wasm: the port's entry points and emscripten's stack and longjmp. */
interface VmExports {
  memory: { buffer: ArrayBuffer };
  __indirect_function_table: { get(index: number): (...args: number[]) => number };
  __wasm_call_ctors(): void;
  emscripten_stack_init(): void;
  emscripten_stack_get_current(): number;
  _emscripten_stack_restore(sp: number): void;
  setThrew(threw: number, value: number): void;
  malloc(bytes: number): number;
  mp_js_init(pystackWords: number, heapBytes: number): void;
  mp_js_do_exec(src: number, len: number, out: number): void;
}

interface Wasm {
  Module: { new (bytes: Uint8Array): object; imports(module: object): Array<{ module: string; name: string; kind: string }> };
  Instance: new (module: object, imports: object) => { exports: unknown };
}
const wasmApi = (globalThis as unknown as { WebAssembly: Wasm }).WebAssembly;

/** The kind the port gives the result of a program that ran to its end (its proxy.c). */
const PROXY_KIND_NONE = 1;

/**
 * Enough dispatches of the bytecode loop to spend V8's budget for it (its default, 1.8 MB, is ~100 of them), after
 * what a board's boot runs first (the runtime's _boot.py: a class, super(), strings, an OSError caught, exec of
 * compiled source; the collection after main.py): the VM's baseline code for those is compiled here, not on the
 * first boot (whose boot.py-to-prompt step took ~1 ms longer without it; the collection alone gains nothing).
 */
const PROGRAM = Buffer.from(
  [
    'class A:',
    '    def __init__(self, p):',
    "        self._p = p.rstrip('/') + '/' if p.startswith('/') else p",
    'class B(A):',
    '    def __init__(self, p):',
    '        super().__init__(p)',
    '        self.t = isinstance(p, str) and p.split()',
    'try:',
    "    raise OSError(2)",
    'except OSError as e:',
    "    g = {'b': B('/x'), 'e': e.args}",
    "exec(compile('x = [i for i in range(3)]', 's', 'exec'), g)",
    "m = memoryview(bytearray(8))[2:]",
    'import gc',
    'gc.collect()',
    'for i in range(300):',
    '    pass',
    '',
  ].join('\n'),
);

/**
 * Run a short loop on a scratch instance of the VM's compiled `module`; returns whether it ran to its end (a wasm
 * that is not the one we know, or a stub the VM did not expect, leaves it undone: it only ever saves time).
 */
export function startTierUp(module: object): boolean {
  try {
    let vm: VmExports | undefined;
    // emscripten's invoke_*: a call through the table that a longjmp (a Python exception's nlr) may unwind.
    const invoke = (index: number, ...args: number[]) => {
      const sp = vm!.emscripten_stack_get_current();
      try {
        return vm!.__indirect_function_table.get(index)(...args);
      } catch (err) {
        vm!._emscripten_stack_restore(sp);
        if (err !== Infinity) throw err;
        vm!.setThrew(1, 0);
        return 0;
      }
    };
    const throwLongjmp = () => {
      throw Infinity; // what emscripten's longjmp throws
    };
    const imports: Record<string, Record<string, unknown>> = {};
    for (const { module: from, name, kind } of wasmApi.Module.imports(module)) {
      if (kind !== 'function') continue;
      const stub = name.startsWith('invoke_') ? invoke : name === '_emscripten_throw_longjmp' ? throwLongjmp : () => 0;
      (imports[from] ??= {})[name] = stub;
    }
    vm = new wasmApi.Instance(module, imports).exports as VmExports;
    vm.emscripten_stack_init();
    vm.__wasm_call_ctors();
    vm.mp_js_init(2048, 64 * 1024);
    const src = vm.malloc(PROGRAM.length + 1);
    new Uint8Array(vm.memory.buffer).set([...PROGRAM, 0], src);
    const result = vm.malloc(12);
    vm.mp_js_do_exec(src, PROGRAM.length, result);
    const ran = new Int32Array(vm.memory.buffer, result, 1)[0] === PROXY_KIND_NONE; // (an exception's is -1)
    phase(ran ? "VM wasm warmed (a scratch run began the bytecode loop's TurboFan compile)" : 'VM wasm scratch run failed');
    return ran;
  } catch {
    return false;
  }
}

const warmed = new Set<number>();

/**
 * Compile the VM's wasm for a heap of `heapBytes` (the bytes the board's worker compiles, memory.ts) and run the
 * scratch program on it, once per heap size in this thread; nothing of it may fail the board. Synchronous, as in
 * the worker (vm-loader.ts): V8's async compile and instantiate wait behind TurboFan compiles under way.
 */
export function warmUpVm(heapBytes: number): void {
  if (warmed.has(heapBytes)) return;
  warmed.add(heapBytes);
  try {
    const source = readFileSync(vmWasmFile());
    startTierUp(new wasmApi.Module(boundHeap(source, heapBytes, heapEdits(source)) ?? source));
  } catch {
    // the worker reports a wasm it cannot read or compile
  }
}
