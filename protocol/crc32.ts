// CRC-32 (polynomial 0x04c11db7, reflected 0xedb88320) as the bare register update, seeded by the caller and not
// inverted at the end: the value littlefs stores (seeded 0xffffffff), and the inside of the usual CRC-32 (zlib's,
// ESP-IDF's esp_rom_crc32_le: ~update(~seed)). In JavaScript: node:zlib costs ~2 ms to load and has crc32 only
// since Node 20.15.

const TABLE = (() => {
  const t = new Uint32Array(256);
  for (let i = 0; i < 256; i++) {
    let c = i;
    for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ 0xedb88320 : c >>> 1;
    t[i] = c >>> 0;
  }
  return t;
})();

export function crc32Update(crc: number, data: Uint8Array, start = 0, end = data.length): number {
  let c = crc >>> 0;
  for (let i = start; i < end; i++) c = TABLE[(c ^ data[i]!) & 0xff]! ^ (c >>> 8);
  return c >>> 0;
}
