// Encodings for bytes crossing the raw REPL link in either direction. Both directions use the same
// byte stuffing: each byte that must not travel as is, and the escape byte itself, goes as
// ESC + (byte ^ 0x40); everything else goes through untouched (1-2% overhead on random data).
// - To the board's stdin: a bare Ctrl-C would interrupt the receiver and Ctrl-D ends raw-paste.
// - From the board's stdout: Ctrl-D frames stdout in the raw REPL, and LF/CR are rewritten by cooked
//   stdout (a lone LF becomes CRLF) and end our lines.

export const ESC = 0x1b;
/** ESC followed by this byte (never produced by escaping) tells the receiver to abort. */
export const ABORT_CODE = 0x41; // 'A'

/** The bytes one direction escapes, ESC first (the board applies them in this order). */
export type EscapeSet = readonly number[];
export const TO_BOARD: EscapeSet = [ESC, 0x03, 0x04];
export const FROM_BOARD: EscapeSet = [ESC, 0x04, 0x0a, 0x0d];

const tables = new Map<EscapeSet, Uint8Array>();
function table(set: EscapeSet): Uint8Array {
  let t = tables.get(set);
  if (!t) {
    t = new Uint8Array(256);
    for (const b of set) t[b] = 1;
    tables.set(set, t);
  }
  return t;
}

export function escapedLength(data: Uint8Array, set: EscapeSet = TO_BOARD): number {
  const t = table(set);
  let n = data.length;
  for (let i = 0; i < data.length; i++) n += t[data[i]!]!;
  return n;
}

export function escapeBytes(data: Uint8Array, set: EscapeSet = TO_BOARD): Uint8Array {
  const t = table(set);
  const out = new Uint8Array(escapedLength(data, set));
  let o = 0;
  for (let i = 0; i < data.length; i++) {
    const b = data[i]!;
    if (t[b]) {
      out[o++] = ESC;
      out[o++] = b ^ 0x40;
    } else out[o++] = b;
  }
  return out;
}

/** Undo escapeBytes (either set): what the board's receiver U does, and what the host does for downloads. */
export function unescapeBytes(data: Uint8Array): Uint8Array {
  const out = new Uint8Array(data.length);
  let o = 0;
  for (let i = 0; i < data.length; i++) {
    const b = data[i]!;
    out[o++] = b === ESC ? data[++i]! ^ 0x40 : b;
  }
  return out.slice(0, o);
}

/** escapeBytes as the board does it: one C-speed bytes.replace per escaped byte, in `set` order. */
export function escapeReplacements(set: EscapeSet): [Uint8Array, Uint8Array][] {
  return set.map((b) => [Uint8Array.of(b), Uint8Array.of(ESC, b ^ 0x40)]);
}

/** The Python expression that escapes the bytes-like `x` on the board. */
export function pyEscapeExpr(set: EscapeSet, x: string): string {
  return `bytes(${x})${escapeReplacements(set).map(([a, b]) => `.replace(${pyBytesLiteral(a)},${pyBytesLiteral(b)})`).join('')}`;
}

/**
 * Splits a board program's raw stdout into lines (LF-terminated, a CR before the LF dropped). Bytes up to and
 * including `marker` (anything printed before the transfer starts) are skipped; a Ctrl-D ends stdout and
 * everything after it is ignored.
 */
export class StdoutLines {
  private pending = Buffer.alloc(0);
  private started = false;
  ended = false;

  constructor(
    private readonly marker: Uint8Array,
    private readonly onLine: (line: Buffer) => void,
    private readonly onStart?: () => void,
  ) {}

  push(chunk: Uint8Array): void {
    if (this.ended) return;
    let buf = this.pending.length ? Buffer.concat([this.pending, chunk]) : Buffer.from(chunk);
    if (!this.started) {
      const at = buf.indexOf(this.marker);
      if (at < 0) {
        this.pending = buf.subarray(Math.max(0, buf.length - this.marker.length + 1));
        return;
      }
      this.started = true;
      this.onStart?.();
      buf = buf.subarray(at + this.marker.length);
    }
    const stop = buf.indexOf(0x04);
    if (stop >= 0) {
      this.ended = true;
      buf = buf.subarray(0, stop);
    }
    let from = 0;
    for (let nl = buf.indexOf(0x0a); nl >= 0; from = nl + 1, nl = buf.indexOf(0x0a, from)) {
      this.onLine(buf.subarray(from, nl > from && buf[nl - 1] === 0x0d ? nl - 1 : nl));
    }
    this.pending = buf.subarray(from);
  }
}

/** A fresh marker for a program to print first, so its output can be told from what came before. */
export function stdoutMarker(): string {
  return `@bctl${Math.random().toString(36).slice(2, 10)}`;
}

/**
 * A program's stdout as raw lines, for ExecOptions.onStdoutBytes (onStdout hands over UTF-8 decoded text,
 * which turns binary into U+FFFD). `onLine` must not throw (it runs inside the link's data event).
 */
export function stdoutLines(marker: string, onLine: (line: Buffer) => void, onStart?: () => void): (bytes: Uint8Array) => void {
  const lines = new StdoutLines(Buffer.from(marker), onLine, onStart);
  return (bytes) => lines.push(bytes);
}

/** A Python bytes literal any MicroPython parses (printable ASCII as is, the rest as \xNN). */
export function pyBytesLiteral(data: Uint8Array): string {
  let s = "b'";
  for (const b of data) {
    if (b >= 0x20 && b < 0x7f && b !== 0x27 && b !== 0x5c) s += String.fromCharCode(b);
    else s += `\\x${b.toString(16).padStart(2, '0')}`;
  }
  return `${s}'`;
}

/** A Python str literal (JSON's escapes are a subset of Python's; non-ASCII stays UTF-8 in the source). */
export function pyStr(s: string): string {
  return JSON.stringify(s);
}
