// Simulated parts as data: what is soldered to the virtual board and on which pins (board.json holds this list).

import type { BoardProfile } from '../profiles.js';

export interface I2cBusPins {
  scl: number;
  sda: number;
}

export type PartSpec =
  | { type: 'led'; id: string; pin: number; activeLow?: boolean }
  /** A push button that pulls its pin to `pressedLevel` while pressed (the board's pull-up/down holds it otherwise). */
  | { type: 'button'; id: string; pin: number; pressedLevel: 0 | 1 }
  /** The RP2 BOOTSEL button, read through rp2.bootsel_button(). */
  | { type: 'bootsel'; id: string }
  | { type: 'tmp102'; id: string; bus: I2cBusPins; address: number; celsius?: number }
  | { type: 'eeprom24c32'; id: string; bus: I2cBusPins; address: number }
  | { type: 'ssd1306'; id: string; bus: I2cBusPins; address: number; width?: number; height?: number }
  /** A voltage source on an ADC-capable pin (a potentiometer, a sensor output). */
  | { type: 'voltage'; id: string; pin: number; volts: number }
  | { type: 'neopixel'; id: string; pin: number; count: number }
  | { type: 'dht22'; id: string; pin: number; celsius?: number; humidity?: number };

/** The default I2C(0) pins of the port, where the dev-board sensors are wired. */
export function defaultI2cPins(profile: BoardProfile): I2cBusPins {
  if (profile.platform === 'rp2') return { scl: 5, sda: 4 }; // pico.h PICO_DEFAULT_I2C_{SCL,SDA}_PIN
  if (profile.name === 'esp32') return { scl: 18, sda: 19 };
  return { scl: 9, sda: 8 }; // esp32c3 / esp32s3 ports
}

/** What a typical dev board with a small breadboard kit exposes. */
export function defaultParts(profile: BoardProfile): PartSpec[] {
  const bus = defaultI2cPins(profile);
  const i2cParts: PartSpec[] = [
    { type: 'tmp102', id: 'temp', bus, address: 0x48, celsius: 22.5 },
    { type: 'eeprom24c32', id: 'eeprom', bus, address: 0x50 },
    { type: 'ssd1306', id: 'oled', bus, address: 0x3c, width: 128, height: 64 },
  ];
  if (profile.platform === 'rp2') {
    return [
      { type: 'led', id: 'led', pin: 25 },
      { type: 'bootsel', id: 'bootsel' },
      ...i2cParts,
      { type: 'voltage', id: 'pot', pin: 26, volts: 1.65 },
    ];
  }
  const adcPin = profile.name === 'esp32' ? 34 : 1;
  return [
    { type: 'led', id: 'led', pin: profile.name === 'esp32' ? 2 : 8 },
    { type: 'button', id: 'boot', pin: profile.name === 'esp32c3' ? 9 : 0, pressedLevel: 0 },
    ...i2cParts,
    { type: 'voltage', id: 'pot', pin: adcPin, volts: 0.5 },
  ];
}
