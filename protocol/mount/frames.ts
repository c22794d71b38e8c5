// The mount wire codec (pure: bytes in, frames out). The board's requests travel inside its stdout as
// 0x18 KEY CHECK BODY 0x17, BODY byte-stuffed (wire.ts) so neither mark, the raw REPL's Ctrl-D nor a CR/LF a
// cooked stdout would rewrite occurs in it; the random KEY keeps a program that prints binary from forging one;
// CHECK is `LEN,SUM;` in hex (the stuffed body's length and byte sum mod 2^16: a lost, extra or changed byte shows).
// BODY is `SEQ:` (the request's number, hex), the verb's letter and its NUL-separated fields. Answers go to the
// board's stdin unstuffed (the board turns Ctrl-C off while it reads one): '+', a 4-byte little-endian length, the
// data's byte sum (2 bytes), the data; or '-', a 4-byte errno and its check (the errno's 16 bits inverted: an errno
// the link changed is not taken for another). A request that arrived damaged is answered '-'
// with errno 0 (RESEND): the board sends it again, as it sends a request whose answer it got damaged or not at all
// (mount-link.ts answers that one from memory).
import { unescapeBytes } from '../fs/wire.js';

export const FRAME_START = 0x18;
export const FRAME_END = 0x17;
/** A frame longer than this (escaped) is not one of ours: the end mark was lost. */
export const MAX_FRAME = 64 * 1024;
/** How much of a line's earlier text the search for a frame that lost its start byte looks back over. */
const LINE_KEPT = 4096;

export interface Request {
  /** The board numbers its requests; one sent again keeps its number. */
  seq: number;
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
  /** The end of the current line's text that went out in earlier chunks (for a frame that lost its start). */
  private line = '';

  constructor(private readonly key: string) {
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
    const text = (bytes: Buffer) => {
      if (!bytes.length) return;
      out.push({ kind: 'text', bytes });
      this.line = lineEnd(this.line + bytes.subarray(-LINE_KEPT).toString('latin1'), LINE_KEPT);
    };
    for (;;) {
      const at = buf.indexOf(this.mark);
      const orphan = this.orphanFrame(buf, at < 0 ? buf.length : at);
      if (orphan) {
        text(buf.subarray(0, orphan.start));
        out.push({ kind: 'damaged', bytes: buf.subarray(orphan.start, orphan.end + 1) });
        this.line = '';
        buf = buf.subarray(orphan.end + 1);
        continue;
      }
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
      const body = checkedBody(buf.subarray(at + this.mark.length, end));
      const request = body && parseRequest(Buffer.from(unescapeBytes(body)));
      out.push(request ? { kind: 'request', request } : { kind: 'damaged', bytes: buf.subarray(at, end + 1) });
      buf = buf.subarray(end + 1);
    }
  }

  /**
   * A frame whose start byte the link lost, before `limit`: an end mark after our key on the same line (a frame
   * holds no line break), the frame being from the key to the mark. Without an answer the board would wait for one
   * forever. Output that merely holds the end byte, or another key's frame, stays text.
   */
  private orphanFrame(buf: Buffer, limit: number): { start: number; end: number } | undefined {
    const first = buf.indexOf(FRAME_END);
    if (first < 0 || first >= limit) return undefined; // program output: no byte-by-byte look at it
    let start = 0;
    for (let i = 0; i < limit; i++) {
      const b = buf[i]!;
      if (b === 0x0a || b === 0x0d || b === 0x04) start = i + 1;
      else if (b === FRAME_END) {
        const here = buf.subarray(start, i).toString('latin1');
        // The frame began at our key (the lost byte was just before it), or in an earlier chunk's text.
        const at = here.lastIndexOf(this.key);
        if (at >= 0) return { start: start + at, end: i };
        if (start === 0 && (this.line + here).includes(this.key)) return { start, end: i };
        start = i + 1;
      }
    }
    return undefined;
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

/** What a line's text keeps for the orphan check: after its last line break, at most `keep` characters. */
function lineEnd(text: string, keep: number): string {
  const cut = Math.max(text.lastIndexOf('\n'), text.lastIndexOf('\r'), text.lastIndexOf('\x04'));
  return text.slice(Math.max(cut + 1, text.length - keep));
}

function partialMark(buf: Buffer, mark: Buffer): number {
  for (let n = Math.min(mark.length - 1, buf.length); n > 0; n--) {
    if (buf.subarray(buf.length - n).equals(mark.subarray(0, n))) return n;
  }
  return 0;
}

/** A frame's stuffed body where its check (`LEN,SUM;` in hex before it) holds, else undefined. */
function checkedBody(frame: Buffer): Buffer | undefined {
  const semi = frame.indexOf(0x3b);
  const m = semi < 0 ? null : /^([0-9a-f]{1,8}),([0-9a-f]{1,4})$/.exec(frame.subarray(0, semi).toString('latin1'));
  if (!m) return undefined;
  const body = frame.subarray(semi + 1);
  return parseInt(m[1]!, 16) === body.length && parseInt(m[2]!, 16) === byteSum(body) ? body : undefined;
}

/** The request an intact frame holds, undefined without its number (a verb the host does not know is answered EINVAL). */
function parseRequest(frameBody: Buffer): Request | undefined {
  const colon = frameBody.indexOf(0x3a);
  const seq = colon < 0 ? NaN : parseInt(frameBody.subarray(0, colon).toString('latin1'), 16);
  if (!(colon > 0 && colon <= 8 && Number.isSafeInteger(seq))) return undefined;
  const body = frameBody.subarray(colon + 1);
  const fields: Buffer[] = [];
  let start = 1;
  for (let i = 1; i <= body.length; i++) {
    if (i === body.length || body[i] === 0) {
      fields.push(body.subarray(start, i));
      start = i + 1;
    }
  }
  return { seq, cmd: body.length ? String.fromCharCode(body[0]!) : '', fields, body: body.subarray(1) };
}

/** The answer to a request that arrived damaged: send it again. */
export const RESEND = 0;

/** The answer to one request: '+', the data's length and byte sum (mod 2^16, which the board checks), the data. */
export function okAnswer(data: Uint8Array | string = ''): Buffer {
  const bytes = typeof data === 'string' ? Buffer.from(data, 'utf8') : Buffer.from(data);
  const head = Buffer.alloc(7);
  head[0] = 0x2b;
  head.writeUInt32LE(bytes.length, 1);
  head.writeUInt16LE(byteSum(bytes), 5);
  return Buffer.concat([head, bytes]);
}

/** The byte sum mod 2^16 both checks use. */
function byteSum(bytes: Uint8Array): number {
  let sum = 0;
  for (const b of bytes) sum = (sum + b) & 0xffff;
  return sum;
}

export function errorAnswer(errno: number): Buffer {
  const head = Buffer.alloc(7);
  head[0] = 0x2d;
  head.writeUInt32LE(errno, 1);
  head.writeUInt16LE(~errno & 0xffff, 5);
  return head;
}
