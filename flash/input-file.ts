// What an `<address> <file>` pair of write-flash/verify-flash means for the file's format, as esptool v5 reads
// it: Intel HEX becomes the binary from <address> to its last byte, gaps 0xFF (the erased state); a UF2 file
// likewise from its main-flash blocks, which carry flash addresses, for the chip its family names. Anything
// else is written as it is.
import { BoardError } from '../protocol/errors.js';
import { isIhex, parseIhex } from './ihex.js';
import type { FlashPart } from './merge-bin.js';
import { decodeUf2, isUf2, uf2FamilyName } from './uf2.js';

export interface FlashInput {
  data: Uint8Array;
  format: 'binary' | 'ihex' | 'uf2';
  /** The chip a UF2 file's family id names (checked against the connected chip like an image header). */
  chip?: string;
}

const hex = (n: number) => '0x' + n.toString(16);

export function flashInput(address: number, bytes: Uint8Array, name: string): FlashInput {
  if (isIhex(bytes)) return { data: window(address, parseIhex(bytes).ranges, name, 'Intel HEX'), format: 'ihex' };
  if (isUf2(bytes)) {
    const uf2 = decodeUf2(bytes);
    if (uf2.familyIds.length > 1) {
      throw new BoardError('BAD_IMAGE', `${name}: UF2 file holds images for ${uf2.familyIds.length} chip families; write-flash takes one`);
    }
    const family = uf2.familyIds[0];
    const chip = family === undefined ? undefined : (uf2FamilyName(family) ?? `UF2 family ${hex(family)}`);
    return { data: window(address, uf2.ranges, name, 'UF2'), format: 'uf2', chip };
  }
  return { data: bytes, format: 'binary' };
}

/** The bytes from `address` to the end of the last range; data below `address` is refused, never dropped. */
function window(address: number, ranges: readonly FlashPart[], name: string, kind: string): Uint8Array {
  if (ranges.length === 0) throw new BoardError('BAD_IMAGE', `${name}: the ${kind} file holds no data`);
  const below = ranges.find((r) => r.offset < address);
  if (below) {
    throw new BoardError('USAGE', `${name}: ${kind} data at ${hex(below.offset)} lies below the address ${hex(address)} it is written at`);
  }
  const end = Math.max(...ranges.map((r) => r.offset + r.data.length));
  const out = new Uint8Array(end - address).fill(0xff);
  for (const r of ranges) out.set(r.data, r.offset - address);
  return out;
}
