// SLIP framing (RFC 1055 as the ESP bootloader uses it): every packet is wrapped in 0xC0 and the two
// special bytes are escaped inside. Pure: bytes in, frames out.

export const SLIP_END = 0xc0;
export const SLIP_ESC = 0xdb;
export const SLIP_ESC_END = 0xdc;
export const SLIP_ESC_ESC = 0xdd;

export function slipEncode(payload: Uint8Array): Uint8Array {
  let specials = 0;
  for (const b of payload) if (b === SLIP_END || b === SLIP_ESC) specials++;
  const out = new Uint8Array(payload.length + specials + 2);
  let o = 0;
  out[o++] = SLIP_END;
  for (const b of payload) {
    if (b === SLIP_END) {
      out[o++] = SLIP_ESC;
      out[o++] = SLIP_ESC_END;
    } else if (b === SLIP_ESC) {
      out[o++] = SLIP_ESC;
      out[o++] = SLIP_ESC_ESC;
    } else {
      out[o++] = b;
    }
  }
  out[o] = SLIP_END;
  return out;
}

/** Larger than any packet either side sends (16 KiB stub blocks plus headers); longer runs are noise. */
const MAX_FRAME = 64 * 1024;

export interface SlipEvents {
  /** A complete, unescaped frame. Empty frames (two END bytes in a row) are not reported. */
  frames: Uint8Array[];
  /** Bytes seen outside any frame: boot messages, line noise. Kept so callers can recognise "boot:0x13". */
  garbage: Uint8Array;
  /** Frames dropped because of an invalid escape sequence. */
  malformed: number;
}

/**
 * Incremental decoder. A frame starts at END and ends at the next END; bytes between frames are garbage.
 * Because END also starts frames, text followed by a frame start is ambiguous only until the next END,
 * and a bad escape poisons just its own frame.
 */
export class SlipDecoder {
  private buf: number[] = [];
  private inFrame = false;
  private escaped = false;
  private bad = false;

  push(chunk: Uint8Array): SlipEvents {
    const frames: Uint8Array[] = [];
    const garbage: number[] = [];
    let malformed = 0;
    for (const b of chunk) {
      if (!this.inFrame) {
        if (b === SLIP_END) this.startFrame();
        else garbage.push(b);
        continue;
      }
      if (b === SLIP_END) {
        if (this.bad || this.escaped) malformed++;
        else if (this.buf.length > 0) frames.push(Uint8Array.from(this.buf));
        else {
          // "END END": the second END opens the next frame (the first one closed a frame we never saw).
          this.startFrame();
          continue;
        }
        this.inFrame = false;
        continue;
      }
      if (this.escaped) {
        this.escaped = false;
        if (b === SLIP_ESC_END) this.buf.push(SLIP_END);
        else if (b === SLIP_ESC_ESC) this.buf.push(SLIP_ESC);
        else this.bad = true;
      } else if (b === SLIP_ESC) {
        this.escaped = true;
      } else if (this.buf.length < MAX_FRAME) {
        this.buf.push(b);
      } else {
        this.bad = true;
      }
    }
    return { frames, garbage: Uint8Array.from(garbage), malformed };
  }

  /** Forget a partial frame (after a baud-rate change or a reset). */
  reset(): void {
    this.inFrame = false;
    this.buf = [];
    this.escaped = false;
    this.bad = false;
  }

  private startFrame(): void {
    this.inFrame = true;
    this.buf = [];
    this.escaped = false;
    this.bad = false;
  }
}
