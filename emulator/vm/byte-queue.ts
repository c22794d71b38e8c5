// A FIFO of bytes kept as the chunks they arrived in: O(1) per byte taken, so a 10 MB paste costs 10 MB, not
// the quadratic time an array's shift() would.
export class ByteQueue {
  private chunks: Uint8Array[] = [];
  private offset = 0;
  private total = 0;

  get length(): number {
    return this.total;
  }

  push(chunk: Uint8Array): void {
    if (chunk.length) {
      this.chunks.push(chunk);
      this.total += chunk.length;
    }
  }

  shift(): number | undefined {
    const head = this.chunks[0];
    if (!head) return undefined;
    const b = head[this.offset++];
    this.total--;
    if (this.offset === head.length) {
      this.chunks.shift();
      this.offset = 0;
    }
    return b;
  }

  /** Up to n bytes from the front. */
  take(n: number): Uint8Array {
    const out = new Uint8Array(Math.min(n, this.total));
    let filled = 0;
    while (filled < out.length) {
      const head = this.chunks[0];
      const k = Math.min(out.length - filled, head.length - this.offset);
      out.set(head.subarray(this.offset, this.offset + k), filled);
      filled += k;
      this.offset += k;
      if (this.offset === head.length) {
        this.chunks.shift();
        this.offset = 0;
      }
    }
    this.total -= out.length;
    return out;
  }

  clear(): void {
    this.chunks = [];
    this.offset = 0;
    this.total = 0;
  }
}
