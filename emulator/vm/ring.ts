// Single-producer single-consumer byte ring in a SharedArrayBuffer, so bytes cross between the link (main
// thread) and the VM (worker thread) without a message per byte. The producer bumps `signal` and notifies after
// each write so a consumer thread can sleep in Atomics.wait until data arrives. (Atomics.waitAsync is no use
// here: on Node 20 its wake-ups and timeouts do not fire reliably in worker threads.)

const HEAD = 0; // next write index (producer-owned)
const TAIL = 1; // next read index (consumer-owned)
const SIGNAL = 2; // bumped on every write and every read, for waiters on either side
const HEADER_INTS = 4;

export class ByteRing {
  readonly sab: SharedArrayBuffer;
  private readonly ctl: Int32Array;
  private readonly data: Uint8Array;
  private readonly capacity: number;

  constructor(sabOrCapacity: SharedArrayBuffer | number) {
    this.sab =
      typeof sabOrCapacity === 'number'
        ? new SharedArrayBuffer(HEADER_INTS * 4 + sabOrCapacity)
        : sabOrCapacity;
    this.ctl = new Int32Array(this.sab, 0, HEADER_INTS);
    this.data = new Uint8Array(this.sab, HEADER_INTS * 4);
    this.capacity = this.data.length;
  }

  /** Bytes waiting to be read. */
  available(): number {
    return (Atomics.load(this.ctl, HEAD) - Atomics.load(this.ctl, TAIL) + 2 * this.capacity) % (2 * this.capacity);
  }

  free(): number {
    return this.capacity - this.available();
  }

  /** Count of reads so far, mod 2^31: lets the producer see whether the consumer has taken a given byte. */
  readPosition(): number {
    return Atomics.load(this.ctl, TAIL);
  }

  /** Write as much as fits; returns the number of bytes written. */
  write(bytes: Uint8Array): number {
    const n = Math.min(bytes.length, this.free());
    if (n === 0) return 0;
    const head = Atomics.load(this.ctl, HEAD);
    const start = head % this.capacity;
    const first = Math.min(n, this.capacity - start);
    this.data.set(bytes.subarray(0, first), start);
    if (n > first) this.data.set(bytes.subarray(first, n), 0);
    // Indices run over 2*capacity so that full and empty differ.
    Atomics.store(this.ctl, HEAD, (head + n) % (2 * this.capacity));
    Atomics.add(this.ctl, SIGNAL, 1);
    Atomics.notify(this.ctl, SIGNAL);
    return n;
  }

  /** Read up to `max` bytes (all available by default). */
  read(max = Infinity): Uint8Array {
    const n = Math.min(this.available(), max);
    const out = new Uint8Array(n);
    if (n === 0) return out;
    const tail = Atomics.load(this.ctl, TAIL);
    const start = tail % this.capacity;
    const first = Math.min(n, this.capacity - start);
    out.set(this.data.subarray(start, start + first));
    if (n > first) out.set(this.data.subarray(0, n - first), first);
    Atomics.store(this.ctl, TAIL, (tail + n) % (2 * this.capacity));
    Atomics.add(this.ctl, SIGNAL, 1);
    Atomics.notify(this.ctl, SIGNAL);
    return out;
  }

  /** Current signal value, to pass to wait()/waitAsync() so a write that happens in between is not missed. */
  signal(): number {
    return Atomics.load(this.ctl, SIGNAL);
  }

  /** Block this thread until the ring changes or the timeout passes (worker side only). */
  wait(seen: number, timeoutMs: number): void {
    Atomics.wait(this.ctl, SIGNAL, seen, timeoutMs);
  }
}
