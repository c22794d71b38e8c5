// Command and response packets inside SLIP frames. Pure: bytes in, structures out.
//   request:  0x00 | op | len u16 | checksum u32 | data[len]
//   response: 0x01 | op | len u16 | value u32    | data[len]  (data ends with the status bytes)
import { errorText } from './commands.js';

export interface Request {
  op: number;
  /** Data checksum for data commands, 0 otherwise. */
  checksum: number;
  data: Uint8Array;
}

export interface Response {
  op: number;
  value: number;
  /** Full data field, status bytes included. */
  data: Uint8Array;
}

const HEADER = 8;

function header(direction: 0 | 1, op: number, len: number, word: number): Uint8Array {
  const out = new Uint8Array(HEADER + len);
  const v = new DataView(out.buffer);
  v.setUint8(0, direction);
  v.setUint8(1, op);
  v.setUint16(2, len, true);
  v.setUint32(4, word >>> 0, true);
  return out;
}

export function encodeRequest(req: Request): Uint8Array {
  const out = header(0, req.op, req.data.length, req.checksum);
  out.set(req.data, HEADER);
  return out;
}

export function encodeResponse(res: Response): Uint8Array {
  const out = header(1, res.op, res.data.length, res.value);
  out.set(res.data, HEADER);
  return out;
}

export type Decoded<T> = { ok: true; packet: T } | { ok: false; reason: string };

function decode(frame: Uint8Array, direction: 0 | 1): Decoded<{ op: number; word: number; data: Uint8Array }> {
  if (frame.length < HEADER) return { ok: false, reason: `packet too short (${frame.length} bytes)` };
  if (frame[0] !== direction) {
    return { ok: false, reason: `Invalid head of packet (0x${frame[0].toString(16).padStart(2, '0')})` };
  }
  const v = new DataView(frame.buffer, frame.byteOffset, frame.byteLength);
  const len = v.getUint16(2, true);
  if (len !== frame.length - HEADER) {
    return { ok: false, reason: `length field says ${len} bytes, packet carries ${frame.length - HEADER}` };
  }
  return { ok: true, packet: { op: frame[1], word: v.getUint32(4, true), data: frame.subarray(HEADER) } };
}

export function decodeRequest(frame: Uint8Array): Decoded<Request> {
  const d = decode(frame, 0);
  return d.ok ? { ok: true, packet: { op: d.packet.op, checksum: d.packet.word, data: d.packet.data } } : d;
}

export function decodeResponse(frame: Uint8Array): Decoded<Response> {
  const d = decode(frame, 1);
  return d.ok ? { ok: true, packet: { op: d.packet.op, value: d.packet.word, data: d.packet.data } } : d;
}

export interface Status {
  ok: boolean;
  /** Error byte (0 when ok). */
  error: number;
  text?: string;
}

/** Split a response's data into payload and status; `statusLen` is 4 for ROM loaders, 2 for the stub. */
export function splitStatus(data: Uint8Array, statusLen: number): { payload: Uint8Array; status: Status } | undefined {
  if (data.length < statusLen) return undefined;
  const payload = data.subarray(0, data.length - statusLen);
  const failed = data[data.length - statusLen] !== 0;
  const error = data[data.length - statusLen + 1];
  return { payload, status: failed ? { ok: false, error, text: errorText(error) } : { ok: true, error: 0 } };
}

/** Status bytes to append to a response: status byte, error byte, zero padding up to `statusLen`. */
export function statusBytes(statusLen: number, error = 0): Uint8Array {
  const s = new Uint8Array(statusLen);
  if (error) {
    s[0] = 1;
    s[1] = error;
  }
  return s;
}

/** Little-endian u32 words, the shape of every command's parameters. */
export function u32le(...words: number[]): Uint8Array {
  const out = new Uint8Array(words.length * 4);
  const v = new DataView(out.buffer);
  words.forEach((w, i) => v.setUint32(i * 4, w >>> 0, true));
  return out;
}

export function readU32le(data: Uint8Array, index: number): number {
  return new DataView(data.buffer, data.byteOffset, data.byteLength).getUint32(index * 4, true);
}
