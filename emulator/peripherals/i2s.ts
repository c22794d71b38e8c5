// One machine.I2S id as the host sees it: the bytes its TX played (as written: the port's little-endian frames,
// left first) and the bytes its RX reads next. The board side paces both at the configured rate.

/** Played bytes kept (~95 s of 16-bit stereo at 44.1 kHz); older ones are dropped, and counted, as the timeline's. */
const KEPT_BYTES = 1 << 24;

export class I2sPort {
  private played: Uint8Array[] = [];
  private kept = 0;
  /** Played bytes dropped to keep the newest KEPT_BYTES. */
  dropped = 0;
  /** What RX reads next (`sim`'s control set); silence once it runs dry. */
  readonly source: number[] = [];

  play(bytes: number[]): void {
    this.played.push(Uint8Array.from(bytes));
    this.kept += bytes.length;
    while (this.kept > KEPT_BYTES) {
      const old = this.played.shift()!;
      this.kept -= old.length;
      this.dropped += old.length;
    }
  }

  record(n: number): number[] {
    const got = this.source.splice(0, n);
    return got.concat(new Array<number>(n - got.length).fill(0));
  }

  /** The kept played bytes, oldest first, as hex (which survives the control channel's JSON). */
  playedHex(): string {
    return Buffer.concat(this.played).toString('hex');
  }
}
