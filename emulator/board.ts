// A virtual board as seen from the main thread: its flash image, its MicroPython worker, its ROM bootloader,
// its reset and boot pins, and the one link a client holds at a time.
import { MessageChannel, type MessagePort, type Worker } from 'node:worker_threads';
import { BoardError } from '../protocol/errors.js';
import { phase } from '../protocol/timing.js';
import type { ControlLines, Transport } from '../protocol/transport.js';
import type { ServedPort } from '../protocol/port-server.js';
import { parseFaultSpec, withFaults, type FaultSpec } from '../protocol/transports/faults.js';
import { ByteRing } from './vm/ring.js';
import { STATUS_BUSY, STATUS_FLASH_UNSYNCED, STATUS_INTS, STATUS_OUT_LIMIT, STATUS_OUT_WAKE, STATUS_FILES_OPEN, STATUS_SWEEP, type WorkerConfig, type WorkerEvent } from './vm/shared-state.js';
import type { ControlRequest, WakeCause } from './vm/host-api.js';
import { sleepInputs, sleepSet, wakingSource, type HardwareSnapshot } from './peripherals/snapshot.js';
import { bootImagesDir, lockBoard, openStoredBoard, sdCardPath, type StoredBoard } from './board-store.js';
import { getProfile, type BoardProfile } from './profiles.js';
import { boardFacts } from './peripherals/board-pins.js';
import { FileFlashStore, syncImageFile } from './flash-store.js';
import { checkBoot, downloadModeLines, type BootCause } from './rom/boot.js';
import { appFacts, type AppFacts } from './rom/app-facts.js';
import type { EspRom } from './rom/esp-rom.js';
import { SyncDetector, SYNC_FRAME } from './rom/sync-detector.js';
import { UartPacer } from './link/uart-pacer.js';
import { boardHeapBytes } from './vm/memory.js';
import { HERE } from './port-modules.js';
import { NetHost } from './net/host.js';
import { dropEarlyWorker, takeWorkerThread } from './worker-thread.js';

const RING_BYTES = 64 * 1024;
const PACED_BACKLOG = 1024;
/** While a worker prints, its output is taken this often (ms) instead of at a message per write. */
const OUTPUT_POLL_MS = 2;
/** Client bytes waiting for the board beyond this make the link's write() wait (back-pressure to the client). */
const INPUT_BACKLOG = 64 * 1024;
/** While this much of the ROM's answers waits for a slow client, the ROM reads no further commands. */
const ROM_BACKLOG = 64 * 1024;
const STUCK_MS = 1000;
/** The most close() waits for an idle VM's finaliser sweep (a few ms: it closes the files left open). */
const SWEEP_WAIT_MS = 1000;
/** How long after EN is released the chip comes out of reset (the dev board's RC on EN, ~10 kΩ and 1 µF). */
const EN_RC_MS = 15;
const STUCK_MESSAGE =
  '\r\n[boardctl] the board did not answer Ctrl-C within 1 s: reset it as the reset button would;' +
  ' booting in safe mode (main.py skipped)\r\n';

type Cause = WorkerConfig['resetCause'];

interface Link {
  listeners: Set<(chunk: Uint8Array) => void>;
  closeListeners: Set<(err?: Error) => void>;
  out: UartPacer;
  in: UartPacer;
  lines: { dtr: boolean; rts: boolean };
  /** This client has driven DTR/RTS: the board then behaves as silicon and only a reset reaches the ROM. */
  linesDriven: boolean;
  /** The rate the client last set (RFC 2217 SET-BAUDRATE, our own setBaudRate), paced or not. */
  clientBaud: number;
}

export interface OpenBoardOptions {
  home?: string;
}

/** The board's end of a link, as a server in front of it (pty, TCP, RFC 2217) holds it. */
export interface BoardLink extends ServedPort {
  /**
   * Flow control from the far end: while held, the board's output waits, and a program printing blocks in its
   * print as behind a UART with RTS/CTS. Nothing is dropped.
   */
  holdOutput(held: boolean): void;
}

export interface AttachOptions {
  /** Emulate a UART at this baud rate (8N1) in both directions. */
  baud?: number;
}

const boards = new Map<string, Promise<VirtualBoard>>();

export class VirtualBoard {
  readonly profile: BoardProfile;
  private worker: Worker | undefined;
  private control: MessagePort | undefined;
  private readonly input = new ByteRing(RING_BYTES);
  private readonly output = new ByteRing(RING_BYTES);
  private readonly status = new Int32Array(new SharedArrayBuffer(STATUS_INTS * 4));
  private readonly inQueue: Uint8Array[] = [];
  private inQueued = 0;
  /** Writers waiting for inQueue to shrink below INPUT_BACKLOG. */
  private inputWaiters: Array<() => void> = [];
  private link: Link | undefined;
  private rom: EspRom | undefined;
  /** The ROM's own handle on flash.bin, closed when the ROM goes (reset, close). */
  private romFlash: FileFlashStore | undefined;
  private readonly sync = new SyncDetector();
  private repeatTimer: NodeJS.Timeout | undefined;
  private nextControlId = 1;
  private readonly pendingControl = new Map<number, { resolve(v: unknown): void; reject(e: Error): void }>();
  private closed = false;
  /** Resolves the wait of close() for the worker's finaliser sweep. */
  private swept: (() => void) | undefined;
  private generation = 0;
  private readonly release: () => void;
  private ready: Promise<void> = Promise.resolve();
  /** Hardware state the last worker handed over at its reset (RTC, NVS, sensor settings). */
  private persisted: unknown;
  /** In a deep sleep: sets pin and button levels from outside (the VM is off) and ends it when a watched pin wakes it. */
  private sleeping: { set(args: unknown): void; cancel(): void } | undefined;
  /** What ended the deep sleep the next worker boots from. */
  private wakeCause: WakeCause | undefined;
  /** The board's Wi-Fi network and host sockets, on profiles whose port has a network. */
  readonly net: NetHost | undefined;
  /** Messages by which workers of this board announced output (tests and the timing trace count them). */
  private wakeups = 0;

  private constructor(readonly stored: StoredBoard) {
    this.profile = getProfile(stored.config.profile);
    if (this.profile.modules.network === HERE) {
      const console = { input: (d: Uint8Array) => this.receive(d), onOutput: (l: (c: Uint8Array) => void) => this.tapOutput(l), print: (text: string) => void this.send(text) };
      this.net = new NetHost({ config: stored.config.network, mac: stored.config.mac, hostname: "mpy-esp32", console });
    }
    this.release = lockBoard(stored);
  }

  /** The board NAME of this process, started (powered on) on first open. */
  static open(name = 'default', opts: OpenBoardOptions = {}): Promise<VirtualBoard> {
    let p = boards.get(name);
    if (!p) {
      p = (async () => {
        const b = new VirtualBoard(openStoredBoard(name, opts.home));
        await b.powerUp('power-on');
        phase(`virtual board '${name}' booted to its REPL`);
        return b;
      })();
      boards.set(name, p);
      p.catch(() => boards.delete(name));
    }
    return p;
  }

  get name(): string {
    return this.stored.name;
  }

  /** How many times its workers woke this thread to take their output, since this board was opened. */
  get outputWakeups(): number {
    return this.wakeups;
  }

  /** Resolves when the current boot has reached its REPL (or its boot failure). */
  whenReady(): Promise<void> {
    return this.ready;
  }

  // ---- power and reset ----------------------------------------------------------------------------------

  /** `logCause`: the reset the ROM's log names, where it is not the chip's (the loader running the app it wrote). */
  private async powerUp(cause: Cause, safeMode = false, logCause: BootCause = cause): Promise<void> {
    await this.stopWorker();
    this.input.read();
    if (!this.profile.espChip) {
      this.ready = this.startWorker(cause, safeMode, []);
      return this.ready;
    }
    const flash = new FileFlashStore(this.stored.flashPath, this.stored.config.flashSize);
    let boot;
    try {
      boot = checkBoot(flash, this.profile, logCause);
    } finally {
      flash.close();
    }
    if (boot.outcome === 'micropython') {
      this.ready = this.startWorker(cause, safeMode, boot.lines, appFacts(boot));
      return this.ready;
    }
    this.send(boot.lines.map((l) => l + '\r\n').join(''));
    const again = boot.repeatLine ?? (boot.restarts ? boot.lines.join('\r\n') : undefined);
    // Real silicon repeats this as fast as the UART allows; a few times a second keeps logs readable.
    if (again !== undefined) this.repeatTimer = setInterval(() => this.send(again + '\r\n'), 500);
    this.ready = Promise.resolve();
  }

  private startWorker(cause: Cause, safeMode: boolean, bootLines: string[], app: AppFacts = {}): Promise<void> {
    const { port1, port2 } = new MessageChannel();
    const b = this.stored;
    const region = app.vfs ?? this.profile.fsRegion(b.config.flashSize);
    const config: WorkerConfig = {
      profile: this.profile.name,
      boardName: b.name,
      flashPath: b.flashPath,
      sdCardPath: this.profile.espChip ? sdCardPath(b) : undefined,
      flashSize: b.config.flashSize,
      fsOffset: region.offset,
      fsSize: region.size,
      blockSize: 4096,
      safeMode,
      resetCause: cause,
      wakeCause: cause === 'deepsleep' ? this.wakeCause : undefined,
      bootLines,
      heapSize: boardHeapBytes(this.profile),
      bootImageDir: bootImagesDir(b),
      uniqueId: b.config.uniqueId,
      mac: b.config.mac,
      parts: b.config.parts,
      persisted: this.persisted,
      banner: app.banner,
      runningApp: app.runningApp,
    };
    const generation = ++this.generation;
    // A worker stopped between its output message and our drain leaves the flag set: the new one must post.
    Atomics.store(this.status, STATUS_OUT_WAKE, 0);
    const net = this.net?.attach();
    const worker = takeWorkerThread(config.heapSize);
    worker.postMessage(
      { input: this.input.sab, output: this.output.sab, status: this.status.buffer, config, control: port2, net },
      net ? [port2, net.port] : [port2],
    );
    this.worker = worker;
    this.control = port1;
    // Against the worker's "board: config received": which of the two threads the boot waited for.
    phase('virtual board config sent');
    return new Promise<void>((resolve, reject) => {
      worker.on('message', (e: WorkerEvent) => {
        if (e.type === 'output') {
          this.wakeups++;
          this.drainOutput();
          this.watchOutput();
        } else if (e.type === 'ready') resolve();
        else if (e.type === 'swept') this.swept?.();
        else if (e.type === 'control-result') this.settleControl(e);
        else if (e.type === 'reset' && generation === this.generation) void this.onWorkerReset(e);
      });
      worker.on('error', (err) => {
        reject(err);
        if (generation === this.generation) this.send(`\r\n[boardctl] virtual board crashed: ${err.message}\r\n`);
      });
      worker.on('exit', () => {
        if (generation === this.generation) this.worker = undefined;
        resolve();
      });
    });
  }

  /**
   * A board left running keeps its open files until the next session's soft reset, whose finaliser sweep closes
   * and commits them. A board closed here has no next session, so its idle VM runs that sweep first, where it may
   * have a file open (the usual end waits for no thread). A VM still running a program (or stuck) is not waited
   * for: what it has open is lost, as at a power cut.
   */
  private async sweepIdleVm(): Promise<void> {
    if (!this.worker || Atomics.load(this.status, STATUS_BUSY) !== 0 || Atomics.load(this.status, STATUS_FILES_OPEN) === 0) return;
    const swept = new Promise<void>((resolve) => (this.swept = resolve));
    Atomics.store(this.status, STATUS_SWEEP, 1);
    this.input.wake();
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([swept, new Promise<void>((resolve) => (timer = setTimeout(resolve, SWEEP_WAIT_MS)))]);
    clearTimeout(timer);
    this.swept = undefined;
  }

  private async stopWorker(): Promise<void> {
    this.sleeping?.cancel();
    if (this.repeatTimer) clearInterval(this.repeatTimer);
    this.repeatTimer = undefined;
    this.rom?.close();
    this.rom = undefined;
    this.romFlash?.close();
    this.romFlash = undefined;
    const w = this.worker;
    this.worker = undefined;
    this.generation++;
    this.control?.close();
    this.control = undefined;
    for (const [, p] of this.pendingControl) p.reject(new BoardError('LINK_LOST', 'the board was reset'));
    this.pendingControl.clear();
    Atomics.store(this.status, STATUS_BUSY, 0);
    this.takeInput(this.inQueued); // what was on its way to the old worker or ROM goes with it
    await w?.terminate();
    // The last writes of a worker (stopped, or ended by itself) whose coalesced fsync was not yet due; none: no fsync.
    if (Atomics.exchange(this.status, STATUS_FLASH_UNSYNCED, 0) === 1) {
      syncImageFile(this.stored.flashPath);
      phase('virtual board: flash image fsynced after its worker stopped');
    }
    this.net?.detach();
  }

  private async onWorkerReset(e: Extract<WorkerEvent, { type: 'reset' }>): Promise<void> {
    this.persisted = e.persisted;
    if (e.kind === 'bootloader') return this.enterDownloadMode('hard');
    if (e.kind === 'deepsleep') {
      // Asleep from the moment the worker starts stopping: a pin set meanwhile is the sleep's, not refused.
      const stopped = this.stopWorker();
      const sleeping = this.sleep(e.sleepMs, e.persisted as HardwareSnapshot | undefined);
      await stopped;
      const woke = await sleeping;
      if (!woke) return;
      this.wakeCause = woke;
    }
    await this.powerUp(e.kind);
  }

  /**
   * A deep sleep: no VM runs. Its timer ends it, or a pin esp32.wake_on_ext0/ext1 watches reaching its level (a
   * level there already wakes at once, as the RTC's does), or a touch on a pad esp32.wake_on_touch watches;
   * undefined when a reset or the board's close came first.
   */
  private sleep(ms: number | undefined, hw: HardwareSnapshot | undefined): Promise<WakeCause | undefined> {
    const gen = this.generation;
    return new Promise((resolve) => {
      let timer: NodeJS.Timeout | undefined;
      const end = (cause: WakeCause | undefined) => {
        clearTimeout(timer);
        this.sleeping = undefined;
        resolve(gen === this.generation && !this.closed ? cause : undefined);
      };
      const check = () => {
        const source = hw && wakingSource(hw.wake, sleepInputs(hw), 'deep');
        if (source) end(source);
      };
      if (ms !== undefined) timer = setTimeout(() => end('timer'), ms);
      this.sleeping = {
        set: (args) => {
          if (hw) sleepSet(hw, this.stored.config.parts ?? [], boardFacts(this.profile), args);
          check();
        },
        cancel: () => end(undefined),
      };
      check();
    });
  }

  private async enterDownloadMode(cause: BootCause, log = true): Promise<void> {
    // The ROM's code (only esptool's sessions use it) loads while the worker stops.
    const [rom] = await Promise.all([this.profile.espChip ? import('./rom/esp-rom.js') : undefined, this.stopWorker()]);
    if (!rom) return;
    if (log) this.sendDownloadLog(cause);
    this.startRom(rom.EspRom);
  }

  private sendDownloadLog(cause: BootCause): void {
    void this.send(downloadModeLines(this.profile, cause).map((l) => l + '\r\n').join(''));
  }

  private startRom(EspRom: typeof import('./rom/esp-rom.js').EspRom): EspRom {
    const mac = Uint8Array.from(this.stored.config.mac.split(':').map((h) => parseInt(h, 16)));
    const flash = new FileFlashStore(this.stored.flashPath, this.stored.config.flashSize);
    this.romFlash = flash;
    const rom = new EspRom({ flash, profile: this.profile, mac, baudRate: this.linkBaud || this.link?.clientBaud });
    rom.onSend((d) => this.send(d));
    rom.onBaudRate((baud) => {
      if (this.link && this.linkBaud) {
        this.linkBaud = baud;
        this.link.out.setBaud(baud);
        this.link.in.setBaud(baud);
      }
    });
    rom.onExit((why) => {
      // FLASH_END(0) is a software reset that keeps the latched boot mode: the ROM starts over in download mode.
      if (why === 'reboot') this.sendDownloadLog('software');
      // The RTC watchdog resets the whole chip, which samples GPIO0 again; the app sees a watchdog reset.
      else if (why === 'rtc-wdt') void (this.lines.io0 ? this.powerUp('wdt', false, 'rtc-wdt') : this.enterDownloadMode('rtc-wdt'));
      else void this.powerUp('hard', false, 'bootloader-exit');
    });
    this.rom = rom;
    return rom;
  }

  /** The ESP dev-board auto-reset circuit: RTS drives EN, DTR drives GPIO0, through a transistor pair. */
  private lines = { en: true, io0: true };
  private leavingReset: NodeJS.Timeout | undefined;

  private async applySignals(dtr: boolean, rts: boolean): Promise<void> {
    // A Pico's serial port is its USB CDC: DTR and RTS reach nothing that resets the chip (its one line-state
    // action, the 1200-baud touch into BOOTSEL, leaves MicroPython, which the virtual board does not), so a
    // client's reset pulse does nothing there, as on the board.
    if (!this.profile.espChip) return;
    const en = !(rts && !dtr);
    const io0 = !(dtr && !rts);
    const wasEn = this.lines.en;
    this.lines = { en, io0 };
    if (!en && wasEn) {
      clearTimeout(this.leavingReset);
      await this.stopWorker(); // held in reset: silent
    }
    if (en && !wasEn) {
      // EN rises through its RC delay: the chip leaves reset (and samples GPIO0) a little later, so the moment of
      // DTR=RTS=1 between the two line changes of a classic reset (separate RFC 2217 SET-CONTROLs) boots nothing.
      this.leavingReset = setTimeout(() => {
        if (this.closed || !this.lines.en) return;
        // EN (CHIP_PU) is a power-on reset to the chip: esp_reset_reason() gives ESP_RST_POWERON.
        if (!this.lines.io0 && this.profile.espChip) void this.enterDownloadMode('power-on');
        else void this.powerUp('power-on');
      }, EN_RC_MS);
    }
  }

  // ---- bytes in and out ---------------------------------------------------------------------------------

  private linkBaud = 0;
  /** Terminals beside the link (the WebREPL's, as os.dupterm): they see every byte the board prints. */
  private readonly outputTaps = new Set<(chunk: Uint8Array) => void>();

  private tapOutput(listener: (chunk: Uint8Array) => void): () => void {
    this.outputTaps.add(listener);
    return () => this.outputTaps.delete(listener);
  }

  /**
   * Output to the client, paced when a baud rate is emulated; dropped when no client holds the link. Resolves
   * when the link has taken the bytes (the ROM waits on it where the silicon waits for its UART).
   */
  private send(data: string | Uint8Array): Promise<void> {
    const bytes = typeof data === 'string' ? Buffer.from(data, 'utf8') : data;
    for (const tap of this.outputTaps) tap(bytes);
    return this.link ? this.link.out.push(bytes) : Promise.resolve();
  }

  /**
   * Board output to the client. On a paced link only a little is taken from the ring at a time, so a program
   * printing faster than the baud rate blocks in its print (as on a UART) instead of queueing without bound.
   */
  private drainOutput(): void {
    this.outputSeen = this.output.writePosition();
    while (this.output.available() > 0 && (this.link?.out.backlog ?? 0) < PACED_BACKLOG) {
      this.send(this.output.read(PACED_BACKLOG));
    }
    if (this.rom && this.inQueue.length) void this.pumpInput();
  }

  /** How many bytes the worker had written when drainOutput last looked (the ring's count, mod 2^32). */
  private outputSeen = 0;
  private outputTimer: NodeJS.Timeout | undefined;

  /**
   * After a worker's output message, keep taking its output every OUTPUT_POLL_MS while it comes: the worker posts
   * again only once this finds the ring quiet and clears STATUS_OUT_WAKE (its protocol: shared-state.ts), or when
   * it is about to wait, or sent a reply (board-runtime.ts flush).
   */
  private watchOutput(): void {
    if (this.outputTimer) return;
    this.outputTimer = setTimeout(() => {
      this.outputTimer = undefined;
      if (this.output.writePosition() === this.outputSeen) {
        Atomics.store(this.status, STATUS_OUT_WAKE, 0);
        // Bytes written while the flag was still set came without a message: they are taken here.
        if (this.output.writePosition() === this.outputSeen || Atomics.compareExchange(this.status, STATUS_OUT_WAKE, 0, 1) !== 0) return;
      }
      this.drainOutput();
      this.watchOutput();
    }, OUTPUT_POLL_MS);
  }

  /** Bytes from the client to the board's UART. */
  private receive(data: Uint8Array): void {
    // On its way into the ROM, what follows (the client's further SYNCs) waits for it, instead of starting it again.
    if (this.rom || this.romStarting) return this.queueInput(data);
    if (this.profile.espChip && !this.link?.linesDriven && this.sync.push(data)) {
      // esptool talking to a running board over a link without reset lines (pty, TCP): the board drops into its
      // ROM loader, standing in for the auto-reset circuit, without the boot log (that would reach esptool in the
      // middle of its SYNC, as noise). A client that drives DTR/RTS gets silicon: SYNC is
      // only UART input to the app, and download mode needs GPIO0 low at reset.
      this.romStarting = true;
      void this.enterDownloadMode('power-on', false)
        .then(() => this.rom?.receive(SYNC_FRAME))
        .finally(() => {
          this.romStarting = false;
          void this.pumpInput();
        });
      return;
    }
    if (!this.worker) return;
    if (data.includes(0x03) && Atomics.load(this.status, STATUS_BUSY) === 1) this.watchInterrupt();
    this.queueInput(data);
  }

  private queueInput(data: Uint8Array): void {
    this.inQueue.push(data);
    this.inQueued += data.length;
    void this.pumpInput();
  }

  /** Forget `n` bytes taken from the head of inQueue; wake writers once there is room. */
  private takeInput(n: number): void {
    this.inQueued -= n;
    if (this.inQueued === 0) this.inQueue.length = 0;
    if (this.inQueued < INPUT_BACKLOG) for (const w of this.inputWaiters.splice(0)) w();
  }

  /** Resolves when the board has room for more client bytes. */
  private inputRoom(): Promise<void> {
    if (this.inQueued < INPUT_BACKLOG || this.closed) return Promise.resolve();
    return new Promise((resolve) => this.inputWaiters.push(resolve));
  }

  /** The ROM takes a command only while its earlier answers are not stuck behind a slow client. */
  private toRom(rom: EspRom, data: Uint8Array): number {
    if ((this.link?.out.backlog ?? 0) >= ROM_BACKLOG) return 0;
    rom.receive(data);
    return data.length;
  }

  private pumping = false;
  private romStarting = false;

  private async pumpInput(): Promise<void> {
    if (this.pumping) return;
    this.pumping = true;
    try {
      while (this.inQueue.length && !this.closed && !(this.romStarting && !this.rom)) {
        const head = this.inQueue[0];
        const n = this.rom ? this.toRom(this.rom, head) : this.input.write(head);
        if (n === head.length) this.inQueue.shift();
        else this.inQueue[0] = head.subarray(n);
        this.takeInput(n);
        // The ROM is woken by drainOutput; the worker's ring is polled.
        if (n < head.length) {
          if (this.rom) return;
          await new Promise((r) => setTimeout(r, 2));
        }
      }
    } finally {
      this.pumping = false;
    }
  }

  /** A compute loop never calls out of the VM; if Ctrl-C is not even read within 1 s, press reset. */
  private watchInterrupt(): void {
    const gen = this.generation;
    const readPos = this.input.readPosition();
    setTimeout(() => {
      if (gen !== this.generation || this.closed) return;
      if (Atomics.load(this.status, STATUS_BUSY) !== 1 || this.input.readPosition() !== readPos) return;
      // On silicon the Ctrl-C would have worked and what the client sent after it (pyboard's \r\x01 for the raw
      // REPL) would be read next: it is fed to the rebooted board instead of being lost with the old one.
      const unread = this.input.read();
      const typedAhead = unread.slice(unread.lastIndexOf(0x03) + 1);
      this.send(STUCK_MESSAGE);
      void this.powerUp('power-on', true).then(() => {
        if (typedAhead.length && !this.closed) this.queueInput(typedAhead);
      });
    }, STUCK_MS).unref();
  }

  // ---- the link -----------------------------------------------------------------------------------------

  /** The in-process serial link. One client at a time. */
  attach(opts: AttachOptions = {}): BoardLink {
    if (this.link) throw new BoardError('BOARD_BUSY', `board busy: virtual board '${this.name}' already has a client`);
    const link: Link = {
      listeners: new Set(),
      closeListeners: new Set(),
      out: new UartPacer((c) => link.listeners.forEach((l) => l(c)), opts.baud ?? 0, () => this.drainOutput()),
      in: new UartPacer((c) => this.receive(c), opts.baud ?? 0),
      lines: { dtr: false, rts: false },
      linesDriven: false,
      clientBaud: opts.baud ?? 115200,
    };
    this.link = link;
    this.linkBaud = opts.baud ?? 0;
    // A paced link keeps the board's output queue as short as a UART driver's, so Ctrl-C is not stuck behind it.
    Atomics.store(this.status, STATUS_OUT_LIMIT, this.linkBaud ? PACED_BACKLOG : 0);
    let open = true;
    const board = this;
    const detach = (err?: Error) => {
      if (!open) return;
      open = false;
      phase(`virtual board link closed (${board.outputWakeups} output wake-ups since power-on)`);
      link.out.clear();
      link.in.clear();
      if (board.link === link) {
        board.link = undefined;
        Atomics.store(board.status, STATUS_OUT_LIMIT, 0);
        // Closing a port drops DTR and RTS (HUPCL): a client that left the chip held in reset does not leave it dead.
        if (link.linesDriven && !board.closed) void board.applySignals(false, false);
      }
      link.closeListeners.forEach((l) => l(err));
    };
    return {
      kind: 'virtual',
      path: `virtual:${this.name}`,
      hasControlLines: true,
      lossless: true,
      get baudRate() {
        return board.linkBaud || link.clientBaud;
      },
      async write(data) {
        if (!open) throw new BoardError('LINK_LOST', `virtual board '${board.name}' link is closed`);
        await link.in.push(Uint8Array.from(data));
        await board.inputRoom();
      },
      holdOutput(held) {
        if (open) link.out.hold(held);
      },
      async purge(what) {
        if (what === 'receive') link.out.discard();
        else board.takeInput(board.inQueued);
      },
      onData(l) {
        link.listeners.add(l);
        return () => link.listeners.delete(l);
      },
      onClose(l) {
        link.closeListeners.add(l);
        return () => link.closeListeners.delete(l);
      },
      async setSignals(lines: ControlLines) {
        link.linesDriven = true;
        link.lines = { dtr: lines.dtr ?? link.lines.dtr, rts: lines.rts ?? link.lines.rts };
        await board.applySignals(link.lines.dtr, link.lines.rts);
      },
      async setBaudRate(baud) {
        link.clientBaud = baud;
        if (board.linkBaud) {
          board.linkBaud = baud;
          link.out.setBaud(baud);
          link.in.setBaud(baud);
        }
      },
      async close() {
        detach();
      },
    };
  }

  // ---- control ------------------------------------------------------------------------------------------

  /** Ask one of the board's parts (e.g. 'hw' for the simulated hardware) to do or report something. */
  controlRequest(req: ControlRequest): Promise<unknown> {
    // The network lives here on the main thread, beside the host sockets.
    if (req.plugin === 'net') return this.netControl(req.op, req.args);
    if (this.sleeping && req.plugin === 'hw' && req.op === 'set') {
      try {
        this.sleeping.set(req.args);
        return Promise.resolve({ ok: true });
      } catch (err) {
        return Promise.reject(err);
      }
    }
    if (!this.control) return Promise.reject(new BoardError('LINK_LOST', `virtual board '${this.name}' is not running MicroPython`));
    const id = this.nextControlId++;
    this.control.postMessage({ type: 'control', id, ...req });
    return new Promise((resolve, reject) => this.pendingControl.set(id, { resolve, reject }));
  }

  private async netControl(op: string, args: unknown): Promise<unknown> {
    if (!this.net) throw new BoardError('USAGE', `virtual board '${this.name}' (${this.profile.name}) has no network`);
    if (op === 'info') return this.net.info();
    if (op !== 'set') throw new BoardError('USAGE', `the network has no '${op}' request`);
    const a = args as { what: 'ap' | 'uplink'; up: boolean; ssid?: string };
    this.net.set(a.what, a.up, a.ssid);
    return this.net.info();
  }

  private settleControl(e: Extract<WorkerEvent, { type: 'control-result' }>): void {
    const p = this.pendingControl.get(e.id);
    if (!p) return;
    this.pendingControl.delete(e.id);
    if (e.error) p.reject(new BoardError('USAGE', e.error));
    else p.resolve(e.result);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    clearTimeout(this.leavingReset);
    boards.delete(this.name);
    await this.sweepIdleVm();
    await this.stopWorker();
    this.link?.closeListeners.forEach((l) => l());
    this.link = undefined;
    this.release();
  }
}

/** Port strings `virtual`, `virtual:NAME`, `virtual:NAME?baud=N&faults=SPEC` (faults: protocol/transports/faults.ts). */
export function parseVirtualSpec(spec: string): { name: string; baud?: number; faults?: FaultSpec } {
  const m = /^virtual(?::([^?]*))?(?:\?(.*))?$/.exec(spec);
  if (!m) throw new BoardError('USAGE', `not a virtual board port: '${spec}'`);
  const params = new URLSearchParams(m[2] ?? '');
  const baud = params.get('baud');
  if (baud !== null && !/^\d+$/.test(baud)) throw new BoardError('USAGE', `bad baud rate '${baud}' in '${spec}'`);
  const faults = params.get('faults');
  return { name: m[1] || 'default', baud: baud === null ? undefined : Number(baud), ...(faults ? { faults: parseFaultSpec(faults) } : {}) };
}

/** The in-process link to a virtual board, as the client's port resolver opens it. */
export async function openVirtualTransport(spec: string, opts: OpenBoardOptions = {}): Promise<Transport> {
  const { name, baud, faults } = parseVirtualSpec(spec);
  const board = await VirtualBoard.open(name, opts);
  await board.whenReady();
  return withFaults(board.attach({ baud }), faults);
}

/** Stop every virtual board this process started (tests, process exit). */
export async function closeAllVirtualBoards(): Promise<void> {
  const all = await Promise.allSettled([...boards.values()]);
  await Promise.all([dropEarlyWorker(), ...all.map((r) => (r.status === 'fulfilled' ? r.value.close() : undefined))]);
}
