// Filesystem images on the host: build one from a folder, list, extract and check one. Images are handled in
// memory (a copy), so reading never modifies the file even when mounting finishes an interrupted operation.
import { readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { BoardError } from '../../protocol/errors.js';
import { makeDirs } from '../../protocol/fs/make-dirs.js';
import { hostError } from '../../protocol/host-error.js';
import { MemoryFlashStore } from '../flash-store.js';
import { BlockDevice } from './block-device.js';
import { blockCountFor } from './ctz.js';
import { LfsError } from './errors.js';
import { LittleFs } from './lfs.js';
import { T, le32 } from './tags.js';

export interface ImageEntry {
  /** Absolute path inside the image, e.g. /lib/util.py. */
  path: string;
  type: 'file' | 'dir';
  size: number;
}

export interface ImageSummary {
  blockSize: number;
  blockCount: number;
  blocksUsed: number;
  files: number;
  dirs: number;
  bytes: number;
}

const UNITS: Record<string, number> = { '': 1, B: 1, K: 1024, KB: 1024, KIB: 1024, M: 1 << 20, MB: 1 << 20, MIB: 1 << 20 };

/** Sizes as people write them: 2M, 2MB, 512K, 0x200000, 1048576. */
export function parseSize(text: string): number {
  const t = text.trim();
  if (/^0x[0-9a-f]+$/i.test(t)) return parseInt(t, 16);
  const m = /^(\d+)\s*([a-z]*)$/i.exec(t);
  const unit = m ? UNITS[m[2].toUpperCase()] : undefined;
  if (!m || unit === undefined) throw new BoardError('USAGE', `bad size '${text}' (use bytes, 512K, 2M or 0x200000)`);
  return Number(m[1]) * unit;
}

function device(image: Uint8Array, blockSize: number): BlockDevice {
  if (blockSize < 128 || blockSize & (blockSize - 1)) throw new BoardError('USAGE', `bad block size ${blockSize} (use a power of two, e.g. 4096)`);
  if (image.length % blockSize !== 0 || image.length < 2 * blockSize) {
    throw new BoardError('USAGE', `image size ${image.length} is not a multiple of the ${blockSize}-byte block size (at least two blocks)`);
  }
  return new BlockDevice(new MemoryFlashStore(image.length, image), 0, image.length, blockSize);
}

/**
 * Block size recorded in the superblock. A compacted metadata block that holds the superblock starts with it
 * (revision, name tag, 'littlefs', struct tag, version, block size), normally in block 0 or 1. Once littlefs
 * has expanded the superblock, {0, 1} only link to the pair now holding it, which can be any block: then
 * look for a block-aligned copy whose recorded block size matches its own alignment.
 */
export function detectBlockSize(image: Uint8Array): number | undefined {
  const magic = (off: number) => off + 28 <= image.length && new TextDecoder().decode(image.subarray(off + 8, off + 16)) === 'littlefs';
  if (magic(0)) return le32(image, 24);
  for (let bs = 128; bs <= 1 << 20 && bs < image.length; bs *= 2) if (magic(bs)) return le32(image, bs + 24);
  for (let off = 256; off + 28 <= image.length; off += 128) {
    if (!magic(off)) continue;
    const bs = le32(image, off + 24);
    if (bs >= 128 && bs <= 1 << 20 && (bs & (bs - 1)) === 0 && off % bs === 0 && image.length % bs === 0) return bs;
  }
  return undefined;
}

function mountImage(image: Uint8Array, blockSize?: number): LittleFs {
  const bs = blockSize ?? detectBlockSize(image);
  if (!bs) throw new BoardError('FS_CORRUPT', 'no littlefs superblock found (not a littlefs image?)');
  try {
    return LittleFs.mount(device(image, bs));
  } catch (err) {
    if (err instanceof LfsError) throw new BoardError('FS_CORRUPT', `cannot mount the image: ${err.message}`, { errno: err.errno });
    throw err;
  }
}

function walk(fs: LittleFs, dir: string, out: ImageEntry[]): void {
  for (const e of fs.readdir(dir).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))) {
    const path = `${dir === '/' ? '' : dir}/${e.name}`;
    out.push({ path, type: e.type, size: e.size });
    if (e.type === 'dir') walk(fs, path, out);
  }
}

function summary(fs: LittleFs, entries: ImageEntry[]): ImageSummary {
  const v = fs.statvfs();
  const files = entries.filter((e) => e.type === 'file');
  return {
    blockSize: v.blockSize, blockCount: v.blockCount, blocksUsed: v.blockCount - v.blocksFree,
    files: files.length, dirs: entries.length - files.length, bytes: files.reduce((n, e) => n + e.size, 0),
  };
}

/** A littlefs image of `size` bytes holding the contents of host folder `dir`. */
export function buildImage(dir: string, opts: { size: number; blockSize?: number }): { image: Uint8Array; summary: ImageSummary; skipped: string[] } {
  const blockSize = opts.blockSize ?? 4096;
  let root;
  try {
    root = statSync(dir);
  } catch (err) {
    throw new BoardError('LOCAL_IO', `cannot read ${dir}: ${(err as Error).message}`);
  }
  if (!root.isDirectory()) throw new BoardError('USAGE', `${dir} is not a directory`);
  const fs = LittleFs.format(device(new Uint8Array(opts.size).fill(0xff), blockSize));
  const skipped: string[] = [];
  const copy = (host: string, target: string) => {
    for (const name of readdirSync(host).sort()) {
      const src = join(host, name);
      const dst = `${target}/${name}`;
      const st = statSync(src, { throwIfNoEntry: false });
      try {
        if (st?.isDirectory()) {
          fs.mkdir(dst);
          copy(src, dst);
        } else if (st?.isFile()) {
          fs.writeFile(dst, readFileSync(src));
        } else {
          skipped.push(src);
        }
      } catch (err) {
        if (err instanceof LfsError && err.code === 'ENOSPC') {
          throw new BoardError('NO_SPACE', `${dir} does not fit in a ${opts.size}-byte image (full at ${dst})`);
        }
        if (err instanceof LfsError && err.code === 'ENAMETOOLONG') throw new BoardError('USAGE', `name too long for littlefs (255 bytes): ${src}`);
        throw err;
      }
    }
  };
  copy(dir, '');
  const entries: ImageEntry[] = [];
  walk(fs, '/', entries);
  const image = fs.bd.flash.read(0, opts.size);
  return { image, summary: summary(fs, entries), skipped };
}

export function listImage(image: Uint8Array, blockSize?: number): { entries: ImageEntry[]; summary: ImageSummary } {
  const fs = mountImage(image, blockSize);
  const entries: ImageEntry[] = [];
  walk(fs, '/', entries);
  return { entries, summary: summary(fs, entries) };
}

/** Names from an image become host paths: refuse anything that could climb out of the destination. */
function checkName(name: string, path: string): void {
  if (name === '..' || name === '.' || name === '' || name.includes('\\') || name.includes('\0')) {
    throw new BoardError('UNSAFE_PATH', `refusing to extract unsafe name '${name.replace(/\0/g, '\\0')}' in ${path}`);
  }
}

export function extractImage(image: Uint8Array, dest: string, blockSize?: number): ImageSummary {
  const fs = mountImage(image, blockSize);
  const entries: ImageEntry[] = [];
  walk(fs, '/', entries);
  for (const e of entries) e.path.slice(1).split('/').forEach((n) => checkName(n, e.path));
  try {
    makeDirs(dest);
    for (const e of entries) {
      const host = join(dest, ...e.path.slice(1).split('/'));
      if (e.type === 'dir') makeDirs(host);
      else writeFileSync(host, fs.readFile(e.path));
    }
  } catch (err) {
    throw hostError(`cannot extract to ${dest}`, err);
  }
  return summary(fs, entries);
}

export interface CheckResult extends ImageSummary {
  ok: boolean;
  version: string;
  problems: string[];
}

/** Mount, walk every directory, read every file, and make sure no block is claimed twice. */
export function checkImage(image: Uint8Array, blockSize?: number): CheckResult {
  const fs = mountImage(image, blockSize);
  const problems: string[] = [];
  const owner = new Map<number, string>();
  const claim = (b: number, who: string) => {
    if (b >= fs.blockCount) problems.push(`${who} points at block ${b}, beyond the ${fs.blockCount}-block filesystem`);
    else if (owner.has(b)) problems.push(`block ${b} is used by both ${owner.get(b)} and ${who}`);
    else owner.set(b, who);
  };
  const entries: ImageEntry[] = [];
  try {
    const key = (a: number, b: number) => (a < b ? `${a},${b}` : `${b},${a}`);
    const heads = new Set<string>();
    for (const d of fs.pairs()) {
      for (const e of d.state.entries) if (e.type === T.DIR) heads.add(key(le32(e.sdata, 0), le32(e.sdata, 4)));
    }
    let prevSplit = true;
    for (const d of fs.pairs()) {
      // Outside a split directory, every pair on the list must be some directory's first pair.
      if (!prevSplit && !heads.has(key(...d.pair))) problems.push(`metadata pair {${d.pair[0]}, ${d.pair[1]}} is orphaned`);
      prevSplit = d.state.split;
      claim(d.pair[0], `metadata pair {${d.pair[0]}, ${d.pair[1]}}`);
      claim(d.pair[1], `metadata pair {${d.pair[0]}, ${d.pair[1]}}`);
      for (const e of d.state.entries) {
        if (e.struct !== T.CTZSTRUCT) continue;
        const name = new TextDecoder().decode(e.name);
        const blocks = fs.ctzBlocks(le32(e.sdata, 0), le32(e.sdata, 4));
        if (blocks.length !== blockCountFor(le32(e.sdata, 4), fs.blockSize)) problems.push(`${name}: short block list`);
        blocks.forEach((b) => claim(b, `file ${name}`));
      }
    }
    walk(fs, '/', entries);
    for (const e of entries) {
      if (e.type === 'file' && fs.readFile(e.path).length !== e.size) problems.push(`${e.path}: size mismatch`);
    }
  } catch (err) {
    problems.push(err instanceof Error ? err.message : String(err));
  }
  return {
    ok: problems.length === 0,
    version: `${fs.version >>> 16}.${fs.version & 0xffff}`,
    problems,
    ...summary(fs, entries),
  };
}
