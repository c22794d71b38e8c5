// TMP102 digital thermometer: pointer register, 12-bit temperature (0.0625 degC per LSB, left-aligned in 2 bytes).

import type { I2cDevice } from './i2c-device.js';

export class Tmp102 implements I2cDevice {
  private pointer = 0;
  private config = [0x60, 0xa0];

  constructor(readonly address: number, public celsius: number) {}

  write(bytes: number[]): void {
    if (bytes.length === 0) return;
    this.pointer = bytes[0] & 0x03;
    if (this.pointer === 1 && bytes.length >= 3) this.config = [bytes[1], bytes[2]];
  }

  read(n: number): number[] {
    const reg = this.pointer === 0 ? this.tempRegister() : this.pointer === 1 ? this.config : [0, 0];
    return Array.from({ length: n }, (_, i) => reg[i % 2]);
  }

  private tempRegister(): number[] {
    const counts = Math.max(-2048, Math.min(2047, Math.round(this.celsius / 0.0625)));
    const word = (counts & 0xfff) << 4;
    return [word >> 8, word & 0xff];
  }
}
