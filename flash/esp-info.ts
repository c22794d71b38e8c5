// Identification commands: chip description, flash-id, read-mac. Data in, data out.
import { block1Revision, ESP32_APB_CTL_DATE, esp32PackageName, esp32Revision, flashSizeFromId, formatMac, type ChipRevision } from '../protocol/esp/chips.js';
import { detectFlashSize, type EspSession } from './esp-connect.js';

export interface ChipDescription {
  chip: string;
  /** esptool's "Chip type" line: package and revision, e.g. "ESP32-D0WD-V3 (revision v3.0)". */
  description: string;
  revision: ChipRevision;
}

/** Package and revision from eFuse, read as esptool reads them. */
export async function describeChip(session: EspSession): Promise<ChipDescription> {
  const { loader, chip } = session;
  const efuse = (n: number) => loader.readReg(chip.revisionEfuse + 4 * n);
  let name: string = chip.name;
  let revision: ChipRevision;
  if (chip.key === 'esp32') {
    const word3 = await efuse(3);
    revision = esp32Revision(word3, await efuse(5), await loader.readReg(ESP32_APB_CTL_DATE));
    name = esp32PackageName(word3, revision.major);
  } else {
    revision = block1Revision(await efuse(3), await efuse(5));
  }
  return { chip: chip.name, description: `${name} (revision v${revision.major}.${revision.minor})`, revision };
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
