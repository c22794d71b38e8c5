// Paces a byte stream as a UART at N baud, 8N1 (10 bits a byte), so transfer benchmarks mean something.
// Without a baud rate bytes pass straight through. Either way the far end can hold the line (flow control, as
// RTS/CTS would): bytes then wait here, and a producer that watches `backlog` stops producing.

export class UartPacer {
  private queue: Uint8Array[] = [];
  private queued = 0;
  private timer: NodeJS.Timeout | undefined;
  private credit = 0;
  private last = 0;
  private drained: Array<() => void> = [];
  private held = false;

  constructor(
    private readonly deliver: (chunk: Uint8Array) => void,
    private baud = 0,
    /** Called after each paced delivery and when the line is released, so a producer held back can send more. */
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
    if (!this.baud && !this.held && !this.queue.length) {
      this.deliver(data);
      return Promise.resolve();
    }
    this.queue.push(data);
    this.queued += data.length;
    if (!this.held) this.schedule();
    return new Promise((resolve) => this.drained.push(resolve));
  }

  /** The far end stops (true) or resumes (false) taking bytes; a held line earns no credit. */
  hold(held: boolean): void {
    if (held === this.held) return;
    this.held = held;
    if (held) {
      if (this.timer) clearTimeout(this.timer);
      this.timer = undefined;
      this.credit = 0;
      this.last = 0;
      return;
    }
    if (this.baud) this.schedule();
    else this.flush();
    this.onDrain?.();
  }

  /** Unpaced: hand over everything queued, unless the far end holds the line again meanwhile. */
  private flush(): void {
    while (this.queue.length && !this.held) {
      const head = this.queue.shift()!;
      this.queued -= head.length;
      this.deliver(head);
    }
    if (!this.queue.length) this.settle();
  }

  private schedule(): void {
    if (this.timer) return;
    if (this.last === 0) this.last = performance.now();
    this.timer = setTimeout(() => this.tick(), 2);
  }

  private tick(): void {
    this.timer = undefined;
    if (this.held) return;
    if (!this.baud) return this.flush();
    const now = performance.now();
    this.credit += ((now - this.last) / 1000) * (this.baud / 10);
    this.last = now;
    while (this.queue.length && this.credit >= 1 && !this.held) {
      const head = this.queue[0];
      const n = Math.min(head.length, Math.floor(this.credit));
      this.credit -= n;
      this.queued -= n;
      if (n === head.length) this.queue.shift();
      else this.queue[0] = head.subarray(n);
      this.deliver(head.subarray(0, n));
    }
    this.onDrain?.();
    if (this.held) return;
    if (this.queue.length) this.schedule();
    else this.settle();
  }

  /** An idle line earns no credit: a burst after a pause starts at the line rate, not faster. */
  private settle(): void {
    this.credit = 0;
    this.last = 0;
    for (const r of this.drained.splice(0)) r();
  }

  /** Drop what waits (a purge of the line's buffer), leaving the hold as it is. */
  discard(): void {
    this.queue = [];
    this.queued = 0;
    this.settle();
  }

  clear(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    this.queue = [];
    this.queued = 0;
    this.held = false;
    this.settle();
  }
}
