// Single-producer single-consumer byte ring in a SharedArrayBuffer, so bytes cross between the link (main
// thread) and the VM (worker thread) without a message per byte. The producer bumps `signal` and notifies after
// each write so a consumer thread can sleep in Atomics.wait until data arrives. (Atomics.waitAsync is no use
// here: on Node 20 its wake-ups and timeouts do not fire reliably in worker threads.)

// HEAD and TAIL count the bytes ever written and read, mod 2^32 (int32 wrap-around): a side that compares a
// position with one it saw at an earlier look needs 2^32 bytes in between to be fooled. (As indices mod twice
// the capacity they came back after two ringfuls, 128 KiB: 2 ms of a VM printing to a fast client.) The
// capacity is a power of two, so a count masked by capacity-1 is the byte's slot across the wrap-around too.
const HEAD = 0; // bytes written (producer-owned)
const TAIL = 1; // bytes read (consumer-owned)
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
    if (this.capacity & (this.capacity - 1) || this.capacity > 2 ** 30) throw new RangeError(`ring capacity ${this.capacity} is not a power of two up to 2^30`);
  }

  /** Bytes waiting to be read. */
  available(): number {
    return (Atomics.load(this.ctl, HEAD) - Atomics.load(this.ctl, TAIL)) | 0;
  }

  free(): number {
    return this.capacity - this.available();
  }

  /** Bytes read so far, mod 2^32: lets the producer see whether the consumer has taken a given byte. */
  readPosition(): number {
    return Atomics.load(this.ctl, TAIL);
  }

  /** Bytes written so far, mod 2^32: lets the consumer see whether bytes came since it last looked. */
  writePosition(): number {
    return Atomics.load(this.ctl, HEAD);
  }

  /** Write as much as fits; returns the number of bytes written. */
  write(bytes: Uint8Array): number {
    const n = Math.min(bytes.length, this.free());
    if (n === 0) return 0;
    const head = Atomics.load(this.ctl, HEAD);
    const start = head & (this.capacity - 1);
    const first = Math.min(n, this.capacity - start);
    this.data.set(bytes.subarray(0, first), start);
    if (n > first) this.data.set(bytes.subarray(first, n), 0);
    Atomics.store(this.ctl, HEAD, (head + n) | 0);
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
    const start = tail & (this.capacity - 1);
    const first = Math.min(n, this.capacity - start);
    out.set(this.data.subarray(start, start + first));
    if (n > first) out.set(this.data.subarray(0, n - first), first);
    Atomics.store(this.ctl, TAIL, (tail + n) | 0);
    Atomics.add(this.ctl, SIGNAL, 1);
    Atomics.notify(this.ctl, SIGNAL);
    return out;
  }

  /** Current signal value, to pass to wait()/waitAsync() so a write that happens in between is not missed. */
  signal(): number {
    return Atomics.load(this.ctl, SIGNAL);
  }

  /** Wake a thread blocked in wait() though nothing was written: its owner has something else for it to see. */
  wake(): void {
    Atomics.add(this.ctl, SIGNAL, 1);
    Atomics.notify(this.ctl, SIGNAL);
  }

  /** Block this thread until the ring changes or the timeout passes (worker side only). */
  wait(seen: number, timeoutMs: number): void {
    Atomics.wait(this.ctl, SIGNAL, seen, timeoutMs);
  }
}
