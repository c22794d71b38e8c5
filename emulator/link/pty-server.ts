// Serves a virtual board on a pseudo-terminal, so any serial tool (mpremote, esptool, picocom) opens it by path.
import { createRequire } from 'node:module';
import { closeSync, constants, openSync, writeSync } from 'node:fs';
import tty from 'node:tty';
import type { Transport } from '../../protocol/transport.js';

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

const MAX_BACKLOG = 64 * 1024;

export class PtyServer {
  readonly path: string;
  private readonly master: number;
  private readonly hold: number;
  private readonly reader: tty.ReadStream;
  private backlog: Uint8Array[] = [];
  private backlogBytes = 0;
  private retry: NodeJS.Timeout | undefined;
  private closed = false;

  constructor(link: Transport) {
    const { master, slave, pty } = nativePty().open(80, 24);
    // Raw mode on the slave before any output: with the default ECHO the line discipline would send the board's
    // own output straight back to it as input.
    const slaveStream = new tty.ReadStream(slave);
    slaveStream.setRawMode(true);
    slaveStream.destroy();
    // We hold the slave open (never reading it) so the pty outlives each client: the master then never reads
    // EIO between clients, and the termios settings stay.
    this.hold = openSync(pty, constants.O_RDWR | constants.O_NOCTTY);
    this.master = master;
    this.path = pty;
    this.reader = new tty.ReadStream(master);
    this.reader.on('data', (d: Buffer) => void link.write(d).catch(() => undefined));
    this.reader.on('error', () => undefined); // EIO with no client: keep serving
    link.onData((chunk) => this.toClient(chunk));
  }

  /** Board output to the pty; a full pty buffer (nobody reading) keeps a bounded backlog, like a UART FIFO. */
  private toClient(chunk: Uint8Array): void {
    if (this.closed) return;
    this.backlog.push(chunk);
    this.backlogBytes += chunk.length;
    while (this.backlogBytes > MAX_BACKLOG) this.backlogBytes -= this.backlog.shift()!.length;
    this.drain();
  }

  private drain(): void {
    while (this.backlog.length && !this.closed) {
      const head = this.backlog[0];
      let n: number;
      try {
        n = writeSync(this.master, head);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EAGAIN') throw err;
        n = 0;
      }
      this.backlogBytes -= n;
      if (n === head.length) this.backlog.shift();
      else {
        this.backlog[0] = head.subarray(n);
        if (!this.retry) this.retry = setTimeout(() => ((this.retry = undefined), this.drain()), 5);
        return;
      }
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
