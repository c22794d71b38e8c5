// Encodings for bytes on their way to a board program's stdin. The raw REPL link must never carry a bare
// Ctrl-C (it would interrupt the receiver) or Ctrl-D, so those and the escape byte itself travel as
// ESC + (byte ^ 0x40); everything else goes through as is (about 1% overhead on random data).

export const ESC = 0x1b;
/** ESC followed by this byte (never produced by escaping) tells the receiver to abort. */
export const ABORT_CODE = 0x41; // 'A'
const NEEDS_ESCAPE = new Uint8Array(256);
for (const b of [0x03, 0x04, ESC]) NEEDS_ESCAPE[b] = 1;

export function escapedLength(data: Uint8Array): number {
  let n = data.length;
  for (let i = 0; i < data.length; i++) n += NEEDS_ESCAPE[data[i]!]!;
  return n;
}

export function escapeBytes(data: Uint8Array): Uint8Array {
  const out = new Uint8Array(escapedLength(data));
  let o = 0;
  for (let i = 0; i < data.length; i++) {
    const b = data[i]!;
    if (NEEDS_ESCAPE[b]) {
      out[o++] = ESC;
      out[o++] = b ^ 0x40;
    } else out[o++] = b;
  }
  return out;
}

/** What the receiver does on the board (U in snippets.ts), here so tests can check the round trip. */
export function unescapeBytes(data: Uint8Array): Uint8Array {
  const out = new Uint8Array(data.length);
  let o = 0;
  for (let i = 0; i < data.length; i++) {
    const b = data[i]!;
    out[o++] = b === ESC ? data[++i]! ^ 0x40 : b;
  }
  return out.slice(0, o);
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
