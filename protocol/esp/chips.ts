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
  /**
   * Where esptool reads the chip revision and package: the ESP32's BLOCK0 read registers (word n at base + 4n),
   * or the C3/S3 BLOCK1 (MAC_SPI_8M) words.
   */
  revisionEfuse: number;
  spi: SpiRegs;
  uartClkdiv: number;
  /** Crystal frequency the virtual ROM reports through the UART divider, MHz. */
  xtalMhz: number;
  /** ROM FLASH_BEGIN takes a fifth word (encrypted write flag). */
  romBeginHasEncryptFlag: boolean;
  bootloaderOffset: number;
  /**
   * The RTC watchdog's registers where esptool v5 resets the chip with it (--after watchdog-reset: C3, S3); the
   * original ESP32 has none listed, so esptool falls back to a classic hard reset there.
   */
  rtcWdt?: RtcWdtRegs;
}

export interface RtcWdtRegs {
  config0: number;
  config1: number;
  wprotect: number;
}

/** The key written to an RTC watchdog's WPROTECT register unlocks its configuration. */
export const RTC_WDT_WKEY = 0x50d83aa1;
/** CONFIG0 as esptool arms it: enabled, stage 0 resets the RTC domain (5), pause in sleep, reset pulse length 2. */
export const RTC_WDT_ARM = ((1 << 31) | (5 << 28) | (1 << 8) | 2) >>> 0;
/** CONFIG1 as esptool sets it: stage 0 runs out after 2000 RTC slow-clock cycles (~15 ms). */
export const RTC_WDT_TIMEOUT_TICKS = 2000;

export const CHIP_DETECT_MAGIC_REG = 0x40001000;
/** SPI_CMD register offset 0 from the SPI base; bit 18 starts a user command and clears when done. */
export const SPI_CMD_USR = 1 << 18;
export const SPI_USR_COMMAND = 1 << 31;
export const SPI_USR_MISO = 1 << 28;
export const SPI_USR_MOSI = 1 << 27;

export const CHIPS: Record<ChipKey, ChipDef> = {
  esp32: {
    key: 'esp32', name: 'ESP32', imageChipId: 0, magic: [0x00f01d83], hasSecurityInfo: false,
    macEfuse: 0x3ff5a004, revisionEfuse: 0x3ff5a000,
    spi: { base: 0x3ff42000, usr: 0x1c, usr1: 0x20, usr2: 0x24, mosiDlen: 0x28, misoDlen: 0x2c, w0: 0x80 },
    uartClkdiv: 0x3ff40014, xtalMhz: 40, romBeginHasEncryptFlag: false, bootloaderOffset: 0x1000,
  },
  esp32c3: {
    key: 'esp32c3', name: 'ESP32-C3', imageChipId: 5, magic: [0x6921506f, 0x1b31506f, 0x4881606f, 0x4361606f],
    hasSecurityInfo: true, macEfuse: 0x60008844, revisionEfuse: 0x60008844,
    spi: { base: 0x60002000, usr: 0x18, usr1: 0x1c, usr2: 0x20, mosiDlen: 0x24, misoDlen: 0x28, w0: 0x58 },
    uartClkdiv: 0x60000014, xtalMhz: 40, romBeginHasEncryptFlag: true, bootloaderOffset: 0x0,
    rtcWdt: { config0: 0x60008090, config1: 0x60008094, wprotect: 0x600080a8 },
  },
  esp32s3: {
    key: 'esp32s3', name: 'ESP32-S3', imageChipId: 9, magic: [0x9], hasSecurityInfo: true,
    macEfuse: 0x60007044, revisionEfuse: 0x60007044,
    spi: { base: 0x60002000, usr: 0x18, usr1: 0x1c, usr2: 0x20, mosiDlen: 0x24, misoDlen: 0x28, w0: 0x58 },
    uartClkdiv: 0x60000014, xtalMhz: 40, romBeginHasEncryptFlag: true, bootloaderOffset: 0x0,
    rtcWdt: { config0: 0x60008098, config1: 0x6000809c, wprotect: 0x600080b0 },
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

// ESP32 only: the ROM derives its idea of the crystal from the RC oscillator calibration (TIMG0 RTCCALICFG1) and
// the CK8M frequency in eFuse word 4, and sets CHANGE_BAUDRATE's divider from that estimate. esptool reads both
// and scales the rate it asks for, so the line ends up at the rate wanted.
export const ESP32_RTCCALICFG1 = 0x3ff5f06c;
export const ESP32_APB_CTL_DATE = 0x3ff6607c;
const ESP32_XTAL_HZ = 40_000_000;

/** The ESP32 ROM's crystal estimate, Hz, from RTCCALICFG1 and eFuse word 4 (as esptool computes it). */
export function esp32RomCrystalHz(rtcCaliCfg1: number, efuseWord4: number): number {
  const cali = (rtcCaliCfg1 >>> 7) & 0x1ffffff;
  return (cali * 15625 * (efuseWord4 & 0xff)) / 40;
}

/** The value to put in an ESP32 ROM CHANGE_BAUDRATE so the line runs at `baud` (esptool's correction). */
export function esp32RomBaudValue(baud: number, romCrystalHz: number): number {
  const actual = romCrystalHz > 33_000_000 ? ESP32_XTAL_HZ : 26_000_000;
  return Math.floor((baud * romCrystalHz) / actual);
}

/** Line rate an ESP32 ROM ends up at after CHANGE_BAUDRATE(value): its divider comes from its own estimate. */
export function esp32RomLineRate(value: number, romCrystalHz: number): number {
  return (value * ESP32_XTAL_HZ) / romCrystalHz;
}

export interface ChipRevision {
  major: number;
  minor: number;
}

/** ESP32 revision as esptool derives it: eFuse word 3 bit 15, word 5 bit 20, APB_CTL_DATE bit 31, minor in word 5. */
export function esp32Revision(word3: number, word5: number, apbCtlDate: number): ChipRevision {
  const bits = (((apbCtlDate >>> 31) & 1) << 2) | (((word5 >>> 20) & 1) << 1) | ((word3 >>> 15) & 1);
  const major = ({ 0: 0, 1: 1, 3: 2, 7: 3 } as Record<number, number>)[bits] ?? 0;
  return { major, minor: (word5 >>> 24) & 0x3 };
}

/** ESP32 package name from eFuse word 3 (esptool's table), with -V3 on revision 3 D0WD parts. */
export function esp32PackageName(word3: number, major: number): string {
  const pkg = ((word3 >>> 9) & 0x07) + (((word3 >>> 2) & 1) << 3);
  const singleCore = (word3 & 1) !== 0;
  const names: Record<number, string> = {
    0: singleCore ? 'ESP32-S0WDQ6' : 'ESP32-D0WDQ6', 1: singleCore ? 'ESP32-S0WD' : 'ESP32-D0WD', 2: 'ESP32-D2WD',
    4: 'ESP32-U4WDH', 5: major === 3 ? 'ESP32-PICO-V3' : 'ESP32-PICO-D4', 6: 'ESP32-PICO-V3-02', 7: 'ESP32-D0WDR2-V3',
  };
  const name = names[pkg] ?? 'unknown ESP32';
  return name.startsWith('ESP32-D0WD') && major === 3 ? `${name}-V3` : name;
}

/** C3/S3 revision from BLOCK1 words 3 and 5 (esptool's layout). */
export function block1Revision(word3: number, word5: number): ChipRevision {
  return { major: (word5 >>> 24) & 0x3, minor: (((word5 >>> 23) & 1) << 3) | ((word3 >>> 18) & 0x7) };
}

/** Flash size from a JEDEC RDID reply's capacity byte (2^n bytes). */
export function flashSizeFromId(id: number): number | undefined {
  const cap = (id >>> 16) & 0xff;
  return cap >= 0x12 && cap <= 0x1a ? 2 ** cap : undefined;
}
