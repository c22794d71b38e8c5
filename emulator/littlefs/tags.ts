// littlefs metadata tags: [valid:1][type:11][id:10][size:10], stored big-endian and XOR-chained on disk.

export const T = {
  NAME: 0x000,
  REG: 0x001,
  DIR: 0x002,
  SUPERBLOCK: 0x0ff,
  STRUCT: 0x200,
  DIRSTRUCT: 0x200,
  INLINESTRUCT: 0x201,
  CTZSTRUCT: 0x202,
  USERATTR: 0x300,
  SPLICE: 0x400,
  CREATE: 0x401,
  DELETE: 0x4ff,
  CRC: 0x500,
  CCRC: 0x500,
  FCRC: 0x5ff,
  TAIL: 0x600,
  SOFTTAIL: 0x600,
  HARDTAIL: 0x601,
  GSTATE: 0x700,
  MOVESTATE: 0x7ff,
} as const;

/** id for tags that belong to the pair rather than to an entry. */
export const NO_ID = 0x3ff;
/** size value marking a deleted tag. */
export const DELETED = 0x3ff;
export const NULL_BLOCK = 0xffffffff;

export const mkTag = (type: number, id: number, size: number): number => ((type << 20) | (id << 10) | size) >>> 0;
export const tagType = (tag: number): number => (tag >>> 20) & 0x7ff;
export const tagType1 = (tag: number): number => (tag >>> 20) & 0x700;
export const tagChunk = (tag: number): number => (tag >>> 20) & 0xff;
export const tagId = (tag: number): number => (tag >>> 10) & 0x3ff;
export const tagSize = (tag: number): number => tag & 0x3ff;
export const isValid = (tag: number): boolean => (tag & 0x80000000) === 0;
/** Bytes the tag occupies on disk, header included (deleted tags carry no data). */
export const tagDsize = (tag: number): number => 4 + (tagSize(tag) === DELETED ? 0 : tagSize(tag));

export const le32 = (b: Uint8Array, off: number): number =>
  (b[off] | (b[off + 1] << 8) | (b[off + 2] << 16) | (b[off + 3] << 24)) >>> 0;
export const be32 = (b: Uint8Array, off: number): number =>
  ((b[off] << 24) | (b[off + 1] << 16) | (b[off + 2] << 8) | b[off + 3]) >>> 0;
export function putLe32(b: Uint8Array, off: number, v: number): void {
  b[off] = v & 0xff; b[off + 1] = (v >>> 8) & 0xff; b[off + 2] = (v >>> 16) & 0xff; b[off + 3] = (v >>> 24) & 0xff;
}
export function putBe32(b: Uint8Array, off: number, v: number): void {
  b[off] = (v >>> 24) & 0xff; b[off + 1] = (v >>> 16) & 0xff; b[off + 2] = (v >>> 8) & 0xff; b[off + 3] = v & 0xff;
}
export function le32s(...vals: number[]): Uint8Array {
  const b = new Uint8Array(vals.length * 4);
  vals.forEach((v, i) => putLe32(b, i * 4, v >>> 0));
  return b;
}
/** Sequence comparison of revision counts (wraps at 2^32). */
export const seqCmp = (a: number, b: number): number => (a - b) | 0;
