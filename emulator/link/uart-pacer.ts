// Paces a byte stream as a UART at N baud, 8N1 (10 bits a byte), so transfer benchmarks mean something.
// Without a baud rate bytes pass straight through.

export class UartPacer {
  private queue: Uint8Array[] = [];
  private queued = 0;
  private timer: NodeJS.Timeout | undefined;
  private credit = 0;
  private last = 0;
  private drained: Array<() => void> = [];

  constructor(
    private readonly deliver: (chunk: Uint8Array) => void,
    private baud = 0,
    /** Called after each paced delivery, so a producer held back by `backlog` can send more. */
    private readonly onDrain?: () => void,
  ) {}

  /** Bytes queued but not yet on the (emulated) wire. */
  get backlog(): number {
    return this.queued;
  }

  setBaud(baud: number): void {
    this.baud = baud;
  }

  /** Resolves when the bytes have gone over the (emulated) wire. */
  push(data: Uint8Array): Promise<void> {
    if (!this.baud) {
      this.deliver(data);
      return Promise.resolve();
    }
    this.queue.push(data);
    this.queued += data.length;
    this.schedule();
    return new Promise((resolve) => this.drained.push(resolve));
  }

  private schedule(): void {
    if (this.timer) return;
    if (this.last === 0) this.last = performance.now();
    this.timer = setTimeout(() => this.tick(), 2);
  }

  private tick(): void {
    this.timer = undefined;
    const now = performance.now();
    this.credit += ((now - this.last) / 1000) * (this.baud / 10);
    this.last = now;
    while (this.queue.length && this.credit >= 1) {
      const head = this.queue[0];
      const n = Math.min(head.length, Math.floor(this.credit));
      this.deliver(head.subarray(0, n));
      this.credit -= n;
      this.queued -= n;
      if (n === head.length) this.queue.shift();
      else this.queue[0] = head.subarray(n);
    }
    this.onDrain?.();
    if (this.queue.length) this.schedule();
    else {
      // An idle line earns no credit: a burst after a pause starts at the line rate, not faster.
      this.credit = 0;
      this.last = 0;
      for (const r of this.drained.splice(0)) r();
    }
  }

  clear(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    this.queue = [];
    this.queued = 0;
    this.credit = 0;
    this.last = 0;
    for (const r of this.drained.splice(0)) r();
  }
}
