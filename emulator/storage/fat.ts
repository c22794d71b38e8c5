// FAT12/16/32 on a block device, for vfs.VfsFat on user block devices (MicroPython's VfsFat runs ChaN's FatFs;
// this follows the on-disk format of Microsoft's FAT specification; fat-volume.ts finds the volume). mkfs lays
// the volume out as FatFs's f_mkfs does for MicroPython's mkfs: FAT12/16 with no partition table (FM_FAT | FM_SFD)
// and, for a volume too big for FAT16 (over about 4 GB), FAT32 in an MBR partition from sector 63 (FM_FAT32); one
// FAT either way. Names are case-preserving as with FatFs's LFN: an 8.3 name in one case uses the NT case bits,
// any other name gets long-name entries before a generated ~N short name. exFAT is not recognised.
import type { FlashStore } from '../flash-store.js';
import { LfsError } from '../littlefs/errors.js';
import type { OpenFlags, Whence } from '../littlefs/file.js';
import {
  fat32BootSector, fatBootSector, fatFirstSector, findVolume, fsInfoSector, le16, le32, MAX_FAT12, MAX_FAT16, mbrSector, put16,
  put32, type Geometry,
} from './fat-volume.js';

const DIR_ENTRY = 32;
const ATTR_DIR = 0x10;
const ATTR_ARCHIVE = 0x20;
const ATTR_LFN = 0x0f;
const DELETED = 0xe5;
const NT_LOWER_BASE = 0x08;
const NT_LOWER_EXT = 0x10;
const SHORT_CHARS = /^[A-Z0-9!#$%&'()\-@^_`{}~]+$/;
const ROOT_ENTRIES = 512;
/** f_mkfs's cluster-size tables: the cluster doubles at each of these volume sizes, in 4 Ki sectors (FAT12/16), 128 Ki (FAT32). */
const AU_STEPS = [1, 4, 16, 64, 256, 512];
const AU_STEPS_32 = [1, 2, 4, 8, 16, 32];

/** Where a directory entry lives, so a file can update its size and first cluster. */
interface Slot { sector: number; offset: number }
interface DirEntry { name: string; attr: number; cluster: number; size: number; mtime: number; slots: Slot[] }

export interface FatFile {
  read(n?: number): Uint8Array;
  write(data: Uint8Array): number;
  seek(off: number, whence?: Whence): number;
  sync(): void;
  close(): void;
}

/** A FAT date and time (local time = UTC on the board, 2 s steps, 1980-2107) packed as date << 16 | time. */
function fatTime(ms: number): number {
  const d = new Date(ms);
  const year = Math.min(Math.max(d.getUTCFullYear(), 1980), 2107) - 1980;
  const date = (year << 9) | ((d.getUTCMonth() + 1) << 5) | d.getUTCDate();
  return ((date << 16) | (d.getUTCHours() << 11) | (d.getUTCMinutes() << 5) | (d.getUTCSeconds() >> 1)) >>> 0;
}

/** Seconds since 1970 of a packed FAT date and time (0 when the entry has none). */
function fatSeconds(packed: number): number {
  const date = packed >>> 16;
  if (!date) return 0;
  const t = packed & 0xffff;
  return Date.UTC(1980 + (date >> 9), ((date >> 5) & 15) - 1, date & 31, t >> 11, (t >> 5) & 63, (t & 31) * 2) / 1000;
}

function shortChecksum(name11: Uint8Array): number {
  let sum = 0;
  for (const c of name11) sum = (((sum & 1) << 7) + (sum >> 1) + c) & 0xff;
  return sum;
}

/** A volume as f_mkfs lays it out; sector numbers count from `base`, the volume's first sector on the device. */
interface Layout {
  type: 12 | 16 | 32;
  base: number;
  total: number;
  spc: number;
  reserved: number;
  fatSectors: number;
  clusters: number;
}

/** FatFs's sector sizes (FF_MIN_SS 512 to FF_MAX_SS 4096 on the ports, a power of two): another is FR_DISK_ERR. */
function checkSectorSize(ss: number): void {
  if (ss < 512 || ss > 4096 || (ss & (ss - 1))) throw new LfsError('EIO', 'sector size not usable for FAT');
}

/**
 * f_mkfs(FM_FAT | FM_SFD): the volume at sector 0, 512 root entries, 16 clusters at least, the cluster size from
 * the volume size (one sector up to 4096 sectors), doubled once (up to 128 sectors) when the cluster count does
 * not fit the FAT type; undefined where FatFs gives up (FR_MKFS_ABORTED). The smallest volume is thus the boot
 * sector, a FAT sector, the root directory and 16 clusters: 50 sectors of 512 bytes, 22 of 4096 (R0.13c's own
 * 22-sector floor, which R0.12 had at 50 for every sector size).
 */
function fat16Layout(ss: number, total: number): Layout | undefined {
  const rootSectors = (ROOT_ENTRIES * DIR_ENTRY) / ss;
  const reserved = 1;
  for (let au = 0; ;) {
    const spc = au || 1 << AU_STEPS.filter((s) => s <= Math.floor(total / 4096)).length;
    const estimate = Math.floor(total / spc);
    const fat16 = estimate > MAX_FAT12;
    const fatSectors = Math.ceil((fat16 ? estimate * 2 + 4 : Math.floor((estimate * 3 + 1) / 2) + 3) / ss);
    const dataStart = reserved + fatSectors + rootSectors;
    if (total < dataStart + spc * 16) return undefined;
    const clusters = Math.floor((total - dataStart) / spc);
    if (fat16 ? clusters > MAX_FAT12 && clusters <= MAX_FAT16 : clusters <= MAX_FAT12) {
      return { type: fat16 ? 16 : 12, base: 0, total, spc, reserved, fatSectors, clusters };
    }
    // A FAT12 count too high is given up on, a FAT16 one too high or too low retried once with the cluster doubled.
    if (au || !fat16 || spc * 2 > 128) return undefined;
    au = spc * 2;
  }
}

/**
 * f_mkfs(FM_FAT32): the volume in a partition from sector 63, 32 reserved sectors, the cluster size from the volume
 * size (one sector, doubled at each of AU_STEPS_32); undefined where FatFs gives up, too few clusters for FAT32.
 * FatFs would first retry a count just short with the cluster halved, but a volume FAT16 gave up on is either
 * far too small for FAT32 or too big for FAT16, where that never happens.
 */
function fat32Layout(ss: number, count: number): Layout | undefined {
  const base = 63;
  const total = count - base;
  const spc = 1 << AU_STEPS_32.filter((s) => s <= Math.floor(total / 0x20000)).length;
  const reserved = 32;
  const fatSectors = Math.ceil((Math.floor(total / spc) * 4 + 8) / ss);
  const clusters = Math.floor((total - reserved - fatSectors) / spc);
  return clusters > MAX_FAT16 ? { type: 32, base, total, spc, reserved, fatSectors, clusters } : undefined;
}

export class FatFs {
  /** The FAT sector last read, kept as FatFs keeps its window: a chain walk reads each sector once. */
  private win: { sector: number; data: Uint8Array } | undefined;
  /** FSInfo's free count or next-free hint changed since the last sync (FatFs's fsi_flag). */
  private fsInfoDirty = false;

  private constructor(
    private readonly dev: FlashStore,
    private readonly g: Geometry,
    /** What entries are stamped with (Unix ms): the board's RTC, as FatFs's get_fattime on the ports. */
    private readonly clock: () => number,
  ) {}

  /**
   * VfsFat.mkfs as MicroPython's (extmod/vfs_fat.c): FatFs's f_mkfs for FAT12/16 on the whole device
   * (FM_FAT | FM_SFD) and, when that gives up (FR_MKFS_ABORTED) and `fallback32` allows (VfsFat.mkfs does,
   * VfsFat.mount's mkfs does not), for FAT32 (FM_FAT32) in the one partition of an MBR it writes. Either way one
   * FAT; the FAT and root directory zeroed, the device synced (CTRL_SYNC) at the end. A volume that fits none is
   * FR_MKFS_ABORTED, which VfsFat raises as EIO. The volume serial number is the time (`clock`), as FatFs takes it
   * from GET_FATTIME.
   */
  static format(
    dev: FlashStore & { blockSize: number; blockCount: number },
    clock: () => number = Date.now,
    fallback32 = true,
  ): void {
    const ss = dev.blockSize;
    checkSectorSize(ss);
    const l = fat16Layout(ss, dev.blockCount) ?? (fallback32 ? fat32Layout(ss, dev.blockCount) : undefined);
    if (!l) throw new LfsError('EIO', 'volume size not usable for FAT');
    const v = { ss, jump: [0xeb, 0xfe, 0x90], oem: 'MSDOS5.0', spc: l.spc, reserved: l.reserved, nFats: 1, hidden: l.base, total: l.total };
    const fat32 = l.type === 32;
    const serial = fatTime(clock());
    if (fat32) {
      const boot = fat32BootSector(v, l.fatSectors, serial);
      const fsInfo = fsInfoSector(ss, l.clusters - 1, 2); // cluster 2 holds the root
      for (const [at, data] of [[0, boot], [6, boot], [7, fsInfo], [1, fsInfo]] as const) dev.write((l.base + at) * ss, data);
    } else dev.write(0, fatBootSector(v, ROOT_ENTRIES, l.fatSectors, serial));
    // The FAT, its first sector holding entries 0 and 1 (and FAT32's root, one cluster), then the root directory.
    const fatStart = l.base + l.reserved;
    const entries = fat32 ? [0xfffffff8, 0xffffffff, 0x0fffffff] : [l.type === 16 ? 0xfffffff8 : 0xfffff8];
    const first = fatFirstSector(ss, entries);
    const zero = new Uint8Array(ss);
    const end = fatStart + l.fatSectors + (fat32 ? l.spc : (ROOT_ENTRIES * DIR_ENTRY) / ss);
    for (let s = fatStart; s < end; s++) dev.write(s * ss, s === fatStart ? first : zero);
    if (fat32) {
      // FatFs's CHS: from head 1 of cylinder 0, to head 254 of the cylinder the volume ends in (wrapped to 10 bits).
      const cyl = Math.floor((l.base + l.total) / (63 * 255));
      dev.write(0, mbrSector(ss, [0, 1, 1, 0, 0x0c, 254, ((cyl >> 2) & 0xc0) | 63, cyl & 0xff], l.base, l.total));
    }
    dev.sync();
  }

  /** `ss`: the device's sector size, which the volume's must equal (FatFs asks the device for it). */
  static mount(dev: FlashStore, clock: () => number = Date.now, ss = 512): FatFs {
    checkSectorSize(ss);
    return new FatFs(dev, findVolume(dev, ss), clock);
  }

  // ---- FAT --------------------------------------------------------------------------------------------

  /** Where cluster c's entry starts in FAT copy f (FAT12 entries are 1.5 bytes and may span two sectors). */
  private fatOffset(c: number, f = 0): number {
    const { g } = this;
    const start = (g.fatStart + f * g.fatSectors) * g.ss;
    return start + (g.type === 32 ? c * 4 : g.type === 16 ? c * 2 : Math.floor(c * 1.5));
  }

  private fatRead(at: number, n: number): Uint8Array {
    const { ss } = this.g;
    const sector = Math.floor(at / ss);
    if (Math.floor((at + n - 1) / ss) !== sector) return this.dev.read(at, n);
    if (this.win?.sector !== sector) this.win = { sector, data: this.dev.read(sector * ss, ss) };
    return this.win.data.slice(at - sector * ss, at - sector * ss + n);
  }

  private fatWrite(at: number, b: Uint8Array): void {
    this.dev.write(at, b);
    if (!this.win) return;
    const from = this.win.sector * this.g.ss;
    for (let i = 0; i < b.length; i++) if (at + i >= from && at + i < from + this.g.ss) this.win.data[at + i - from] = b[i]!;
  }

  /** A directory entry's first cluster: FAT32 keeps its high half at offset 20 (FatFs's ld_clust, st_clust). */
  private entryCluster(e: Uint8Array): number {
    return le16(e, 26) | (this.g.type === 32 ? le16(e, 20) << 16 : 0);
  }

  private setEntryCluster(e: Uint8Array, c: number): void {
    put16(e, 26, c & 0xffff);
    if (this.g.type === 32) put16(e, 20, c >>> 16);
  }

  private fatGet(c: number): number {
    const { type } = this.g;
    const b = this.fatRead(this.fatOffset(c), type === 32 ? 4 : 2);
    if (type === 32) return le32(b, 0) & 0x0fffffff;
    const v = le16(b, 0);
    return type === 16 ? v : c & 1 ? v >> 4 : v & 0xfff;
  }

  /** Set an entry in the first FAT and the same bytes in the others, which mirror it. */
  private fatSet(c: number, value: number): void {
    const { type } = this.g;
    const b = this.fatRead(this.fatOffset(c), type === 32 ? 4 : 2);
    // FAT32 entries are 28 bits: the top four belong to the volume and stay as they are.
    if (type === 32) put32(b, 0, ((le32(b, 0) & 0xf0000000) | value) >>> 0);
    else if (type === 16) put16(b, 0, value);
    else {
      const v = le16(b, 0);
      put16(b, 0, c & 1 ? (v & 0x000f) | (value << 4) : (v & 0xf000) | (value & 0xfff));
    }
    for (let f = 0; f < this.g.nFats; f++) this.fatWrite(this.fatOffset(c, f), b);
  }

  private isEnd(v: number): boolean {
    return v >= { 12: 0xff8, 16: 0xfff8, 32: 0x0ffffff8 }[this.g.type] || v < 2;
  }

  private eoc(): number {
    return { 12: 0xfff, 16: 0xffff, 32: 0x0fffffff }[this.g.type];
  }

  private chain(first: number): number[] {
    const out: number[] = [];
    for (let c = first; c >= 2 && !this.isEnd(c) && out.length <= this.g.clusters; c = this.fatGet(c)) out.push(c);
    return out;
  }

  /**
   * A free cluster linked after `after` (0: a new chain), searched as FatFs's create_chain searches: a chain grows
   * from its last cluster on, a new one starts after the last cluster allocated (FSInfo's next-free hint).
   */
  private allocCluster(after: number): number {
    const { g } = this;
    let start = after;
    if (!after) start = g.nextFree >= 2 && g.nextFree < g.clusters + 2 ? g.nextFree : 1;
    for (let c = start + 1, n = 0; n < g.clusters; c++, n++) {
      if (c >= g.clusters + 2) c = 2;
      if (this.fatGet(c) !== 0) continue;
      this.fatSet(c, this.eoc());
      if (after >= 2) this.fatSet(after, c);
      g.nextFree = c;
      if (g.freeCount <= g.clusters) g.freeCount--;
      this.fsInfoDirty = true;
      return c;
    }
    throw new LfsError('ENOSPC');
  }

  private freeChain(first: number): void {
    const { g } = this;
    for (const c of this.chain(first)) {
      this.fatSet(c, 0);
      if (g.freeCount < g.clusters) g.freeCount++;
      this.fsInfoDirty = true;
    }
  }

  /** FatFs's sync_fs: FSInfo written when it changed (FAT32 with an FSInfo sector), then the device's sync. */
  private syncFs(): void {
    const { g } = this;
    if (g.fsInfo !== undefined && this.fsInfoDirty) {
      this.dev.write(g.fsInfo * g.ss, fsInfoSector(g.ss, g.freeCount, g.nextFree));
      this.fsInfoDirty = false;
    }
    this.dev.sync();
  }

  private clusterSector(c: number): number {
    return this.g.dataStart + (c - 2) * this.g.spc;
  }

  private clusterBytes(): number {
    return this.g.spc * this.g.ss;
  }

  // ---- directories ------------------------------------------------------------------------------------

  /** A directory's first cluster: 0 names the root, which FAT32 keeps in a chain and FAT12/16 in a fixed region. */
  private dirChain(dir: number): number {
    return dir || this.g.rootCluster;
  }

  /** The sectors of a directory: the fixed root region, or the clusters of its chain. */
  private dirSectors(dir: number): number[] {
    const { g } = this;
    const first = this.dirChain(dir);
    if (first === 0) return Array.from({ length: g.dataStart - g.rootStart }, (_, i) => g.rootStart + i);
    return this.chain(first).flatMap((c) => Array.from({ length: g.spc }, (_, i) => this.clusterSector(c) + i));
  }

  private readDir(cluster: number): { entries: DirEntry[]; free: Slot[]; slots: Slot[] } {
    const entries: DirEntry[] = [];
    const free: Slot[] = [];
    const slots: Slot[] = [];
    let lfn: string[] = [];
    let lfnSlots: Slot[] = [];
    for (const sector of this.dirSectors(cluster)) {
      const data = this.dev.read(sector * this.g.ss, this.g.ss);
      for (let offset = 0; offset < this.g.ss; offset += DIR_ENTRY) {
        const e = data.subarray(offset, offset + DIR_ENTRY);
        const slot = { sector, offset };
        slots.push(slot);
        if (e[0] === 0 || e[0] === DELETED) {
          free.push(slot);
          lfn = [];
          lfnSlots = [];
          continue;
        }
        if (e[11] === ATTR_LFN) {
          const seq = e[0]! & 0x1f;
          let part = '';
          for (const o of [1, 3, 5, 7, 9, 14, 16, 18, 20, 22, 24, 28, 30]) {
            const ch = le16(e, o);
            if (ch === 0 || ch === 0xffff) break;
            part += String.fromCharCode(ch);
          }
          lfn[seq - 1] = part;
          lfnSlots.push(slot);
          continue;
        }
        if (e[11]! & 0x08) { lfn = []; lfnSlots = []; continue; } // volume label
        const name = lfn.length ? lfn.join('') : this.shortName(e);
        if (name !== '.' && name !== '..') {
          entries.push({
            name, attr: e[11]!, cluster: this.entryCluster(e), size: le32(e, 28), mtime: fatSeconds(le32(e, 22)), slots: [...lfnSlots, slot],
          });
        }
        lfn = [];
        lfnSlots = [];
      }
    }
    return { entries, free, slots };
  }

  private shortName(e: Uint8Array): string {
    const dec = (a: number, b: number) => String.fromCharCode(...e.subarray(a, b)).trimEnd();
    let base = dec(0, 8);
    let ext = dec(8, 11);
    if (e[12]! & NT_LOWER_BASE) base = base.toLowerCase();
    if (e[12]! & NT_LOWER_EXT) ext = ext.toLowerCase();
    return ext ? `${base}.${ext}` : base;
  }

  private split(path: string): string[] {
    return path.split('/').filter((p) => p && p !== '.');
  }

  /** The directory cluster a path names (0: root). */
  private dirCluster(parts: string[]): number {
    let cluster = 0;
    for (const p of parts) {
      const e = this.readDir(cluster).entries.find((x) => x.name.toLowerCase() === p.toLowerCase());
      if (!e) throw new LfsError('ENOENT', p);
      if (!(e.attr & ATTR_DIR)) throw new LfsError('ENOTDIR', p);
      cluster = e.cluster;
    }
    return cluster;
  }

  private lookup(path: string): { parent: number; name: string; entry?: DirEntry } {
    const parts = this.split(path);
    const name = parts.pop();
    if (name === undefined) throw new LfsError('EINVAL', 'the root directory');
    const parent = this.dirCluster(parts);
    const entry = this.readDir(parent).entries.find((x) => x.name.toLowerCase() === name.toLowerCase());
    return { parent, name, entry };
  }

  /** Short-name bytes and NT case flags for a name; null when it needs long-name entries. */
  private static shortForm(name: string): { name11: Uint8Array; nt: number } | null {
    const dot = name.lastIndexOf('.');
    const base = dot > 0 ? name.slice(0, dot) : name;
    const ext = dot > 0 ? name.slice(dot + 1) : '';
    if (!base || base.length > 8 || ext.length > 3 || (dot > 0 && !ext)) return null;
    const oneCase = (s: string) => s === s.toUpperCase() || s === s.toLowerCase();
    if (!oneCase(base) || !oneCase(ext) || !SHORT_CHARS.test(base.toUpperCase()) || (ext && !SHORT_CHARS.test(ext.toUpperCase()))) return null;
    const name11 = new TextEncoder().encode(base.toUpperCase().padEnd(8) + ext.toUpperCase().padEnd(3));
    const nt = (base !== base.toUpperCase() ? NT_LOWER_BASE : 0) | (ext && ext !== ext.toUpperCase() ? NT_LOWER_EXT : 0);
    return { name11, nt };
  }

  private writeEntryAt(slot: Slot, bytes: Uint8Array): void {
    this.dev.write(slot.sector * this.g.ss + slot.offset, bytes);
  }

  /** Add an entry (with long-name entries when needed) to a directory; returns the short entry's slot. */
  private addEntry(dir: number, name: string, attr: number, cluster: number, size: number): Slot {
    if (new TextEncoder().encode(name).length > 255) throw new LfsError('ENAMETOOLONG');
    if (/[\\/:*?"<>|]/.test(name)) throw new LfsError('EINVAL', name);
    const short = FatFs.shortForm(name);
    let name11: Uint8Array;
    let nt = 0;
    const units = [...name].map((c) => c.charCodeAt(0));
    const lfnCount = short ? 0 : Math.ceil(units.length / 13);
    if (short) ({ name11, nt } = short);
    else {
      const { entries } = this.readDir(dir);
      const stem = name.replace(/[^A-Za-z0-9]/g, '').toUpperCase().slice(0, 6) || 'FILE';
      let n = 1;
      const taken = new Set(entries.map((e) => e.name.toUpperCase()));
      while (taken.has(`${stem}~${n}`) && n < 999999) n++;
      const ext = name.includes('.') ? name.slice(name.lastIndexOf('.') + 1).replace(/[^A-Za-z0-9]/g, '').toUpperCase().slice(0, 3) : '';
      name11 = new TextEncoder().encode(`${stem}~${n}`.slice(0, 8).padEnd(8) + ext.padEnd(3));
    }
    const slots = this.freeSlots(dir, lfnCount + 1);
    const sum = shortChecksum(name11);
    for (let i = 0; i < lfnCount; i++) {
      const seq = lfnCount - i;
      const e = new Uint8Array(DIR_ENTRY);
      e[0] = seq | (i === 0 ? 0x40 : 0);
      e[11] = ATTR_LFN;
      e[13] = sum;
      const chunk = units.slice((seq - 1) * 13, seq * 13);
      [1, 3, 5, 7, 9, 14, 16, 18, 20, 22, 24, 28, 30].forEach((o, j) => put16(e, o, j < chunk.length ? chunk[j]! : j === chunk.length ? 0 : 0xffff));
      this.writeEntryAt(slots[i]!, e);
    }
    const e = new Uint8Array(DIR_ENTRY);
    e.set(name11);
    e[11] = attr;
    e[12] = nt;
    const now = fatTime(this.clock());
    put32(e, 14, now);
    put16(e, 18, now >>> 16);
    put32(e, 22, now);
    this.setEntryCluster(e, cluster);
    put32(e, 28, size);
    this.writeEntryAt(slots[lfnCount]!, e);
    return slots[lfnCount]!;
  }

  /** n consecutive free slots, growing a subdirectory by a zeroed cluster when it is full. */
  private freeSlots(dir: number, n: number): Slot[] {
    for (;;) {
      const { slots } = this.readDir(dir);
      const isFree = (s: Slot) => {
        const b = this.dev.read(s.sector * this.g.ss + s.offset, 1)[0];
        return b === 0 || b === DELETED;
      };
      for (let i = 0; i + n <= slots.length; i++) {
        if (slots.slice(i, i + n).every(isFree)) return slots.slice(i, i + n);
      }
      if (this.dirChain(dir) === 0) throw new LfsError('ENOSPC', 'root directory full');
      const last = this.chain(this.dirChain(dir)).at(-1)!;
      const c = this.allocCluster(last);
      this.zeroCluster(c);
    }
  }

  private zeroCluster(c: number): void {
    this.dev.write(this.clusterSector(c) * this.g.ss, new Uint8Array(this.clusterBytes()));
  }

  private deleteEntry(e: DirEntry): void {
    for (const s of e.slots) this.writeEntryAt(s, new Uint8Array([DELETED]));
  }

  // ---- the MountedFs surface ----------------------------------------------------------------------------

  readdir(path: string): { name: string; type: 'file' | 'dir'; size: number }[] {
    return this.readDir(this.dirCluster(this.split(path))).entries.map((e) => ({
      name: e.name, type: e.attr & ATTR_DIR ? 'dir' : 'file', size: e.attr & ATTR_DIR ? 0 : e.size,
    }));
  }

  stat(path: string): { type: 'file' | 'dir'; size: number; mtime: number } {
    if (this.split(path).length === 0) return { type: 'dir', size: 0, mtime: 0 };
    const { entry } = this.lookup(path);
    if (!entry) throw new LfsError('ENOENT', path);
    return { type: entry.attr & ATTR_DIR ? 'dir' : 'file', size: entry.attr & ATTR_DIR ? 0 : entry.size, mtime: entry.mtime };
  }

  mkdir(path: string): void {
    const { parent, name, entry } = this.lookup(path);
    if (entry) throw new LfsError('EEXIST', path);
    const c = this.allocCluster(0);
    this.zeroCluster(c);
    const dot = (n: string, cluster: number) => {
      const e = new Uint8Array(DIR_ENTRY);
      e.set(new TextEncoder().encode(n.padEnd(11)));
      e[11] = ATTR_DIR;
      this.setEntryCluster(e, cluster);
      return e;
    };
    this.dev.write(this.clusterSector(c) * this.g.ss, dot('.', c));
    this.dev.write(this.clusterSector(c) * this.g.ss + DIR_ENTRY, dot('..', parent));
    this.addEntry(parent, name, ATTR_DIR, c, 0);
    this.syncFs();
  }

  /** Remove a file (EISDIR for a directory), as MicroPython's VfsFat.remove does. */
  remove(path: string): void {
    this.unlink(path, false);
  }

  /** Remove an empty directory: ENOTDIR for a file, EACCES (FatFs's FR_DENIED) when it is not empty. */
  rmdir(path: string): void {
    this.unlink(path, true);
  }

  private unlink(path: string, dir: boolean): void {
    const { entry } = this.lookup(path);
    if (!entry) throw new LfsError('ENOENT', path);
    const isDir = (entry.attr & ATTR_DIR) !== 0;
    if (isDir !== dir) throw new LfsError(dir ? 'ENOTDIR' : 'EISDIR', path);
    if (isDir && this.readDir(entry.cluster).entries.length) throw new LfsError('EACCES', path);
    this.deleteEntry(entry);
    this.freeChain(entry.cluster);
    this.syncFs();
  }

  rename(from: string, to: string): void {
    const src = this.lookup(from);
    if (!src.entry) throw new LfsError('ENOENT', from);
    const dst = this.lookup(to);
    if (dst.entry) {
      if (dst.entry.attr & ATTR_DIR) throw new LfsError('EEXIST', to);
      this.deleteEntry(dst.entry);
      this.freeChain(dst.entry.cluster);
    }
    // FatFs registers the new name before removing the old one, so it lands in the next free slot, and carries
    // the entry's times, cluster and size over.
    const at = (slot: Slot) => slot.sector * this.g.ss + slot.offset;
    const old = this.dev.read(at(src.entry.slots.at(-1)!), DIR_ENTRY);
    const slot = this.addEntry(dst.parent, dst.name, src.entry.attr, src.entry.cluster, src.entry.size);
    const moved = this.dev.read(at(slot), DIR_ENTRY);
    moved.set(old.subarray(13), 13);
    this.writeEntryAt(slot, moved);
    this.deleteEntry(src.entry);
    // A directory moved to another parent: its '..' entry (the second of its first cluster) names the new one.
    if (src.entry.attr & ATTR_DIR && src.parent !== dst.parent) {
      const dotdot = { sector: this.clusterSector(src.entry.cluster), offset: DIR_ENTRY };
      const e = this.dev.read(at(dotdot), DIR_ENTRY);
      this.setEntryCluster(e, dst.parent);
      this.writeEntryAt(dotdot, e);
    }
    this.syncFs();
  }

  /** f_getfree: the free count FatFs keeps (FAT32's FSInfo), counted from the FAT once when it is not known. */
  statvfs(): { blockSize: number; blockCount: number; blocksFree: number; nameMax: number } {
    const { g } = this;
    if (g.freeCount > g.clusters) {
      let free = 0;
      for (let c = 2; c < g.clusters + 2; c++) if (this.fatGet(c) === 0) free++;
      g.freeCount = free;
      this.fsInfoDirty = true;
    }
    return { blockSize: this.clusterBytes(), blockCount: g.clusters, blocksFree: g.freeCount, nameMax: 255 };
  }

  unmount(): void {}

  open(path: string, flags: OpenFlags): FatFile {
    const found = this.lookup(path);
    let entry = found.entry;
    if (entry && entry.attr & ATTR_DIR) throw new LfsError('EISDIR', path);
    if (entry && flags.excl) throw new LfsError('EEXIST', path);
    if (!entry) {
      if (!flags.create) throw new LfsError('ENOENT', path);
      this.addEntry(found.parent, found.name, ATTR_ARCHIVE, 0, 0);
      entry = this.lookup(path).entry!;
    }
    const slot = entry.slots.at(-1)!;
    const state = { first: entry.cluster, size: entry.size, pos: 0, dirty: false };
    if (flags.trunc) {
      this.freeChain(state.first);
      state.first = 0;
      state.size = 0;
      state.dirty = true;
    }
    if (flags.append) state.pos = state.size;
    const fs = this;
    const cb = this.clusterBytes();
    let closed = false;
    const live = () => { if (closed) throw new LfsError('EBADF'); };
    const commit = () => {
      if (!state.dirty) return;
      const e = fs.dev.read(slot.sector * fs.g.ss + slot.offset, DIR_ENTRY);
      put32(e, 22, fatTime(fs.clock()));
      fs.setEntryCluster(e, state.first);
      put32(e, 28, state.size);
      fs.writeEntryAt(slot, e);
      state.dirty = false;
    };
    // The VM runs no finaliser for our file objects, so a file dropped without close() would never be
    // committed: the entry follows every change instead (FatFs commits it at sync, close or the finaliser).
    let modified = state.dirty;
    commit();
    // f_sync / f_close of a modified file end with the device's sync (CTRL_SYNC: ioctl 3, or the old sync()).
    const flush = () => {
      commit();
      if (modified) fs.syncFs();
      modified = false;
    };
    return {
      read(n = Infinity): Uint8Array {
        live();
        if (!flags.read) throw new LfsError('EBADF');
        const len = Math.max(0, Math.min(n, state.size - state.pos));
        const out = new Uint8Array(len);
        const chain = fs.chain(state.first);
        for (let done = 0; done < len;) {
          const at = state.pos + done;
          const c = chain[Math.floor(at / cb)]!;
          const off = at % cb;
          const k = Math.min(len - done, cb - off);
          out.set(fs.dev.read(fs.clusterSector(c) * fs.g.ss + off, k), done);
          done += k;
        }
        state.pos += len;
        return out;
      },
      write(data: Uint8Array): number {
        live();
        if (!flags.write) throw new LfsError('EBADF');
        if (flags.append) state.pos = state.size;
        const end = state.pos + data.length;
        const chain = fs.chain(state.first);
        while (chain.length * cb < end) {
          const c = fs.allocCluster(chain.at(-1) ?? 0);
          if (!chain.length) state.first = c;
          chain.push(c);
        }
        // A gap left by seeking past the end reads as zeros.
        if (state.pos > state.size) {
          const gap = new Uint8Array(state.pos - state.size);
          const save = state.pos;
          state.pos = state.size;
          this.write(gap);
          state.pos = save;
        }
        for (let done = 0; done < data.length;) {
          const at = state.pos + done;
          const c = chain[Math.floor(at / cb)]!;
          const off = at % cb;
          const k = Math.min(data.length - done, cb - off);
          fs.dev.write(fs.clusterSector(c) * fs.g.ss + off, data.subarray(done, done + k));
          done += k;
        }
        state.pos = end;
        state.size = Math.max(state.size, end);
        state.dirty = true;
        modified = true;
        commit();
        return data.length;
      },
      seek(off: number, whence: Whence = 0): number {
        live();
        const base = whence === 1 ? state.pos : whence === 2 ? state.size : 0;
        if (base + off < 0) throw new LfsError('EINVAL');
        state.pos = base + off;
        return state.pos;
      },
      sync(): void {
        live();
        flush();
      },
      close(): void {
        if (closed) return;
        flush();
        closed = true;
      },
    };
  }
}
