// ESP-IDF OTA data (the 'otadata' partition, data/ota): two flash sectors, each holding one esp_ota_select_entry_t
// at its start: uint32 ota_seq, 20 bytes seq_label, uint32 ota_state, uint32 crc (esp_rom_crc32_le(UINT32_MAX,
// &ota_seq, 4)). The valid entry with the highest sequence number selects app slot ota_((seq - 1) % slots).
// Pure codec.
import { crc32Update } from '../crc32.js';

export const OTADATA_SECTOR = 0x1000;
export const OTA_ENTRY_LEN = 32;

export const OTA_STATE = {
  NEW: 0x0,
  PENDING_VERIFY: 0x1,
  VALID: 0x2,
  INVALID: 0x3,
  ABORTED: 0x4,
  UNDEFINED: 0xffffffff,
} as const;

export interface OtaEntry {
  seq: number;
  state: number;
  /** False for an erased sector or a CRC mismatch: the bootloader ignores the entry. */
  valid: boolean;
}

export function otaEntryCrc(seq: number): number {
  const b = new Uint8Array(4);
  new DataView(b.buffer).setUint32(0, seq >>> 0, true);
  return ~crc32Update(0, b) >>> 0; // esp_rom_crc32_le(UINT32_MAX, …) is ~update(~UINT32_MAX)
}

export function decodeOtaEntry(sector: Uint8Array): OtaEntry {
  const v = new DataView(sector.buffer, sector.byteOffset, OTA_ENTRY_LEN);
  const seq = v.getUint32(0, true);
  const state = v.getUint32(24, true);
  const crc = v.getUint32(28, true);
  return { seq, state, valid: seq !== 0xffffffff && crc === otaEntryCrc(seq) };
}

/** One sector's entry as written: the rest of the 32 bytes stay 0xFF (the erased seq_label). */
export function encodeOtaEntry(seq: number, state: number): Uint8Array {
  const out = new Uint8Array(OTA_ENTRY_LEN).fill(0xff);
  const v = new DataView(out.buffer);
  v.setUint32(0, seq >>> 0, true);
  v.setUint32(24, state >>> 0, true);
  v.setUint32(28, otaEntryCrc(seq), true);
  return out;
}

/** An entry the bootloader may select: CRC good and, with rollback enabled, not given up on. */
export function selectable(e: OtaEntry): boolean {
  return e.valid && e.state !== OTA_STATE.INVALID && e.state !== OTA_STATE.ABORTED;
}

/** Index (0 or 1) of the sector whose entry is active, or -1 when neither is selectable. */
export function activeOtaSector(entries: readonly [OtaEntry, OtaEntry]): number {
  const [a, b] = entries;
  if (selectable(a) && selectable(b)) return a.seq >= b.seq ? 0 : 1;
  if (selectable(a)) return 0;
  if (selectable(b)) return 1;
  return -1;
}
