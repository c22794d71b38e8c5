// UF2 (Microsoft's USB flashing format): 512-byte blocks, each carrying up to 476 bytes for one target
// address. Used by the RP2040/RP2350 boot ROM and by TinyUF2 on ESP32-S2/S3; esptool can write it.
import { createHash } from 'node:crypto';
import { BoardError } from '../protocol/errors.js';
import { coalesceParts, type FlashPart } from './merge-bin.js';

export const UF2_BLOCK_SIZE = 512;
export const UF2_MAGIC_START0 = 0x0a324655; // "UF2\n"
export const UF2_MAGIC_START1 = 0x9e5d5157;
export const UF2_MAGIC_END = 0x0ab16f30;
const MAX_PAYLOAD = 476;

export const UF2_FLAGS = {
  NOT_MAIN_FLASH: 0x00000001,
  FILE_CONTAINER: 0x00001000,
  FAMILY_ID_PRESENT: 0x00002000,
  MD5_PRESENT: 0x00004000,
  EXTENSION_TAGS_PRESENT: 0x00008000,
} as const;

/** Family ids from Microsoft's uf2families.json, keyed by the chip name boardctl uses elsewhere. */
export const UF2_FAMILIES: Readonly<Record<string, number>> = {
  RP2040: 0xe48bff56,
  'RP2XXX-ABSOLUTE': 0xe48bff57,
  'RP2XXX-DATA': 0xe48bff58,
  'RP2350-ARM-S': 0xe48bff59,
  'RP2350-RISCV': 0xe48bff5a,
  'RP2350-ARM-NS': 0xe48bff5b,
  ESP32: 0x1c5f21b0,
  'ESP32-S2': 0xbfdd4eee,
  'ESP32-S3': 0xc47e5767,
  'ESP32-C2': 0x2b88d29c,
  'ESP32-C3': 0xd42ba06c,
  'ESP32-C5': 0xf71c0343,
  'ESP32-C6': 0x540ddf62,
  'ESP32-C61': 0x77d850c4,
  'ESP32-H2': 0x332726f6,
  'ESP32-P4': 0x3d308e94,
  ESP8266: 0x7eab61ed,
};

export function uf2FamilyName(id: number): string | undefined {
  return Object.entries(UF2_FAMILIES).find(([, v]) => v === id)?.[0];
}

/** Family id for a chip name as esptool prints it ('ESP32-C3'); RP2350 maps to its ARM secure image family. */
export function uf2FamilyOfChip(chip: string): number | undefined {
  const name = chip.toUpperCase();
  return UF2_FAMILIES[name === 'RP2350' ? 'RP2350-ARM-S' : name];
}

export interface Uf2Range extends FlashPart {
  /** Family id of the blocks in this range, if they carry one. */
  familyId?: number;
}

export interface Uf2File {
  blockCount: number;
  familyIds: number[];
  /** Main-flash data by target address, contiguous blocks joined. */
  ranges: Uf2Range[];
  /** Blocks flagged "not main flash" (comments, other-partition data), which a flasher skips. */
  skippedBlocks: number;
}

export function isUf2(bytes: Uint8Array): boolean {
  if (bytes.length < UF2_BLOCK_SIZE) return false;
  const v = new DataView(bytes.buffer, bytes.byteOffset, 8);
  return v.getUint32(0, true) === UF2_MAGIC_START0 && v.getUint32(4, true) === UF2_MAGIC_START1;
}

const hex = (n: number) => '0x' + n.toString(16);
const bad = (message: string) => new BoardError('BAD_IMAGE', message);

/** Decode a UF2 file. Throws BAD_IMAGE for a partial block, bad magics, oversized payloads or an MD5 mismatch. */
export function decodeUf2(bytes: Uint8Array): Uf2File {
  if (bytes.length === 0 || bytes.length % UF2_BLOCK_SIZE !== 0) {
    throw bad(`UF2 file is ${bytes.length} bytes, not a whole number of ${UF2_BLOCK_SIZE}-byte blocks`);
  }
  const families = new Set<number>();
  const parts: FlashPart[] = [];
  const partFamily = new Map<FlashPart, number | undefined>();
  let skipped = 0;
  for (let at = 0; at < bytes.length; at += UF2_BLOCK_SIZE) {
    const n = at / UF2_BLOCK_SIZE;
    const v = new DataView(bytes.buffer, bytes.byteOffset + at, UF2_BLOCK_SIZE);
    if (v.getUint32(0, true) !== UF2_MAGIC_START0 || v.getUint32(4, true) !== UF2_MAGIC_START1) {
      throw bad(`UF2 block ${n} at ${hex(at)} has bad start magic`);
    }
    if (v.getUint32(508, true) !== UF2_MAGIC_END) throw bad(`UF2 block ${n} at ${hex(at)} has bad end magic`);
    const flags = v.getUint32(8, true);
    const target = v.getUint32(12, true);
    const size = v.getUint32(16, true);
    if (size > MAX_PAYLOAD) throw bad(`UF2 block ${n} declares a ${size}-byte payload (at most ${MAX_PAYLOAD})`);
    const familyId = flags & UF2_FLAGS.FAMILY_ID_PRESENT ? v.getUint32(28, true) : undefined;
    const data = bytes.subarray(at + 32, at + 32 + size);
    if (flags & UF2_FLAGS.MD5_PRESENT) {
      // The MD5 extension sits right after the payload: address, length, digest of that region.
      const mAddr = v.getUint32(32 + size, true);
      const mLen = v.getUint32(36 + size, true);
      const digest = bytes.subarray(at + 40 + size, at + 56 + size);
      const expected = mAddr === target && mLen === size ? createHash('md5').update(data).digest() : undefined;
      if (expected && !Buffer.from(digest).equals(expected)) throw bad(`UF2 block ${n} at ${hex(target)}: payload MD5 mismatch`);
    }
    if (flags & UF2_FLAGS.NOT_MAIN_FLASH) {
      skipped++;
      continue;
    }
    if (familyId !== undefined) families.add(familyId);
    const part = { offset: target, data };
    partFamily.set(part, familyId);
    parts.push(part);
  }
  // Combined UF2 files hold one image per family; join blocks only within a family.
  const ranges: Uf2Range[] = [];
  for (const fam of new Set(partFamily.values())) {
    const mine = parts.filter((p) => partFamily.get(p) === fam);
    for (const r of coalesceParts(mine)) ranges.push(fam === undefined ? r : { ...r, familyId: fam });
  }
  ranges.sort((a, b) => a.offset - b.offset);
  return { blockCount: bytes.length / UF2_BLOCK_SIZE, familyIds: [...families], ranges, skippedBlocks: skipped };
}

export interface EncodeUf2Options {
  familyId: number;
  /** Bytes per block (default 256, what both the RP2 ROM and esptool use). */
  payloadSize?: number;
  /** Add the per-block MD5 extension (esptool does; the RP2 ROM ignores it). */
  md5?: boolean;
}

export function encodeUf2(parts: readonly FlashPart[], opts: EncodeUf2Options): Uint8Array {
  const payload = opts.payloadSize ?? 256;
  const room = opts.md5 ? MAX_PAYLOAD - 24 : MAX_PAYLOAD;
  if (payload <= 0 || payload > room) throw new BoardError('USAGE', `UF2 payload size must be 1..${room}`);
  const chunks: FlashPart[] = [];
  for (const r of coalesceParts(parts)) {
    for (let o = 0; o < r.data.length; o += payload) chunks.push({ offset: r.offset + o, data: r.data.subarray(o, o + payload) });
  }
  const out = new Uint8Array(chunks.length * UF2_BLOCK_SIZE);
  const flags = UF2_FLAGS.FAMILY_ID_PRESENT | (opts.md5 ? UF2_FLAGS.MD5_PRESENT : 0);
  chunks.forEach((c, i) => {
    const at = i * UF2_BLOCK_SIZE;
    const v = new DataView(out.buffer, at, UF2_BLOCK_SIZE);
    v.setUint32(0, UF2_MAGIC_START0, true);
    v.setUint32(4, UF2_MAGIC_START1, true);
    v.setUint32(8, flags, true);
    v.setUint32(12, c.offset, true);
    v.setUint32(16, c.data.length, true);
    v.setUint32(20, i, true);
    v.setUint32(24, chunks.length, true);
    v.setUint32(28, opts.familyId, true);
    out.set(c.data, at + 32);
    if (opts.md5) {
      v.setUint32(32 + c.data.length, c.offset, true);
      v.setUint32(36 + c.data.length, c.data.length, true);
      out.set(createHash('md5').update(c.data).digest(), at + 40 + c.data.length);
    }
    v.setUint32(508, UF2_MAGIC_END, true);
  });
  return out;
}
