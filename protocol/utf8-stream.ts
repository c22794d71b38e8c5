// Incremental UTF-8 decoding: a character split across two reads is held back until its last byte arrives.

export class Utf8Stream {
  private readonly decoder = new TextDecoder('utf-8');

  /** Text for these bytes; an incomplete trailing sequence waits for the next push. */
  push(bytes: Uint8Array): string {
    return this.decoder.decode(bytes, { stream: true });
  }

  /** Flush: a sequence still incomplete at the end becomes U+FFFD. */
  end(): string {
    return this.decoder.decode();
  }
}
