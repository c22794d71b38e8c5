// Which GPIOs each port accepts, and the port-specific facts the Python side needs (defaults, names, clocks).

import type { BoardProfile } from '../profiles.js';
import { defaultI2cPins } from './parts.js';

export interface BoardFacts {
  platform: 'esp32' | 'rp2';
  chip: string;
  pins: number[];
  inputOnly: number[];
  names: Record<string, number>;
  /** machine.ADC's pins by ADC unit (ADCBlock id), each unit's in channel order (the port's madc_obj table). */
  adcUnits: number[][];
  /** The pins the chip's RTC domain watches in a sleep (esp32.wake_on_ext0/ext1, Pin.irq(wake=)). */
  rtcPins: number[];
  /**
   * Whether those wakes end a sleep: the port enables them only where the chip has them (SOC_PM_SUPPORT_EXT0/
   * EXT1_WAKEUP in its machine_sleep_helper), which the C3 has not; there they are taken and never fire.
   */
  extWake: boolean;
  /** machine.DAC's pins (none where the chip has no DAC). */
  dacPins: number[];
  /** machine.TouchPad's pins (the port's touchpad_obj table; none where the chip has no touch sensor). */
  touchPins: number[];
  i2c: { scl: number; sda: number }[];
  spi: { sck: number; mosi: number; miso: number }[];
  uart: { tx: number; rx: number }[];
  freq: number;
  uniqueId: number[];
}

const range = (a: number, b: number) => Array.from({ length: b - a + 1 }, (_, i) => a + i);

/** The profile's facts; `uniqueId` (hex, from board.json) replaces the profile's fixed machine.unique_id(). */
export function boardFacts(profile: BoardProfile, uniqueId?: string): BoardFacts {
  const facts = profileFacts(profile);
  return uniqueId ? { ...facts, uniqueId: [...Buffer.from(uniqueId, 'hex')] } : facts;
}

function profileFacts(profile: BoardProfile): BoardFacts {
  if (profile.platform === 'rp2') {
    return {
      platform: 'rp2', chip: profile.mcuName, pins: range(0, 29), inputOnly: [], names: { LED: 25 },
      adcUnits: [[26, 27, 28, 29]], touchPins: [], dacPins: [], rtcPins: [], extWake: false, i2c: [defaultI2cPins(profile), { scl: 7, sda: 6 }],
      spi: [{ sck: 18, mosi: 19, miso: 16 }, { sck: 10, mosi: 11, miso: 8 }],
      uart: [{ tx: 0, rx: 1 }, { tx: 4, rx: 5 }], freq: 125_000_000,
      uniqueId: [0xe6, 0x61, 0x38, 0x50, 0x4b, 0x2a, 0x51, 0x2c],
    };
  }
  const mac = [0x24, 0x0a, 0xc4, 0x12, 0x34, 0x56];
  if (profile.name === 'esp32') {
    // GPIO 6-11 drive the SPI flash and 20/24/28-31 are not bonded out.
    const pins = [...range(0, 5), ...range(12, 19), ...range(21, 23), ...range(25, 27), ...range(32, 39)];
    return {
      platform: 'esp32', chip: 'ESP32', pins, inputOnly: range(34, 39), names: {},
      adcUnits: [[36, 37, 38, 39, 32, 33, 34, 35], [4, 0, 2, 15, 13, 12, 14, 27, 25, 26]],
      touchPins: [0, 2, 4, 12, 13, 14, 15, 27, 32, 33], dacPins: [25, 26],
      rtcPins: [0, 2, 4, ...range(12, 15), ...range(25, 27), ...range(32, 39)], extWake: true,
      i2c: [defaultI2cPins(profile), { scl: 25, sda: 26 }],
      spi: [{ sck: 14, mosi: 13, miso: 12 }, { sck: 18, mosi: 23, miso: 19 }],
      uart: [{ tx: 1, rx: 3 }, { tx: 10, rx: 9 }, { tx: 17, rx: 16 }], freq: 160_000_000, uniqueId: mac,
    };
  }
  const s3 = profile.name === 'esp32s3';
  return {
    platform: 'esp32', chip: s3 ? 'ESP32S3' : 'ESP32C3',
    pins: s3 ? [...range(0, 21), ...range(33, 48)] : range(0, 21), inputOnly: [], names: {},
    adcUnits: s3 ? [range(1, 10), range(11, 20)] : [range(0, 4), [5]], touchPins: s3 ? range(1, 14) : [], dacPins: [],
    rtcPins: s3 ? range(0, 21) : range(0, 5), extWake: s3, i2c: [defaultI2cPins(profile), { scl: 7, sda: 6 }],
    spi: [{ sck: 6, mosi: 7, miso: 2 }, { sck: 6, mosi: 7, miso: 2 }],
    uart: [{ tx: 21, rx: 20 }, { tx: 10, rx: 9 }], freq: 160_000_000, uniqueId: mac,
  };
}
