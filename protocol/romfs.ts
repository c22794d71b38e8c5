// ROMFS (MicroPython 1.25+): read-only filesystem segments the firmware exposes through vfs.rom_ioctl:
// 1 = number of segments, 2 = segment N (a memoryview of the flash, or on some ports a block device), and for
// writing 3 = prepare (erase; returns the minimum write size), 4 = write bytes at an offset, 5 = complete.
// Ports built without MICROPY_VFS_ROM (stock ESP32_GENERIC and RPI_PICO at v1.27.0) have no rom_ioctl at
// all; ports with a read-only segment (the qemu port) answer 3..5 with -EINVAL. mpremote ignores those
// answers and reports "ROMFS image deployed" anyway; here every step's answer is checked, and the written
// image is read back and compared.
import type { Board } from './board.js';
import { BoardError } from './errors.js';
import { boardCapabilities } from './fs/capabilities.js';
import { transferDigest } from './fs/digest.js';
import { errnoName } from './fs/errno.js';
import { outputLines } from './fs/py-repr.js';
import { bufferDigestSource, scoped } from './fs/snippets.js';
import { pyBytesLiteral } from './fs/wire.js';
import { ROMFS_HEADER, romfsImageLength } from './romfs-image.js';

/** The number of ROMFS segments (rom_ioctl(1)), or undefined where the firmware has no ROMFS. */
export async function romfsSegments(board: Board): Promise<number | undefined> {
  const reply = await board.eval("(lambda v: v.rom_ioctl(1) if hasattr(v, 'rom_ioctl') else None)(__import__('vfs'))");
  const n = Number(reply);
  return reply === 'None' || !Number.isInteger(n) || n < 0 ? undefined : n;
}

/** Resolves where the board has ROMFS segments; the one-line error where it has none. */
export async function requireRomfs(board: Board): Promise<number> {
  const n = await romfsSegments(board);
  if (n === undefined || n === 0) throw new BoardError('DEVICE_OSERROR', 'the board has no ROMFS (its firmware is built without MICROPY_VFS_ROM)', { lacking: 'ROMFS' });
  return n;
}

export interface RomfsSegment {
  index: number;
  /** Bytes the segment holds. */
  size: number;
  /** Set where the port hands out the segment as a block device (erased and written block by block). */
  blockSize?: number;
  /** Its first 16 bytes, hex. */
  head: string;
  /** The length of the ROMFS image it holds, or undefined when it holds none. */
  imageLength?: number;
}

const HEAD_BYTES = 16;

/**
 * A deploy or query step as the board runs it: `vfs` imported and `d` = segment i, in the function scope
 * every fs snippet gets (snippets.ts scoped()), so no step leaves a name in the user's globals.
 */
function romStep(i: number, lines: string[]): string {
  return scoped(['import vfs', `d=vfs.rom_ioctl(2,${i})`, ...lines]);
}

/** Board-side: a line `S i M size head` (memoryview), `S i B count blocksize head` (block device) or `S i E -errno`. */
function segmentSource(i: number): string {
  return romStep(i, [
    'h=lambda b:("%02x"*len(b))%tuple(b)',
    'if isinstance(d,int):print("S",' + i + ',"E",d)',
    'elif hasattr(d,"ioctl"):',
    ' b=bytearray(d.ioctl(5,0));d.readblocks(0,b)',
    ` print("S",${i},"B",d.ioctl(4,0),d.ioctl(5,0),h(b[:${HEAD_BYTES}]))`,
    `else:print("S",${i},"M",len(d),h(d[:${HEAD_BYTES}]))`,
  ]);
}

function segmentMissing(i: number, errno: number): BoardError {
  return new BoardError('DEVICE_OSERROR', `the board has no ROMFS segment ${i} (rom_ioctl(2, ${i}) returned -${errno}, ${errnoName(errno)})`, { segment: i, errno });
}

async function segmentInfo(board: Board, i: number): Promise<RomfsSegment> {
  const { stdout } = await board.exec(segmentSource(i));
  const words = (outputLines(stdout).find((l) => l.startsWith(`S ${i} `)) ?? '').split(' ');
  const kind = words[2];
  if (kind === 'E') throw segmentMissing(i, Math.abs(Number(words[3])));
  const numbers = words.slice(3, kind === 'B' ? 5 : 4).map(Number);
  const head = words.at(-1) ?? '';
  if (!['M', 'B'].includes(kind ?? '') || numbers.some((n) => !Number.isInteger(n) || n < 0) || !/^[0-9a-f]*$/.test(head)) {
    throw new BoardError('PROTOCOL', `unexpected answer about ROMFS segment ${i}: ${JSON.stringify(stdout.trim())}`);
  }
  const size = kind === 'B' ? numbers[0]! * numbers[1]! : numbers[0]!;
  return { index: i, size, ...(kind === 'B' ? { blockSize: numbers[1]! } : {}), head, imageLength: romfsImageLength(Buffer.from(head, 'hex')) };
}

/** Every ROMFS segment: its size, first bytes, and the image it holds (what `mpremote romfs query` shows). */
export async function querySegments(board: Board): Promise<RomfsSegment[]> {
  const n = await requireRomfs(board);
  const out: RomfsSegment[] = [];
  for (let i = 0; i < n; i++) out.push(await segmentInfo(board, i));
  return out;
}

export interface DeployOptions {
  segment?: number;
  signal?: AbortSignal;
  onProgress?: (written: number, total: number) => void;
}

export interface DeployResult {
  segment: number;
  segmentSize: number;
  bytes: number;
  /** The segment was read back and matched the image (not done for block-device segments). */
  verified: boolean;
}

/** A step's integer answer; a negative one is the errno of a failure. */
async function step(board: Board, code: string): Promise<number> {
  const { stdout } = await board.exec(code);
  const n = Number(outputLines(stdout).at(-1));
  if (!Number.isInteger(n)) throw new BoardError('PROTOCOL', `unexpected answer from the board: ${JSON.stringify(stdout.trim())}`);
  return n;
}

function stepFailed(i: number, what: string, errno: number, after: string): BoardError {
  return new BoardError('DEVICE_OSERROR', `ROMFS${i} ${what} failed: the board answered -${errno} (${errnoName(errno)}); ${after}`, { segment: i, errno });
}

/** Chunks of at least 4 KiB, in whole multiples of the port's minimum write size. */
function chunkSize(minWrite: number): number {
  return minWrite > 0 ? Math.ceil(4096 / minWrite) * minWrite : 4096;
}

/**
 * Write a ROMFS image into segment `segment` (default 0) with mpremote's rom_ioctl sequence: unmount /rom,
 * prepare, write in chunks (the last padded with zeros to a whole chunk), complete; then read it back.
 * The new image is mounted at /rom after the next soft reset.
 */
export async function deployRomfs(board: Board, image: Uint8Array, opts: DeployOptions = {}): Promise<DeployResult> {
  const i = opts.segment ?? 0;
  if (romfsImageLength(image) === undefined) throw new BoardError('BAD_IMAGE', `not a ROMFS image (it does not start with ${Buffer.from(ROMFS_HEADER).toString('hex')})`);
  const n = await requireRomfs(board);
  if (!Number.isInteger(i) || i < 0 || i >= n) throw new BoardError('USAGE', `no ROMFS segment ${i}: the board has ${n} (0${n > 1 ? `..${n - 1}` : ''})`);
  const seg = await segmentInfo(board, i);
  if (image.length > seg.size) throw new BoardError('NO_SPACE', `the image (${image.length} bytes) does not fit ROMFS${i} (${seg.size} bytes)`, { segment: i });
  const caps = await boardCapabilities(board);
  const payload = (data: Uint8Array) => (caps.binascii ? `__import__('binascii').a2b_base64('${Buffer.from(data).toString('base64')}')` : pyBytesLiteral(data));
  const run = (...lines: string[]) => step(board, romStep(i, lines));
  const mounted = await run('try:', " vfs.umount('/rom');print(1)", 'except OSError:', ' print(0)');

  let chunk: number;
  let write: (offset: number, data: Uint8Array) => string;
  if (seg.blockSize !== undefined) {
    const bs = seg.blockSize;
    for (let b = 0; b * bs < image.length; b++) {
      const r = await run(`print(d.ioctl(6,${b}))`);
      if (r < 0) throw stepFailed(i, `erasing block ${b}`, -r, 'the segment may hold a partial image: deploy again');
    }
    chunk = Math.min(4096, bs);
    write = (offset, data) => `d.writeblocks(${Math.floor(offset / bs)},${payload(data)},${offset % bs});print(0)`;
  } else {
    const minWrite = await run(`print(vfs.rom_ioctl(3,${i},${image.length}))`);
    if (minWrite < 0) {
      if (mounted) await board.exec(romStep(i, ["vfs.mount(vfs.VfsRom(d),'/rom')"])).catch(() => {});
      throw new BoardError('DEVICE_OSERROR', `ROMFS${i} cannot be written on this board: preparing it for writing was refused (-${-minWrite}, ${errnoName(-minWrite)}); it is unchanged`, {
        segment: i,
        errno: -minWrite,
      });
    }
    chunk = chunkSize(minWrite);
    write = (offset, data) => `print(vfs.rom_ioctl(4,${i},${offset},${payload(data)}))`;
  }
  for (let offset = 0; offset < image.length; offset += chunk) {
    if (opts.signal?.aborted) throw new BoardError('INTERRUPTED', `stopped by Ctrl-C at byte ${offset}: ROMFS${i} holds a partial image, deploy again`);
    const data = new Uint8Array(chunk);
    data.set(image.subarray(offset, offset + chunk));
    const r = await run(write(offset, data));
    if (r < 0) throw stepFailed(i, `write at byte ${offset}`, -r, 'it holds a partial image: deploy again');
    opts.onProgress?.(Math.min(offset + chunk, image.length), image.length);
  }
  if (seg.blockSize !== undefined) return { segment: i, segmentSize: seg.size, bytes: image.length, verified: false };
  const done = await run(`print(vfs.rom_ioctl(5,${i}))`);
  if (done < 0) throw stepFailed(i, 'completing the write', -done, 'deploy again');
  const { stdout } = await board.exec(bufferDigestSource(`memoryview(__import__('vfs').rom_ioctl(2,${i}))[:${image.length}]`, caps.hashlib));
  if (outputLines(stdout).at(-1) !== transferDigest(image, caps.hashlib)) {
    throw new BoardError('VERIFY_FAILED', `ROMFS${i} reads back different from the image just written: deploy again`, { segment: i });
  }
  return { segment: i, segmentSize: seg.size, bytes: image.length, verified: true };
}
