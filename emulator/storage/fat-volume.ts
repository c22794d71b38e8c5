// Finding a FAT volume on a block device and reading its geometry, as FatFs's find_volume does: a boot sector at
// sector 0 (as MicroPython's mkfs or a PC formatting a whole device leaves it), else the first of the four MBR
// partitions that holds one (as SD cards come). The FAT type follows from the cluster count alone, as the
// specification says; FAT32's FSInfo sector is read only when BPB_FSInfo says it is sector 1, as FatFs reads it.
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
