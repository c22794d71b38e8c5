// The mount wire codec (pure: bytes in, frames out). The board's requests travel inside its stdout as
// 0x18 KEY BODY 0x17, BODY byte-stuffed (wire.ts) so neither mark, the raw REPL's Ctrl-D nor a CR/LF a cooked
// stdout would rewrite occurs in it; the random KEY keeps a program that prints binary from forging one.
// Answers go to the board's stdin unstuffed (the board turns Ctrl-C off while it reads one):
// '+' or '-', a 4-byte little-endian length (the errno after '-'), then that many bytes.
import { unescapeBytes } from '../fs/wire.js';

export const FRAME_START = 0x18;
export const FRAME_END = 0x17;
/** A frame longer than this (escaped) is not one of ours: the end mark was lost. */
export const MAX_FRAME = 64 * 1024;

export interface Request {
  /** One ASCII letter (see host-tree.ts for the verbs). */
  cmd: string;
  /** The NUL-separated fields after the letter; `data` keeps the rest of the body whole (writes). */
  fields: Buffer[];
  body: Buffer;
}

export type Piece = { kind: 'text'; bytes: Buffer } | { kind: 'request'; request: Request } | { kind: 'damaged'; bytes: Buffer };

/**
 * Splits the board's output into program text and requests. A possible start of a frame at the end of a
 * chunk is held back until the next chunk (or flush()) decides it.
 */
export class FrameSplitter {
  private pending: Buffer = Buffer.alloc(0);
  private readonly mark: Buffer;

  constructor(key: string) {
    this.mark = Buffer.concat([Buffer.of(FRAME_START), Buffer.from(key, 'latin1')]);
  }

  /** True while bytes are held back (a frame or its start is incomplete). */
  get holding(): boolean {
    return this.pending.length > 0;
  }

  /** True while a whole mark has been seen and the frame's end has not. */
  get holdingFrame(): boolean {
    return this.pending.length >= this.mark.length;
  }

  push(chunk: Uint8Array): Piece[] {
    let buf = this.pending.length ? Buffer.concat([this.pending, chunk]) : Buffer.from(chunk);
    this.pending = Buffer.alloc(0);
    const out: Piece[] = [];
    const text = (bytes: Buffer) => bytes.length && out.push({ kind: 'text', bytes });
    for (;;) {
      const at = buf.indexOf(this.mark);
      if (at < 0) {
        // Keep back a tail that could be the start of the mark.
        const keep = partialMark(buf, this.mark);
        text(buf.subarray(0, buf.length - keep));
        this.pending = Buffer.from(buf.subarray(buf.length - keep));
        return out;
      }
      text(buf.subarray(0, at));
      // Inside a frame only stuffed bytes occur: the first byte that cannot (a new mark, the raw REPL's
      // Ctrl-D, a CR or LF) ends a frame whose end mark the link lost, and what follows it is text again.
      const end = frameEnd(buf, at + this.mark.length);
      if (end < 0) {
        if (buf.length - at > MAX_FRAME) {
          out.push({ kind: 'damaged', bytes: buf.subarray(at) });
          return out;
        }
        this.pending = Buffer.from(buf.subarray(at));
        return out;
      }
      if (buf[end] !== FRAME_END) {
        out.push({ kind: 'damaged', bytes: buf.subarray(at, end) });
        buf = buf.subarray(end);
        continue;
      }
      const request = parseRequest(Buffer.from(unescapeBytes(buf.subarray(at + this.mark.length, end))));
      out.push(request ? { kind: 'request', request } : { kind: 'damaged', bytes: buf.subarray(at, end + 1) });
      buf = buf.subarray(end + 1);
    }
  }

  /** Give up on what is held back (the board went quiet): a started frame is damaged, a partial mark is text. */
  flush(): Piece[] {
    const held = this.pending;
    this.pending = Buffer.alloc(0);
    if (!held.length) return [];
    return held.length > this.mark.length || held.equals(this.mark) ? [{ kind: 'damaged', bytes: held }] : [{ kind: 'text', bytes: held }];
  }
}

/** Where the frame whose body starts at `from` ends: its end mark, or a byte no frame body holds; -1 if not yet. */
function frameEnd(buf: Buffer, from: number): number {
  for (let i = from; i < buf.length; i++) {
    const b = buf[i]!;
    if (b === FRAME_END || b === FRAME_START || b === 0x04 || b === 0x0a || b === 0x0d) return i;
  }
  return -1;
}

function partialMark(buf: Buffer, mark: Buffer): number {
  for (let n = Math.min(mark.length - 1, buf.length); n > 0; n--) {
    if (buf.subarray(buf.length - n).equals(mark.subarray(0, n))) return n;
  }
  return 0;
}

function parseRequest(body: Buffer): Request | undefined {
  if (!body.length || body[0]! < 0x41 || body[0]! > 0x5a) return undefined;
  const fields: Buffer[] = [];
  let start = 1;
  for (let i = 1; i <= body.length; i++) {
    if (i === body.length || body[i] === 0) {
      fields.push(body.subarray(start, i));
      start = i + 1;
    }
  }
  return { cmd: String.fromCharCode(body[0]!), fields, body: body.subarray(1) };
}

/** The answer to one request. */
export function okAnswer(data: Uint8Array | string = ''): Buffer {
  const bytes = typeof data === 'string' ? Buffer.from(data, 'utf8') : Buffer.from(data);
  const head = Buffer.alloc(5);
  head[0] = 0x2b;
  head.writeUInt32LE(bytes.length, 1);
  return Buffer.concat([head, bytes]);
}

export function errorAnswer(errno: number): Buffer {
  const head = Buffer.alloc(5);
  head[0] = 0x2d;
  head.writeUInt32LE(errno, 1);
  return head;
}
