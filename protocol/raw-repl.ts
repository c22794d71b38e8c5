// The raw REPL client: drives MicroPython's raw REPL (and raw-paste mode when offered) over any Transport.
// Behaviour follows mpremote's transport_serial.py; the wire facts are in shared/runtime/pyexec.c.
import type { Board, ExecOptions, ExecResult, RunningExec } from './board.js';
import { checkedProgram, checkedTraceback, damagedCommand, type CheckedProgram } from './checked-program.js';
import { BoardError, isBoardError } from './errors.js';
import { LinkReader } from './link-reader.js';
import { phase } from './timing.js';
import type { Transport } from './transport.js';
import { Utf8Stream } from './utf8-stream.js';

const CTRL_A = 0x01;
const CTRL_B = 0x02;
const CTRL_C = 0x03;
const CTRL_D = 0x04;

const BANNER = /raw REPL; CTRL-B to exit\r?\r?\n/;
/**
 * The banner with its prompt. Matched without its first letters because old firmware without raw-paste
 * answers the request's Ctrl-A by printing the banner again, and its first two bytes were read as the reply.
 */
const BANNER_PROMPT = /w REPL; CTRL-B to exit\r?\r?\n>/;
const SOFT_REBOOT = /soft reboot\r?\r?\n/;

/** How long a board may take to answer a protocol step once it is responsive (a loaded CI machine's qemu needs seconds). */
const REPLY_MS = 5000;
/** The friendly REPL's banner and prompt ending the output: the board rebooted (it never says so in raw mode). */
const FRIENDLY_BANNER = /MicroPython v[^\r\n]*\r?\nType "help\(\)" for more information\.\r?\n>>> $/;
/** Output kept to spot a reboot: the soft reboot line, boot.py output and the banner that follows it. */
const RESET_TAIL = 512;
/** All that may stand between the end of a program and the raw prompt: a soft reboot's line and the raw banner. */
const RAW_REBOOT = /^MPY: soft reboot\r?\r?\nraw REPL; CTRL-B to exit\r?\r?\n>$/;
/** Quiet after such a banner before it counts: a program that merely printed one goes on. */
const RESET_QUIET_MS = 600;
/** After Ctrl-C, how long a running program gets to unwind before we force our way back to the prompt. */
const INTERRUPT_GRACE_MS = 2000;
/** After Ctrl-C: drop output until the board has been quiet this long (but never wait longer than the max). */
const SETTLE_QUIET_MS = 20;
const SETTLE_MAX_MS = 300;
/** Plain raw mode has no flow control: write in small pieces so a slow board's input buffer keeps up. */
const PLAIN_CHUNK = 256;
const PLAIN_CHUNK_PAUSE_MS = 10;

export interface RawReplOptions {
  /** One overall deadline for reaching the raw REPL prompt, however chatty or slow to boot the board is. */
  enterTimeoutMs?: number;
  /** Skip the soft reset that otherwise happens once per connection before the first command (mpremote `resume`). */
  resume?: boolean;
  /** Set false to never try raw-paste mode. */
  rawPaste?: boolean;
  /** Whether programs go in the checksum guard (checked-program.ts): by default, unless the link is lossless. */
  checkPrograms?: boolean;
  /** How long one protocol step may wait for the board's answer (default 5 s; fault trials use less). */
  replyTimeoutMs?: number;
  /** exec(): send a program again this many times when the board refused a damaged copy of it (default 2). */
  resends?: number;
}

type Mode = 'unknown' | 'raw';
/** Silence that ends a wait: interrupt the program (TIMEOUT), or take the reply as cut short. */
type Idle = { ms: number; then: 'interrupt' | 'cut' };

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export class RawReplClient implements Board {
  private readonly reader: LinkReader;
  private mode: Mode = 'unknown';
  private softResetDone: boolean;
  private useRawPaste: boolean;
  private readonly checkPrograms: boolean;
  private readonly enterTimeoutMs: number;
  private readonly replyMs: number;
  private readonly resends: number;
  /** Serialises operations: chained commands and concurrent callers take turns on the one link. */
  private queue: Promise<unknown> = Promise.resolve();
  private closed = false;
  private resets = 0;
  /** Bytes over the link, both ways, for the timing trace. */
  private sent = 0;
  private received = 0;

  constructor(readonly transport: Transport, opts: RawReplOptions = {}) {
    this.reader = new LinkReader(transport);
    transport.onData((chunk) => (this.received += chunk.length));
    this.enterTimeoutMs = opts.enterTimeoutMs ?? 10_000;
    this.softResetDone = opts.resume === true;
    this.useRawPaste = opts.rawPaste !== false;
    this.checkPrograms = opts.checkPrograms ?? !transport.lossless;
    this.replyMs = opts.replyTimeoutMs ?? REPLY_MS;
    this.resends = opts.resends ?? 2;
  }

  /** Soft resets on this connection: the board's globals are fresh whenever it changes. */
  get generation(): number {
    return this.resets;
  }

  /** True once the soft reset of this connection happened (or was skipped by `resume`). */
  get didSoftReset(): boolean {
    return this.softResetDone;
  }

  /** Skip the pending once-per-connection soft reset (mpremote `resume`). */
  resume(): void {
    this.softResetDone = true;
  }

  /** Enter the raw REPL without a soft reset; resolves false instead of throwing NO_REPL (port probing). */
  probe(timeoutMs: number): Promise<boolean> {
    return this.serial(async () => {
      try {
        await this.enterRaw(timeoutMs);
        return true;
      } catch (err) {
        if (err instanceof BoardError && err.code === 'NO_REPL') return false;
        throw err;
      }
    });
  }

  exec(code: string, opts: ExecOptions = {}): Promise<ExecResult> {
    return this.serial(async () => {
      for (let tries = 0; ; tries++) {
        const checked = await this.prepare(code, opts.signal);
        try {
          const result = await this.collect(opts, checked);
          phase('exec');
          return result;
        } catch (err) {
          // The guard refused the damaged copy before any of it ran: sending it again is safe.
          if (tries >= this.resends || !isBoardError(err, 'LINK_DAMAGED') || err.details.refused !== true) throw err;
        }
      }
    });
  }

  async eval(expr: string, opts: ExecOptions = {}): Promise<string> {
    const { stdout } = await this.exec(`print(repr(${expr}))`, opts);
    return stdout.replace(/\r?\n$/, '');
  }

  start(code: string, opts: ExecOptions = {}): Promise<RunningExec> {
    return new Promise<RunningExec>((resolveStarted, rejectStarted) => {
      // The operation slot is held until the program ends, so nothing else talks to the board meanwhile.
      this.serial(async () => {
        let checked: CheckedProgram | undefined;
        try {
          checked = await this.prepare(code, opts.signal);
        } catch (err) {
          rejectStarted(err);
          return;
        }
        const done = this.collect(opts, checked);
        resolveStarted({ write: (data) => ((this.sent += data.length), this.transport.write(data)), done });
        await done.catch(() => {});
      }).catch(rejectStarted);
    });
  }

  softReset(): Promise<void> {
    return this.serial(async () => {
      if (this.mode !== 'raw') await this.enterRaw(this.enterTimeoutMs);
      await this.doSoftReset();
    });
  }

  async interrupt(): Promise<void> {
    // Sent at once, not queued: the operation holding the queue may be the very program to stop.
    await this.write([CTRL_C]);
    return this.serial(() => this.enterRaw(this.enterTimeoutMs));
  }

  /** Leave the raw REPL and hand the link over (the terminal pass-through takes it from here). */
  release(): Promise<Transport> {
    return this.serial(async () => {
      await this.leaveRaw();
      this.reader.detach();
      this.closed = true;
      return this.transport;
    });
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    // Wait for the current operation, but do not queue behind a program that never ends.
    await Promise.race([this.queue.catch(() => {}), sleep(INTERRUPT_GRACE_MS)]);
    try {
      await this.leaveRaw();
    } catch {
      // the link may already be gone; closing must still succeed
    }
    this.reader.detach();
    await this.transport.close();
    phase(`link closed (${this.sent} bytes sent, ${this.received} received)`);
  }

  /** Close the link without sending anything: a program left running keeps running, a rebooting board reboots. */
  async abandon(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.transport.close();
    this.reader.detach();
  }

  private serial<T>(op: () => Promise<T>): Promise<T> {
    if (this.closed) return Promise.reject(new BoardError('LINK_LOST', `${this.transport.path}: the connection is closed`));
    const run = this.queue.then(op, op);
    this.queue = run.catch(() => {});
    return run;
  }

  private async write(bytes: Uint8Array | number[]): Promise<void> {
    if (this.reader.linkLost) throw this.reader.linkLost;
    this.sent += bytes.length;
    await this.transport.write(bytes instanceof Uint8Array ? bytes : Uint8Array.from(bytes));
  }

  private async leaveRaw(): Promise<void> {
    if (this.mode === 'raw' && !this.reader.linkLost) await this.write([0x0d, CTRL_B]);
    this.mode = 'unknown';
  }

  private async ready(): Promise<void> {
    if (this.mode !== 'raw') await this.enterRaw(this.enterTimeoutMs);
    if (!this.softResetDone) await this.doSoftReset();
  }

  /**
   * Ctrl-C to stop whatever runs, let the output settle, Ctrl-A, and look for the banner. A board that is
   * still booting or busy printing gets more Ctrl-Cs with growing waits, all within one overall deadline.
   */
  private async enterRaw(timeoutMs: number, mustResync = false): Promise<void> {
    this.mode = 'unknown';
    const deadline = Date.now() + timeoutMs;
    let wait = 250;
    for (let attempt = 0; ; attempt++) {
      await this.write(attempt === 0 ? [0x0d, CTRL_C] : [0x0d, CTRL_C, CTRL_C]);
      // Stale output is dropped so an old banner cannot count; junk arriving later is harmless, as the
      // banner is searched for anywhere in what follows. The first try drops only what is already here and asks
      // at once, as mpremote does (a board at its prompt answers the first Ctrl-A); a retry waits for quiet. A
      // peer that hangs up meanwhile ends the wait at once (the reader's waits end on link loss).
      const quiet = attempt === 0 && !mustResync ? 0 : SETTLE_QUIET_MS;
      await this.reader.settle(quiet, quiet && Math.min(SETTLE_MAX_MS, Math.max(0, deadline - Date.now())));
      await this.write([0x0d, CTRL_A]);
      const banner = await this.reader.until(BANNER, Math.min(deadline, Date.now() + wait));
      // After more than one Ctrl-A, a slow board answers each with a banner: only a fresh reply proves sync.
      if (banner && (await this.reader.until('>', Math.min(deadline, Date.now() + this.replyMs))) && (attempt === 0 && !mustResync ? true : await this.resync(deadline))) {
        this.mode = 'raw';
        phase(`raw REPL entered (${attempt + 1} attempt${attempt ? 's' : ''})`);
        return;
      }
      if (Date.now() >= deadline) {
        const seen = this.reader.seen();
        throw new BoardError(
          'NO_REPL',
          `${this.transport.path}: no raw REPL prompt within ${timeoutMs} ms; received: ${seen ? `"${seen}"` : 'nothing'}`,
          { port: this.transport.path, received: seen },
        );
      }
      wait = Math.min(wait * 2, 2000);
    }
  }

  /**
   * At a raw prompt that may have more banners queued behind it, run a one-line program with a fresh number
   * and read up to its output: every earlier reply comes before it, so the stream is in step afterwards.
   */
  private async resync(deadline: number): Promise<boolean> {
    const n = 100_000 + Math.floor(Math.random() * 800_000);
    await this.write([CTRL_C, ...new TextEncoder().encode(`print(${n}+1)`), CTRL_D]);
    const reply = new RegExp(`OK${n + 1}\\r*\\n\\x04\\x04>`);
    return (await this.reader.until(reply, Math.min(deadline, Date.now() + this.replyMs))) !== undefined;
  }

  /**
   * Ctrl-D at the empty raw prompt: "OK\r\nMPY: soft reboot\r\n", boot.py output, then the banner and prompt
   * again. A reply the link damaged gets one more try from a freshly synchronised prompt.
   */
  private async doSoftReset(): Promise<void> {
    const deadline = Date.now() + this.enterTimeoutMs;
    for (let attempt = 0; ; attempt++) {
      await this.write([CTRL_D]);
      // boot.py may take long; without the reboot line (damaged?) the prompt gets the usual reply time.
      const rebooted = await this.reader.until(SOFT_REBOOT, Math.min(deadline, Date.now() + this.replyMs));
      if (await this.reader.until(BANNER_PROMPT, rebooted ? deadline : Math.min(deadline, Date.now() + this.replyMs))) break;
      this.mode = 'unknown';
      if (attempt > 0 || Date.now() >= deadline) {
        throw new BoardError('NO_REPL', `${this.transport.path}: no raw REPL prompt after soft reset; received: "${this.reader.seen()}"`, {
          port: this.transport.path,
          received: this.reader.seen(),
        });
      }
      await this.enterRaw(deadline - Date.now(), true);
    }
    this.softResetDone = true;
    this.resets++;
    phase('soft reset');
  }

  private protocolError(what: string): BoardError {
    this.mode = 'unknown';
    return new BoardError('PROTOCOL', `${this.transport.path}: ${what}; received: "${this.reader.seen()}"`, {
      port: this.transport.path,
      received: this.reader.seen(),
    });
  }

  private async replyOrThrow(got: Promise<Buffer | undefined>, what: string): Promise<Buffer> {
    const reply = await got;
    if (reply) return reply;
    this.mode = 'unknown';
    throw new BoardError('TIMEOUT', `${this.transport.path}: no answer ${what} within ${this.replyMs} ms; received: "${this.reader.seen()}"`, {
      port: this.transport.path,
      received: this.reader.seen(),
    });
  }

  /**
   * Get to the raw prompt and send `code`. Ctrl-C (the signal) ends the waits for the board at once with
   * INTERRUPTED; a Ctrl-C to the board then drops whatever part of the program it got (raw and raw-paste alike).
   */
  private async prepare(code: string, signal: AbortSignal | undefined): Promise<CheckedProgram | undefined> {
    const interrupted = () => new BoardError('INTERRUPTED', 'interrupted by Ctrl-C');
    if (signal?.aborted) throw interrupted();
    const onAbort = () => this.reader.cancel(interrupted());
    signal?.addEventListener('abort', onAbort);
    try {
      await this.ready();
      return await this.send(code);
    } catch (err) {
      if (signal?.aborted && isBoardError(err, 'INTERRUPTED')) {
        this.mode = 'unknown';
        await this.write([CTRL_C]).catch(() => {});
      }
      throw err;
    } finally {
      signal?.removeEventListener('abort', onAbort);
      this.reader.cancel(undefined);
    }
  }

  /** Send `code` under the checksum guard (when enabled and it fits); returns the guard, if any. */
  private async send(code: string): Promise<CheckedProgram | undefined> {
    const checked = this.checkPrograms ? checkedProgram(code) : undefined;
    await this.upload(new TextEncoder().encode(checked?.source ?? code));
    return checked;
  }

  /** Send the program: raw-paste with the board's flow control when it offers it, else plain raw mode. */
  private async upload(code: Uint8Array): Promise<void> {
    // From here until the prompt returns, the raw REPL is busy with this program.
    this.mode = 'unknown';
    if (this.useRawPaste) {
      // Ctrl-C first clears whatever a stray byte left on the raw REPL's line (it prints nothing there).
      await this.write([CTRL_C, 0x05, 0x41, CTRL_A]);
      const head = await this.replyOrThrow(this.reader.take(2, Date.now() + this.replyMs), 'to the raw-paste request');
      if (head[0] === 0x52 && head[1] === 0x01) {
        const size = await this.replyOrThrow(this.reader.take(2, Date.now() + this.replyMs), 'with the raw-paste window');
        await this.rawPasteWrite(code, size.readUInt16LE(0));
        return;
      }
      if (head[0] === 0x52 && head[1] === 0x00) {
        // Understood but unsupported: the board went back to its prompt.
        await this.replyOrThrow(this.reader.until('>', Date.now() + this.replyMs), 'after refusing raw-paste');
      } else {
        await this.replyOrThrow(this.reader.until(BANNER_PROMPT, Date.now() + this.replyMs), 'after the raw-paste request');
      }
      // Only a confirmed refusal (not a reply the link damaged) turns raw-paste off for the connection.
      this.useRawPaste = false;
    }
    for (let i = 0; i < code.length; i += PLAIN_CHUNK) {
      if (i > 0) await sleep(PLAIN_CHUNK_PAUSE_MS);
      await this.write(code.subarray(i, i + PLAIN_CHUNK));
    }
    await this.write([CTRL_D]);
    const ok = await this.replyOrThrow(this.reader.take(2, Date.now() + this.replyMs), 'to the program');
    if (ok.toString('latin1') !== 'OK') throw this.protocolError('the board did not accept the program');
  }

  /**
   * Raw-paste: the header gave a window size and each \x01 from the board adds one more window; we never
   * have more unacknowledged bytes out than that. A \x04 from the board means it stopped reading early
   * (e.g. a syntax error): answer \x04 and send no more.
   */
  private async rawPasteWrite(code: Uint8Array, window: number): Promise<void> {
    let credit = window;
    let sent = 0;
    let stoppedByBoard = false;
    while (sent < code.length && !stoppedByBoard) {
      let control = this.reader.takeAvailable();
      if (credit === 0 && control.length === 0) {
        control = await this.replyOrThrow(this.reader.take(1, Date.now() + this.replyMs), 'with raw-paste flow control');
      }
      for (const b of control) {
        if (b === CTRL_A) credit += window;
        else if (b === CTRL_D) stoppedByBoard = true;
        else throw this.protocolError(`unexpected byte 0x${b.toString(16).padStart(2, '0')} during raw-paste`);
      }
      if (stoppedByBoard) break;
      const piece = code.subarray(sent, sent + credit);
      await this.write(piece);
      sent += piece.length;
      credit -= piece.length;
    }
    await this.write([CTRL_D]);
    if (!stoppedByBoard) {
      // Credits may still arrive before the board acknowledges the end of data.
      const ack = await this.replyOrThrow(this.reader.until('\x04', Date.now() + this.replyMs), 'to the end of raw-paste data');
      if (ack.some((b) => b !== CTRL_A && b !== CTRL_D)) throw this.protocolError('unexpected bytes at the end of raw-paste');
    }
  }

  /**
   * Stream stdout up to \x04, the traceback up to \x04, then the prompt. Handles abort, timeout and going
   * idle; a reply whose framing the link broke, or a guarded program the link damaged, is LINK_DAMAGED.
   */
  private async collect(opts: ExecOptions, checked?: CheckedProgram): Promise<ExecResult> {
    const out = new Utf8Stream();
    const err = new Utf8Stream();
    let stdout = '';
    let stderr = '';
    let stop: 'INTERRUPTED' | 'TIMEOUT' | 'IDLE' | undefined;
    let graceDeadline = Infinity;
    let lastByte = Date.now();
    const interruptBoard = (why: 'INTERRUPTED' | 'TIMEOUT' | 'IDLE') => {
      if (stop) return;
      stop = why;
      graceDeadline = Date.now() + INTERRUPT_GRACE_MS;
      void this.write([CTRL_C]).catch(() => {});
    };
    const onAbort = () => interruptBoard('INTERRUPTED');
    if (opts.signal?.aborted) onAbort();
    opts.signal?.addEventListener('abort', onAbort);
    const timer = opts.timeoutMs !== undefined ? setTimeout(() => interruptBoard('TIMEOUT'), opts.timeoutMs) : undefined;
    let framing: string | undefined;
    try {
      /** One section up to its \x04; false when the board had to be forced back to its prompt. */
      const section = async (onText: (text: string) => void, decoder: Utf8Stream, idle: Idle | undefined, onBytes?: (bytes: Uint8Array) => void, watchReboot = false) => {
        // A program that soft-resets the board (machine.soft_reset()) never ends its stdout: the board comes
        // back with the raw REPL banner instead. What follows the reboot line is held until that is clear.
        let held: Uint8Array[] | undefined;
        let tail = '';
        let rebooted = false;
        const onChunk = (bytes: Uint8Array) => {
          lastByte = Date.now();
          onBytes?.(bytes);
          tail = (tail + Buffer.from(bytes).toString('latin1')).slice(-RESET_TAIL);
          if (held) held.push(bytes);
          else onText(decoder.push(bytes));
          if (watchReboot && !held && SOFT_REBOOT.test(tail)) held = [];
          if (held && BANNER_PROMPT.test(tail) && tail.endsWith('>')) rebooted = true;
        };
        // Re-check periodically so an abort that arrives mid-wait gets its grace deadline.
        for (;;) {
          const finished = await this.reader.stream(CTRL_D, onChunk, Math.min(graceDeadline, Date.now() + (held ? 50 : 200)));
          if (rebooted) {
            this.resets++;
            this.mode = 'raw';
            onText(decoder.end());
            return 'soft-reset';
          }
          if (held && (finished || Date.now() - lastByte > this.replyMs)) {
            // Not a reset after all (the program printed those words): let the output through.
            for (const b of held.splice(0)) onText(decoder.push(b));
            held = undefined;
            tail = '';
          }
          if (finished) break;
          // The board rebooted under the program (a watchdog, machine.reset()): its friendly prompt will
          // never be followed by the \x04 we wait for.
          if (Date.now() - lastByte >= RESET_QUIET_MS && FRIENDLY_BANNER.test(tail)) return 'reset';
          if (idle && Date.now() - lastByte >= idle.ms) {
            if (idle.then === 'cut') return 'cut';
            interruptBoard('IDLE');
          }
          if (Date.now() >= graceDeadline) {
            // The program ignores Ctrl-C (or the board hangs): get back to a prompt the hard way.
            await this.enterRaw(this.enterTimeoutMs);
            return false;
          }
        }
        onText(decoder.end());
        return true;
      };
      const emitOut = (text: string) => {
        if (!text) return;
        stdout += text;
        opts.onStdout?.(text);
      };
      const emitErr = (text: string) => {
        if (!text) return;
        stderr += text;
        // A guarded program's traceback is judged and cleaned up first, then handed over whole.
        if (!checked) opts.onStderr?.(text);
      };
      const idle: Idle | undefined = opts.idleTimeoutMs !== undefined ? { ms: opts.idleTimeoutMs, then: 'interrupt' } : undefined;
      const ended = await section(emitOut, out, idle, opts.onStdoutBytes, true);
      if (ended === 'reset') {
        this.mode = 'unknown';
        this.resets++;
        // After our Ctrl-C (or deadline) the reset is its answer: a virtual board resets a program Ctrl-C cannot
        // stop, as its reset button would. Reported below as what the user asked for.
        if (!stop) throw new BoardError('LINK_LOST', `${this.transport.path}: the board reset while the program ran (it is back at its friendly prompt)`, { stdout, stderr, reset: true });
      }
      if (ended === true) {
        // The traceback follows the end of stdout at once: silence here means the link lost a frame byte.
        const tb = await section(emitErr, err, stop ? undefined : { ms: this.replyMs, then: 'cut' });
        if (tb === 'cut') framing = 'the reply ended without its closing frame';
        else if (tb === true) {
          const prompt = await this.reader.until('>', Date.now() + this.replyMs);
          // A board that soft-rebooted after closing the exec (a host-side VM error) shows its raw banner again.
          const rebooted = prompt !== undefined && RAW_REBOOT.test(prompt.toString('latin1'));
          if (rebooted) this.resets++;
          else if (prompt && prompt.length > 1) framing = `${prompt.length - 1} stray bytes before the prompt`;
          this.mode = prompt && !framing ? 'raw' : 'unknown';
        }
      }
    } finally {
      clearTimeout(timer);
      opts.signal?.removeEventListener('abort', onAbort);
    }
    if (framing) {
      this.mode = 'unknown';
      throw damagedCommand(`the board's reply was damaged (${framing}); check the cable or lower the baud rate`, { stdout, stderr });
    }
    if (checked && stderr) {
      const judged = checkedTraceback(stderr);
      if (judged.damaged) throw damagedCommand(undefined, { traceback: stderr, refused: judged.refused });
      stderr = judged.traceback;
      opts.onStderr?.(stderr);
    }
    if (stop === 'INTERRUPTED') throw new BoardError('INTERRUPTED', 'interrupted by Ctrl-C', { stdout, stderr });
    if (stop === 'TIMEOUT') throw new BoardError('TIMEOUT', `the program did not finish within ${opts.timeoutMs} ms`, { stdout, stderr });
    if (stop === 'IDLE') throw new BoardError('TIMEOUT', `${this.transport.path}: the board sent nothing for ${opts.idleTimeoutMs} ms`, { stdout, stderr });
    if (stderr && !opts.allowError) {
      const last = stderr.trim().split(/\r?\n/).pop() ?? 'exception';
      if (opts.ownProgram && /^KeyboardInterrupt\b/.test(last)) throw damagedCommand('the board was interrupted by a byte damaged on the way; check the cable or lower the baud rate', { traceback: stderr, stdout });
      throw new BoardError('DEVICE_EXCEPTION', last, { traceback: stderr, stdout });
    }
    return { stdout, stderr };
  }
}
