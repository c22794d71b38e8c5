// Identification commands: chip-id, flash-id, read-mac. Data in, data out.
import { flashSizeFromId, formatMac } from '../protocol/esp/chips.js';
import { detectFlashSize, type EspSession } from './esp-connect.js';

export interface ChipIdResult {
  chip: string;
  /** Chip id as in image headers / GET_SECURITY_INFO. */
  chipId: number;
  /** Whether the ROM answered GET_SECURITY_INFO (not on ESP32). */
  securityInfo: boolean;
}

export async function chipId(session: EspSession): Promise<ChipIdResult> {
  const info = await session.loader.securityInfo();
  return { chip: session.chip.name, chipId: info?.chipId ?? session.chip.imageChipId, securityInfo: info !== undefined };
}

export interface FlashIdResult {
  /** JEDEC manufacturer byte. */
  manufacturer: number;
  /** Memory type and capacity bytes as esptool prints "Device": type << 8 | capacity. */
  device: number;
  /** Flash size in bytes from the capacity byte, if plausible. */
  size?: number;
}

export async function flashId(session: EspSession): Promise<FlashIdResult> {
  const id = await session.loader.flashId();
  session.flashSize ??= flashSizeFromId(id);
  return { manufacturer: id & 0xff, device: (((id >>> 8) & 0xff) << 8) | ((id >>> 16) & 0xff), size: await detectFlashSize(session) };
}

export async function readMac(session: EspSession): Promise<string> {
  return formatMac(await session.loader.readMac());
}

/** "4MB" style names as esptool uses them for sizes. */
export function formatFlashSize(bytes: number): string {
  return bytes >= 1024 * 1024 ? `${bytes / (1024 * 1024)}MB` : `${bytes / 1024}KB`;
}

/** Parse "4MB", "512KB", "0x400000" or a decimal byte count. */
export function parseSize(text: string): number | undefined {
  const m = /^(\d+)\s*(KB|MB|K|M)?$/i.exec(text.trim());
  if (m) return Number(m[1]) * (m[2] ? (m[2][0].toUpperCase() === 'K' ? 1024 : 1024 * 1024) : 1);
  if (/^0x[0-9a-f]+$/i.test(text.trim())) return parseInt(text, 16);
  return undefined;
}
