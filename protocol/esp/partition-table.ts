// ESP-IDF binary partition table (flashed at 0x8000): 32-byte entries, an optional MD5 row, then an
// erased (0xFF) row. Layout per ESP-IDF's esp_partition_info_t and gen_esp32part.py. Pure codec.
import { nodeCrypto } from '../lazy-builtin.js';
import { BoardError } from '../errors.js';

export const PARTITION_TABLE_OFFSET = 0x8000;
/** ESP_PARTITION_TABLE_MAX_LEN: the table sector holds at most this many bytes. */
export const PARTITION_TABLE_MAX_LEN = 0xc00;
const ENTRY_LEN = 32;
const ENTRY_MAGIC = [0xaa, 0x50] as const;
const MD5_MAGIC = [0xeb, 0xeb] as const;

export const PARTITION_TYPES: Readonly<Record<string, number>> = { app: 0x00, data: 0x01, bootloader: 0x02, partition_table: 0x03 };

const APP_SUBTYPES: Record<string, number> = {
  factory: 0x00,
  test: 0x20,
  ...Object.fromEntries(Array.from({ length: 16 }, (_, i) => [`ota_${i}`, 0x10 + i])),
};
const DATA_SUBTYPES: Record<string, number> = {
  ota: 0x00, phy: 0x01, nvs: 0x02, coredump: 0x03, nvs_keys: 0x04, efuse: 0x05, undefined: 0x06,
  esphttpd: 0x80, fat: 0x81, spiffs: 0x82, littlefs: 0x83,
};
const SUBTYPES: Record<number, Record<string, number>> = {
  0x00: APP_SUBTYPES,
  0x01: DATA_SUBTYPES,
  0x02: { primary: 0x00, ota: 0x01, recovery: 0x02 },
  0x03: { primary: 0x00, ota: 0x01 },
};

const FLAG_ENCRYPTED = 1 << 0;
const FLAG_READONLY = 1 << 1;

export interface PartitionEntry {
  label: string;
  type: number;
  subtype: number;
  offset: number;
  size: number;
  flags: number;
}

export interface DecodedPartition extends PartitionEntry {
  /** 'app', 'data', … or the number in hex for custom types. */
  typeName: string;
  subtypeName: string;
  encrypted: boolean;
  readonly: boolean;
}

export interface PartitionTable {
  entries: DecodedPartition[];
  /** Present when the table has an MD5 row. */
  md5?: { stored: string; calculated: string; valid: boolean };
  /** Bytes used, including the MD5 row (not the terminating 0xFF row). */
  length: number;
}

const hex = (n: number) => '0x' + n.toString(16);

export function partitionTypeName(type: number): string {
  return Object.entries(PARTITION_TYPES).find(([, v]) => v === type)?.[0] ?? hex(type);
}

export function partitionSubtypeName(type: number, subtype: number): string {
  const table = SUBTYPES[type];
  return (table && Object.entries(table).find(([, v]) => v === subtype)?.[0]) ?? hex(subtype);
}

/** Type and subtype numbers from names as gen_esp32part CSVs write them ('app'/'factory', 'data'/'fat', or numbers). */
export function partitionTypeCodes(type: string | number, subtype: string | number): { type: number; subtype: number } {
  const t = typeof type === 'number' ? type : (PARTITION_TYPES[type] ?? Number(type));
  if (!Number.isInteger(t) || t < 0 || t > 0xfe) throw new BoardError('USAGE', `unknown partition type '${type}'`);
  const s = typeof subtype === 'number' ? subtype : (SUBTYPES[t]?.[subtype] ?? Number(subtype));
  if (!Number.isInteger(s) || s < 0 || s > 0xfe) throw new BoardError('USAGE', `unknown subtype '${subtype}' for partition type '${type}'`);
  return { type: t, subtype: s };
}

const isRow = (row: Uint8Array, magic: readonly number[]) => row[0] === magic[0] && row[1] === magic[1];
const isErased = (row: Uint8Array) => row.every((b) => b === 0xff);

export interface DecodePartitionTableOptions {
  /** Throw BAD_IMAGE on an MD5 mismatch (default true). */
  verify?: boolean;
}

/**
 * Decode a table from the start of `bytes` (pass the 0xC00 bytes at 0x8000, or a partitions.bin file).
 * The table ends at an erased row or at the end of the input. Throws BAD_IMAGE for an entry without the
 * 0xAA50 magic, an empty table, or (unless verify is false) an MD5 mismatch.
 */
export function decodePartitionTable(bytes: Uint8Array, opts: DecodePartitionTableOptions = {}): PartitionTable {
  const entries: DecodedPartition[] = [];
  let md5: PartitionTable['md5'];
  let pos = 0;
  const limit = Math.min(bytes.length, PARTITION_TABLE_MAX_LEN);
  for (; pos + ENTRY_LEN <= limit; pos += ENTRY_LEN) {
    const row = bytes.subarray(pos, pos + ENTRY_LEN);
    if (isErased(row)) break;
    if (isRow(row, MD5_MAGIC)) {
      const stored = Buffer.from(row.subarray(16, 32)).toString('hex');
      const calculated = nodeCrypto().createHash('md5').update(bytes.subarray(0, pos)).digest('hex');
      md5 = { stored, calculated, valid: stored === calculated };
      if (!md5.valid && opts.verify !== false) {
        throw new BoardError('BAD_IMAGE', `partition table MD5 mismatch: calculated ${calculated}, stored ${stored}`, { md5 });
      }
      pos += ENTRY_LEN;
      break;
    }
    if (!isRow(row, ENTRY_MAGIC)) {
      const magic = (row[0]! << 8) | row[1]!;
      throw new BoardError('BAD_IMAGE', `partition table entry ${entries.length} at ${hex(pos)} has invalid magic ${hex(magic)} (expected 0xaa50)`);
    }
    const v = new DataView(row.buffer, row.byteOffset, ENTRY_LEN);
    const labelBytes = row.subarray(12, 28);
    const nul = labelBytes.indexOf(0);
    const entry: PartitionEntry = {
      type: row[2]!,
      subtype: row[3]!,
      offset: v.getUint32(4, true),
      size: v.getUint32(8, true),
      label: new TextDecoder('latin1').decode(nul < 0 ? labelBytes : labelBytes.subarray(0, nul)),
      flags: v.getUint32(28, true),
    };
    entries.push({
      ...entry,
      typeName: partitionTypeName(entry.type),
      subtypeName: partitionSubtypeName(entry.type, entry.subtype),
      encrypted: (entry.flags & FLAG_ENCRYPTED) !== 0,
      readonly: (entry.flags & FLAG_READONLY) !== 0,
    });
  }
  if (entries.length === 0) {
    const what = bytes.length < ENTRY_LEN ? `only ${bytes.length} bytes` : 'no entries (erased flash?)';
    throw new BoardError('BAD_IMAGE', `not a partition table: ${what}`);
  }
  return { entries, md5, length: pos };
}

export interface EncodePartitionTableOptions {
  /** Append the MD5 row (default true, as gen_esp32part does). */
  md5?: boolean;
  /** Pad with 0xFF to PARTITION_TABLE_MAX_LEN (default true: the table sector as flashed). */
  pad?: boolean;
}

/** Encode entries in the given order. Throws USAGE for overlapping entries, long labels or a table that does not fit. */
export function encodePartitionTable(entries: PartitionEntry[], opts: EncodePartitionTableOptions = {}): Uint8Array {
  const withMd5 = opts.md5 ?? true;
  const used = (entries.length + (withMd5 ? 1 : 0)) * ENTRY_LEN;
  // One erased row must follow, so the loader sees the end.
  if (used + ENTRY_LEN > PARTITION_TABLE_MAX_LEN) throw new BoardError('USAGE', `too many partitions (${entries.length}) for the table sector`);
  const sorted = [...entries].sort((a, b) => a.offset - b.offset);
  for (let i = 1; i < sorted.length; i++) {
    const prev = sorted[i - 1]!;
    const cur = sorted[i]!;
    if (prev.offset + prev.size > cur.offset) {
      throw new BoardError('USAGE', `partition '${cur.label}' at ${hex(cur.offset)} overlaps '${prev.label}' (${hex(prev.offset)}..${hex(prev.offset + prev.size)})`);
    }
  }
  const out = new Uint8Array(opts.pad === false ? used + ENTRY_LEN : PARTITION_TABLE_MAX_LEN).fill(0xff);
  entries.forEach((e, i) => {
    const at = i * ENTRY_LEN;
    const label = new TextEncoder().encode(e.label);
    if (label.length > 16) throw new BoardError('USAGE', `partition label '${e.label}' is longer than 16 bytes`);
    const row = out.subarray(at, at + ENTRY_LEN);
    row.fill(0);
    row.set(ENTRY_MAGIC, 0);
    row[2] = e.type;
    row[3] = e.subtype;
    const v = new DataView(out.buffer, out.byteOffset + at, ENTRY_LEN);
    v.setUint32(4, e.offset, true);
    v.setUint32(8, e.size, true);
    row.set(label, 12);
    v.setUint32(28, e.flags, true);
  });
  if (withMd5) {
    const at = entries.length * ENTRY_LEN;
    out.set(MD5_MAGIC, at); // bytes 2..15 stay 0xFF
    out.set(nodeCrypto().createHash('md5').update(out.subarray(0, at)).digest(), at + 16);
  }
  return out;
}

/** The partition the bootloader starts without OTA data: the factory app, else the lowest OTA slot, else the test app. */
export function bootPartition(table: PartitionTable): DecodedPartition | undefined {
  const apps = table.entries.filter((e) => e.type === PARTITION_TYPES.app);
  return (
    apps.find((e) => e.subtype === APP_SUBTYPES.factory) ??
    apps.filter((e) => e.subtype >= 0x10 && e.subtype < 0x20).sort((a, b) => a.subtype - b.subtype)[0] ??
    apps.find((e) => e.subtype === APP_SUBTYPES.test)
  );
}
