// What the VM host (the board's worker thread) offers to the parts that plug into it: storage, peripherals.
// Everything here runs inside the worker, on the same thread as the MicroPython VM, so calls from Python into
// these parts are plain synchronous function calls.

export type ResetKind = 'hard' | 'soft' | 'wdt' | 'deepsleep' | 'bootloader';

/**
 * What last reset the chip, which a soft reset leaves: power or its EN/RUN pin ('power-on'), machine.reset()
 * ('hard'), the watchdog, a wake-up from deep sleep. Each hard reset starts a new worker with it.
 */
export type ChipReset = 'power-on' | 'hard' | 'wdt' | 'deepsleep';
/** What woke the chip from a deep sleep: its timer, or a pin (esp32.wake_on_ext0 / ext1). */
export type WakeCause = 'timer' | 'ext0' | 'ext1' | 'touch';

/** How the board last came out of reset: its chip reset, or a soft reset since (Ctrl-D, machine.soft_reset()). */
export type ResetCause = ChipReset | 'soft';

export interface ResetRequest {
  kind: ResetKind;
  /** For deepsleep: wake after this many ms (undefined = sleep until an external reset). */
  sleepMs?: number;
}

export interface VmHost {
  /** Ask for a reset; the running Python code is stopped at its next check and the board restarts. */
  requestReset(req: ResetRequest): void;
  /** Called often while Python runs (from the VM's clock hook) and periodically while the REPL is idle. */
  addPoller(poll: () => void): void;
  /** Drain link input; true when a Ctrl-C arrived and a KeyboardInterrupt is now pending in the VM. */
  checkInterrupt(): boolean;
  /** Run the pollers now (a part that makes the VM wait, as a socket does, keeps timers and IRQs going). */
  runPollers(): void;
  /** Milliseconds since the board powered on (the same clock as time.ticks_ms). */
  ticksMs(): number;
  /**
   * The calendar clock the VM's time module reads (time.time(), localtime(), gmtime()), as Unix milliseconds:
   * the board's RTC, so that setting machine.RTC moves time as on the ports (the host's clock until set).
   */
  setWallClock(nowMs: () => number): void;
  /** The board's calendar clock now (Unix ms): what its filesystems stamp files with, as the ports' do. */
  wallClock(): number;
  /** The last chip reset (the rp2 port's machine.reset_cause() reads the chip's register, which a soft reset leaves). */
  readonly chipReset: ChipReset;
  /** How the board last came out of reset (the esp32 port's machine.reset_cause()). */
  readonly resetCause: ResetCause;
  /** What woke the chip, when its last reset was a deep sleep's end (machine.wake_reason()); a soft reset leaves it. */
  readonly wakeCause: WakeCause | undefined;
}

/** A part that contributes JavaScript functions and Python modules to every VM the board boots. */
export interface VmPlugin {
  /** JavaScript objects registered as importable modules (Python sees them as `import NAME`). */
  jsModules?: Record<string, object>;
  /** Called at each boot (a fresh VM), before any Python of the board runs. */
  onBoot?(): void;
  /**
   * Called at a soft reset while the old VM's objects still work, before its heap is replaced: a real port's
   * gc_sweep_all, which runs the finalisers (files close and commit).
   */
  onSweep?(): void;
  /** How many files the part's filesystems have open (what onSweep would close). */
  openFiles?(): number;
  /**
   * A frozen file of emulator/py whose top level the host runs once per VM and whose boot() it calls at each boot,
   * before boot.py (e.g. '_boot.py' mounts the fs).
   */
  bootScript?: string;
}

/** A request from outside the board (CLI `sim set/get`, the TUI, scenarios) to one of its plugins. */
export interface ControlRequest {
  plugin: string;
  op: string;
  args?: unknown;
}

/** A plugin that also answers control requests; results must be structured-cloneable. */
export interface ControllablePlugin extends VmPlugin {
  readonly name: string;
  control?(op: string, args: unknown): unknown;
}
