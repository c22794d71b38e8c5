// Recognises esptool's SYNC request in the byte stream a running board receives, so the virtual board
// can drop into its ROM loader on links without DTR/RTS (TCP, a pty without modem lines).
import { Op, SYNC_PAYLOAD } from '../../protocol/esp/commands.js';
import { encodeRequest } from '../../protocol/esp/packet.js';
import { slipEncode } from '../../protocol/esp/slip.js';

/** The complete SLIP-framed SYNC request as every esptool-compatible host sends it. */
export const SYNC_FRAME: Uint8Array = slipEncode(encodeRequest({ op: Op.SYNC, checksum: 0, data: SYNC_PAYLOAD }));

/** True when `bytes` is a non-empty prefix of the SYNC frame, or starts with the whole frame. */
export function isSyncFrameStart(bytes: Uint8Array): boolean {
  if (bytes.length === 0) return false;
  const n = Math.min(bytes.length, SYNC_FRAME.length);
  for (let i = 0; i < n; i++) if (bytes[i] !== SYNC_FRAME[i]) return false;
  return true;
}

/**
 * Incremental matcher. The frame holds 0xC0 only as its delimiters, so no proper prefix of a partial match
 * reappears inside it: on a mismatch the match restarts from scratch (or at 1 if the byte is 0xC0).
 */
export class SyncDetector {
  private matched = 0;

  /** Feed bytes; true once a whole SYNC frame has gone by (then hand SYNC_FRAME to EspRom.receive). */
  push(chunk: Uint8Array): boolean {
    let seen = false;
    for (const b of chunk) {
      if (b === SYNC_FRAME[this.matched]) this.matched++;
      else this.matched = b === SYNC_FRAME[0] ? 1 : 0;
      if (this.matched === SYNC_FRAME.length) {
        seen = true;
        this.matched = 0;
      }
    }
    return seen;
  }

  reset(): void {
    this.matched = 0;
  }
}
