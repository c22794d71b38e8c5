// Registers the virtual chip answers READ_REG with besides MAC, UART and SPI: the eFuse words esptool reads for
// revision and package, and on the ESP32 the clock calibration its baud-rate correction uses.
import { ESP32_APB_CTL_DATE, ESP32_RTCCALICFG1, efuseFromMac, type ChipDef, type ChipKey } from '../../protocol/esp/chips.js';

const word = (base: number, n: number) => base + 4 * n;

// ESP32: BLOCK0 words 3-6 of an ESP32-D0WD-V3 from Espressif's documented `espefuse dump` (package D0WD, revision
// bits of ECO3, CK8M_FREQ 0x33 in word 4). APB_CTL_DATE has bit 31 set on ECO3 silicon. RTCCALICFG1 holds a
// calibration of 2048, so the ROM estimates its 40 MHz crystal at 2048 * 15625 * 0x33 / 40 = 40.8 MHz: the 2 %
// drift esptool's CHANGE_BAUDRATE correction exists for.
const ESP32_BLOCK0 = 0x3ff5a000;
const ESP32: ReadonlyMap<number, number> = new Map([
  [word(ESP32_BLOCK0, 3), 0x0000a200],
  [word(ESP32_BLOCK0, 4), 0x00000333],
  [word(ESP32_BLOCK0, 5), 0x00100000],
  [word(ESP32_BLOCK0, 6), 0x00000004],
  [ESP32_APB_CTL_DATE, 0x96042000],
  [ESP32_RTCCALICFG1, 2048 << 7],
]);

/** C3/S3: the revision lives in BLOCK1 word 3 (minor, bits 18-20) and word 5 (major); current modules' values. */
function block1(base: number, minor: number): ReadonlyMap<number, number> {
  return new Map([[word(base, 3), (minor & 0x7) << 18], [word(base, 5), 0]]);
}

const REGISTERS: Record<ChipKey, (chip: ChipDef) => ReadonlyMap<number, number>> = {
  esp32: () => ESP32,
  esp32c3: (chip) => block1(chip.revisionEfuse, 4), // v0.4
  esp32s3: (chip) => block1(chip.revisionEfuse, 2), // v0.2
};

export function chipRegisters(chip: ChipDef): ReadonlyMap<number, number> {
  return REGISTERS[chip.key](chip);
}

/** Those words and the factory MAC's two eFuse words, as both the ROM and a running program (machine.mem32) read them. */
export function chipWords(chip: ChipDef, mac: Uint8Array): ReadonlyMap<number, number> {
  const { low, high } = efuseFromMac(mac);
  return new Map([...chipRegisters(chip), [chip.macEfuse, low], [chip.macEfuse + 4, high]]);
}
