// SSD1306 OLED controller: decodes the command/data stream into a page-organised framebuffer the TUI can draw.

import type { I2cDevice } from './i2c-device.js';

// Commands followed by this many argument bytes.
const ARG_COUNT: Record<number, number> = {
  0x20: 1, 0x21: 2, 0x22: 2, 0x81: 1, 0x8d: 1, 0xa8: 1, 0xd3: 1, 0xd5: 1, 0xd9: 1, 0xda: 1, 0xdb: 1,
};

export class Ssd1306 implements I2cDevice {
  readonly framebuffer: Uint8Array;
  on = false;
  inverted = false;
  contrast = 0x7f;
  private colStart = 0;
  private colEnd: number;
  private pageStart = 0;
  private pageEnd: number;
  private col = 0;
  private page = 0;
  private pending: number[] = [];

  constructor(readonly address: number, readonly width = 128, readonly height = 64) {
    this.framebuffer = new Uint8Array((width * height) / 8);
    this.colEnd = width - 1;
    this.pageEnd = height / 8 - 1;
  }

  write(bytes: number[]): void {
    let i = 0;
    while (i < bytes.length) {
      const control = bytes[i++];
      const isData = (control & 0x40) !== 0;
      const single = (control & 0x80) !== 0; // Co bit: one byte, then another control byte
      const end = single ? Math.min(i + 1, bytes.length) : bytes.length;
      for (; i < end; i++) (isData ? this.data(bytes[i]) : this.command(bytes[i]));
    }
  }

  read(n: number): number[] {
    return new Array(n).fill(this.on ? 0x03 : 0x43); // status register: display-off bit
  }

  /** One text row per pixel row, '#' lit, '.' dark: for logs and tests. */
  textRows(): string[] {
    const rows: string[] = [];
    for (let y = 0; y < this.height; y++) {
      let row = '';
      for (let x = 0; x < this.width; x++) row += this.pixel(x, y) ? '#' : '.';
      rows.push(row);
    }
    return rows;
  }

  pixel(x: number, y: number): boolean {
    return ((this.framebuffer[(y >> 3) * this.width + x] >> (y & 7)) & 1) === 1;
  }

  private data(b: number): void {
    this.framebuffer[this.page * this.width + this.col] = b;
    if (++this.col > this.colEnd) {
      this.col = this.colStart;
      if (++this.page > this.pageEnd) this.page = this.pageStart;
    }
  }

  private command(b: number): void {
    this.pending.push(b);
    const op = this.pending[0];
    if (this.pending.length <= (ARG_COUNT[op] ?? 0)) return;
    const args = this.pending.slice(1);
    this.pending = [];
    switch (op) {
      case 0xae: this.on = false; break;
      case 0xaf: this.on = true; break;
      case 0xa6: this.inverted = false; break;
      case 0xa7: this.inverted = true; break;
      case 0x81: this.contrast = args[0]; break;
      case 0x21: this.colStart = this.col = args[0] % this.width; this.colEnd = args[1] % this.width; break;
      case 0x22: this.pageStart = this.page = args[0] & 7; this.pageEnd = args[1] & 7; break;
      default:
        if (op >= 0xb0 && op <= 0xb7) this.page = op & 7; // page addressing mode
    }
  }
}
