// One fault exactly where a test wants it: wraps a Transport and damages the first chunk (host to board, or
// board to host) that contains a given byte pattern, `times` times. The seeded random link (protocol/
// transports/faults.ts) is for trials; this is for reproducing one failure mode at a time.
import type { ControlLines, Transport } from '../../protocol/transport.js';

export type Damage = 'flip' | 'drop';

interface Armed {
  direction: 'to-board' | 'from-board';
  pattern: Buffer;
  /** Which byte of the chunk, counted from the start of the pattern. */
  offset: number;
  damage: Damage;
  times: number;
}

export class TargetedFaults implements Transport {
  private armed: Armed[] = [];
  /** Faults actually applied. */
  hits = 0;

  constructor(private readonly inner: Transport) {}

  /** Damage the byte `offset` after the start of `pattern`, in the next `times` chunks that contain it. */
  arm(direction: Armed['direction'], pattern: string | Uint8Array, offset: number, damage: Damage, times = 1): void {
    this.armed.push({ direction, pattern: Buffer.from(pattern), offset, damage, times });
  }

  private apply(direction: Armed['direction'], chunk: Uint8Array): Uint8Array {
    const buf = Buffer.from(chunk);
    for (const a of this.armed) {
      if (a.direction !== direction || a.times <= 0) continue;
      const at = buf.indexOf(a.pattern);
      if (at < 0 || at + a.offset >= buf.length) continue;
      a.times--;
      this.hits++;
      const i = at + a.offset;
      if (a.damage === 'flip') buf[i] = buf[i]! ^ 0x08;
      else return Buffer.concat([buf.subarray(0, i), buf.subarray(i + 1)]);
    }
    return buf;
  }

  get kind() {
    return this.inner.kind;
  }
  get path() {
    return this.inner.path;
  }
  get baudRate() {
    return this.inner.baudRate;
  }
  get hasControlLines() {
    return this.inner.hasControlLines;
  }
  write(data: Uint8Array): Promise<void> {
    return this.inner.write(this.apply('to-board', data));
  }
  onData(listener: (chunk: Uint8Array) => void): () => void {
    return this.inner.onData((chunk) => listener(this.apply('from-board', chunk)));
  }
  onClose(listener: (err?: Error) => void): () => void {
    return this.inner.onClose(listener);
  }
  setSignals(lines: ControlLines): Promise<void> {
    return this.inner.setSignals(lines);
  }
  setBaudRate(baud: number): Promise<void> {
    return this.inner.setBaudRate(baud);
  }
  close(): Promise<void> {
    return this.inner.close();
  }
}
