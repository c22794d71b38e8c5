// Intel HEX: text records ":LLAAAATT<data>CC". Types: 00 data, 01 end of file, 02 extended segment
// address (base = value * 16), 03 start segment address (CS:IP), 04 extended linear address (upper 16 bits),
// 05 start linear address. The checksum makes all bytes of a record sum to 0 mod 256.
import { BoardError } from '../protocol/errors.js';
import { coalesceParts, type FlashPart } from './merge-bin.js';

export interface IhexFile {
  ranges: FlashPart[];
  /** From a type 05 record (EIP). */
  startLinearAddress?: number;
  /** From a type 03 record. */
  startSegmentAddress?: { cs: number; ip: number };
}

const bad = (line: number, message: string) => new BoardError('BAD_IMAGE', `Intel HEX line ${line}: ${message}`, { line });
const hex2 = (n: number) => '0x' + n.toString(16).padStart(2, '0');

/** Looks like Intel HEX: starts (after whitespace) with ':' followed by hex digits. */
export function isIhex(bytes: Uint8Array): boolean {
  const head = new TextDecoder('latin1').decode(bytes.subarray(0, 64)).trimStart();
  return /^:[0-9A-Fa-f]{10}/.test(head);
}

export function parseIhex(input: string | Uint8Array): IhexFile {
  const text = typeof input === 'string' ? input : new TextDecoder('latin1').decode(input);
  const lines = text.split(/\r?\n/);
  const parts: FlashPart[] = [];
  const result: IhexFile = { ranges: [] };
  let base = 0;
  let ended = false;
  for (let i = 0; i < lines.length; i++) {
    const n = i + 1;
    const line = lines[i]!.trim();
    if (line === '') continue;
    if (ended) throw bad(n, 'data after the end-of-file record');
    if (line[0] !== ':') throw bad(n, `a record must start with ':' (got '${line.slice(0, 10)}')`);
    const digits = line.slice(1);
    if (!/^[0-9A-Fa-f]*$/.test(digits)) throw bad(n, 'non-hex character in record');
    if (digits.length % 2 !== 0) throw bad(n, 'odd number of hex digits');
    const rec = Uint8Array.from(Buffer.from(digits, 'hex'));
    if (rec.length < 5) throw bad(n, `record too short (${rec.length} bytes)`);
    const count = rec[0]!;
    if (rec.length !== count + 5) throw bad(n, `byte count says ${count} data bytes, record has ${rec.length - 5}`);
    const sum = rec.reduce((s, b) => (s + b) & 0xff, 0);
    if (sum !== 0) {
      const stored = rec[rec.length - 1]!;
      throw bad(n, `checksum mismatch: record has ${hex2(stored)}, computed ${hex2((stored - sum) & 0xff)}`);
    }
    const addr = (rec[1]! << 8) | rec[2]!;
    const type = rec[3]!;
    const data = rec.subarray(4, 4 + count);
    const word = (len: number) => {
      if (count !== len) throw bad(n, `record type ${hex2(type)} needs ${len} data bytes, has ${count}`);
      return data.reduce((v, b) => v * 256 + b, 0);
    };
    switch (type) {
      case 0x00:
        parts.push({ offset: base + addr, data });
        break;
      case 0x01:
        ended = true;
        break;
      case 0x02:
        base = word(2) * 16;
        break;
      case 0x03: {
        const v = word(4);
        result.startSegmentAddress = { cs: Math.floor(v / 0x10000), ip: v % 0x10000 };
        break;
      }
      case 0x04:
        base = word(2) * 0x10000;
        break;
      case 0x05:
        result.startLinearAddress = word(4);
        break;
      default:
        throw bad(n, `unknown record type ${hex2(type)}`);
    }
  }
  if (!ended) throw new BoardError('BAD_IMAGE', 'Intel HEX file has no end-of-file (type 01) record: truncated?');
  result.ranges = coalesceParts(parts);
  return result;
}

function record(type: number, addr: number, data: Uint8Array | number[]): string {
  const bytes = [data.length, (addr >> 8) & 0xff, addr & 0xff, type, ...data];
  const check = (0x100 - (bytes.reduce((s, b) => s + b, 0) & 0xff)) & 0xff;
  return ':' + [...bytes, check].map((b) => b.toString(16).padStart(2, '0')).join('').toUpperCase();
}

export interface WriteIhexOptions {
  bytesPerLine?: number;
  startLinearAddress?: number;
}

/** Write parts as Intel HEX with type 04 records whenever the upper 16 address bits change. */
export function writeIhex(parts: readonly FlashPart[], opts: WriteIhexOptions = {}): string {
  const width = opts.bytesPerLine ?? 16;
  if (width < 1 || width > 255) throw new BoardError('USAGE', 'Intel HEX line width must be 1..255 bytes');
  const out: string[] = [];
  let upper = 0;
  for (const r of coalesceParts(parts)) {
    if (r.offset + r.data.length > 0x100000000) throw new BoardError('USAGE', 'Intel HEX addresses stop at 4 GiB');
    let o = 0;
    while (o < r.data.length) {
      const addr = r.offset + o;
      const hi = Math.floor(addr / 0x10000);
      if (hi !== upper) {
        out.push(record(0x04, 0, [hi >> 8, hi & 0xff]));
        upper = hi;
      }
      // A record never crosses a 64 KiB boundary: its address is only 16 bits.
      const len = Math.min(width, r.data.length - o, 0x10000 - (addr % 0x10000));
      out.push(record(0x00, addr % 0x10000, r.data.subarray(o, o + len)));
      o += len;
    }
  }
  const start = opts.startLinearAddress;
  if (start !== undefined) out.push(record(0x05, 0, [start >>> 24, (start >> 16) & 0xff, (start >> 8) & 0xff, start & 0xff]));
  out.push(record(0x01, 0, []));
  return out.join('\n') + '\n';
}
