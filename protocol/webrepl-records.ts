// The WebREPL's binary file-transfer records (MicroPython's extmod/modwebrepl.c, micropython/webrepl's
// webrepl_cli.py), shared by the client (ws:// transport) and the virtual board. All travel in binary websocket
// frames, read as one byte stream; text frames are the REPL.
//   request   'WA', op u8, flags u8, offset u64, size u32, name length u16, name (64 bytes, NUL padded): 82 bytes,
//             little-endian; op 1 put (size = file length), 2 get, 3 version.
//   status    'WB', code u16: after the request (0: the file opened) and at the end of a put or get.
//   put data  the file's bytes after the first status, then the final status.
//   get data  per chunk the client sends one 0 byte; the board answers with length u16 + that many bytes (at
//             most 256 on the firmware); a length of 0 ends the file, the final status follows.
//   version   three bytes: major, minor, micro.

export const REQUEST_BYTES = 82;
/** The name field's size: a name must leave room for its terminating NUL. */
export const NAME_BYTES = 64;
export const MAX_NAME = NAME_BYTES - 1;
/** The firmware reads a file in pieces of this size for each get chunk. */
export const GET_CHUNK = 256;

export const OP_PUT = 1;
export const OP_GET = 2;
export const OP_VERSION = 3;
export type RecordOp = typeof OP_PUT | typeof OP_GET | typeof OP_VERSION;

export interface FileRequest {
  op: RecordOp;
  name: string;
  /** Bytes that follow a put. */
  size: number;
}

/** The 82-byte request; undefined when the name does not fit (longer than MAX_NAME bytes in UTF-8). */
export function encodeRequest(req: FileRequest): Uint8Array | undefined {
  const name = Buffer.from(req.name, 'utf8');
  if (name.length > MAX_NAME) return undefined;
  const out = Buffer.alloc(REQUEST_BYTES);
  out.write('WA', 0, 'latin1');
  out[2] = req.op;
  out.writeUInt32LE(req.size, 12);
  out.writeUInt16LE(name.length, 16);
  name.copy(out, 18);
  return out;
}

/** A request read back; the name ends at its first NUL, as the firmware's strlen() takes it. */
export function decodeRequest(bytes: Uint8Array): FileRequest | undefined {
  const b = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length);
  if (b.length < REQUEST_BYTES || b[0] !== 0x57 || b[1] !== 0x41) return undefined;
  const op = b[2]!;
  if (op !== OP_PUT && op !== OP_GET && op !== OP_VERSION) return undefined;
  const field = b.subarray(18, 18 + NAME_BYTES);
  const nul = field.indexOf(0);
  return { op, name: field.subarray(0, nul < 0 ? field.length : nul).toString('utf8'), size: b.readUInt32LE(12) };
}

export function encodeStatus(code: number): Uint8Array {
  return Uint8Array.of(0x57, 0x42, code & 0xff, (code >> 8) & 0xff);
}

/** The code of a 4-byte status record, or undefined when the bytes are not one. */
export function decodeStatus(bytes: Uint8Array): number | undefined {
  if (bytes.length !== 4 || bytes[0] !== 0x57 || bytes[1] !== 0x42) return undefined;
  return bytes[2]! | (bytes[3]! << 8);
}

/** One get chunk: its length and bytes (an empty one ends the file). */
export function encodeChunk(data: Uint8Array): Uint8Array {
  const out = new Uint8Array(2 + data.length);
  out[0] = data.length & 0xff;
  out[1] = data.length >> 8;
  out.set(data, 2);
  return out;
}
