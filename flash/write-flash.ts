// write-flash: program several (address, data) regions, compressed by default, skipping regions whose
// MD5 already matches, checking the MD5 after each. Data in, results out; progress via callback.
import { createHash } from 'node:crypto';
import { deflateSync } from 'node:zlib';
import { zlibSync } from 'fflate';
import { BoardError } from '../protocol/errors.js';
import { FLASH_SECTOR, Op } from '../protocol/esp/commands.js';
import { chipOfImage, patchFlashParams, type FlashParams } from '../protocol/esp/image.js';
import { detectFlashSize, type EspSession } from './esp-connect.js';
import { formatFlashSize } from './esp-info.js';

export interface WriteRegion {
  address: number;
  data: Uint8Array;
  /** For messages (the file name). */
  name?: string;
  /** The chip the file says it is for when its format carries that outside the data (a UF2 family). */
  chip?: string;
}

export interface WriteProgress {
  region: number;
  address: number;
  /** Uncompressed bytes handed to the chip so far in this region. */
  done: number;
  total: number;
}

export interface WriteOptions {
  /** Send deflate-compressed blocks (default true; -u turns it off). */
  compress?: boolean;
  eraseAll?: boolean;
  /** Header flash size: 'keep' (default), 'detect' (from the flash id) or a size name like '4MB'. */
  flashSize?: string;
  flashMode?: FlashParams['flashMode'];
  flashFreq?: string;
  /** Skip regions whose MD5 already matches (default true). */
  skipUnchanged?: boolean;
  /** Write images built for another chip anyway. */
  force?: boolean;
  onProgress?: (p: WriteProgress) => void;
  /** Data blocks sent ahead of their answers (default PIPELINE_WINDOW; 1 waits for each, as esptool does). */
  window?: number;
  /** Aborting stops between two commands (never inside a frame) and rejects with INTERRUPTED. */
  signal?: AbortSignal;
}

export interface RegionResult {
  address: number;
  name?: string;
  size: number;
  /** Bytes sent when compressed. */
  compressedSize?: number;
  md5: string;
  skipped: boolean;
  /** Header fields were rewritten (bootloader image at the chip's bootloader offset). */
  patched: boolean;
  warnings: string[];
}

export async function writeFlash(session: EspSession, regions: readonly WriteRegion[], opts: WriteOptions = {}): Promise<RegionResult[]> {
  const { loader, chip } = session;
  const sorted = [...regions].sort((a, b) => a.address - b.address);
  const flashSize = await detectFlashSize(session);
  checkLayout(sorted, flashSize);
  if (!opts.force) {
    for (const r of sorted) {
      const imageChip = r.chip ?? chipOfImage(r.data);
      if (imageChip && imageChip !== chip.name) {
        throw new BoardError('BAD_IMAGE', `${r.name ?? `0x${r.address.toString(16)}`}: This image is for ${imageChip}, not ${chip.name}. Use --force to flash anyway.`);
      }
    }
  }
  if (!loader.isStub && chip.key === 'esp32' && flashSize) await loader.spiSetParams(flashSize);
  if (opts.eraseAll) await eraseAll(session);

  const window = opts.window ?? PIPELINE_WINDOW;
  const results: RegionResult[] = [];
  for (const [index, region] of sorted.entries()) {
    const warnings: string[] = [];
    let data = padTo4(region.data);
    let patched = false;
    if (region.address === chip.bootloaderOffset && data[0] === 0xe9) {
      const params: FlashParams = { flashMode: opts.flashMode, flashFreq: opts.flashFreq, flashSize: headerSize(opts.flashSize, flashSize) };
      const p = patchFlashParams(data, params, chip.name);
      data = p.image;
      patched = p.changed;
      if (p.warning) warnings.push(p.warning);
    }
    const md5 = createHash('md5').update(data).digest('hex');
    const result: RegionResult = { address: region.address, name: region.name, size: data.length, md5, skipped: false, patched, warnings };
    results.push(result);
    if ((opts.skipUnchanged ?? true) && !opts.eraseAll && (await loader.flashMd5(region.address, data.length)) === md5) {
      result.skipped = true;
      opts.onProgress?.({ region: index, address: region.address, done: data.length, total: data.length });
      continue;
    }
    const report = (done: number) => {
      if (opts.signal?.aborted) throw new BoardError('INTERRUPTED', 'interrupted by Ctrl-C', { address: region.address, done });
      opts.onProgress?.({ region: index, address: region.address, done, total: data.length });
    };
    if (opts.compress ?? true) result.compressedSize = await writeCompressed(session, region.address, data, window, report);
    else await writeUncompressed(session, region.address, data, window, report);
    const actual = await loader.flashMd5(region.address, data.length);
    if (actual !== md5) {
      throw new BoardError('VERIFY_FAILED', `MD5 of file does not match data in flash! (${region.name ?? `0x${region.address.toString(16)}`}: file ${md5}, flash ${actual})`, {
        address: region.address, expected: md5, actual,
      });
    }
  }
  // The stub leaves flash mode and stays; the ROM would take FLASH_END as "run the app", so it gets none.
  if (loader.isStub && results.some((r) => !r.skipped)) {
    if (opts.compress ?? true) await loader.flashDeflEnd(false);
    else await loader.flashEnd(false);
  }
  return results;
}

/** zlib level of FLASH_DEFL_DATA streams. */
export const FLASH_DEFLATE_LEVEL = 9;

/**
 * Data blocks in flight ahead of their answers. Two keeps the wire busy while the loader writes one block and
 * answers it, and never more than one block waits on the chip: the stub receives into two buffers; for the ROM we
 * count on its UART receive buffer holding one 1 KiB block while it writes the previous one (not measured on
 * silicon yet). Either way a lost frame or a NAK fails the write (then the MD5 check); `window: 1` is esptool's way.
 */
export const PIPELINE_WINDOW = 2;

/**
 * The smaller of two deflate encoders' zlib streams, both at level 9: Node's zlib (Chromium's) and fflate's. On
 * ESP-IDF images fflate's is about 2% smaller (esp_idf_blink_esp32s2.bin: 102823 vs 104862 bytes); on some data
 * Node's is (bench/flash.ts's firmware-like data: 674486 vs 738871). Every byte saved is wire time at 46 KB/s.
 */
export function deflateForFlash(data: Uint8Array): Uint8Array {
  const a = deflateSync(data, { level: FLASH_DEFLATE_LEVEL });
  const b = zlibSync(data, { level: FLASH_DEFLATE_LEVEL });
  return b.length < a.length ? b : a;
}

function blocksOf(data: Uint8Array, blockSize: number, pad: boolean): Uint8Array[] {
  const blocks: Uint8Array[] = [];
  for (let at = 0; at < data.length; at += blockSize) {
    const chunk = data.subarray(at, at + blockSize);
    // The loader programs whole uncompressed blocks: pad the last one with erased bytes.
    blocks.push(pad && chunk.length < blockSize ? padded(chunk, blockSize) : chunk);
  }
  return blocks;
}

async function writeCompressed(session: EspSession, address: number, data: Uint8Array, window: number, report: (done: number) => void): Promise<number> {
  const { loader } = session;
  const packed = deflateForFlash(data);
  const blockSize = loader.flashBlockSize;
  await loader.flashDeflBegin(data.length, packed.length, address);
  // Compressed position stands in for the uncompressed one: both advance together closely enough for a bar.
  await loader.dataBlocks(Op.FLASH_DEFL_DATA, blocksOf(packed, blockSize, false), window, (seq) =>
    report(Math.min(data.length, Math.round(((seq + 1) * blockSize * data.length) / packed.length))),
  );
  return packed.length;
}

async function writeUncompressed(session: EspSession, address: number, data: Uint8Array, window: number, report: (done: number) => void): Promise<void> {
  const { loader } = session;
  const blockSize = loader.flashBlockSize;
  const blocks = blocksOf(data, blockSize, true);
  await loader.flashBegin(data.length, address, blocks.length);
  await loader.dataBlocks(Op.FLASH_DATA, blocks, window, (seq) => report(Math.min(data.length, (seq + 1) * blockSize)));
}

/** Whole-chip erase: the stub has a command; in the ROM, FLASH_BEGIN over the chip erases it. */
export async function eraseAll(session: EspSession): Promise<void> {
  const { loader } = session;
  if (loader.isStub) return loader.eraseFlash();
  const size = await detectFlashSize(session);
  if (!size) throw new BoardError('BOOTLOADER', 'cannot erase: the flash size could not be detected');
  await loader.flashBegin(size, 0, 0);
}

/** Erase [address, address+size); both must be whole sectors. */
export async function eraseRegion(session: EspSession, address: number, size: number): Promise<void> {
  if (address % FLASH_SECTOR !== 0 || size % FLASH_SECTOR !== 0) {
    throw new BoardError('USAGE', `Offset and size must be multiples of 0x${FLASH_SECTOR.toString(16)} (4 KiB sectors)`);
  }
  const flashSize = await detectFlashSize(session);
  if (flashSize && address + size > flashSize) {
    throw new BoardError('USAGE', `0x${address.toString(16)}+0x${size.toString(16)} lies beyond the ${formatFlashSize(flashSize)} flash`);
  }
  if (session.loader.isStub) await session.loader.eraseRegion(address, size);
  else await session.loader.flashBegin(size, address, 0);
}

function checkLayout(regions: readonly WriteRegion[], flashSize: number | undefined): void {
  let end = 0;
  for (const r of regions) {
    const label = r.name ?? `data at 0x${r.address.toString(16)}`;
    if (r.address % FLASH_SECTOR !== 0) {
      throw new BoardError('USAGE', `${label}: address 0x${r.address.toString(16)} is not a multiple of 0x1000 (4 KiB sector)`);
    }
    if (r.address < end) throw new BoardError('USAGE', `${label} at 0x${r.address.toString(16)} overlaps the previous file (ends at 0x${end.toString(16)})`);
    end = r.address + r.data.length;
    if (flashSize && end > flashSize) {
      throw new BoardError('USAGE', `File ${label} (length ${r.data.length}) at offset 0x${r.address.toString(16)} will not fit in ${formatFlashSize(flashSize)} flash`);
    }
  }
}

function headerSize(option: string | undefined, detected: number | undefined): string | undefined {
  if (option !== 'detect') return option;
  return detected ? formatFlashSize(detected) : 'keep';
}

function padTo4(data: Uint8Array): Uint8Array {
  return data.length % 4 === 0 ? data : padded(data, Math.ceil(data.length / 4) * 4);
}

function padded(data: Uint8Array, length: number): Uint8Array {
  const out = new Uint8Array(length).fill(0xff);
  out.set(data);
  return out;
}
