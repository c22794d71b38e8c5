// The board's serial console as pyexec.c behaves on real ports. The VM's own event-driven REPL does the friendly
// REPL (line editing, history, completion, paste mode) and plain raw-REPL exec; we add what it lacks: the banner
// of the board profile, raw-paste mode (its version blocks forever on the stub stdin), soft resets with boot.py
// and main.py, and resets requested by machine.*.
import type { BoardRuntime } from './board-runtime.js';
import type { ResetRequest } from './host-api.js';
import { phase } from '../../protocol/timing.js';

const CTRL_A = 0x01;
const CTRL_B = 0x02;
const CTRL_C = 0x03;
const CTRL_D = 0x04;
const CTRL_E = 0x05;
/** Raw-paste flow-control window (MicroPython's MICROPY_REPL_STDIN_BUFFER_MAX is 256 on most ports). */
export const RAW_PASTE_WINDOW = 256;
/** More code than this cannot compile on a real board either; the rest is discarded and MemoryError reported. */
const RAW_PASTE_MAX = 2 * 1024 * 1024;

type Paste = { code: Uint8Array; length: number; sinceCredit: number };

export class ReplFront {
  private mode: 'friendly' | 'raw' = 'friendly';
  private paste: Paste | undefined;
  /** What the VM's raw REPL holds so far: a program the host drives (host-loop.ts) is taken from it at Ctrl-D. */
  private rawLine: number[] = [];
  /** A raw-REPL program runs: its output has been acknowledged (OK or the paste's \x04) but not yet framed. */
  private execRunning = false;

  constructor(
    private readonly rt: BoardRuntime,
    private readonly onHardReset: (req: ResetRequest) => void,
  ) {}

  /** First boot of this worker: VM, boot.py, main.py (unless safe mode), then the friendly REPL. */
  async boot(): Promise<void> {
    await this.rt.startVm();
    if (await this.runBootScripts(false)) return;
    this.enterRepl(false);
  }

  /** Feed one byte from the link; returns a promise only when the byte started a reset. */
  feed(b: number): Promise<void> | void {
    if (this.paste) return this.feedPaste(b);
    const vm = this.rt.vm;
    // As pyexec.c: a raw-paste request is a line of exactly Ctrl-E and one letter, ended by Ctrl-A; a Ctrl-E
    // elsewhere on the line (a stray byte) is just a byte of the line.
    if (this.mode === 'raw' && b === CTRL_A && this.rawLine.length === 2 && this.rawLine[0] === CTRL_E) {
      const command = this.rawLine[1];
      this.rawLine = [];
      vm.replProcessChar(CTRL_C); // empties the VM's raw line (it prints nothing)
      if (command !== 0x41) return void this.rt.emit('R\x00>');
      this.paste = { code: new Uint8Array(4096), length: 0, sinceCredit: 0 };
      this.rt.emit(Buffer.from([0x52, 0x01, RAW_PASTE_WINDOW & 0xff, RAW_PASTE_WINDOW >> 8, 0x01]));
      return;
    }
    if (this.mode === 'raw' && b === CTRL_D && this.rawLine.length) {
      const code = Buffer.from(this.rawLine).toString('utf8');
      this.rawLine = [];
      // Programs the host drives or steps (not the VM's own raw REPL): asyncio runs, loops to collect in.
      if (this.rt.hostLoop.accepts(code) || this.rt.steppedLoops(code) !== undefined) {
        vm.replProcessChar(CTRL_C); // empties the VM's raw line (it prints nothing)
        this.rt.emit('OK');
        return this.runPaste(code);
      }
    } else if (this.mode === 'raw') {
      if (b < 0x05) this.rawLine = [];
      else this.rawLine.push(b);
    }
    let result = 0;
    if (b === CTRL_A || b === CTRL_B) {
      // Mode switches print fixed text and run no code: collect it to learn the new mode and fix the banner.
      const text = this.rt.captureOutput(() => {
        result = vm.replProcessChar(b);
      });
      if (b === CTRL_A && text.includes('raw REPL; CTRL-B to exit')) this.mode = 'raw';
      if (b === CTRL_B && this.mode === 'raw') this.mode = 'friendly';
      this.rt.emit(Buffer.from(this.rt.rewriteBanner(text), 'latin1'));
    } else {
      this.rt.setBusy(true);
      // Ctrl-D in the raw REPL runs what was sent (after printing OK).
      this.execRunning = this.mode === 'raw' && b === CTRL_D;
      if (this.execRunning) this.rt.collectNow();
      try {
        result = vm.replProcessChar(b);
        this.execRunning = false; // (left set when the VM throws: recover() closes the framing)
      } finally {
        this.rt.setBusy(false);
      }
    }
    if (this.rt.hasResetRequest()) return this.handleResetRequest().then(() => undefined);
    // pyexec's PYEXEC_FORCED_EXIT: Ctrl-D on an empty line, or SystemExit.
    if (result !== 0) return this.softReset();
  }

  private feedPaste(b: number): Promise<void> | void {
    const p = this.paste!;
    if (b === CTRL_D || b === CTRL_C) {
      this.paste = undefined;
      this.rt.emit('\x04');
      if (b === CTRL_C) {
        this.rt.emit('\x04KeyboardInterrupt: \r\n\x04>');
        return;
      }
      if (p.length > RAW_PASTE_MAX) {
        // No stdout, then the traceback as the program's error output.
        this.rt.emit(`\x04Traceback (most recent call last):\r\n  File "<stdin>", line 1, in <module>\r\n` +
          `MemoryError: memory allocation failed, allocating ${p.length} bytes\r\n\x04>`);
        return;
      }
      return this.runPaste(Buffer.from(p.code.buffer, 0, p.length).toString('utf8'));
    }
    if (++p.length > RAW_PASTE_MAX) {
      p.length = RAW_PASTE_MAX + 1; // counting stops; the code is dropped at the end
    } else if (p.length > p.code.length) {
      const grown = new Uint8Array(p.code.length * 2);
      grown.set(p.code);
      p.code = grown;
    }
    if (p.length <= RAW_PASTE_MAX) p.code[p.length - 1] = b;
    if (++p.sinceCredit === RAW_PASTE_WINDOW) {
      p.sinceCredit = 0;
      this.rt.emit('\x01');
    }
  }

  private async runPaste(code: string): Promise<void> {
    this.execRunning = true;
    const outcome = this.rt.runUserCode(code, true);
    this.execRunning = false;
    this.rt.emit('\x04');
    if (await this.handleResetRequest()) return;
    if (outcome.systemExit) {
      this.rt.emit('\x04');
      await this.softReset();
      return;
    }
    if (outcome.error) this.rt.emitCooked(outcome.error);
    this.rt.emit('\x04>');
  }

  /** boot.py, then main.py on a friendly-mode boot; true when they asked for a reset instead of a REPL. */
  private async runBootScripts(raw: boolean): Promise<boolean> {
    const files = raw || this.rt.config.safeMode ? ['boot.py'] : ['boot.py', 'main.py'];
    for (const file of files) {
      const outcome = this.rt.runBootFile(file);
      if (await this.handleResetRequest()) return true;
      if (outcome.systemExit) {
        await this.softReset();
        return true;
      }
      if (outcome.error) this.rt.emitCooked(outcome.error);
    }
    this.rt.collectNow(); // what boot left is garbage before the first prompt, as after a board's boot
    phase('board: ' + files.join(' and ') + ' done');
    return false;
  }

  private enterRepl(raw: boolean): void {
    const vm = this.rt.vm;
    this.rt.captureOutput(() => vm.replInit());
    this.paste = undefined;
    this.rawLine = [];
    if (raw) {
      this.rt.captureOutput(() => vm.replProcessChar(CTRL_A));
      this.mode = 'raw';
      this.rt.emit('raw REPL; CTRL-B to exit\r\n>');
    } else {
      this.mode = 'friendly';
      this.rt.emit(this.rt.bannerText() + '>>> ');
    }
  }

  /**
   * A JavaScript exception unwound the VM's C stack (a C recursion overflowing the host's stack, an error thrown
   * by host code under a Python call): the VM cannot be trusted, so it is replaced, as a crash resets a board.
   * A raw-REPL program that was running gets its framing closed with the error as its traceback first, so the
   * client's command ends with that error instead of waiting for an end that would never come.
   */
  async recover(err: unknown): Promise<void> {
    const what = err instanceof Error ? `${err.name}: ${err.message.trim().split('\n').pop()}` : String(err);
    const note = `[boardctl] the VM hit a host-side error (${what}); the board resets (soft reboot)\r\n`;
    if (this.execRunning) this.rt.emit(`\x04${note}\x04`);
    else this.rt.emit(`\r\n${note}`);
    this.execRunning = false;
    this.paste = undefined;
    await this.softReset(true);
  }

  /**
   * Soft reset as on a real port: fresh heap, files kept, boot.py (and main.py in friendly mode). `newVm` replaces
   * the VM instead of restoring its boot state (the VM cannot be trusted after a host error).
   */
  async softReset(newVm = false): Promise<void> {
    const raw = this.mode === 'raw';
    this.rt.emit('MPY: soft reboot\r\n');
    this.rt.flush();
    this.rt.softResetDone = true; // before startVm: the parts' onBoot reads it
    await this.rt.startVm(newVm);
    if (await this.runBootScripts(raw)) return;
    this.enterRepl(raw);
  }

  /** A reset requested from Python (machine.*); true when one was handled. */
  private async handleResetRequest(): Promise<boolean> {
    const req = this.rt.takeResetRequest();
    if (!req) return false;
    if (req.kind === 'soft') {
      await this.softReset();
      return true;
    }
    this.rt.flush();
    this.onHardReset(req);
    return true;
  }
}
