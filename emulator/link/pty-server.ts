// Serves a virtual board on a pseudo-terminal, so any serial tool (mpremote, esptool, picocom) opens it by path.
//
// Flow control is that of a USB-serial adapter with RTS/CTS: while a client has the pty open, board output the
// client has not read yet stays in the pty and the board waits (its print blocks, its ROM holds its answers);
// nothing is dropped however slowly the client reads. While nobody has the pty open the board runs on, and the
// pty keeps only the newest output, as much as the kernel's pty buffer holds (about 4-16 KiB on Linux), the way
// a UART chip's FIFO holds what arrived while no program had the port open.
import { createRequire } from 'node:module';
import { closeSync, constants, openSync, readSync, writeSync } from 'node:fs';
import tty from 'node:tty';
import type { BoardLink } from '../board.js';

interface NativePty {
  open(cols: number, rows: number): { master: number; slave: number; pty: string };
}

function nativePty(): NativePty {
  // node-pty's own open() keeps a reader on the slave that would swallow the client's bytes; we only need
  // its native openpty().
  const require = createRequire(import.meta.url);
  const { requireBinary } = require('@lydell/node-pty/requireBinary.js') as {
    requireBinary(file: string): NativePty;
  };
  return requireBinary('pty.node');
}

const HOLD_FLAGS = constants.O_RDWR | constants.O_NOCTTY | constants.O_NONBLOCK;
/** While the client does not read, look for room this often, and whether it is still there every PROBE_MS. */
const RETRY_MS = 5;
const PROBE_MS = 250;

export class PtyServer {
  readonly path: string;
  private readonly master: number;
  /** Our own handle on the slave: keeps the pty (and its raw termios) alive between clients. */
  private hold: number;
  private readonly reader: tty.ReadStream;
  private readonly scratch = Buffer.alloc(64 * 1024);
  /** Board output not yet in the pty: at most what the board sent before it saw the hold. */
  private outbox: Uint8Array[] = [];
  private holding = false;
  private retry: NodeJS.Timeout | undefined;
  private lastProbe = 0;
  /** Client bytes not yet taken by the board, in arrival order. */
  private inbox: Uint8Array[] = [];
  private writing = false;
  private closed = false;

  constructor(private readonly link: BoardLink) {
    const { master, slave, pty } = nativePty().open(80, 24);
    // Raw mode on the slave before any output: with the default ECHO the line discipline would send the board's
    // own output straight back to it as input. libuv's tty handle works on its own reopened copy of a slave, so
    // destroying it leaves `slave` open: that is our hold. Holding the slave open (never reading it) keeps the
    // master from reading EIO between clients.
    const slaveStream = new tty.ReadStream(slave);
    slaveStream.setRawMode(true);
    slaveStream.destroy();
    this.hold = slave;
    this.master = master;
    this.path = pty;
    this.reader = new tty.ReadStream(master);
    this.reader.on('data', (d: Buffer) => this.fromClient(d));
    this.reader.on('error', () => undefined); // EIO with no client: keep serving
    link.onData((chunk) => this.toClient(chunk));
  }

  /** Client bytes go to the board one chunk at a time; while the board has no room the pty is not read. */
  private fromClient(data: Uint8Array): void {
    this.inbox.push(data);
    this.reader.pause();
    if (!this.writing) void this.pumpIn();
  }

  private async pumpIn(): Promise<void> {
    this.writing = true;
    try {
      while (this.inbox.length && !this.closed) await this.link.write(this.inbox.shift()!);
    } catch {
      // the link closed: the server is going away
    } finally {
      this.writing = false;
      if (!this.closed) this.reader.resume();
    }
  }

  private toClient(chunk: Uint8Array): void {
    if (this.closed) return;
    this.outbox.push(chunk);
    this.flushOut();
  }

  private flushOut(): void {
    while (this.outbox.length && !this.closed) {
      const head = this.outbox[0];
      const n = this.writeMaster(head);
      if (n === head.length) {
        this.outbox.shift();
        continue;
      }
      this.outbox[0] = head.subarray(n);
      if (!this.probeDue() || this.clientPresent()) return this.waitForRoom();
      this.discardOldest(head.length - n);
    }
    if (this.holding && !this.closed) {
      this.holding = false;
      this.link.holdOutput(false); // may hand over more output at once: flushOut runs again from toClient
    }
  }

  private writeMaster(data: Uint8Array): number {
    try {
      return writeSync(this.master, data);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'EAGAIN') return 0;
      throw err;
    }
  }

  /** The pty is full and someone has it open: hold the board until the client reads. */
  private waitForRoom(): void {
    if (!this.holding) {
      this.holding = true;
      this.link.holdOutput(true);
    }
    if (!this.retry) this.retry = setTimeout(() => ((this.retry = undefined), this.flushOut()), RETRY_MS);
  }

  /** Probe at once when the pty first fills, then every PROBE_MS while it stays full. */
  private probeDue(): boolean {
    const now = performance.now();
    if (this.holding && now - this.lastProbe < PROBE_MS) return false;
    this.lastProbe = now;
    return true;
  }

  /**
   * Does another process have the pty open? Our own hold hides that from the master, so we let go of the slave
   * for an instant (synchronously: the event loop never sees the gap): with no other opener the master then
   * reads EIO. Bytes a client wrote meanwhile are read here and passed on in order.
   */
  private clientPresent(): boolean {
    closeSync(this.hold);
    try {
      const n = readSync(this.master, this.scratch);
      if (n > 0) this.fromClient(Uint8Array.prototype.slice.call(this.scratch, 0, n));
      return true;
    } catch (err) {
      return (err as NodeJS.ErrnoException).code !== 'EIO';
    } finally {
      this.hold = openSync(this.path, HOLD_FLAGS);
    }
  }

  /** Nobody is listening: drop the oldest output waiting in the pty to make room for the newest. */
  private discardOldest(bytes: number): void {
    try {
      readSync(this.hold, this.scratch, 0, Math.min(bytes, this.scratch.length), null);
    } catch {
      // EAGAIN: the pty was emptied meanwhile
    }
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    if (this.retry) clearTimeout(this.retry);
    this.reader.destroy();
    closeSync(this.hold);
  }
}
