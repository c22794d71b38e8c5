// 24C32 serial EEPROM: 4 KiB, 16-bit address, 32-byte pages (writes wrap within the page as the real part does).

import type { I2cDevice } from './i2c-device.js';

const SIZE = 4096;
const PAGE = 32;

export class Eeprom24c32 implements I2cDevice {
  readonly memory = new Uint8Array(SIZE).fill(0xff);
  private addr = 0;

  constructor(readonly address: number) {}

  write(bytes: number[]): void {
    if (bytes.length < 2) return;
    this.addr = ((bytes[0] << 8) | bytes[1]) % SIZE;
    const page = this.addr - (this.addr % PAGE);
    let offset = this.addr % PAGE;
    for (const b of bytes.slice(2)) {
      this.memory[page + offset] = b;
      offset = (offset + 1) % PAGE;
    }
  }

  read(n: number): number[] {
    const out: number[] = [];
    for (let i = 0; i < n; i++) {
      out.push(this.memory[this.addr]);
      this.addr = (this.addr + 1) % SIZE;
    }
    return out;
  }
}
