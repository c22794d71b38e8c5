// A monochrome framebuffer (SSD1306 page layout: byte = 8 vertical pixels) drawn with braille cells, 2x4
// pixels per character, so a 128x64 display fits an 80-column terminal in 64x16 cells.

/** Braille dot bit for pixel (dx, dy) inside a 2x4 cell (Unicode's dot numbering). */
const DOT = [
  [0x01, 0x08],
  [0x02, 0x10],
  [0x04, 0x20],
  [0x40, 0x80],
];

export function pixelOn(fb: ArrayLike<number>, width: number, x: number, y: number): boolean {
  return ((fb[(y >> 3) * width + x]! >> (y & 7)) & 1) === 1;
}

export function brailleRows(fb: ArrayLike<number>, width: number, height: number, inverted = false): string[] {
  const rows: string[] = [];
  for (let cy = 0; cy < height; cy += 4) {
    let row = '';
    for (let cx = 0; cx < width; cx += 2) {
      let bits = 0;
      for (let dy = 0; dy < 4 && cy + dy < height; dy++) {
        for (let dx = 0; dx < 2 && cx + dx < width; dx++) {
          if (pixelOn(fb, width, cx + dx, cy + dy) !== inverted) bits |= DOT[dy]![dx]!;
        }
      }
      row += String.fromCharCode(0x2800 + bits);
    }
    rows.push(row);
  }
  return rows;
}
