// Serial device paths (USB-UART bridges, native USB CDC, and pseudo-terminals) through `serialport`.
// Opening must not move DTR/RTS: ESP dev boards wire them to EN/GPIO0, so a pulse resets the chip or
// drops it into the ROM bootloader. (Linux raises both together when any program opens a tty; on the
// two-transistor auto-reset circuit that is the idle state.) Closing must not move them either: a tty
// driver's default termios has HUPCL, which drops both lines on the last close, and serialport's
// `hupcl: false` only leaves HUPCL unset, it does not clear it, so it is cleared right after opening, by an
// stty child started once the first write has gone out (the board answers meanwhile), and close() waits
// for it (also when boardctl is killed later, the lines stay where they were). A pseudo-terminal (a served
// virtual board, qemu's -serial pty) has no lines: the kernel's pty driver never looks at HUPCL, so no stty runs.
import { write as fsWrite, realpathSync } from 'node:fs';
import { BoardError } from '../errors.js';
import { spawn } from '../lazy-child-process.js';
import type { ControlLines } from '../transport.js';
import type { ModemLines, ServedPort } from '../port-server.js';
import { LinkEvents } from './link-events.js';
import { createSerialPort, type SerialPortInstance } from './serial-port.js';

export interface SerialOpenOptions {
  baudRate: number;
  /** Lists the ports that do exist, for the NO_SUCH_PORT message. */
  listPorts?: () => Promise<string[]>;
}

const FULL_RETRY_MS = 2;
/** A port nothing is written to (a server waiting for its client) has HUPCL cleared after this long. */
const HUPCL_LATEST_MS = 20;

class SerialTransport implements ServedPort {
  private readonly events = new LinkEvents();
  private closing = false;
  private purging = false;
  /** Both lines are up after open (the kernel raised them); changes keep the other line as it is. */
  private lines: Required<ControlLines> = { dtr: true, rts: true };
  /** Writes in order, one after the other. */
  private writing: Promise<void> = Promise.resolve();
  /** Settles once HUPCL is cleared (or stty could not): closing before that would drop DTR/RTS. */
  private hupclCleared: Promise<void> | undefined;
  private readonly hupclTimer: NodeJS.Timeout | undefined;

  constructor(
    readonly path: string,
    private readonly port: SerialPortInstance,
    readonly kind: 'serial' | 'pty',
  ) {
    if (kind === 'pty' && isPseudoTerminal(path)) this.hupclCleared = Promise.resolve();
    else this.hupclTimer = setTimeout(() => void this.clearHupcl(), HUPCL_LATEST_MS);
    port.on('data', (chunk: Buffer) => {
      if (!this.purging) this.events.emitData(new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.length));
    });
    port.on('error', () => {}); // a failing read surfaces as 'close' with a disconnect error
    port.on('close', (err?: Error | null) => {
      this.events.emitClose(
        this.closing ? undefined : new BoardError('LINK_LOST', `${path}: device disconnected${err ? ` (${err.message})` : ''}`, { port: path }),
      );
    });
  }

  get baudRate(): number {
    return this.port.baudRate;
  }
  get hasControlLines(): boolean {
    return this.kind === 'serial';
  }

  /**
   * Written to the descriptor here, not through serialport's write: when the kernel buffer is full (EAGAIN) that
   * waits for a "writable" poll which its poller drops as soon as the read side polls again (bindings-cpp 13
   * restarts uv_poll with the new event only), and the write never finishes. A full buffer is retried shortly
   * instead. (A 16 KiB stub block fills a pty, or a UART at 115200, every time.)
   */
  write(data: Uint8Array): Promise<void> {
    const bytes = Buffer.from(data.buffer, data.byteOffset, data.length);
    const next = this.writing.then(() => this.writeAll(bytes));
    this.writing = next.catch(() => undefined);
    void this.writing.then(() => this.clearHupcl());
    return next;
  }

  /**
   * Starts stty once, a turn of the event loop after a write has gone to the descriptor: a child's spawn holds this
   * thread for milliseconds, by then the writer's next bytes (the raw REPL's Ctrl-A after its Ctrl-C) are on
   * their way too, and the board answers them meanwhile.
   */
  private clearHupcl(): Promise<void> {
    clearTimeout(this.hupclTimer);
    this.hupclCleared ??= new Promise<void>((resolve) => setImmediate(resolve)).then(() => clearHupcl(this.path));
    return this.hupclCleared;
  }

  private async writeAll(bytes: Buffer): Promise<void> {
    for (let off = 0; off < bytes.length;) {
      const fd = (this.port.port as { fd?: number | null } | undefined)?.fd;
      if (!this.port.isOpen || typeof fd !== 'number') throw new BoardError('LINK_LOST', `${this.path}: port is closed`, { port: this.path });
      off += await new Promise<number>((resolve, reject) => {
        fsWrite(fd, bytes, off, bytes.length - off, (err, n) => {
          if (!err) resolve(n);
          else if (err.code === 'EAGAIN' || err.code === 'EWOULDBLOCK' || err.code === 'EINTR') setTimeout(() => resolve(0), FULL_RETRY_MS);
          else reject(new BoardError('LINK_LOST', `${this.path}: write failed (${err.message})`, { port: this.path }, { cause: err }));
        });
      });
    }
  }
  onData(listener: (chunk: Uint8Array) => void): () => void {
    return this.events.onData(listener);
  }
  onClose(listener: (err?: Error) => void): () => void {
    return this.events.onClose(listener);
  }

  async setSignals(lines: ControlLines): Promise<void> {
    if (!this.hasControlLines) return;
    // serialport sets both lines in one ioctl, so the one not mentioned is sent as it is now.
    this.lines = { dtr: lines.dtr ?? this.lines.dtr, rts: lines.rts ?? this.lines.rts };
    await new Promise<void>((resolve, reject) => this.port.set(this.lines, (err) => (err && !isNotTty(err) ? reject(err) : resolve())));
  }

  async setBaudRate(baud: number): Promise<void> {
    await this.clearHupcl(); // stty writes back the whole termios it read: a speed set meanwhile would be lost
    await new Promise<void>((resolve, reject) => this.port.update({ baudRate: baud }, (err) => (err ? reject(err) : resolve())));
  }

  // ---- for a server in front of the port (boardctl share) ----

  /** Stop reading the port while the network client is behind: the device's bytes wait in the OS buffers. */
  holdOutput(held: boolean): void {
    if (held) this.port.pause();
    else this.port.resume();
  }

  /**
   * 'receive': drop what was read from the device and not yet passed on. 'transmit': discard what waits to go
   * out (the OS call, tcflush(TCIOFLUSH), drops unread input too).
   */
  async purge(what: 'receive' | 'transmit'): Promise<void> {
    if (what === 'receive') {
      this.purging = true; // read() hands each chunk to the 'data' listener too
      while (this.port.read() !== null);
      this.purging = false;
      return;
    }
    await new Promise<void>((resolve, reject) => this.port.flush((err) => (err ? reject(err) : resolve())));
  }

  modemLines(): Promise<ModemLines> {
    return new Promise((resolve, reject) =>
      this.port.get((err, s) => (err || !s ? reject(err ?? new Error('no modem status')) : resolve({ cts: s.cts, dsr: s.dsr, ri: false, cd: s.dcd }))),
    );
  }

  async close(): Promise<void> {
    this.closing = true;
    await this.clearHupcl();
    if (!this.port.isOpen) return;
    await new Promise<void>((resolve) => this.port.close(() => resolve()));
  }
}

/**
 * Clear HUPCL in the tty's termios with stty (node has no termios call; GNU stty takes -F, BSD's -f). Our fd
 * stays open meanwhile, so stty's own close is not the last one. Windows has no HUPCL.
 */
export function clearHupcl(path: string): Promise<void> {
  if (process.platform === 'win32') return Promise.resolve();
  const device = process.platform === 'linux' ? '-F' : '-f';
  return new Promise((resolve) => {
    // No pipes: its output is not read (and no sockets to set up for it).
    const child = spawn('stty', [device, path, '-hupcl'], { stdio: 'ignore', timeout: 5000 });
    child.on('error', () => resolve());
    child.on('exit', () => resolve());
  });
}

/**
 * Whether `path` is a pseudo-terminal's device (Linux /dev/pts/N, macOS /dev/ttysN), not a USB serial port whose
 * driver merely lacks TIOCMGET (closing it with HUPCL could still drop its lines).
 */
function isPseudoTerminal(path: string): boolean {
  try {
    return /^\/dev\/(pts\/|ttys)\d+$/.test(realpathSync.native(path)); // (one realpath(3), not a walk in JavaScript)
  } catch {
    return false;
  }
}

function isNotTty(err: Error): boolean {
  return /ENOTTY|Inappropriate ioctl|EINVAL|Invalid argument/.test(err.message);
}

/** Map an open() failure to a BoardError a user can act on. */
async function openError(path: string, err: Error, opts: SerialOpenOptions): Promise<BoardError> {
  const msg = err.message;
  if (/ENOENT|No such file|cannot find/i.test(msg)) {
    const existing = (await opts.listPorts?.().catch(() => [])) ?? [];
    const list = existing.length ? `ports present: ${existing.join(', ')}` : 'no serial ports are present';
    return new BoardError('NO_SUCH_PORT', `${path}: no such port; ${list}`, { port: path, ports: existing }, { cause: err });
  }
  if (/EACCES|Permission denied/i.test(msg)) {
    return new BoardError(
      'PERMISSION_DENIED',
      `${path}: permission denied; add yourself to the dialout group (sudo usermod -aG dialout $USER) and log in again`,
      { port: path },
      { cause: err },
    );
  }
  if (/Cannot lock port|EWOULDBLOCK|EAGAIN|Resource temporarily unavailable|EBUSY|busy/i.test(msg)) {
    return new BoardError('PORT_BUSY', `${path}: port is busy (another program has it open)`, { port: path }, { cause: err });
  }
  return new BoardError('NO_SUCH_PORT', `${path}: cannot open (${msg})`, { port: path }, { cause: err });
}

export async function openSerialTransport(path: string, opts: SerialOpenOptions): Promise<ServedPort> {
  // Loaded here so that commands which never touch a serial port do not load the native binding.
  const port = await createSerialPort({ path, baudRate: opts.baudRate, autoOpen: false, hupcl: false, lock: true });
  try {
    await new Promise<void>((resolve, reject) => port.open((err) => (err ? reject(err) : resolve())));
  } catch (err) {
    throw await openError(path, err as Error, opts);
  }
  // TIOCMGET only reads the lines; on a pseudo-terminal it fails with ENOTTY, which tells us what we hold.
  const kind = await new Promise<'serial' | 'pty'>((resolve) => port.get((err) => resolve(err ? 'pty' : 'serial')));
  return new SerialTransport(path, port, kind);
}
