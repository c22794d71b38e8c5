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
  | { type: 'dht22'; id: string; pin: number; celsius?: number; humidity?: number }
  /** A DS18B20 thermometer on a 1-Wire bus (several may share one pin). */
  | { type: 'ds18b20'; id: string; pin: number; celsius?: number };

/** The port's own default pins of I2C(0), used when a program gives none (as the firmware does). */
export function defaultI2cPins(profile: BoardProfile): I2cBusPins {
  if (profile.platform === 'rp2') return { scl: 5, sda: 4 }; // pico.h PICO_DEFAULT_I2C_{SCL,SDA}_PIN
  if (profile.name === 'esp32') return { scl: 18, sda: 19 };
  return { scl: 9, sda: 8 }; // esp32c3 / esp32s3 ports
}

/**
 * Where the kit's I2C sensors are wired: on the ESP32 DevKit, SCL 22 / SDA 21 as the wiring tutorials do (so
 * `I2C(0, scl=Pin(22), sda=Pin(21))` finds them, and `I2C(0)` alone, on the port's 18/19, finds nothing, as on
 * a breadboard wired that way); elsewhere the port's I2C(0) pins.
 */
export function kitI2cPins(profile: BoardProfile): I2cBusPins {
  return profile.name === 'esp32' ? { scl: 22, sda: 21 } : defaultI2cPins(profile);
}

/** The DS18B20's data pin: GPIO 4 on ESP32 boards (the DevKit tutorials), GP12 on the Pico (its quickref). */
export function kitOneWirePin(profile: BoardProfile): number {
  return profile.platform === 'rp2' ? 12 : 4;
}

/** What a typical dev board with a small breadboard kit exposes. */
export function defaultParts(profile: BoardProfile): PartSpec[] {
  const bus = kitI2cPins(profile);
  const i2cParts: PartSpec[] = [
    { type: 'tmp102', id: 'temp', bus, address: 0x48, celsius: 22.5 },
    { type: 'eeprom24c32', id: 'eeprom', bus, address: 0x50 },
    { type: 'ssd1306', id: 'oled', bus, address: 0x3c, width: 128, height: 64 },
    { type: 'ds18b20', id: 'probe', pin: kitOneWirePin(profile), celsius: 21.5 },
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
