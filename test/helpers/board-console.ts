// Drives a serial console the way a person or a tool would: write bytes, wait for text to appear. The waits are
// generous (a loaded host runs the board late); a test that means a deadline passes its own.
export interface ByteLink {
  write(data: Uint8Array): Promise<void>;
  onData(listener: (chunk: Uint8Array) => void): void;
  close(): Promise<void>;
}

const WAIT_MS = 20_000;
/** What Ctrl-A makes a MicroPython REPL print (the line end is \r\r\n on some links). */
const RAW_BANNER = /raw REPL; CTRL-B to exit\r*\n>/;
/** The last thing Ctrl-B makes the raw REPL print. */
const FRIENDLY_BANNER = /Type "help\(\)" for more information\.\r\n>>> /;

export class BoardConsole {
  private buf = Buffer.alloc(0);
  private waiters: Array<() => void> = [];

  constructor(readonly link: ByteLink) {
    link.onData((chunk) => {
      this.buf = Buffer.concat([this.buf, Buffer.from(chunk)]);
      for (const w of this.waiters.splice(0)) w();
    });
  }

  /** Everything received since the last take(), as latin1 text (bytes stay bytes). */
  take(): string {
    const s = this.buf.toString('latin1');
    this.buf = Buffer.alloc(0);
    return s;
  }

  async send(text: string | Uint8Array): Promise<void> {
    await this.link.write(typeof text === 'string' ? Buffer.from(text, 'latin1') : text);
  }

  /** Wait until the received text matches; returns and consumes everything up to the end of the match. */
  async expect(pattern: string | RegExp, timeoutMs = WAIT_MS): Promise<string> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const text = this.buf.toString('latin1');
      const idx = typeof pattern === 'string' ? text.indexOf(pattern) : text.search(pattern);
      if (idx >= 0) {
        const len = typeof pattern === 'string' ? pattern.length : (text.slice(idx).match(pattern)![0].length);
        this.buf = this.buf.subarray(Buffer.byteLength(text.slice(0, idx + len), 'latin1'));
        return text.slice(0, idx + len);
      }
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`timed out waiting for ${JSON.stringify(String(pattern))}; got ${JSON.stringify(text.slice(-400))}`);
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, left);
        this.waiters.push(() => {
          clearTimeout(t);
          resolve();
        });
      });
    }
  }

  /**
   * Get to a clean friendly prompt whatever state the board is in. Ctrl-A's raw REPL line can only be the answer to
   * these keys (a boot's own banner and prompt may still be on the way), and the banner Ctrl-B prints after it is
   * the last thing they make the board print: nothing of theirs is left to be taken for a later prompt (as a
   * quiet 50 ms after the first '>>> ' assumed).
   */
  async friendlyPrompt(): Promise<void> {
    await this.send('\r\x03\x03\x01');
    await this.expect(RAW_BANNER);
    await this.send('\x02');
    await this.expect(FRIENDLY_BANNER);
    this.take();
  }

  /** Enter the raw REPL from anywhere. */
  async rawRepl(): Promise<void> {
    await this.friendlyPrompt();
    await this.send('\x01');
    await this.expect(RAW_BANNER);
  }

  /** Plain raw-REPL exec: returns [stdout, stderr]. */
  async rawExec(code: string, timeoutMs = WAIT_MS): Promise<[string, string]> {
    await this.send(code + '\x04');
    await this.expect('OK', timeoutMs);
    const out = await this.expect('\x04', timeoutMs);
    const err = await this.expect('\x04', timeoutMs);
    await this.expect('>', timeoutMs);
    return [out.slice(0, -1), err.slice(0, -1)];
  }
}
