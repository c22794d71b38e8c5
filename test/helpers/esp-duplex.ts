// An in-process serial line: two Transport ends joined by a wire that can be paced at N baud 8N1
// (10 bits per byte), with a recorder of the DTR/RTS states the host plays.
import type { ControlLines, Transport } from '../../protocol/transport.js';
import { EspRom, type EspRomOptions } from '../../emulator/rom/esp-rom.js';

/** One direction of the wire: bytes arrive in order, no earlier than the line speed allows. */
class Wire {
  private queue: { at: number; data: Uint8Array }[] = [];
  private cancel?: () => void;
  private busyUntil = 0;
  private readonly listeners = new Set<(chunk: Uint8Array) => void>();

  constructor(private readonly baud: () => number | undefined) {}

  send(data: Uint8Array): void {
    const baud = this.baud();
    let at = 0;
    if (baud) {
      this.busyUntil = Math.max(performance.now(), this.busyUntil) + (data.length * 10 * 1000) / baud;
      at = this.busyUntil;
    }
    this.queue.push({ at, data: data.slice() });
    this.schedule();
  }

  listen(l: (chunk: Uint8Array) => void): () => void {
    this.listeners.add(l);
    return () => this.listeners.delete(l);
  }

  stop(): void {
    this.cancel?.();
    this.cancel = undefined;
    this.queue = [];
  }

  private schedule(): void {
    if (this.cancel || this.queue.length === 0) return;
    const wait = this.queue[0].at - performance.now();
    const run = () => {
      this.cancel = undefined;
      const now = performance.now();
      while (this.queue.length && this.queue[0].at <= now) {
        const { data } = this.queue.shift()!;
        for (const l of this.listeners) l(data);
      }
      this.schedule();
    };
    if (wait > 0) {
      const t = setTimeout(run, wait);
      this.cancel = () => clearTimeout(t);
    } else {
      const t = setImmediate(run);
      this.cancel = () => clearImmediate(t);
    }
  }
}

export interface DuplexEnd extends Transport {
  /** Control-line states set on this end, in order. */
  readonly signals: ControlLines[];
}

export interface DuplexOptions {
  /** Pace the wire at this line speed (bits/s, 10 bits per byte); unpaced when omitted. setBaudRate changes it. */
  baud?: number;
  hasControlLines?: boolean;
}

export function createDuplexPair(opts: DuplexOptions = {}): { host: DuplexEnd; device: DuplexEnd } {
  let baud = opts.baud;
  const paced = baud !== undefined;
  const toDevice = new Wire(() => baud);
  const toHost = new Wire(() => baud);
  const closeListeners: ((err?: Error) => void)[] = [];
  let closed = false;
  const end = (path: string, out: Wire, inp: Wire): DuplexEnd => ({
    kind: 'virtual',
    path,
    signals: [],
    get baudRate() {
      return baud ?? 115200;
    },
    hasControlLines: opts.hasControlLines ?? false,
    async write(data) {
      if (closed) throw new Error('duplex closed');
      out.send(data);
    },
    onData: (l) => inp.listen(l),
    onClose(l) {
      closeListeners.push(l);
      return () => closeListeners.splice(closeListeners.indexOf(l) >>> 0, 1);
    },
    async setSignals(lines) {
      this.signals.push({ ...lines });
    },
    async setBaudRate(b) {
      if (paced) baud = b;
    },
    async close() {
      if (closed) return;
      closed = true;
      toDevice.stop();
      toHost.stop();
      for (const l of closeListeners) l();
    },
  });
  return { host: end('duplex:host', toDevice, toHost), device: end('duplex:device', toHost, toDevice) };
}

/**
 * Put a virtual ROM on the device end of a duplex pair. `lagMs(frame)`: how long the ROM's side holds a frame
 * before it goes on the line (what a loaded host does to a board's answers); the ROM sends nothing meanwhile.
 */
export function attachRom(device: Transport, opts: EspRomOptions, lagMs?: (frame: Uint8Array) => number): EspRom {
  const rom = new EspRom(opts);
  device.onData((d) => rom.receive(d));
  rom.onSend(async (d) => {
    const lag = lagMs?.(d);
    if (lag) await new Promise((r) => setTimeout(r, lag));
    await device.write(d).catch(() => undefined);
  });
  return rom;
}
