// Buffered reading from a Transport with absolute deadlines: the raw REPL client waits for tokens,
// fixed-size replies and terminators, and learns at once when the link goes away.
import { BoardError } from './errors.js';
import type { Transport } from './transport.js';

const HISTORY_BYTES = 256;

/** Printable text for error messages: ASCII as is, CR/LF/TAB as escapes, every other byte as \xNN. */
export function escapeBytes(bytes: Uint8Array): string {
  let out = '';
  for (const b of bytes) {
    if (b === 0x0d) out += '\\r';
    else if (b === 0x0a) out += '\\n';
    else if (b === 0x09) out += '\\t';
    else if (b === 0x5c) out += '\\\\';
    else if (b >= 0x20 && b < 0x7f) out += String.fromCharCode(b);
    else out += `\\x${b.toString(16).padStart(2, '0')}`;
  }
  return out;
}

export class LinkReader {
  private buf: Buffer = Buffer.alloc(0);
  /** The last bytes consumed or discarded, to show what a misbehaving peer sent. */
  private history: Buffer = Buffer.alloc(0);
  private wake: (() => void) | undefined;
  private lost: BoardError | undefined;
  /** Set while the caller gave up (Ctrl-C): every wait ends with it at once. */
  private cancelled: BoardError | undefined;
  private readonly unsubscribe: Array<() => void>;

  constructor(transport: Transport) {
    this.unsubscribe = [
      transport.onData((chunk) => {
        this.buf = this.buf.length ? Buffer.concat([this.buf, chunk]) : Buffer.from(chunk);
        this.wake?.();
      }),
      transport.onClose((err) => {
        this.lost =
          err instanceof BoardError
            ? err
            : new BoardError('LINK_LOST', `${transport.path}: link lost${err ? ` (${err.message})` : ''}`, { port: transport.path }, { cause: err });
        this.wake?.();
      }),
    ];
  }

  /** Stop listening (the transport stays open). */
  detach(): void {
    for (const off of this.unsubscribe.splice(0)) off();
  }

  get linkLost(): BoardError | undefined {
    return this.lost;
  }

  /** End every wait, now and until cancel(undefined), with `err`. */
  cancel(err: BoardError | undefined): void {
    this.cancelled = err;
    if (err) this.wake?.();
  }

  /** Recently seen bytes (consumed, discarded and still buffered), escaped for a message. */
  seen(): string {
    return escapeBytes(Buffer.concat([this.history, this.buf]).subarray(-HISTORY_BYTES));
  }

  /** Throw away everything buffered so far. */
  discard(): void {
    this.consume(this.buf.length);
  }

  /**
   * Wait until `find` locates something in the buffer; returns its result, or undefined at the deadline.
   * Buffered data is examined before a lost link is reported, so a final reply is never dropped.
   */
  async waitFor<T>(find: (buf: Buffer) => T | undefined, deadline: number): Promise<T | undefined> {
    for (;;) {
      const found = find(this.buf);
      if (found !== undefined) return found;
      if (this.lost) throw this.lost;
      if (this.cancelled) throw this.cancelled;
      const left = deadline - Date.now();
      if (left <= 0) return undefined;
      await new Promise<void>((resolve) => {
        const timer = left === Infinity ? undefined : setTimeout(resolve, left);
        this.wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      this.wake = undefined;
    }
  }

  /** Read through the first occurrence of `token`; undefined at the deadline (nothing consumed). */
  async until(token: string | RegExp, deadline: number): Promise<Buffer | undefined> {
    const end = await this.waitFor((buf) => {
      if (typeof token === 'string') {
        const at = buf.indexOf(token, 0, 'latin1');
        return at < 0 ? undefined : at + token.length;
      }
      const m = token.exec(buf.toString('latin1'));
      return m ? m.index + m[0].length : undefined;
    }, deadline);
    return end === undefined ? undefined : this.consume(end);
  }

  /** Read exactly n bytes; undefined at the deadline. */
  async take(n: number, deadline: number): Promise<Buffer | undefined> {
    const ok = await this.waitFor((buf) => (buf.length >= n ? true : undefined), deadline);
    return ok ? this.consume(n) : undefined;
  }

  /** The bytes available right now, without waiting. */
  takeAvailable(): Buffer {
    return this.consume(this.buf.length);
  }

  /**
   * Hand every byte before `terminator` to onBytes as it arrives, then consume the terminator.
   * Returns false at the deadline.
   */
  async stream(terminator: number, onBytes: (bytes: Buffer) => void, deadline: number): Promise<boolean> {
    // The finder hands over (consumes) whatever arrived on every wake-up, so output streams as it comes.
    const done = await this.waitFor((buf) => {
      const at = buf.indexOf(terminator);
      const ready = this.consume(at < 0 ? buf.length : at);
      if (ready.length) onBytes(ready);
      if (at < 0) return undefined;
      this.consume(1);
      return true;
    }, deadline);
    return done === true;
  }

  /** Discard input until the peer has been quiet for quietMs (or maxMs passed). */
  async settle(quietMs: number, maxMs: number): Promise<void> {
    const stop = Date.now() + maxMs;
    for (;;) {
      this.discard();
      if (this.lost) throw this.lost;
      const until = Math.min(stop, Date.now() + quietMs);
      const got = await this.waitFor((buf) => (buf.length ? true : undefined), until);
      if (!got || Date.now() >= stop) {
        this.discard();
        return;
      }
    }
  }

  private consume(n: number): Buffer {
    const out = this.buf.subarray(0, n);
    this.buf = this.buf.subarray(n);
    this.history = Buffer.concat([this.history, out]).subarray(-HISTORY_BYTES);
    return out;
  }
}
