// One fault exactly where a test wants it: wraps a Transport and damages the byte at an offset from a byte
// pattern (host to board, or board to host), in the next `times` chunks where the pattern ends, wherever the
// link split it. The seeded random link (protocol/transports/faults.ts) is for trials; this is for
// reproducing one failure mode at a time.
import type { Transport } from '../../protocol/transport.js';
import { DelegatingTransport } from '../../protocol/transports/delegating.js';

export type Damage = 'flip' | 'drop';

const newStream = (): Stream => ({ pos: 0, tail: Buffer.alloc(0), pending: [] });

interface Armed {
  direction: 'to-board' | 'from-board';
  pattern: Buffer;
  /** Which byte of the chunk, counted from the start of the pattern. */
  offset: number;
  damage: Damage;
  times: number;
}

interface Stream {
  /** Bytes of this direction so far (before damage). */
  pos: number;
  /** The last bytes seen, so a pattern split across chunks is still found. */
  tail: Buffer;
  /** Stream positions still to damage (the pattern was seen, the byte has not come yet). */
  pending: { at: number; damage: Damage }[];
}

const TAIL = 256;

export class TargetedFaults extends DelegatingTransport {
  private armed: Armed[] = [];
  private readonly streams = { 'to-board': newStream(), 'from-board': newStream() };
  /** Faults actually applied. */
  hits = 0;

  /** The last bytes from the board (up to 256), for a failure message: what the link carried where a fault was due. */
  lastFromBoard(): string {
    return JSON.stringify(this.streams['from-board'].tail.toString('latin1'));
  }

  constructor(inner: Transport) {
    super(inner);
  }

  /** Damage the byte `offset` after the start of `pattern`, in the next `times` chunks where the pattern ends. */
  arm(direction: Armed['direction'], pattern: string | Uint8Array, offset: number, damage: Damage, times = 1): void {
    this.armed.push({ direction, pattern: Buffer.from(pattern), offset, damage, times });
  }

  private apply(direction: Armed['direction'], chunk: Uint8Array): Uint8Array {
    const st = this.streams[direction];
    const window = Buffer.concat([st.tail, chunk]);
    const base = st.pos - st.tail.length;
    for (const a of this.armed) {
      if (a.direction !== direction) continue;
      // Matches that end in this chunk are new; earlier ones were judged with the chunk they ended in.
      for (let at = window.indexOf(a.pattern); at >= 0 && a.times > 0; at = window.indexOf(a.pattern, at + 1)) {
        if (at + a.pattern.length <= st.tail.length || base + at + a.offset < st.pos) continue;
        a.times--;
        this.hits++;
        st.pending.push({ at: base + at + a.offset, damage: a.damage });
        break; // one hit per chunk, as a burst of noise would
      }
    }
    const end = st.pos + chunk.length;
    const here = st.pending.filter((d) => d.at < end).sort((x, y) => y.at - x.at);
    st.pending = st.pending.filter((d) => d.at >= end);
    let buf = Buffer.from(chunk);
    for (const d of here) {
      const i = d.at - st.pos;
      if (d.damage === 'flip') buf[i] = buf[i]! ^ 0x08;
      else buf = Buffer.concat([buf.subarray(0, i), buf.subarray(i + 1)]);
    }
    st.tail = window.subarray(-TAIL);
    st.pos = end;
    return buf;
  }

  override write(data: Uint8Array): Promise<void> {
    return this.inner.write(this.apply('to-board', data));
  }
  // One subscription to the inner link, however many listeners: each chunk is judged (and damaged) once. Judged
  // once per listener, a chunk was counted twice, so a pattern printed in pieces ('F', ' ', '0 0 …') was missed.
  private readonly listeners = new Set<(chunk: Uint8Array) => void>();
  private unsubscribe?: () => void;

  override onData(listener: (chunk: Uint8Array) => void): () => void {
    this.listeners.add(listener);
    this.unsubscribe ??= this.inner.onData((chunk) => {
      const damaged = this.apply('from-board', chunk);
      for (const l of [...this.listeners]) l(damaged);
    });
    return () => {
      this.listeners.delete(listener);
      if (this.listeners.size === 0) {
        this.unsubscribe?.();
        this.unsubscribe = undefined;
      }
    };
  }
}
