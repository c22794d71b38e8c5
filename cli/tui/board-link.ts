// The TUI's one connection: a Transport from the same openTransport() the CLI uses, shown as a terminal in
// the REPL pane. File and flash operations borrow the link (the REPL pane pauses meanwhile): a raw REPL
// client attached to the open transport for files, the bare transport for the ESP bootloader.
import { openTransport } from '../api.js';
import type { Board } from '../../protocol/board.js';
import { RawReplClient } from '../../protocol/raw-repl.js';
import { scoped } from '../../protocol/fs/snippets.js';
import type { Transport } from '../../protocol/transport.js';
import { Utf8Stream } from '../../protocol/utf8-stream.js';
import { TerminalBuffer } from './terminal-buffer.js';

export type LinkMode = 'disconnected' | 'friendly' | 'raw' | 'bootloader';

export interface LinkStatus {
  mode: LinkMode;
  port?: string;
  baud?: number;
  /** os.uname().machine: the board as its firmware names itself. */
  board?: string;
  /** os.uname().release: the MicroPython version. */
  version?: string;
  /** os.uname().sysname: the port (esp32, esp8266, rp2, …), which decides whether the ESP ROM applies. */
  sysname?: string;
  /** The operation holding the link, while one runs. */
  activity?: string;
  progress?: { done: number; total: number };
  /** The last thing worth telling the user (an error or a result). */
  message?: string;
  error?: boolean;
}

/** Redraws at most this often however fast the board prints (the screen only needs ~20 Hz). */
const NOTIFY_MS = 50;
/** Keys held while operations have the link, at most (a paste past it is cut). */
const HELD_MAX = 64 * 1024;
/** Enter, Ctrl-C and Ctrl-D end the REPL's line: what was typed before them is gone from the board's line editor. */
const LINE_ENDS = [0x0d, 0x0a, 0x03, 0x04];

/** The bytes of `chunks` after the last line end in them, or all of them if there is none. */
function afterLineEnd(chunks: Uint8Array[]): Uint8Array {
  const bytes = Buffer.concat(chunks);
  return bytes.subarray(Math.max(...LINE_ENDS.map((b) => bytes.lastIndexOf(b))) + 1);
}

export class BoardLink {
  readonly terminal: TerminalBuffer;
  status: LinkStatus = { mode: 'disconnected' };
  private transport: Transport | undefined;
  private text = new Utf8Stream();
  /** While an operation borrows the link its bytes are protocol, not REPL output. */
  private paused = false;
  /** Operations queued or running: keys typed meanwhile wait until the last one gives the link back. */
  private busy = 0;
  private held: Uint8Array[] = [];
  /** Keys sent since the board's last line end: a line typed and not yet entered. */
  private typed: Uint8Array = new Uint8Array(0);
  /** That line, taken when an operation began (its raw REPL entry, a Ctrl-C, wipes it on the board): typed again after. */
  private wiped: Uint8Array = new Uint8Array(0);
  private queue: Promise<unknown> = Promise.resolve();
  private readonly listeners = new Set<() => void>();
  private notifyTimer: NodeJS.Timeout | undefined;
  /** Bumped whenever the link goes to another board (or to none), so views drop what they read from the last one. */
  generation = 0;

  constructor(scrollback = 2000) {
    this.terminal = new TerminalBuffer(scrollback);
  }

  get connected(): boolean {
    return this.transport !== undefined;
  }

  /** Called (throttled) after any change of the terminal or the status. */
  subscribe(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Connects to PORT; OPENING is its link already being opened (the TUI's start opens it while ink loads). */
  async connect(port: string, opening?: Promise<Transport>): Promise<void> {
    await this.disconnect();
    this.update({ mode: 'disconnected', port, message: `connecting to ${port}…`, error: false });
    let t: Transport;
    try {
      t = await (opening ?? openTransport(port));
    } catch (err) {
      this.update({ message: (err as Error).message, error: true });
      throw err;
    }
    this.transport = t;
    this.generation++;
    this.text = new Utf8Stream();
    this.typed = this.wiped = new Uint8Array(0);
    t.onData((bytes) => {
      if (this.paused) return;
      this.terminal.write(this.text.push(bytes));
      this.notify();
    });
    t.onClose((err) => {
      if (this.transport !== t) return;
      this.transport = undefined;
      this.generation++;
      this.update({ mode: 'disconnected', activity: undefined, message: err ? `${t.path}: link lost (${err.message})` : `${t.path}: closed`, error: !!err });
    });
    this.status = { mode: 'friendly', port: t.path, baud: t.baudRate, message: `connected to ${t.path}` };
    this.notify();
    await this.identify();
  }

  async disconnect(): Promise<void> {
    await this.queue;
    const t = this.transport;
    if (!t) return;
    this.transport = undefined;
    this.generation++;
    await t.close().catch(() => undefined);
    this.update({ mode: 'disconnected', board: undefined, version: undefined, sysname: undefined, message: `disconnected from ${t.path}` });
  }

  /** Keys typed in the REPL pane, byte for byte; typed while operations hold the link, they go when those end. */
  sendKeys(bytes: Uint8Array): void {
    if (!this.transport) return;
    if (this.busy) {
      if (this.held.reduce((n, b) => n + b.length, 0) < HELD_MAX) this.held.push(Uint8Array.from(bytes));
      return;
    }
    this.type(bytes);
  }

  private type(bytes: Uint8Array): void {
    this.typed = afterLineEnd([this.typed, bytes]).slice(-HELD_MAX);
    void this.transport?.write(bytes).catch(() => undefined);
  }

  /** Run file operations with a raw REPL client on the open link; the board is back at `>>>` afterwards. */
  withBoard<T>(activity: string, fn: (board: Board) => Promise<T>): Promise<T> {
    return this.exclusive(activity, 'raw', async (t) => {
      // resume: no soft reset, so what the user set up in the REPL (an IRQ handler, variables) survives.
      const client = new RawReplClient(t, { resume: true });
      let failed = true;
      try {
        const result = await fn(client);
        failed = false;
        return result;
      } finally {
        await client.release().catch(() => undefined);
        // After a failure the client may not know it is still in the raw REPL: Ctrl-B leaves it either way.
        if (failed) await t.write(Uint8Array.of(0x0d, 0x02)).catch(() => undefined);
      }
    });
  }

  /** Lend the bare link (the ESP bootloader protocol); the board reboots into MicroPython afterwards. */
  withTransport<T>(activity: string, fn: (transport: Transport) => Promise<T>): Promise<T> {
    return this.exclusive(activity, 'bootloader', fn);
  }

  progress(done: number, total: number): void {
    this.status = { ...this.status, progress: { done, total } };
    this.notify();
  }

  /** Tell the user how an action went (the status line's message). */
  report(message: string, error = false): void {
    this.update({ message, error });
  }

  /** The message belongs to the view it was made in: switching views clears it. */
  clearMessage(): void {
    if (this.status.message !== undefined) this.update({ message: undefined, error: false });
  }

  private exclusive<T>(activity: string, mode: LinkMode, fn: (t: Transport) => Promise<T>): Promise<T> {
    this.busy++;
    const run = this.queue.then(async () => {
      const t = this.transport;
      if (!t) throw new Error('not connected to a board');
      this.paused = true;
      if (this.typed.length) [this.wiped, this.typed] = [this.typed, new Uint8Array(0)];
      this.update({ mode, activity, progress: undefined });
      try {
        return await fn(t);
      } finally {
        this.paused = false;
        this.text = new Utf8Stream();
        this.update({ mode: this.transport ? 'friendly' : 'disconnected', activity: undefined, progress: undefined });
      }
    });
    // The next operation's raw REPL entry (its Ctrl-C) would wipe a line typed in between: keys wait for the last,
    // after the line the first one wiped.
    this.queue = run.catch(() => undefined).then(() => {
      if (--this.busy === 0) this.releaseKeys();
    });
    return run;
  }

  private releaseKeys(): void {
    const keys = Buffer.concat([this.wiped, ...this.held.splice(0)]);
    this.wiped = new Uint8Array(0);
    if (keys.length) this.type(keys);
  }

  private async identify(): Promise<void> {
    try {
      const { stdout } = await this.withBoard('identifying the board', (b) => b.exec(scoped(['import os', 'u = os.uname()', 'print(u.release)', 'print(u.machine)', 'print(u.sysname)'])));
      const [version, board, sysname] = stdout.split(/\r?\n/);
      this.update({ version, board, sysname });
    } catch (err) {
      this.update({ message: `no MicroPython answer: ${(err as Error).message}`, error: true });
    }
  }

  private update(change: Partial<LinkStatus>): void {
    this.status = { ...this.status, ...change };
    this.notify();
  }

  private notify(): void {
    this.notifyTimer ??= setTimeout(() => {
      this.notifyTimer = undefined;
      this.listeners.forEach((l) => l());
    }, NOTIFY_MS);
  }
}
