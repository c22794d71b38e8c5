// Per-chip facts the loader and the virtual ROM share: detection values, eFuse and SPI register
// addresses (from esptool's target definitions), ROM capabilities.

export type ChipName = 'ESP32' | 'ESP32-C3' | 'ESP32-S3';
export type ChipKey = 'esp32' | 'esp32c3' | 'esp32s3';

export interface SpiRegs {
  base: number;
  usr: number;
  usr1: number;
  usr2: number;
  mosiDlen: number;
  misoDlen: number;
  w0: number;
}

export interface ChipDef {
  key: ChipKey;
  name: ChipName;
  /** Chip id in GET_SECURITY_INFO and in the image extended header. */
  imageChipId: number;
  /** Values the ROM leaves at CHIP_DETECT_MAGIC_REG (several silicon revisions for some chips). */
  magic: readonly number[];
  /** GET_SECURITY_INFO exists in this ROM (not on the original ESP32). */
  hasSecurityInfo: boolean;
  /** Address of the two eFuse words holding the factory MAC (low word first). */
  macEfuse: number;
  spi: SpiRegs;
  uartClkdiv: number;
  /** Crystal frequency the virtual ROM reports through the UART divider, MHz. */
  xtalMhz: number;
  /** ROM FLASH_BEGIN takes a fifth word (encrypted write flag). */
  romBeginHasEncryptFlag: boolean;
  bootloaderOffset: number;
}

export const CHIP_DETECT_MAGIC_REG = 0x40001000;
/** SPI_CMD register offset 0 from the SPI base; bit 18 starts a user command and clears when done. */
export const SPI_CMD_USR = 1 << 18;
export const SPI_USR_COMMAND = 1 << 31;
export const SPI_USR_MISO = 1 << 28;
export const SPI_USR_MOSI = 1 << 27;

export const CHIPS: Record<ChipKey, ChipDef> = {
  esp32: {
    key: 'esp32', name: 'ESP32', imageChipId: 0, magic: [0x00f01d83], hasSecurityInfo: false,
    macEfuse: 0x3ff5a004,
    spi: { base: 0x3ff42000, usr: 0x1c, usr1: 0x20, usr2: 0x24, mosiDlen: 0x28, misoDlen: 0x2c, w0: 0x80 },
    uartClkdiv: 0x3ff40014, xtalMhz: 40, romBeginHasEncryptFlag: false, bootloaderOffset: 0x1000,
  },
  esp32c3: {
    key: 'esp32c3', name: 'ESP32-C3', imageChipId: 5, magic: [0x6921506f, 0x1b31506f, 0x4881606f, 0x4361606f],
    hasSecurityInfo: true, macEfuse: 0x60008844,
    spi: { base: 0x60002000, usr: 0x18, usr1: 0x1c, usr2: 0x20, mosiDlen: 0x24, misoDlen: 0x28, w0: 0x58 },
    uartClkdiv: 0x60000014, xtalMhz: 40, romBeginHasEncryptFlag: true, bootloaderOffset: 0x0,
  },
  esp32s3: {
    key: 'esp32s3', name: 'ESP32-S3', imageChipId: 9, magic: [0x9], hasSecurityInfo: true,
    macEfuse: 0x60007044,
    spi: { base: 0x60002000, usr: 0x18, usr1: 0x1c, usr2: 0x20, mosiDlen: 0x24, misoDlen: 0x28, w0: 0x58 },
    uartClkdiv: 0x60000014, xtalMhz: 40, romBeginHasEncryptFlag: true, bootloaderOffset: 0x0,
  },
};

export function chipByName(name: string): ChipDef | undefined {
  return Object.values(CHIPS).find((c) => c.name === name || c.key === name.toLowerCase());
}

export function chipByMagic(magic: number): ChipDef | undefined {
  return Object.values(CHIPS).find((c) => c.magic.includes(magic >>> 0));
}

export function chipByImageId(id: number): ChipDef | undefined {
  return Object.values(CHIPS).find((c) => c.imageChipId === id);
}

/** MAC from the two eFuse words as esptool assembles it: the low 16 bits of the high word, then the low word. */
export function macFromEfuse(low: number, high: number): Uint8Array {
  return Uint8Array.from([(high >>> 8) & 0xff, high & 0xff, low >>> 24, (low >>> 16) & 0xff, (low >>> 8) & 0xff, low & 0xff]);
}

export function efuseFromMac(mac: Uint8Array): { low: number; high: number } {
  return {
    low: ((mac[2] << 24) | (mac[3] << 16) | (mac[4] << 8) | mac[5]) >>> 0,
    high: ((mac[0] << 8) | mac[1]) >>> 0,
  };
}

export function formatMac(mac: Uint8Array): string {
  return Array.from(mac, (b) => b.toString(16).padStart(2, '0')).join(':');
}

/** GET_SECURITY_INFO payload: flags u32, flash_crypt_cnt u8, key_purposes[7], chip_id u32, eco_version u32. */
export const SECURITY_INFO_LEN = 20;

/** Flash size from a JEDEC RDID reply's capacity byte (2^n bytes). */
export function flashSizeFromId(id: number): number | undefined {
  const cap = (id >>> 16) & 0xff;
  return cap >= 0x12 && cap <= 0x1a ? 2 ** cap : undefined;
}
