// Drives a serial console the way a person or a tool would: write bytes, wait for text to appear. The waits are
// generous (a loaded host runs the board late); a test that means a deadline passes its own.
export interface ByteLink {
  write(data: Uint8Array): Promise<void>;
  onData(listener: (chunk: Uint8Array) => void): void;
  close(): Promise<void>;
}

const WAIT_MS = 20_000;
/** How long friendlyPrompt waits for Ctrl-A's answer before it sends its keys again. */
const KEYS_AGAIN_MS = 2000;
/** What Ctrl-A makes a MicroPython REPL print (the line end is \r\r\n on some links). */
const RAW_BANNER = /raw REPL; CTRL-B to exit\r*\n>/;
/** The last thing Ctrl-B makes the raw REPL print. */
const FRIENDLY_BANNER = /Type "help\(\)" for more information\.\r\n>>> /;

/** Where a search for a pattern stands: the end of the first match, or -1. */
type Search = (con: BoardConsole, from: number) => number;

/**
 * The character every match of a regex ends with, when its source says so: a last literal (after an optional `$`)
 * in a pattern with no alternation, lookaround, word boundary or flags that change it. A match that was not in the
 * text before new text came must end in that new text, so a search is due only when the character arrives.
 */
function lastChar(re: RegExp): string | undefined {
  if (/[imy]/.test(re.flags)) return undefined;
  // The source's tokens: an escape, a character class or one character.
  const tokens = re.source.match(/\\(?:x[0-9a-fA-F]{2}|u\{[0-9a-fA-F]+\}|u[0-9a-fA-F]{4}|c[a-zA-Z]|.)|\[(?:\\.|[^\]\\])*\]|[^]/g) ?? [];
  if (tokens.some((t, i) => t === '|' || t === '\\b' || t === '\\B' || (t === '(' && tokens[i + 1] === '?' && /[=!<]/.test(tokens[i + 2] ?? '')))) return undefined;
  if (tokens.at(-1) === '$') tokens.pop();
  const t = tokens.at(-1) ?? '';
  if (/^\\x/.test(t)) return String.fromCharCode(parseInt(t.slice(2), 16));
  if (/^\\[rnt]$/.test(t)) return ({ '\\r': '\r', '\\n': '\n', '\\t': '\t' } as Record<string, string>)[t];
  if (/^\\[^\w]$/.test(t)) return t[1];
  return /^[^\\^$.*+?()[\]{}|]$/.test(t) ? t : undefined;
}

function search(pattern: string | RegExp): Search {
  if (typeof pattern === 'string') {
    // Only the new text, and the last pattern.length - 1 characters before it a match may start in.
    return (con, from) => {
      const start = Math.max(0, from - pattern.length + 1);
      const idx = con.since(start).indexOf(pattern);
      return idx < 0 ? -1 : start + idx + pattern.length;
    };
  }
  const re = new RegExp(pattern.source, pattern.flags.replace('g', ''));
  const last = lastChar(re);
  return (con, from) => {
    if (from > 0 && last !== undefined && !con.since(from).includes(last)) return -1;
    const m = re.exec(con.text());
    return m ? m.index + m[0].length : -1;
  };
}

export class BoardConsole {
  /** What came and is not consumed yet, as latin1 text in the pieces it came in: joined only when read whole. */
  private chunks: string[] = [];
  private length = 0;
  /** Characters consumed so far: where the unconsumed text starts in all that came. */
  private consumed = 0;
  private waiters: Array<() => void> = [];

  constructor(readonly link: ByteLink) {
    link.onData((chunk) => {
      const s = Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength).toString('latin1');
      this.chunks.push(s);
      this.length += s.length;
      for (const w of this.waiters.splice(0)) w();
    });
  }

  /** Everything unconsumed, as one string. */
  text(): string {
    if (this.chunks.length > 1) this.chunks = [this.chunks.join('')];
    return this.chunks[0] ?? '';
  }

  /** The unconsumed text from character `from` on, joining only the pieces that hold it. */
  since(from: number): string {
    let i = this.chunks.length;
    let start = this.length;
    while (i > 0 && start > from) start -= this.chunks[--i]!.length;
    return this.chunks.slice(i).join('').slice(from - start);
  }

  private consume(n: number): string {
    const text = this.text();
    this.chunks = n < text.length ? [text.slice(n)] : [];
    this.length = text.length - n;
    this.consumed += n;
    return text.slice(0, n);
  }

  /** Everything received since the last take(), as latin1 text (bytes stay bytes). */
  take(): string {
    return this.consume(this.length);
  }

  async send(text: string | Uint8Array): Promise<void> {
    await this.link.write(typeof text === 'string' ? Buffer.from(text, 'latin1') : text);
  }

  /**
   * Wait until the received text matches; returns and consumes everything up to the end of the match. Each chunk is
   * searched once (a regex that need not end in a known character is searched whole whenever text comes).
   */
  async expect(pattern: string | RegExp, timeoutMs = WAIT_MS): Promise<string> {
    const deadline = Date.now() + timeoutMs;
    const find = search(pattern);
    // All that came up to here was searched (it counts from the first character that came: another expect may
    // consume text meanwhile).
    let searched = 0;
    for (;;) {
      const end = find(this, Math.max(0, searched - this.consumed));
      if (end >= 0) return this.consume(end);
      searched = this.consumed + this.length;
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`timed out waiting for ${JSON.stringify(String(pattern))}; got ${JSON.stringify(this.since(Math.max(0, this.length - 400)))}`);
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
    // Keys that reach a board still booting are lost (as on a UART in reset): they go again until Ctrl-A answers.
    const deadline = Date.now() + WAIT_MS;
    for (;;) {
      await this.send('\r\x03\x03\x01');
      try {
        await this.expect(RAW_BANNER, Math.min(KEYS_AGAIN_MS, deadline - Date.now()));
        break;
      } catch (err) {
        if (Date.now() >= deadline) throw err;
      }
    }
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
