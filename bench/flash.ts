// Flashing throughput through the virtual ROM over a wire paced at N baud 8N1 (10 bits per byte),
// against the wire's own limit, and the time to re-flash an unchanged image.
// Run: npm run build && node dist/bench/flash.js   (BENCH_FLASH_KB sets the image size, default 256)
import { MemoryFlashStore } from '../emulator/flash-store.js';
import { PROFILES } from '../emulator/profiles.js';
import { deflateSync } from 'node:zlib';
import { connectEsp, type EspSession } from '../flash/esp-connect.js';
import { writeFlash } from '../flash/write-flash.js';
import { parseStubJson } from '../protocol/esp/stub.js';
import { attachRom, createDuplexPair } from '../test/helpers/esp-duplex.js';

const KB = Number(process.env.BENCH_FLASH_KB ?? 256);
const ROM_BAUD = 115200;
// Only MEM_END's entry point matters to the virtual ROM; the bytes stand in for esptool's stub.
const STUB = parseStubJson(JSON.stringify({ entry: 0x40080000, text: Buffer.alloc(4096, 0x11).toString('base64'), text_start: 0x40080000 }));

/** Firmware-like data: one byte in four is noise, the rest low-entropy, so deflate saves about what it saves on real apps. */
function firmwareLike(size: number): Uint8Array {
  const out = new Uint8Array(size);
  let x = 7;
  for (let i = 0; i < size; i++) {
    x = (Math.imul(x, 1103515245) + 12345) >>> 0;
    out[i] = i % 4 === 0 ? x >>> 24 : (x >>> 28) & 0x07;
  }
  return out;
}

async function session(baud: number, stub: boolean): Promise<{ s: EspSession; close: () => Promise<void> }> {
  const { host, device } = createDuplexPair({ baud: ROM_BAUD });
  attachRom(device, { flash: new MemoryFlashStore(4 * 1024 * 1024), profile: PROFILES.esp32, mac: new Uint8Array(6) });
  const s = await connectEsp(host, { baud: baud === ROM_BAUD ? undefined : baud, stub: stub ? STUB : undefined });
  return { s, close: () => host.close() };
}

async function timed(fn: () => Promise<unknown>): Promise<number> {
  const t = performance.now();
  await fn();
  return (performance.now() - t) / 1000;
}

const image = firmwareLike(KB * 1024);
const compressed = deflateSync(image, { level: 9 }).length;
console.log(`image ${image.length} bytes, deflates to ${compressed} (${((100 * compressed) / image.length).toFixed(1)}%)`);
console.log('baud     loader  mode          seconds  effective kbit/s  wire-limit s  of limit');
for (const baud of [115200, 460800]) {
  const bytesPerSec = baud / 10;
  for (const stub of [false, true]) {
    for (const compress of [true, false]) {
      const { s, close } = await session(baud, stub);
      const secs = await timed(() => writeFlash(s, [{ address: 0x10000, data: image }], { compress, skipUnchanged: false }));
      const limit = (compress ? compressed : image.length) / bytesPerSec;
      console.log(
        `${String(baud).padEnd(8)} ${(stub ? 'stub' : 'ROM').padEnd(7)} ${(compress ? 'compressed' : 'uncompressed').padEnd(13)} ` +
        `${secs.toFixed(2).padStart(7)}  ${((image.length * 8) / secs / 1000).toFixed(1).padStart(16)}  ${limit.toFixed(2).padStart(12)}  ${((100 * limit) / secs).toFixed(0).padStart(7)}%`,
      );
      if (compress && !stub) {
        const again = await timed(() => writeFlash(s, [{ address: 0x10000, data: image }]));
        console.log(`${String(baud).padEnd(8)} ROM     unchanged     ${again.toFixed(3).padStart(7)}  (re-flash skipped by MD5)`);
      }
      await close();
    }
  }
}
