// The VM host inside a board's worker: owns the MicroPython VM instance, the link I/O through the shared rings,
// Ctrl-C delivery, idle throttling of busy-wait sleeps, and soft resets (a fresh VM, files kept).
import { ByteRing } from './ring.js';
import { ByteQueue } from './byte-queue.js';
import { isPythonError, type MicroPythonVm } from './vm-loader.js';
import { takeVm } from './early-vm.js';
import { detachJsGlobals, lockDownIntrinsics } from './sandbox.js';
import { restoreSnapshot, takeSnapshot, usedBytes, type VmSnapshot } from './vm-snapshot.js';
import { applyBootImage, bootImageSlot, readBootImage, restoredExtent, writeBootImage, type BootImageSlot, type JsModules } from './boot-image.js';
import { frozenDigest, frozenNames, frozenPaths } from './frozen.js';
import { STATUS_BUSY, STATUS_HEARTBEAT, STATUS_OUT_LIMIT, STATUS_OUT_WAKE, type WorkerConfig } from './shared-state.js';
import type { ChipReset, ResetCause, ResetRequest, VmHost, VmPlugin, WakeCause } from './host-api.js';
import { getProfile, bannerLine, type BoardProfile } from '../profiles.js';
import { absentModules, presentModules } from '../port-modules.js';
import { nodeCrypto } from '../../protocol/lazy-builtin.js';
import { ceilingExceeded, memoryUse } from './memory.js';
import { HostLoop } from './host-loop.js';
import { HOOK_MARK, rewriteLoops } from './loop-rewrite.js';
import { phase } from '../../protocol/timing.js';

const CTRL_C = 0x03;
// time.ticks_*() wrap at 2**30 on 32-bit ports (MICROPY_PY_TIME_TICKS_PERIOD); ticks_cpu counts 10 ns steps.
const TICKS_PERIOD = 2 ** 30;
const CPU_TICKS_PER_MS = 100_000;
/** urandom() bytes per call, at most (a real board would run out of heap long before). */
const URANDOM_MAX = 1 << 20;
// time.sleep spins on the clock import roughly every 50 ns; Python code calling ticks_ms in a loop is ~20x
// slower. Calls this close together mean a busy-wait, which we turn into a real wait.
const SPIN_GAP_MS = 0.002;
const SPIN_CALLS = 16;
// Once a busy-wait has gone on this long it is a long sleep: wake less often (a sleep may end up to
// SPIN_MAX_WAIT_MS late, well inside what FreeRTOS-based ports show).
const SPIN_LONG_MS = 50;
const SPIN_MAX_WAIT_MS = 4;
// Added to the clock when Ctrl-C arrives: ends the VM's C-level busy-wait at once, and is invisible to Python
// because ticks_ms() is masked to 30 bits.
const CLOCK_WARP = 2 ** 31;
// time.sleep() waits on the host in slices of this length, running the pollers (timers, IRQs, watchdog) between
// them: the 10 ms tick of the FreeRTOS-based ports, and about 100 wake-ups a second while a program sleeps.
const SLEEP_SLICE_MS = 10;
// How often the host's memory is checked against the board's ceiling.
const MEMORY_CHECK_MS = 250;

/** Python functions the runtime hands the host at boot, called directly (user code cannot rebind them). */
interface RuntimeEntry {
  /** false: no such file; 2: the file's top-level loops are rewritten and it is staged for step(). */
  runFile(path: string): boolean | number;
  /** A part's boot script: its top level once per VM (boot false: before the snapshot), boot() at each boot. */
  runFrozen(name: string, boot?: boolean): void;
  kbdIntr(chr: number): void;
  /** Compile a program rewritten by loop-rewrite.ts and make it the staged program. */
  stage(src: string, name: string): void;
  /** Run the staged program to its next collection point; false once it has ended. */
  step(): boolean;
  /** gc.collect, held from boot: a user's builtins.__import__ or gc cannot get in its way. */
  collect(): void;
  /**
   * random.seed(): a new seed from the host's entropy. The generator's state is C data, which a snapshot or a boot
   * image restores as it was (install seeded it): reseeded at each restore, each boot draws other numbers, as a
   * board seeds from its hardware RNG.
   */
  seed(): void;
}

export interface RunOutcome {
  error?: string;
  systemExit?: boolean;
}

export class BoardRuntime implements VmHost {
  readonly profile: BoardProfile;
  vm!: MicroPythonVm;
  private readonly input: ByteRing;
  private readonly output: ByteRing;
  private readonly status: Int32Array;
  /** Bytes taken off the input ring but not yet consumed (by the REPL or by a program's stdin). */
  private readonly pendingInput = new ByteQueue();
  private outBuf = new Uint8Array(8192);
  private outLen = 0;
  /** Output went into the ring while its owner was taking output on its own, without a message. */
  private unannounced = false;
  private lastOut = 0;
  /** Set while the VM writes through sys.stdout.buffer: bytes as they are, as the firmware's raw stdout. */
  private rawOut = false;
  private warp = 0;
  private lastTick = 0;
  private spinCalls = 0;
  private spinSince = 0;
  private lastPoll = 0;
  private lastMemoryCheck = 0;
  private clock: () => number = Date.now;
  private readonly pollers: Array<() => void> = [];
  private readonly plugins: VmPlugin[] = [];
  private pendingReset: ResetRequest | undefined;
  private muted = false;
  /** Set while output should be collected instead of sent (banner rewriting). */
  private capture: number[] | undefined;
  readonly chipReset: ChipReset;
  /** A soft reset ran since the chip's reset (the esp32 port's is_soft_reset, which only a hard boot clears). */
  softResetDone = false;
  private entry!: RuntimeEntry;
  /** The handles connect() was given, in its order (what a boot image names by id). */
  private entryHandles: unknown[] = [];
  /** Where this board's boot image is kept, once a VM was loaded (boot-image.ts); undefined: none is kept. */
  private imageSlot: BootImageSlot | undefined;
  /** This worker's VM just after its runtime was installed (see startVm). */
  private snapshot: VmSnapshot | undefined;
  /** How far the VM being installed had written when it was fresh (for the boot image it is about to write). */
  private freshBytes = 0;
  /** Memory of a VM just restored from its boot image is zero past this (restoredExtent). */
  private restoredLimit: number | undefined;
  /** The VM package's own module names (help('modules')), the same for every VM: read once per worker. */
  private static vmModules: string | undefined;
  /** Stops this worker for a watchdog reset (set by the worker's entry point). */
  watchdog: (() => void) | undefined;
  /** asyncio's waits, and the programs whose top-level asyncio runs the host drives. */
  readonly hostLoop = new HostLoop(this);

  constructor(
    readonly config: WorkerConfig,
    input: SharedArrayBuffer,
    output: SharedArrayBuffer,
    status: SharedArrayBuffer,
    private readonly notifyOutput: () => void,
  ) {
    this.profile = getProfile(config.profile);
    this.input = new ByteRing(input);
    this.output = new ByteRing(output);
    this.status = new Int32Array(status);
    this.chipReset = config.resetCause;
  }

  addPlugin(p: VmPlugin): void {
    this.plugins.push(p);
  }

  // ---- VmHost -------------------------------------------------------------------------------------------

  get resetCause(): ResetCause {
    return this.softResetDone ? 'soft' : this.chipReset;
  }

  /** What ended the deep sleep this boot follows: its timer or a pin (the board watched them meanwhile). */
  get wakeCause(): WakeCause | undefined {
    return this.chipReset === 'deepsleep' ? (this.config.wakeCause ?? 'timer') : undefined;
  }

  requestReset(req: ResetRequest): void {
    this.pendingReset = req;
    // The VM is stopped with a KeyboardInterrupt; its traceback is not for the console (a real reset prints none).
    this.flush();
    this.muted = true;
    this.interruptVm();
  }

  hasResetRequest(): boolean {
    return this.pendingReset !== undefined;
  }

  takeResetRequest(): ResetRequest | undefined {
    const r = this.pendingReset;
    this.pendingReset = undefined;
    this.muted = false;
    return r;
  }

  setWallClock(nowMs: () => number): void {
    this.clock = nowMs;
  }

  wallClock(): number {
    return this.clock();
  }

  addPoller(poll: () => void): void {
    this.pollers.push(poll);
  }

  ticksMs(): number {
    return Math.floor(performance.now());
  }

  checkInterrupt(): boolean {
    return this.drainInput();
  }

  // ---- output -------------------------------------------------------------------------------------------

  /** Bytes from the VM: lone LF becomes CRLF as on real ports' cooked stdout (text, not sys.stdout.buffer). */
  vmOutput(bytes: Uint8Array): void {
    for (const b of bytes) {
      if (b === 0x0a && this.lastOut !== 0x0d && !this.rawOut) this.emitByte(0x0d);
      this.emitByte(b);
    }
  }

  private emitByte(b: number): void {
    if (this.muted) return;
    this.lastOut = b;
    if (this.capture) {
      this.capture.push(b);
      return;
    }
    if (this.outLen === this.outBuf.length) this.writeOut();
    this.outBuf[this.outLen++] = b;
  }

  /**
   * Text or bytes from the host side of the board (banners, protocol replies), on the wire at once: a client
   * waiting for a reply must not wait for the program that follows it to print.
   */
  emit(data: string | Uint8Array): void {
    const bytes = typeof data === 'string' ? Buffer.from(data, 'utf8') : data;
    for (const b of bytes) this.emitByte(b);
    this.flushUnlessCapturing();
  }

  /**
   * Hand buffered output to the link and make sure its owner knows: before the worker waits, and after a reply
   * a client waits for.
   */
  flush(): void {
    this.writeOut();
    if (!this.unannounced) return;
    this.unannounced = false;
    this.notifyOutput();
  }

  /**
   * Buffered output into the ring, at each write the VM makes (a UART sends as the firmware writes, so what a
   * program printed is on its way even while the code that follows computes for minutes). Blocks (like a UART's
   * TX) while the ring is full, or while the link's owner asks for a short queue (a link paced at a real baud
   * rate), still noticing Ctrl-C meanwhile. Only the first bytes after the owner found the ring quiet wake it
   * (STATUS_OUT_WAKE, whose protocol shared-state.ts spells out): until then it takes output on its own
   * (board.ts), so a print of five arguments, ten writes, is not ten messages.
   */
  private writeOut(): void {
    // A UART sees Ctrl-C in its receive interrupt whatever the program does; a loop that only prints must too.
    if (this.outLen) this.drainInput();
    let off = 0;
    while (off < this.outLen) {
      const seen = this.output.signal();
      const limit = Atomics.load(this.status, STATUS_OUT_LIMIT);
      const room = limit > 0 ? Math.max(0, limit - this.output.available()) : this.outLen - off;
      const n = this.output.write(this.outBuf.subarray(off, off + Math.min(room, this.outLen - off)));
      off += n;
      if (n > 0) {
        this.unannounced = Atomics.compareExchange(this.status, STATUS_OUT_WAKE, 0, 1) !== 0;
        if (!this.unannounced) this.notifyOutput();
      } else {
        this.drainInput();
        this.output.wait(seen, 50);
      }
    }
    this.outLen = 0;
  }

  private flushUnlessCapturing(): void {
    if (!this.capture) this.flush();
  }

  /** Run fn with the VM's output collected; returns it. */
  captureOutput(fn: () => void): string {
    const saved = this.capture;
    const buf: number[] = [];
    this.capture = buf;
    try {
      fn();
    } finally {
      this.capture = saved;
    }
    return Buffer.from(buf).toString('latin1');
  }

  // ---- input --------------------------------------------------------------------------------------------

  private beat(): void {
    Atomics.add(this.status, STATUS_HEARTBEAT, 1);
  }

  setBusy(busy: boolean): void {
    Atomics.store(this.status, STATUS_BUSY, busy ? 1 : 0);
    this.beat();
  }

  private interruptVm(): void {
    this.vm._module._mp_sched_keyboard_interrupt();
    this.warp = (this.warp + CLOCK_WARP) % 2 ** 32;
  }

  /** Move ring bytes to pendingInput; while Python runs with Ctrl-C enabled, Ctrl-C interrupts instead. */
  drainInput(): boolean {
    this.beat();
    if (this.input.available() === 0) return false;
    const bytes = this.input.read();
    const intr = Atomics.load(this.status, STATUS_BUSY) === 1 && this.vm._module._mp_hal_get_interrupt_char() === CTRL_C;
    const ctrlC = intr ? bytes.lastIndexOf(CTRL_C) : -1;
    if (ctrlC < 0) {
      this.pendingInput.push(bytes);
      return false;
    }
    // Input typed before Ctrl-C is dropped, as a UART driver's interrupt handler flushes its buffer.
    this.pendingInput.clear();
    this.pendingInput.push(bytes.subarray(ctrlC + 1));
    this.interruptVm();
    return true;
  }

  takeInput(): number | undefined {
    return this.pendingInput.shift();
  }

  /** Block the worker until link input arrives or timeoutMs passes; true when a Ctrl-C interrupted. */
  waitInput(timeoutMs: number): boolean {
    this.flush();
    const seen = this.input.signal();
    if (this.input.available() === 0) this.input.wait(seen, timeoutMs);
    return this.drainInput();
  }

  /** time.sleep for Python: a real wait, cut short by Ctrl-C, a reset request or `until`; ms < 0: no timeout. */
  sleepMs(ms: number, until?: () => boolean): void {
    const end = ms < 0 ? Infinity : performance.now() + ms;
    for (let left = end - performance.now(); left > 0 && !this.pendingReset; left = end - performance.now()) {
      this.runPollers();
      if (until?.() || this.waitInput(Math.min(left, SLEEP_SLICE_MS))) return;
    }
    // What fell due during the last slice (or while a loaded host did not run us) fires before the sleep ends.
    this.runPollers();
  }

  /** stdin for Python: up to n bytes, blocking until at least one arrives (or a Ctrl-C or reset). */
  stdinRead(n: number): Uint8Array {
    // A program that reads is likely answering what it printed last (a protocol's acknowledgement): out now.
    this.flush();
    while (this.pendingInput.length === 0) {
      if (this.pendingReset) return new Uint8Array(0);
      this.runPollers();
      this.waitInput(10);
      if (this.drainInput() || this.pendingReset) return new Uint8Array(0);
    }
    return this.pendingInput.take(Math.max(1, n));
  }

  runPollers(): void {
    for (const p of this.pollers) p();
    this.checkMemory();
  }

  /**
   * Past the memory ceiling the board is reset, as a watchdog would reset a board whose program ran away: from
   * outside the VM (the worker is stopped), since a VM out of memory may never return (the port spins in
   * nlr_jump_fail when its REPL cannot allocate).
   */
  private checkMemory(refused?: number): void {
    const now = performance.now();
    if (refused === undefined && now - this.lastMemoryCheck < MEMORY_CHECK_MS) return;
    this.lastMemoryCheck = now;
    if (!this.vm || this.muted) return;
    const use = memoryUse(this.vm.wasmMemory);
    const why = refused !== undefined ? `the VM asked for ${Math.round(refused / 2 ** 20)} MB of memory` : ceilingExceeded(use);
    if (!why) return;
    this.emit(`\r\n[boardctl] ${why}: resetting the board, as a watchdog would\r\n`);
    this.flush();
    this.muted = true;
    this.watchdog?.();
  }

  /** Whenever Python reads a clock: notice Ctrl-C, and run the pollers (timers, IRQs, control) every ms. */
  private housekeeping(now: number): void {
    this.drainInput();
    if (now - this.lastPoll >= 1) {
      this.lastPoll = now;
      this.runPollers();
      this.writeOut();
    }
  }

  /** time.ticks_us() / ticks_cpu(): the host's clock at µs (10 ns) steps; busy-waits on them stay busy. */
  private ticksAt(perMs: number): number {
    const now = performance.now();
    this.housekeeping(now);
    return Math.floor(now * perMs) % TICKS_PERIOD;
  }

  /** The VM's clock import, called in tight loops by time.sleep and by ticks_ms(). */
  private ticks(): number {
    const now = performance.now();
    if (now - this.lastTick < SPIN_GAP_MS) {
      if (++this.spinCalls > SPIN_CALLS) {
        this.spinCalls = 0;
        this.waitInput(now - this.spinSince > SPIN_LONG_MS ? SPIN_MAX_WAIT_MS : 1);
      }
    } else {
      this.spinCalls = 0;
      this.spinSince = now;
    }
    this.housekeeping(now);
    this.lastTick = performance.now();
    // The host's monotonic clock, as time.ticks_us() (the package's own clock is the wall clock).
    return (Math.floor(this.lastTick) + this.warp) >>> 0;
  }

  // ---- VM lifecycle -------------------------------------------------------------------------------------

  /**
   * Load a VM and make it this profile's port: restored from the boot image when there is a valid one, else by
   * installing the runtime modules. Returns the modules it installed (undefined: restored from the image).
   */
  private async loadRuntime(useImage = true): Promise<JsModules | undefined> {
    // Each write of the VM goes into the output ring when it is made (writeOut).
    // The worker's first VM was most likely loaded while its config was on the way (early-vm.ts).
    const { vm, early } = await takeVm(
      {
        output: (b) => this.vmOutput(b),
        wrote: () => {
          if (!this.capture) this.writeOut();
        },
        ticks: () => this.ticks(),
        wallClock: () => this.clock(),
        memoryRefused: (n) => this.checkMemory(n),
      },
      { heapBytes: this.config.heapSize, family: this.profile.platform },
    );
    this.vm = vm;
    phase(early ? 'board: VM loaded (started before its config)' : 'board: VM loaded');
    detachJsGlobals();
    lockDownIntrinsics();
    const frozen = frozenPaths(this.profile.platform);
    const dir = process.env.BOARDCTL_BOOT_IMAGE === 'off' ? undefined : this.config.bootImageDir;
    if (useImage && dir !== undefined) {
      const modules = this.jsModules(frozen);
      const slot = bootImageSlot(dir, this.vm, {
        profile: this.profile.name,
        heapSize: this.config.heapSize,
        runtime: frozenDigest(this.profile.platform),
        modules,
        extra: process.env.BOARDCTL_BOOT_IMAGE_KEY,
      });
      this.imageSlot = slot;
      const image = readBootImage(slot);
      const entry = typeof image === 'string' ? image : applyBootImage(this.vm, image, modules);
      if (typeof image !== 'string' && typeof entry !== 'string') {
        this.restoredLimit = restoredExtent(image);
        this.connect(entry);
        phase('board: runtime restored from its boot image');
        return undefined;
      }
      phase(`board: boot image not used (${entry})`);
      // An image that failed to apply has spoiled this VM: install into a new one.
      if (typeof image !== 'string') return this.loadRuntime(false);
    }
    // Fresh still: what a restore of its image into another fresh VM must clear (boot-image.ts).
    if (this.imageSlot) this.freshBytes = usedBytes(this.vm.wasmMemory.buffer, undefined, 4096);
    BoardRuntime.vmModules ??= this.captureOutput(() => this.vm.runPython("help('modules')"))
      .split('\n').slice(0, -2).join(' ').split(/\s+/).filter(Boolean).join(',');
    const modules = this.jsModules(frozen);
    for (const [name, mod] of Object.entries(modules)) this.vm.registerJsModule(name, mod);
    this.vm.runPython(
      "import sys\nsys.path.insert(0, '/rom')\nimport _boardrt\nsys.path.pop(0)\n_boardrt.install()\ndel sys, _boardrt",
    );
    phase('board: runtime installed');
    return modules;
  }

  /**
   * The JavaScript modules of a VM: what _boardrt.py reads to make the VM this profile's port (`_board`), the
   * host's asyncio loop, and the parts' modules. Functions here must never throw.
   */
  private jsModules(frozen: readonly string[]): JsModules {
    const p = this.profile;
    const kept: unknown[] = [];
    const modules: JsModules = {
      _board: {
        platform: p.platform,
        sysname: p.sysname,
        machine: `${p.boardName} with ${p.mcuName}`,
        build: p.buildName,
        release: '1.27.0',
        version: 'v1.27.0 on 2025-12-10',
        modules: presentModules(p.modules).join(','),
        absent: Object.entries(absentModules(p.modules)).map(([name, why]) => `${name}:${why}`).join('|'),
        frozen: frozenNames(frozen).join(','),
        // Read by install() alone (a VM restored from its boot image never runs it).
        vm_modules: BoardRuntime.vmModules ?? '',
        stdin_read: (n: number) => this.stdinRead(n),
        raw_stdout: (on: boolean) => void (this.rawOut = !!on),
        stdin_any: () => (this.drainInput(), this.pendingInput.length > 0 ? 1 : 0),
        sleep_ms: (ms: number) => this.sleepMs(ms),
        ticks_us: () => this.ticksAt(1000),
        ticks_cpu: () => this.ticksAt(CPU_TICKS_PER_MS),
        urandom: (n: number) => nodeCrypto().randomBytes(Math.max(0, Math.min(URANDOM_MAX, n | 0))).toString('hex'),
        // Python objects the runtime wrote into the firmware's tables: held here, they are never collected.
        keep: (list: unknown) => void kept.push(list),
        heap: this.config.heapSize,
        gc_flag: this.vm.flags?.gcPending ?? -1,
        await_flag: this.vm.flags?.topLevelAwait ?? -1,
        rewrite_loops: (src: string) => rewriteLoops(src) ?? '',
        hook_mark: HOOK_MARK,
        connect: (...fns: unknown[]) => this.connect(fns),
      },
      _hostloop: this.hostLoop.jsModule(),
    };
    for (const plugin of this.plugins) Object.assign(modules, plugin.jsModules);
    return modules;
  }

  /** The runtime's entry functions (run_file, run_frozen, kbd_intr, stage, step, gc.collect, random.seed), as install() gives them. */
  private connect(fns: unknown[]): void {
    const [runFile, runFrozen, kbdIntr, stage, step, collect, seed] = fns as [
      RuntimeEntry['runFile'], RuntimeEntry['runFrozen'], RuntimeEntry['kbdIntr'], RuntimeEntry['stage'], RuntimeEntry['step'],
      RuntimeEntry['collect'], RuntimeEntry['seed'],
    ];
    this.entry = { runFile, runFrozen, kbdIntr, stage, step, collect, seed };
    this.entryHandles = fns;
  }

  /**
   * A fresh VM with the runtime installed, then the parts' boot. The first VM of this worker is loaded, gets the
   * parts' definitions (their boot scripts' top level: the firmware's C code) and is kept as a snapshot; a soft
   * reset restores that (a few ms instead of a new VM), unless `reload` asks for a new VM (after a host error
   * unwound the old one) or the restore does not apply.
   */
  async startVm(reload = false): Promise<void> {
    // A VM that is to be replaced because it failed runs no more of its code.
    if (this.snapshot && !reload) this.sweep();
    if (reload || !this.snapshot || !restoreSnapshot(this.vm, this.snapshot)) {
      const installed = await this.loadRuntime();
      if (installed) {
        // The parts' definitions go into the snapshot (and the boot image, which then has them already).
        for (const plugin of this.plugins) this.runBootScript(plugin, false);
        // Their compiler's garbage is not kept in the snapshot (every boot would start with it).
        this.collectNow();
      } else {
        this.entry.seed();
      }
      this.snapshot = takeSnapshot(this.vm, installed ? undefined : this.restoredLimit);
      if (installed && this.snapshot && this.imageSlot) {
        const why = writeBootImage(this.imageSlot, this.snapshot, {
          memoryBytes: this.vm.wasmMemory.buffer.byteLength,
          freshBytes: this.freshBytes,
          modules: installed,
          entry: this.entryHandles,
        });
        phase(why ? `board: boot image not written (${why})` : 'board: boot image written');
      }
    } else {
      this.entry.seed();
      phase('board: VM restored from its snapshot');
    }
    // What the host holds of the last session's Python objects (asyncio's core) names nothing in this heap.
    this.hostLoop.reset();
    for (const plugin of this.plugins) {
      plugin.onBoot?.();
      this.runBootScript(plugin, true);
    }
    phase('board: parts started');
  }

  /** A real port's gc_sweep_all, while this VM's objects still work: the finalisers close and commit open files. */
  sweep(): void {
    for (const plugin of this.plugins) plugin.onSweep?.();
  }

  /** The files the VM's filesystems have open, which sweep() would close. */
  openFiles(): number {
    return this.plugins.reduce((n, plugin) => n + (plugin.openFiles?.() ?? 0), 0);
  }

  /** A part's boot script: its definitions (boot false: once per VM, before the snapshot) or its boot. */
  private runBootScript(plugin: VmPlugin, boot: boolean): void {
    if (!plugin.bootScript) return;
    const outcome = this.asUserCode(() => this.entry.runFrozen(plugin.bootScript!, boot));
    if (outcome.error) this.emitCooked(outcome.error);
  }

  /**
   * Run code as pyexec does for user code: Ctrl-C enabled, exceptions caught and reported. A program (a raw-REPL
   * exec) whose top-level asyncio runs the host can drive is run so; else one with top-level while loops is
   * stepped (loop-rewrite.ts).
   */
  runUserCode(code: string, program = false): RunOutcome {
    if (program) this.collectNow();
    return this.asUserCode(() => {
      if (program && this.hostLoop.runProgram(code, '<stdin>')) return;
      const stepped = program && this.steppedLoops(code);
      if (!stepped) return void this.vm.runPython(code);
      this.entry.stage(stepped, '<stdin>');
      this.stepProgram();
    });
  }

  /**
   * A file on the board's filesystem as pyexec_file_if_exists runs it (boot.py, main.py); false if absent. One
   * whose top-level asyncio runs the host can drive is handed over by run_file and run once that call returned.
   */
  runBootFile(path: string): RunOutcome & { found: boolean } {
    let found = false;
    const outcome = this.asUserCode(() => {
      const r = this.entry.runFile(path);
      found = r !== false;
      if (r === 2) this.stepProgram();
      this.hostLoop.runHandedOver();
    });
    return { ...outcome, found };
  }

  /**
   * A collection at the top level, the only place the port collects (gc.collect() inside a program only asks for
   * one), and the heap collects only when full (gc.threshold(-1), as a board's): without it, what boot and the
   * previous programs left would still count in a program's `gc.collect(); gc.mem_free()`, where a board's
   * gc.collect() has freed it. Binds no name, imports nothing.
   */
  collectNow(): void {
    this.entry.collect();
  }

  /** The program with its top-level while loops rewritten for stepping, or undefined (run it as written). */
  steppedLoops(code: string): string | undefined {
    return this.vm.flags ? rewriteLoops(code) : undefined;
  }

  /**
   * Step the staged program to its end, each step a call from here: the VM collects garbage between them, and a
   * Ctrl-C that came meanwhile is raised in the program where it resumes.
   */
  private stepProgram(): void {
    while (this.entry.step()) {
      if (this.pendingReset) return;
      this.drainInput();
    }
  }

  private asUserCode(run: () => void): RunOutcome {
    this.setBusy(true);
    try {
      this.entry.kbdIntr(CTRL_C);
      run();
      return {};
    } catch (err) {
      if (!isPythonError(err)) throw err;
      if (err.type === 'SystemExit') return { systemExit: true };
      return { error: err.message };
    } finally {
      this.setBusy(false);
      this.entry.kbdIntr(-1);
    }
  }

  /** Text as the VM would print it (LF to CRLF). */
  emitCooked(text: string): void {
    this.vmOutput(Buffer.from(text, 'utf8'));
  }

  bannerText(): string {
    return `${this.config.banner ?? bannerLine(this.profile)}\r\nType "help()" for more information.\r\n`;
  }

  /** The banner the VM prints names the WebAssembly port; real boards name the board. */
  rewriteBanner(text: string): string {
    return text.replace(/MicroPython v[^\r\n]*?; JS with Emscripten/g, this.config.banner ?? bannerLine(this.profile));
  }
}
