// Finding a FAT volume on a block device and reading its geometry, as FatFs's find_volume does: a boot sector at
// sector 0 (as MicroPython's mkfs or a PC formatting a whole device leaves it), else the first of the four MBR
// partitions that holds one (as SD cards come). The FAT type follows from the cluster count alone, as the
// specification says; FAT32's FSInfo sector is read only when BPB_FSInfo says it is sector 1, as FatFs reads it.
// Also the sectors that lay a volume out, which VfsFat's mkfs (fat.ts) and a new SD card (sdcard.ts) both write.
import type { FlashStore } from '../flash-store.js';
import { LfsError } from '../littlefs/errors.js';

/** A volume's layout; every sector number counts from the start of the device. */
export interface Geometry {
  ss: number;
  spc: number;
  nFats: number;
  fatSectors: number;
  fatStart: number;
  /** FAT12/16: the fixed root directory's first sector (it ends at dataStart). */
  rootStart: number;
  dataStart: number;
  clusters: number;
  type: 12 | 16 | 32;
  /** FAT32: the root directory's first cluster. */
  rootCluster: number;
  /** FAT32: the FSInfo sector FatFs keeps up to date; undefined when the volume has none FatFs would write. */
  fsInfo?: number;
  /** FSInfo's free cluster count and next-free hint (0xffffffff: unknown). */
  freeCount: number;
  nextFree: number;
}

/** FatFs's limits: a volume with up to MAX_FAT12 clusters is FAT12, up to MAX_FAT16 FAT16, then FAT32. */
export const MAX_FAT12 = 0xff5;
export const MAX_FAT16 = 0xfff5;
const MAX_FAT32 = 0x0ffffff5;
export const UNKNOWN = 0xffffffff;
const FSI_LEAD = 0x41615252;
const FSI_STRUC = 0x61417272;

export const le16 = (b: Uint8Array, o: number) => b[o]! | (b[o + 1]! << 8);
export const le32 = (b: Uint8Array, o: number) => (le16(b, o) | (le16(b, o + 2) << 16)) >>> 0;
export const put16 = (b: Uint8Array, o: number, v: number) => { b[o] = v & 0xff; b[o + 1] = (v >> 8) & 0xff; };
export const put32 = (b: Uint8Array, o: number, v: number) => { put16(b, o, v & 0xffff); put16(b, o + 2, v >>> 16); };

const ascii = (b: Uint8Array, o: number, n: number) => String.fromCharCode(...b.subarray(o, o + n));

/** check_fs: 'fat' for a FAT boot sector, 'record' for another boot record (an MBR), 'none' without 0xAA55. */
function classify(b: Uint8Array): 'fat' | 'record' | 'none' {
  if (le16(b, 510) !== 0xaa55) return 'none';
  const jump = b[0] === 0xe9 || (b[0] === 0xeb && b[2] === 0x90);
  return jump && (ascii(b, 54, 3) === 'FAT' || ascii(b, 82, 4) === 'FAT3') ? 'fat' : 'record';
}

/** The volume on a device of `ss`-byte sectors: ENODEV when there is none (FatFs's FR_NO_FILESYSTEM). */
export function findVolume(dev: FlashStore, ss = 512): Geometry {
  const sector = (n: number) => dev.read(n * ss, ss);
  let base = 0;
  let boot = sector(0);
  if (classify(boot) === 'record') {
    const starts = [0, 1, 2, 3].map((i) => le32(boot, 446 + i * 16 + 8));
    const found = starts.find((lba) => lba && lba * ss < dev.size && classify(sector(lba)) === 'fat');
    if (found === undefined) throw new LfsError('ENODEV', 'no FAT filesystem');
    base = found;
    boot = sector(base);
  } else if (classify(boot) !== 'fat') throw new LfsError('ENODEV', 'no FAT filesystem');
  return parseBpb(boot, base, ss, (n) => sector(n));
}

function parseBpb(b: Uint8Array, base: number, ss: number, sector: (n: number) => Uint8Array): Geometry {
  const bad = () => new LfsError('ENODEV', 'no FAT filesystem');
  if (le16(b, 11) !== ss) throw bad();
  const spc = b[13]!;
  const reserved = le16(b, 14);
  const nFats = b[16]!;
  const rootEntries = le16(b, 17);
  const fatSectors = le16(b, 22) || le32(b, 36);
  const total = le16(b, 19) || le32(b, 32);
  if (!spc || spc & (spc - 1) || !reserved || (nFats !== 1 && nFats !== 2) || rootEntries % (ss / 32)) throw bad();
  const system = reserved + nFats * fatSectors + (rootEntries * 32) / ss;
  if (total < system) throw bad();
  const clusters = Math.floor((total - system) / spc);
  if (!clusters || clusters > MAX_FAT32) throw bad();
  const type = clusters > MAX_FAT16 ? 32 : clusters > MAX_FAT12 ? 16 : 12;
  const fatStart = base + reserved;
  const entries = clusters + 2;
  const fatBytes = type === 32 ? entries * 4 : type === 16 ? entries * 2 : Math.floor((entries * 3) / 2) + (entries & 1);
  if (fatSectors < Math.ceil(fatBytes / ss)) throw bad();
  const g: Geometry = {
    ss, spc, nFats, fatSectors, fatStart, rootStart: fatStart + nFats * fatSectors, dataStart: base + system,
    clusters, type, rootCluster: 0, freeCount: UNKNOWN, nextFree: UNKNOWN,
  };
  if (type !== 32) {
    if (!rootEntries) throw bad();
    return g;
  }
  // FAT32: no fixed root, version 0.0 only (BPB_FSVer), the root a cluster chain.
  if (rootEntries || le16(b, 42) !== 0) throw bad();
  g.rootCluster = le32(b, 44);
  if (le16(b, 48) === 1) {
    g.fsInfo = base + 1;
    const fsi = sector(g.fsInfo);
    if (le16(fsi, 510) === 0xaa55 && le32(fsi, 0) === FSI_LEAD && le32(fsi, 484) === FSI_STRUC) {
      g.freeCount = le32(fsi, 488);
      g.nextFree = le32(fsi, 492);
    }
  }
  return g;
}

/** What a boot sector says of the volume it starts, in every FAT type. */
export interface VolumeParams {
  ss: number;
  /** The x86 jump (3 bytes) and the OEM name (8 characters) that open the sector. */
  jump: readonly number[];
  oem: string;
  spc: number;
  reserved: number;
  nFats: number;
  /** The volume's first sector on the device (BPB_HiddSec: 0 without an MBR) and its size in sectors. */
  hidden: number;
  total: number;
}

/**
 * A boot sector's fields up to BPB_TotSec32, and its signature, as FatFs's f_mkfs and SD card formatters fill
 * them: media 0xF8 (a fixed disk), the int13h geometry of 63 sectors a track and 255 heads.
 */
function bootSector(v: VolumeParams, rootEntries: number): Uint8Array {
  const b = new Uint8Array(v.ss);
  b.set(v.jump);
  b.set(new TextEncoder().encode(v.oem), 3);
  put16(b, 11, v.ss);
  b[13] = v.spc;
  put16(b, 14, v.reserved);
  b[16] = v.nFats;
  put16(b, 17, rootEntries);
  if (v.total < 0x10000) put16(b, 19, v.total);
  else put32(b, 32, v.total);
  b[21] = 0xf8;
  put16(b, 24, 63);
  put16(b, 26, 255);
  put32(b, 28, v.hidden);
  put16(b, 510, 0xaa55);
  return b;
}

/**
 * The extended boot record at `at` (FAT12/16: 36, FAT32: 64) as f_mkfs writes it: drive 0x80, signature 0x29, the
 * volume serial number, no label (NO NAME), then the type string.
 */
function extendedBootRecord(b: Uint8Array, at: number, serial: number, type: string): void {
  b[at] = 0x80;
  b[at + 2] = 0x29;
  put32(b, at + 3, serial);
  b.set(new TextEncoder().encode(`NO NAME    ${type}`), at + 7);
}

/** A FAT12/16 boot sector as f_mkfs writes it: one type string for both, "FAT" (the cluster count tells them apart). */
export function fatBootSector(v: VolumeParams, rootEntries: number, fatSectors: number, serial: number): Uint8Array {
  const b = bootSector(v, rootEntries);
  put16(b, 22, fatSectors);
  extendedBootRecord(b, 36, serial, 'FAT     ');
  return b;
}

/**
 * A FAT32 boot sector as f_mkfs and SD card formatters write it: the root directory in cluster 2, FSInfo in the
 * volume's sector 1 and the boot sector's backup in its sector 6.
 */
export function fat32BootSector(v: VolumeParams, fatSectors: number, serial: number): Uint8Array {
  const b = bootSector(v, 0);
  put32(b, 36, fatSectors);
  put32(b, 44, 2);
  put16(b, 48, 1);
  put16(b, 50, 6);
  extendedBootRecord(b, 64, serial, 'FAT32   ');
  return b;
}

/** A FAT's first sector: `words` (FAT32's entries 0, 1, ..., or FAT12/16's entries 0 and 1 packed in one) then zeros. */
export function fatFirstSector(ss: number, words: readonly number[]): Uint8Array {
  const s = new Uint8Array(ss);
  words.forEach((w, i) => put32(s, i * 4, w));
  return s;
}

/**
 * An MBR with one partition from `start`, `size` sectors long; `entry` is its entry's first 8 bytes: the boot flag,
 * the start CHS, the partition type and the end CHS.
 */
export function mbrSector(ss: number, entry: readonly number[], start: number, size: number): Uint8Array {
  const s = new Uint8Array(ss);
  s.set(entry, 446);
  put32(s, 454, start);
  put32(s, 458, size);
  put16(s, 510, 0xaa55);
  return s;
}

/** The FSInfo sector as FatFs's sync_fs writes it: zeros but its signatures, free count and next-free hint. */
export function fsInfoSector(ss: number, freeCount: number, nextFree: number): Uint8Array {
  const s = new Uint8Array(ss);
  put32(s, 0, FSI_LEAD);
  put32(s, 484, FSI_STRUC);
  put32(s, 488, freeCount);
  put32(s, 492, nextFree);
  put16(s, 510, 0xaa55);
  return s;
}
