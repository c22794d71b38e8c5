// ESP32-family firmware image codec: the format the ROM loads (second-stage bootloaders) and the bootloader
// loads (apps). Layout per esptool's "Firmware Image Format" and ESP-IDF's esp_image_header_t /
// esp_app_desc_t; all multi-byte fields little-endian. Pure: bytes in, data out.
import { nodeCrypto } from '../lazy-builtin.js';
import { BoardError } from '../errors.js';

export const ESP_IMAGE_MAGIC = 0xe9;
/** Seed of the XOR checksum over all segment data bytes. */
export const ESP_CHECKSUM_MAGIC = 0xef;
export const APP_DESC_MAGIC = 0xabcd5432;
/** First byte of esp_bootloader_desc_t, at the start of a (newer) bootloader's first segment. */
export const BOOTLOADER_DESC_MAGIC = 0x50;
/** ESP_IMAGE_MAX_SEGMENTS in ESP-IDF. */
export const MAX_SEGMENTS = 16;
/** 8-byte common header + 16-byte extended header. */
export const IMAGE_HEADER_LEN = 24;
export const SEGMENT_HEADER_LEN = 8;
export const APP_DESC_LEN = 256;
const SHA256_LEN = 32;

export type FlashMode = 'qio' | 'qout' | 'dio' | 'dout';
export const FLASH_MODES: readonly FlashMode[] = ['qio', 'qout', 'dio', 'dout'];

/** Flash size codes (high nibble of header byte 3) shared by every ESP32-family chip. */
const FLASH_SIZES = ['1MB', '2MB', '4MB', '8MB', '16MB', '32MB', '64MB', '128MB'] as const;

type MemoryRegion = readonly [start: number, end: number, name: string];

export interface EspChip {
  /** IMAGE_CHIP_ID in the extended header. */
  readonly id: number;
  /** Name as esptool prints it, e.g. 'ESP32-C3'. */
  readonly name: string;
  readonly bootloaderOffset: number;
  /** Flash frequency name -> low nibble of header byte 3. */
  readonly flashFreqs: Readonly<Record<string, number>>;
  /** esptool's MEMORY_MAP, used to name the memory a segment loads into (empty where we do not know it). */
  readonly memoryMap: readonly MemoryRegion[];
}

const COMMON_FREQS = { '80m': 0xf, '40m': 0x0, '26m': 0x1, '20m': 0x2 };

// Memory maps from esptool's targets/<chip>.py.
const ESP32_MAP: MemoryRegion[] = [
  [0x00000000, 0x00010000, 'PADDING'], [0x3f400000, 0x3f800000, 'DROM'], [0x3f800000, 0x3fc00000, 'EXTRAM_DATA'],
  [0x3ff80000, 0x3ff82000, 'RTC_DRAM'], [0x3ff90000, 0x40000000, 'BYTE_ACCESSIBLE'], [0x3ffae000, 0x40000000, 'DRAM'],
  [0x3ffe0000, 0x3ffffffc, 'DIRAM_DRAM'], [0x40000000, 0x40070000, 'IROM'], [0x40070000, 0x40078000, 'CACHE_PRO'],
  [0x40078000, 0x40080000, 'CACHE_APP'], [0x40080000, 0x400a0000, 'IRAM'], [0x400a0000, 0x400bfffc, 'DIRAM_IRAM'],
  [0x400c0000, 0x400c2000, 'RTC_IRAM'], [0x400d0000, 0x40400000, 'IROM'], [0x50000000, 0x50002000, 'RTC_DATA'],
];
const ESP32S2_MAP: MemoryRegion[] = [
  [0x00000000, 0x00010000, 'PADDING'], [0x3f000000, 0x3ff80000, 'DROM'], [0x3f500000, 0x3ff80000, 'EXTRAM_DATA'],
  [0x3ff9e000, 0x3ffa0000, 'RTC_DRAM'], [0x3ff9e000, 0x40000000, 'BYTE_ACCESSIBLE'], [0x3ff9e000, 0x40072000, 'MEM_INTERNAL'],
  [0x3ffb0000, 0x40000000, 'DRAM'], [0x40000000, 0x4001a100, 'IROM_MASK'], [0x40020000, 0x40070000, 'IRAM'],
  [0x40070000, 0x40072000, 'RTC_IRAM'], [0x40080000, 0x40800000, 'IROM'], [0x50000000, 0x50002000, 'RTC_DATA'],
];
const ESP32S3_MAP: MemoryRegion[] = [
  [0x00000000, 0x00010000, 'PADDING'], [0x3c000000, 0x3d000000, 'DROM'], [0x3d000000, 0x3e000000, 'EXTRAM_DATA'],
  [0x600fe000, 0x60100000, 'RTC_DRAM'], [0x3fc88000, 0x3fd00000, 'BYTE_ACCESSIBLE'], [0x3fc88000, 0x403e2000, 'MEM_INTERNAL'],
  [0x3fc88000, 0x3fd00000, 'DRAM'], [0x40000000, 0x4001a100, 'IROM_MASK'], [0x40370000, 0x403e0000, 'IRAM'],
  [0x600fe000, 0x60100000, 'RTC_IRAM'], [0x42000000, 0x42800000, 'IROM'], [0x50000000, 0x50002000, 'RTC_DATA'],
];
const ESP32C3_MAP: MemoryRegion[] = [
  [0x00000000, 0x00010000, 'PADDING'], [0x3c000000, 0x3c800000, 'DROM'], [0x3fc80000, 0x3fce0000, 'DRAM'],
  [0x3fc88000, 0x3fd00000, 'BYTE_ACCESSIBLE'], [0x3ff00000, 0x3ff20000, 'DROM_MASK'], [0x40000000, 0x40060000, 'IROM_MASK'],
  [0x42000000, 0x42800000, 'IROM'], [0x4037c000, 0x403e0000, 'IRAM'], [0x50000000, 0x50002000, 'RTC_IRAM'],
  [0x50000000, 0x50002000, 'RTC_DRAM'],
];
const ESP32C2_MAP: MemoryRegion[] = [
  [0x00000000, 0x00010000, 'PADDING'], [0x3c000000, 0x3c400000, 'DROM'], [0x3fca0000, 0x3fce0000, 'DRAM'],
  [0x3fc88000, 0x3fd00000, 'BYTE_ACCESSIBLE'], [0x3ff00000, 0x3ff50000, 'DROM_MASK'], [0x40000000, 0x40090000, 'IROM_MASK'],
  [0x42000000, 0x42400000, 'IROM'], [0x4037c000, 0x403c0000, 'IRAM'],
];

export const ESP_CHIPS: readonly EspChip[] = [
  { id: 0, name: 'ESP32', bootloaderOffset: 0x1000, flashFreqs: COMMON_FREQS, memoryMap: ESP32_MAP },
  { id: 2, name: 'ESP32-S2', bootloaderOffset: 0x1000, flashFreqs: COMMON_FREQS, memoryMap: ESP32S2_MAP },
  { id: 5, name: 'ESP32-C3', bootloaderOffset: 0x0, flashFreqs: COMMON_FREQS, memoryMap: ESP32C3_MAP },
  { id: 9, name: 'ESP32-S3', bootloaderOffset: 0x0, flashFreqs: COMMON_FREQS, memoryMap: ESP32S3_MAP },
  { id: 12, name: 'ESP32-C2', bootloaderOffset: 0x0, flashFreqs: { '60m': 0xf, '30m': 0x0, '20m': 0x1, '15m': 0x2 }, memoryMap: ESP32C2_MAP },
  { id: 13, name: 'ESP32-C6', bootloaderOffset: 0x0, flashFreqs: { '80m': 0x0, '20m': 0x2 }, memoryMap: [] },
  { id: 16, name: 'ESP32-H2', bootloaderOffset: 0x0, flashFreqs: { '48m': 0xf, '24m': 0x0, '16m': 0x1, '12m': 0x2 }, memoryMap: [] },
  { id: 18, name: 'ESP32-P4', bootloaderOffset: 0x2000, flashFreqs: COMMON_FREQS, memoryMap: [] },
  { id: 20, name: 'ESP32-C61', bootloaderOffset: 0x0, flashFreqs: COMMON_FREQS, memoryMap: [] },
  { id: 23, name: 'ESP32-C5', bootloaderOffset: 0x2000, flashFreqs: COMMON_FREQS, memoryMap: [] },
];

const normalize = (name: string) => name.toLowerCase().replace(/[^a-z0-9]/g, '');

/** Chip by image chip id or by name ('ESP32-C3', 'esp32c3', 'esp32-c3' all work). */
export function findChip(idOrName: number | string): EspChip | undefined {
  if (typeof idOrName === 'number') return ESP_CHIPS.find((c) => c.id === idOrName);
  const key = normalize(idOrName);
  return ESP_CHIPS.find((c) => normalize(c.name) === key);
}

export function chipName(id: number): string | undefined {
  return findChip(id)?.name;
}

export function chipId(name: string): number {
  const chip = findChip(name);
  if (!chip) throw new BoardError('USAGE', `unknown ESP chip '${name}' (known: ${ESP_CHIPS.map((c) => c.name).join(', ')})`);
  return chip.id;
}

/** esptool's memory type names for a load address, in memory-map order (empty when unknown). */
export function memoryTypes(chip: number, address: number): string[] {
  const map = findChip(chip)?.memoryMap ?? [];
  return map.filter(([start, end]) => address >= start && address < end).map(([, , name]) => name);
}

export interface EspSegment {
  loadAddress: number;
  /** Offset of the segment header in the image. */
  fileOffset: number;
  data: Uint8Array;
}

export interface EspAppDesc {
  secureVersion: number;
  version: string;
  projectName: string;
  time: string;
  date: string;
  idfVer: string;
  /** Hex of the ELF file's SHA-256 as recorded by the build. */
  appElfSha256: string;
  minEfuseBlkRevFull: number;
  maxEfuseBlkRevFull: number;
  /** MMU page size in bytes (0 when the field is unset, as in older IDF builds). */
  mmuPageSize: number;
}

export interface EspBootloaderDesc {
  version: number;
  idfVer: string;
  dateTime: string;
}

export interface EspImageHeader {
  segmentCount: number;
  flashModeCode: number;
  /** Undefined for codes outside QIO/QOUT/DIO/DOUT. */
  flashMode?: FlashMode;
  flashSizeCode: number;
  flashFreqCode: number;
  /** e.g. '4MB'; undefined for an unknown code. */
  flashSize?: string;
  /** e.g. '40m'; undefined when the chip or the code is unknown. */
  flashFreq?: string;
  entry: number;
  wpPin: number;
  /** clk, q, d, cs0, hd, wp drive settings (4 bits each). */
  pinDrive: { clk: number; q: number; d: number; cs0: number; hd: number; wp: number };
  chipId: number;
  chipName?: string;
  /** Deprecated one-byte minimum revision (major only). */
  minRevLegacy: number;
  /** Revisions as major*100+minor. */
  minChipRevFull: number;
  maxChipRevFull: number;
  hashAppended: boolean;
}

export interface EspImage extends EspImageHeader {
  segments: EspSegment[];
  checksum: { stored: number; calculated: number; valid: boolean; fileOffset: number };
  /** Present when the header says a SHA-256 is appended. */
  sha256?: { stored: string; calculated: string; valid: boolean };
  appDesc?: EspAppDesc;
  bootloaderDesc?: EspBootloaderDesc;
  /** Bytes the image occupies (header to checksum, plus the digest). */
  length: number;
}

const hex = (n: number, width = 0) => '0x' + n.toString(16).padStart(width, '0');
const dv = (b: Uint8Array) => new DataView(b.buffer, b.byteOffset, b.byteLength);
const sha256Hex = (b: Uint8Array) => nodeCrypto().createHash('sha256').update(b).digest('hex');
const toHex = (b: Uint8Array) => Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('hex');

function cString(b: Uint8Array): string {
  const end = b.indexOf(0);
  return new TextDecoder('latin1').decode(end < 0 ? b : b.subarray(0, end));
}

function bad(message: string, details: Record<string, unknown> = {}): BoardError {
  return new BoardError('BAD_IMAGE', message, details);
}

function freqName(chip: EspChip | undefined, code: number): string | undefined {
  if (!chip) return undefined;
  return Object.entries(chip.flashFreqs).find(([, c]) => c === code)?.[0];
}

/** Parse the 24-byte header (common + extended). Throws BAD_IMAGE on short input or a wrong magic byte. */
export function decodeEspImageHeader(bytes: Uint8Array): EspImageHeader {
  if (bytes.length < 1 || bytes[0] !== ESP_IMAGE_MAGIC) {
    const got = bytes.length ? hex(bytes[0]!, 2) : 'nothing';
    throw bad(`not an ESP image: magic byte is ${got}, expected 0xe9`, { magic: bytes[0] });
  }
  if (bytes.length < IMAGE_HEADER_LEN) {
    throw bad(`ESP image truncated: ${bytes.length} bytes, the header alone needs ${IMAGE_HEADER_LEN}`);
  }
  const v = dv(bytes);
  const chipIdValue = v.getUint16(12, true);
  const chip = findChip(chipIdValue);
  const flashModeCode = bytes[2]!;
  const sizeFreq = bytes[3]!;
  const drv = (byte: number, high: boolean) => (high ? bytes[byte]! >> 4 : bytes[byte]! & 0xf);
  return {
    segmentCount: bytes[1]!,
    flashModeCode,
    flashMode: FLASH_MODES[flashModeCode],
    flashSizeCode: sizeFreq >> 4,
    flashFreqCode: sizeFreq & 0xf,
    flashSize: FLASH_SIZES[sizeFreq >> 4],
    flashFreq: freqName(chip, sizeFreq & 0xf),
    entry: v.getUint32(4, true),
    wpPin: bytes[8]!,
    // Byte 9: clk (low nibble), q (high); byte 10: d, cs0; byte 11: hd, wp.
    pinDrive: { clk: drv(9, false), q: drv(9, true), d: drv(10, false), cs0: drv(10, true), hd: drv(11, false), wp: drv(11, true) },
    chipId: chipIdValue,
    chipName: chip?.name,
    minRevLegacy: bytes[14]!,
    minChipRevFull: v.getUint16(15, true),
    maxChipRevFull: v.getUint16(17, true),
    hashAppended: bytes[23] === 1,
  };
}

function decodeAppDesc(d: Uint8Array): EspAppDesc | undefined {
  if (d.length < APP_DESC_LEN || dv(d).getUint32(0, true) !== APP_DESC_MAGIC) return undefined;
  const v = dv(d);
  const pageLog2 = d[180]!;
  return {
    secureVersion: v.getUint32(4, true),
    version: cString(d.subarray(16, 48)),
    projectName: cString(d.subarray(48, 80)),
    time: cString(d.subarray(80, 96)),
    date: cString(d.subarray(96, 112)),
    idfVer: cString(d.subarray(112, 144)),
    appElfSha256: toHex(d.subarray(144, 176)),
    minEfuseBlkRevFull: v.getUint16(176, true),
    maxEfuseBlkRevFull: v.getUint16(178, true),
    mmuPageSize: pageLog2 ? 2 ** pageLog2 : 0,
  };
}

const BOOTLOADER_DESC_LEN = 80;

function decodeBootloaderDesc(d: Uint8Array): EspBootloaderDesc | undefined {
  if (d.length < BOOTLOADER_DESC_LEN || d[0] !== BOOTLOADER_DESC_MAGIC) return undefined;
  return { version: dv(d).getUint32(4, true), idfVer: cString(d.subarray(8, 40)), dateTime: cString(d.subarray(40, 64)) };
}

export interface DecodeOptions {
  /** Throw BAD_IMAGE on a checksum or SHA-256 mismatch (default true). With false, report it in the result. */
  verify?: boolean;
}

/**
 * Decode a whole image. Bytes after the image (e.g. the rest of a partition) are ignored.
 * Throws BAD_IMAGE for bad magic, truncation, too many segments and (unless verify is false) bad checksum/hash.
 */
export function decodeEspImage(bytes: Uint8Array, opts: DecodeOptions = {}): EspImage {
  const header = decodeEspImageHeader(bytes);
  if (header.segmentCount > MAX_SEGMENTS) {
    throw bad(`ESP image declares ${header.segmentCount} segments; at most ${MAX_SEGMENTS} are allowed`);
  }
  const v = dv(bytes);
  const segments: EspSegment[] = [];
  let pos = IMAGE_HEADER_LEN;
  let calculated = ESP_CHECKSUM_MAGIC;
  for (let i = 0; i < header.segmentCount; i++) {
    if (pos + SEGMENT_HEADER_LEN > bytes.length) {
      throw bad(`ESP image truncated: segment ${i} header at ${hex(pos)} is past the end (${bytes.length} bytes)`);
    }
    const loadAddress = v.getUint32(pos, true);
    const len = v.getUint32(pos + 4, true);
    const start = pos + SEGMENT_HEADER_LEN;
    if (start + len > bytes.length) {
      throw bad(
        `ESP image truncated: segment ${i} at ${hex(pos)} declares ${hex(len)} bytes but only ${hex(bytes.length - start)} remain`,
      );
    }
    const data = bytes.subarray(start, start + len);
    for (const b of data) calculated ^= b;
    segments.push({ loadAddress, fileOffset: pos, data });
    pos = start + len;
  }
  // Zero padding so that the checksum byte is the last byte of a 16-byte block.
  const checksumOffset = pos + (15 - (pos % 16));
  if (checksumOffset >= bytes.length) {
    throw bad(`ESP image truncated: checksum byte at ${hex(checksumOffset)} is past the end (${bytes.length} bytes)`);
  }
  const stored = bytes[checksumOffset]!;
  const checksum = { stored, calculated, valid: stored === calculated, fileOffset: checksumOffset };
  if (!checksum.valid && opts.verify !== false) {
    throw bad(`ESP image checksum mismatch: calculated ${hex(calculated, 2)}, stored ${hex(stored, 2)}`, { checksum });
  }
  let length = checksumOffset + 1;
  let sha256: EspImage['sha256'];
  if (header.hashAppended) {
    if (length + SHA256_LEN > bytes.length) {
      throw bad(`ESP image truncated: the appended SHA-256 at ${hex(length)} needs ${SHA256_LEN} bytes, ${bytes.length - length} remain`);
    }
    const storedHash = toHex(bytes.subarray(length, length + SHA256_LEN));
    const calculatedHash = sha256Hex(bytes.subarray(0, length));
    sha256 = { stored: storedHash, calculated: calculatedHash, valid: storedHash === calculatedHash };
    if (!sha256.valid && opts.verify !== false) {
      throw bad(`ESP image SHA-256 mismatch: calculated ${calculatedHash}, stored ${storedHash}`, { sha256 });
    }
    length += SHA256_LEN;
  }
  const first = segments[0]?.data;
  return {
    ...header,
    segments,
    checksum,
    sha256,
    appDesc: first && decodeAppDesc(first),
    bootloaderDesc: first && decodeBootloaderDesc(first),
    length,
  };
}

/** The chip an image is built for, by name ('ESP32-C3'), or undefined if it is not an ESP image or the id is unknown. */
export function chipOfImage(bytes: Uint8Array): string | undefined {
  if (bytes.length < IMAGE_HEADER_LEN || bytes[0] !== ESP_IMAGE_MAGIC) return undefined;
  return chipName(dv(bytes).getUint16(12, true));
}

export interface AppDescInput {
  projectName: string;
  version: string;
  idfVer: string;
  time?: string;
  date?: string;
  secureVersion?: number;
  /** 32 bytes; zeros when omitted. */
  appElfSha256?: Uint8Array;
  mmuPageSize?: number;
}

function putString(out: Uint8Array, at: number, size: number, s: string, field: string): void {
  const b = new TextEncoder().encode(s);
  // Leave room for the terminating NUL, as the C struct does.
  if (b.length >= size) throw new BoardError('USAGE', `${field} '${s}' is longer than ${size - 1} bytes`);
  out.set(b, at);
}

/** Build the 256-byte esp_app_desc_t that starts an app's first (DROM) segment. */
export function encodeAppDesc(desc: AppDescInput): Uint8Array {
  const out = new Uint8Array(APP_DESC_LEN);
  const v = dv(out);
  v.setUint32(0, APP_DESC_MAGIC, true);
  v.setUint32(4, desc.secureVersion ?? 0, true);
  putString(out, 16, 32, desc.version, 'version');
  putString(out, 48, 32, desc.projectName, 'project name');
  putString(out, 80, 16, desc.time ?? '00:00:00', 'time');
  putString(out, 96, 16, desc.date ?? 'Jan  1 2025', 'date');
  putString(out, 112, 32, desc.idfVer, 'idf_ver');
  if (desc.appElfSha256) out.set(desc.appElfSha256.subarray(0, 32), 144);
  v.setUint16(178, 0xffff, true); // max efuse block revision: no limit
  out[180] = Math.log2(desc.mmuPageSize ?? 0x10000);
  return out;
}

/** Build the 80-byte esp_bootloader_desc_t that starts a bootloader's first (DRAM) segment. */
export function encodeBootloaderDesc(desc: { version: number; idfVer: string; dateTime: string }): Uint8Array {
  const out = new Uint8Array(BOOTLOADER_DESC_LEN);
  out[0] = BOOTLOADER_DESC_MAGIC;
  dv(out).setUint32(4, desc.version, true);
  putString(out, 8, 32, desc.idfVer, 'idf_ver');
  putString(out, 40, 24, desc.dateTime, 'date_time');
  return out;
}

export interface EncodeEspImageOptions {
  /** Chip name or image chip id. */
  chip: string | number;
  entry: number;
  segments: { loadAddress: number; data: Uint8Array }[];
  flashMode?: FlashMode;
  flashSize?: string;
  flashFreq?: string;
  /** 0xEE means "not set via eFuse" (the value esptool writes). */
  wpPin?: number;
  minChipRevFull?: number;
  maxChipRevFull?: number;
  /** Append a SHA-256 of the image (default true, as esptool elf2image does). */
  hashAppended?: boolean;
}

function resolveChip(chip: string | number): EspChip {
  const found = findChip(chip);
  if (!found) throw new BoardError('USAGE', `unknown ESP chip ${typeof chip === 'number' ? `id ${chip}` : `'${chip}'`}`);
  return found;
}

function flashModeCode(mode: string): number {
  const code = FLASH_MODES.indexOf(mode.toLowerCase() as FlashMode);
  if (code < 0) throw new BoardError('USAGE', `unknown flash mode '${mode}' (choose one of: ${FLASH_MODES.join(', ')})`);
  return code;
}

function flashSizeCode(size: string): number {
  const code = (FLASH_SIZES as readonly string[]).indexOf(size.toUpperCase());
  if (code < 0) throw new BoardError('USAGE', `unknown flash size '${size}' (choose one of: ${FLASH_SIZES.join(', ')})`);
  return code;
}

function flashFreqCode(chip: EspChip, freq: string): number {
  const code = chip.flashFreqs[freq.toLowerCase()];
  if (code === undefined) {
    throw new BoardError('USAGE', `flash frequency '${freq}' is not valid for ${chip.name} (choose one of: ${Object.keys(chip.flashFreqs).join(', ')})`);
  }
  return code;
}

/** Build an image: header, extended header, segments, padded checksum and (by default) the SHA-256. */
export function encodeEspImage(opts: EncodeEspImageOptions): Uint8Array {
  const chip = resolveChip(opts.chip);
  if (opts.segments.length > MAX_SEGMENTS) throw new BoardError('USAGE', `an ESP image holds at most ${MAX_SEGMENTS} segments`);
  const body = opts.segments.reduce((n, s) => n + SEGMENT_HEADER_LEN + s.data.length, IMAGE_HEADER_LEN);
  const checksumOffset = body + (15 - (body % 16));
  const hashAppended = opts.hashAppended ?? true;
  const out = new Uint8Array(checksumOffset + 1 + (hashAppended ? SHA256_LEN : 0));
  const v = dv(out);
  out[0] = ESP_IMAGE_MAGIC;
  out[1] = opts.segments.length;
  out[2] = flashModeCode(opts.flashMode ?? 'dio');
  // Frequency code 0 is each chip's default (40m on most).
  out[3] = (flashSizeCode(opts.flashSize ?? '4MB') << 4) | (opts.flashFreq ? flashFreqCode(chip, opts.flashFreq) : 0);
  v.setUint32(4, opts.entry, true);
  out[8] = opts.wpPin ?? 0xee;
  v.setUint16(12, chip.id, true);
  const minRev = opts.minChipRevFull ?? 0;
  out[14] = Math.floor(minRev / 100);
  v.setUint16(15, minRev, true);
  v.setUint16(17, opts.maxChipRevFull ?? 0xffff, true);
  out[23] = hashAppended ? 1 : 0;
  let pos = IMAGE_HEADER_LEN;
  let checksum = ESP_CHECKSUM_MAGIC;
  for (const seg of opts.segments) {
    v.setUint32(pos, seg.loadAddress, true);
    v.setUint32(pos + 4, seg.data.length, true);
    out.set(seg.data, pos + SEGMENT_HEADER_LEN);
    for (const b of seg.data) checksum ^= b;
    pos += SEGMENT_HEADER_LEN + seg.data.length;
  }
  out[checksumOffset] = checksum;
  if (hashAppended) out.set(nodeCrypto().createHash('sha256').update(out.subarray(0, checksumOffset + 1)).digest(), checksumOffset + 1);
  return out;
}

export interface FlashParams {
  /** A mode name, or 'keep' / undefined to leave the header's value. */
  flashMode?: FlashMode | 'keep';
  flashFreq?: string;
  flashSize?: string;
}

export interface PatchResult {
  image: Uint8Array;
  /** Whether any header byte changed. */
  changed: boolean;
  /** The appended SHA-256 was recomputed to match the new header. */
  hashUpdated: boolean;
  /** Set when the image has a digest that did not match before patching: esptool then leaves it alone. */
  warning?: string;
}

/**
 * Rewrite header bytes 2 (flash mode) and 3 (size/frequency), as esptool write-flash does for a bootloader
 * at the chip's bootloader offset. The checksum covers segment data only, so it stays valid; an appended
 * SHA-256 covers the header, so it is recomputed — unless it was already wrong, which esptool refuses to
 * paper over. Returns a new array; the input is not modified.
 */
export function patchFlashParams(image: Uint8Array, params: FlashParams, chipHint?: string | number): PatchResult {
  const header = decodeEspImageHeader(image);
  const chip = findChip(chipHint ?? header.chipId);
  const out = image.slice();
  const keep = (p?: string) => p === undefined || p === 'keep';
  if (!keep(params.flashMode)) out[2] = flashModeCode(params.flashMode!);
  let size = header.flashSizeCode;
  let freq = header.flashFreqCode;
  if (!keep(params.flashSize)) size = flashSizeCode(params.flashSize!);
  if (!keep(params.flashFreq)) {
    if (!chip) throw new BoardError('USAGE', `cannot set the flash frequency: unknown chip id ${header.chipId}`);
    freq = flashFreqCode(chip, params.flashFreq!);
  }
  out[3] = (size << 4) | freq;
  const changed = out[2] !== image[2] || out[3] !== image[3];
  if (!changed || !header.hashAppended) return { image: out, changed, hashUpdated: false };
  const decoded = decodeEspImage(image, { verify: false });
  if (!decoded.sha256!.valid) {
    return {
      image: out,
      changed,
      hashUpdated: false,
      warning: 'the image SHA-256 digest did not match before patching, so it was not updated',
    };
  }
  const hashAt = decoded.checksum.fileOffset + 1;
  out.set(nodeCrypto().createHash('sha256').update(out.subarray(0, hashAt)).digest(), hashAt);
  return { image: out, changed, hashUpdated: true };
}
