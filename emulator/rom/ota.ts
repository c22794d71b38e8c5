// OTA slots as ESP-IDF handles them, on the board's flash: the second-stage bootloader's choice of app (with
// CONFIG_BOOTLOADER_APP_ROLLBACK_ENABLE, as MicroPython's OTA builds have it) and the app side's esp_ota_* calls
// that esp32.Partition uses (set_boot, get_next_update, mark_app_valid_cancel_rollback).
import {
  activeOtaSector, decodeOtaEntry, encodeOtaEntry, OTA_ENTRY_LEN, OTA_STATE, OTADATA_SECTOR, type OtaEntry,
} from '../../protocol/esp/otadata.js';
import { PARTITION_TYPES, type DecodedPartition, type PartitionTable } from '../../protocol/esp/partition-table.js';
import type { FlashStore } from '../flash-store.js';

const APP = PARTITION_TYPES.app;
const FACTORY = 0x00;
const OTA_MIN = 0x10;
const OTA_MAX = 0x1f;

export const isOtaSlot = (p: DecodedPartition) => p.type === APP && p.subtype >= OTA_MIN && p.subtype <= OTA_MAX;

/** The OTA app slots in subtype order (ota_0, ota_1, ...). */
export function otaSlots(table: PartitionTable): DecodedPartition[] {
  return table.entries.filter(isOtaSlot).sort((a, b) => a.subtype - b.subtype);
}

export function otadataPartition(table: PartitionTable): DecodedPartition | undefined {
  return table.entries.find((e) => e.type === PARTITION_TYPES.data && e.subtype === 0x00);
}

export function factoryPartition(table: PartitionTable): DecodedPartition | undefined {
  return table.entries.find((e) => e.type === APP && e.subtype === FACTORY);
}

function readEntries(flash: FlashStore, otadata: DecodedPartition): [OtaEntry, OtaEntry] {
  return [0, 1].map((i) => decodeOtaEntry(flash.read(otadata.offset + i * OTADATA_SECTOR, OTA_ENTRY_LEN))) as [OtaEntry, OtaEntry];
}

/** Erase one otadata sector and write an entry at its start, as esp_rewrite_ota_data does. */
function writeEntry(flash: FlashStore, otadata: DecodedPartition, sector: number, seq: number, state: number): void {
  const at = otadata.offset + sector * OTADATA_SECTOR;
  flash.erase(at, OTADATA_SECTOR);
  flash.write(at, encodeOtaEntry(seq, state));
}

const slotOf = (slots: DecodedPartition[], seq: number) => slots[(seq - 1) % slots.length];

/**
 * The partitions the bootloader tries, best first, applying the rollback state machine on the way: an entry in
 * state NEW becomes PENDING_VERIFY and is booted; one still PENDING_VERIFY (its app never confirmed itself) is
 * marked ABORTED and the previous entry is booted instead. Without usable OTA data: factory, else ota_0.
 */
export function bootCandidates(flash: FlashStore, table: PartitionTable): DecodedPartition[] {
  const slots = otaSlots(table);
  const factory = factoryPartition(table);
  const otadata = otadataPartition(table);
  const fallback = [factory, ...slots].filter((p): p is DecodedPartition => p !== undefined);
  if (!otadata || slots.length === 0) return fallback;
  const entries = readEntries(flash, otadata);
  let active = activeOtaSector(entries);
  if (active >= 0 && entries[active]!.state === OTA_STATE.PENDING_VERIFY) {
    writeEntry(flash, otadata, active, entries[active]!.seq, OTA_STATE.ABORTED);
    entries[active] = { ...entries[active]!, state: OTA_STATE.ABORTED };
    active = activeOtaSector(entries);
  }
  if (active < 0) return fallback;
  const chosen = entries[active]!;
  if (chosen.state === OTA_STATE.NEW) writeEntry(flash, otadata, active, chosen.seq, OTA_STATE.PENDING_VERIFY);
  const first = slotOf(slots, chosen.seq)!;
  return [first, ...fallback.filter((p) => p !== first)];
}

/** Why an esp_ota_* call failed: the ESP-IDF error code (esp32.Partition raises OSError(-code)). */
export const ESP_ERR = { NOT_FOUND: 0x105, INVALID_ARG: 0x102, OTA_VALIDATE_FAILED: 0x1503, NOT_SUPPORTED: 0x106 } as const;

export class EspError extends Error {
  constructor(readonly code: number, message: string) {
    super(message);
  }
}

/** esp_ota_set_boot_partition: a factory app clears OTA data; a slot gets the next sequence number, state NEW. */
export function setBootPartition(flash: FlashStore, table: PartitionTable, part: DecodedPartition): void {
  const otadata = otadataPartition(table);
  if (part.type !== APP) throw new EspError(ESP_ERR.INVALID_ARG, `${part.label} is not an app partition`);
  if (!otadata) throw new EspError(ESP_ERR.NOT_FOUND, 'the partition table has no otadata partition');
  if (part.subtype === FACTORY) {
    flash.erase(otadata.offset, 2 * OTADATA_SECTOR);
    return;
  }
  const slots = otaSlots(table);
  const index = slots.indexOf(part);
  if (index < 0) throw new EspError(ESP_ERR.INVALID_ARG, `${part.label} is not an OTA slot`);
  const entries = readEntries(flash, otadata);
  const active = activeOtaSector(entries);
  let seq = active < 0 ? index + 1 : entries[active]!.seq;
  if (active >= 0) {
    seq += 1;
    while ((seq - 1) % slots.length !== index) seq++;
  }
  writeEntry(flash, otadata, active < 0 ? 0 : (active + 1) % 2, seq, OTA_STATE.NEW);
}

/** The partition the bootloader will pick at the next reset, without changing anything. */
export function nextBootPartition(flash: FlashStore, table: PartitionTable): DecodedPartition | undefined {
  const slots = otaSlots(table);
  const otadata = otadataPartition(table);
  const fallback = factoryPartition(table) ?? slots[0];
  if (!otadata || slots.length === 0) return fallback;
  const entries = readEntries(flash, otadata);
  const active = activeOtaSector(entries);
  return active < 0 ? fallback : slotOf(slots, entries[active]!.seq);
}

/** esp_ota_get_next_update_partition: the OTA slot after `from` (ota_0 after the factory app), round robin. */
export function nextUpdatePartition(table: PartitionTable, from: DecodedPartition | undefined): DecodedPartition {
  const slots = otaSlots(table);
  if (slots.length === 0) throw new EspError(ESP_ERR.NOT_FOUND, 'the partition table has no OTA slots');
  const i = from ? slots.indexOf(from) : -1;
  return slots[(i + 1) % slots.length]!;
}

/** esp_ota_mark_app_valid_cancel_rollback: the running slot's PENDING_VERIFY entry becomes VALID. */
export function markRunningValid(flash: FlashStore, table: PartitionTable, running: DecodedPartition | undefined): void {
  const otadata = otadataPartition(table);
  if (!otadata || !running || !isOtaSlot(running)) return;
  const entries = readEntries(flash, otadata);
  const active = activeOtaSector(entries);
  if (active < 0) return;
  const e = entries[active]!;
  if (slotOf(otaSlots(table), e.seq) === running && e.state === OTA_STATE.PENDING_VERIFY) {
    writeEntry(flash, otadata, active, e.seq, OTA_STATE.VALID);
  }
}
