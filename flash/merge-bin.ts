// Combine images placed at flash offsets into one file, as esptool merge-bin does: raw (gaps and the tail
// filled with 0xFF, the erased state, so writing the file leaves unused flash as if erased), UF2, or Intel HEX.
import { BoardError } from '../protocol/errors.js';
import { findChip, patchFlashParams, type FlashParams } from '../protocol/esp/image.js';
import { encodeUf2, uf2FamilyOfChip } from './uf2.js';
import { writeIhex } from './ihex.js';

export interface FlashPart {
  offset: number;
  data: Uint8Array;
  /** File name or role, for error messages. */
  name?: string;
}

const hex = (n: number) => '0x' + n.toString(16);
const describe = (p: FlashPart) => `${p.name ? `'${p.name}' ` : ''}at ${hex(p.offset)}..${hex(p.offset + p.data.length)}`;

/**
 * Sort parts by offset and join the ones that touch into contiguous ranges.
 * Throws BAD_IMAGE when two parts overlap, naming both.
 */
export function coalesceParts(parts: readonly FlashPart[]): FlashPart[] {
  const sorted = parts.filter((p) => p.data.length > 0).sort((a, b) => a.offset - b.offset);
  const out: { offset: number; pieces: Uint8Array[]; end: number; last: FlashPart }[] = [];
  for (const p of sorted) {
    const cur = out[out.length - 1];
    if (cur && p.offset < cur.end) {
      throw new BoardError('BAD_IMAGE', `${describe(p)} overlaps ${describe(cur.last)}`, { offset: p.offset });
    }
    if (cur && p.offset === cur.end) {
      cur.pieces.push(p.data);
      cur.end += p.data.length;
      cur.last = p;
    } else {
      out.push({ offset: p.offset, pieces: [p.data], end: p.offset + p.data.length, last: p });
    }
  }
  return out.map((r) => ({ offset: r.offset, data: r.pieces.length === 1 ? r.pieces[0]! : Buffer.concat(r.pieces) }));
}

export interface MergeBinOptions {
  format?: 'raw' | 'uf2' | 'hex';
  /** Raw only: pad the output with 0xFF to this many bytes (a flash size; esptool v5's --pad-to-size). */
  padToSize?: number;
  /** Raw only: the flash offset the output starts at (default 0); parts below it are refused. */
  targetOffset?: number;
  /** The chip's name: the UF2 family id, and where its bootloader sits for `flash`. */
  chip?: string;
  /** Flash mode, frequency and size to set in the header of the bootloader image at the chip's bootloader offset. */
  flash?: FlashParams;
  /** Told what esptool warns about (a bootloader whose SHA-256 was already wrong keeps it). */
  onWarning?: (message: string) => void;
}

const keeps = (params: FlashParams | undefined) =>
  [params?.flashMode, params?.flashFreq, params?.flashSize].every((v) => v === undefined || v === 'keep');

/** The parts with the bootloader's header set as `opts.flash` asks (esptool does so in every output format). */
function withFlashParams(parts: readonly FlashPart[], opts: MergeBinOptions): readonly FlashPart[] {
  if (keeps(opts.flash)) return parts;
  const chip = opts.chip === undefined ? undefined : findChip(opts.chip);
  if (!chip) throw new BoardError('USAGE', 'setting --flash-mode, --flash-freq or --flash-size needs --chip (where its bootloader sits)');
  return parts.map((p) => {
    if (p.offset !== chip.bootloaderOffset || p.data[0] !== 0xe9) return p;
    const patched = patchFlashParams(p.data, opts.flash!, chip.name);
    if (patched.warning) opts.onWarning?.(`${p.name ?? hex(p.offset)}: ${patched.warning}`);
    return { ...p, data: patched.image };
  });
}

export function mergeBin(input: readonly FlashPart[], opts: MergeBinOptions = {}): Uint8Array {
  const format = opts.format ?? 'raw';
  if (input.length === 0) throw new BoardError('USAGE', 'merge-bin needs at least one <offset> <file> pair');
  if (format !== 'raw' && (opts.padToSize !== undefined || opts.targetOffset !== undefined)) {
    throw new BoardError('USAGE', '--pad-to-size and --target-offset only apply to raw output');
  }
  const ranges = coalesceParts(withFlashParams(input, opts));
  if (format === 'uf2') {
    if (!opts.chip) throw new BoardError('USAGE', 'UF2 output needs the chip (its UF2 family id)');
    const chip = findChip(opts.chip);
    const familyId = chip && uf2FamilyOfChip(chip.name);
    if (familyId === undefined) throw new BoardError('USAGE', `no UF2 family id known for chip '${opts.chip}'`);
    // esptool's UF2 writer marks every block with its MD5 so the UF2 bootloader can check it.
    return encodeUf2(ranges, { familyId, md5: true });
  }
  if (format === 'hex') return new TextEncoder().encode(writeIhex(ranges));
  const base = opts.targetOffset ?? 0;
  const first = ranges[0]!;
  if (first.offset < base) {
    throw new BoardError('USAGE', `a part starts at ${hex(first.offset)}, below the target offset ${hex(base)}`);
  }
  const last = ranges[ranges.length - 1]!;
  const end = last.offset + last.data.length - base;
  const fill = opts.padToSize ?? 0;
  if (fill && end > fill) {
    throw new BoardError('USAGE', `merged image needs ${hex(end)} bytes, more than --pad-to-size ${hex(fill)}`);
  }
  const out = new Uint8Array(Math.max(end, fill)).fill(0xff);
  for (const r of ranges) out.set(r.data, r.offset - base);
  return out;
}
