// The host's side of asyncio on the board (emulator/py/common/asyncio). Two things:
//
// - The loop's waits. When every task waits, asyncio waits here, on the host (`_hostloop.wait`): the worker
//   sleeps on the link's input, running the peripherals' pollers every tick, until the next task is due, an IRQ
//   handler sets a ThreadSafeFlag (`_hostloop.wake`), Ctrl-C arrives, or a reset is asked for.
//
// - Host-driven programs. This VM collects garbage only when a call from JavaScript returns to the top level
//   (the webassembly port's external_call_depth, ports/webassembly/main.c): C locals live in wasm locals, which
//   no collection can scan. A program's `asyncio.run(main())` would run its whole loop inside the program's
//   frame, so a long-running asyncio program could never free its garbage. Instead, a program the host runs
//   itself (main.py, boot.py, a raw-REPL exec) has its top-level runs rewritten (entry-rewrite.ts) and is
//   compiled with top-level await: it is a generator, and each step of the loop, each resumption of the program
//   after a run, is its own call from here, at the top level, with garbage collected after each. What follows
//   the run in the program goes on when the run ends; its exception, Ctrl-C (KeyboardInterrupt) and SystemExit
//   are raised in the program where it awaits the run, as asyncio.run() raises them on the board. A run started
//   anywhere else (in a function, an imported module, a task, the friendly REPL) runs inside that call as on the
//   board, waiting here between steps; its garbage waits for it to end (or for the memory ceiling's reset).
import { rewriteEntry } from './entry-rewrite.js';
import type { BoardRuntime } from './board-runtime.js';
import { isPythonError } from './vm-loader.js';

/** What asyncio's core returns when a run or the program is over (core.py: _OVER). */
const OVER = -2;
/** A global of __main__ only while the host compiles a program (a name no program uses). */
const COMPILE_HOOK = '__boardctl_compile__';

/** asyncio/core.py's functions for the host, found once per VM. */
interface Core {
  load(src: string, name: string): void;
  compile: unknown;
  advance(): number;
}

export class HostLoop {
  private woken = false;
  private core: Core | undefined;
  private handed: { src: string; name: string } | undefined;

  constructor(private readonly rt: BoardRuntime) {}

  /** A fresh VM: nothing of the previous one is kept. */
  reset(): void {
    this.core = undefined;
    this.handed = undefined;
    this.woken = false;
  }

  /** The `_hostloop` module asyncio and the runtime's run_file see. Its functions never throw. */
  jsModule(): Record<string, (...args: never[]) => unknown> {
    return {
      wait: (ms: number) => this.wait(ms),
      wake: () => {
        this.woken = true;
      },
      // boot.py / main.py: true when the host runs the file itself, once the call that read it has returned.
      hand_over: (src: string, name: string) => {
        const rewritten = rewriteEntry(src);
        if (rewritten !== undefined) this.handed = { src: rewritten, name };
        return rewritten !== undefined;
      },
    };
  }

  /** Wait up to ms (ms < 0: until an event) for the loop's next task, an IRQ's wake-up, Ctrl-C or a reset. */
  wait(ms: number): void {
    this.rt.sleepMs(ms, () => this.woken);
    this.woken = false;
  }

  /** Whether the host drives this program (it has top-level asyncio runs). */
  accepts(src: string): boolean {
    return rewriteEntry(src) !== undefined;
  }

  /** Run a program host-driven if it has top-level runs; false (nothing run) when it is an ordinary program. */
  runProgram(src: string, name: string): boolean {
    const rewritten = rewriteEntry(src);
    if (rewritten === undefined) return false;
    this.drive(rewritten, name);
    return true;
  }

  /** Run the file that run_file handed over, if any (after the call that handed it has returned). */
  runHandedOver(): void {
    const handed = this.handed;
    this.handed = undefined;
    if (handed) this.drive(handed.src, handed.name);
  }

  /** Compile the rewritten program, then resume it and step its runs until it ends; throws what it raised. */
  private drive(src: string, name: string): void {
    try {
      this.step(src, name);
    } catch (err) {
      if (isPythonError(err)) err.message = withoutDriverFrames(err.message);
      throw err;
    }
  }

  private step(src: string, name: string): void {
    const vm = this.rt.vm;
    this.core ??= HostLoop.coreOf(vm.pyimport('asyncio'));
    const core = this.core;
    core.load(src, name);
    // Compiled inside runPythonAsync, the only call of the package that compiles with top-level await.
    vm.globals.set(COMPILE_HOOK, core.compile);
    try {
      vm.runPythonAsync(`${COMPILE_HOOK}()`);
    } finally {
      vm.globals.delete(COMPILE_HOOK);
    }
    for (;;) {
      const w = core.advance();
      if (w === OVER || this.rt.hasResetRequest()) return;
      this.wait(w);
      if (this.rt.hasResetRequest()) return;
    }
  }

  private static coreOf(asyncio: unknown): Core {
    const c = (asyncio as { core: { _host_load: Core['load']; _host_compile: unknown; _host_advance: Core['advance'] } })
      .core;
    return { load: c._host_load, compile: c._host_compile, advance: c._host_advance };
  }
}

/**
 * A traceback as the board prints it: the program is its outermost frame, and the host's driver is nowhere in it
 * (asyncio/core.py's _host_* functions where the program awaits a run, and the line that called _host_compile).
 */
export function withoutDriverFrames(traceback: string): string {
  const lines = traceback.split('\n');
  return lines
    .filter((line, k) => {
      if (k === 0) return true;
      if (/asyncio\/core\.py", line \d+, in _host_\w+$/.test(line)) return false;
      return !(line === '  File "<stdin>", line 1, in <module>' && lines[k + 1]?.endsWith(' in _host_compile'));
    })
    .join('\n');
}
