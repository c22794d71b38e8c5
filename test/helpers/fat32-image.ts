// FAT32 images made and read straight from Microsoft's FAT specification, independent of emulator/storage (no
// FAT formatter or reader is installed on the test hosts): what a PC or a camera leaves on a card, to check the
// board's FAT against. Sector size 512.
import { closeSync, ftruncateSync, openSync, readSync, writeSync } from 'node:fs';

const SS = 512;
const EOC = 0x0fffffff;

export interface Fat32Spec {
  bytes: number;
  /** Where the partition starts (an MBR in sector 0), or undefined for a volume at sector 0 (no MBR). */
  partitionStart?: number;
  spc: number;
  /** Files in the root directory by 8.3 name ('HELLO.TXT'), and one subdirectory's. */
  files: Record<string, Buffer>;
  dir?: { name: string; files: Record<string, Buffer> };
  /** A long name written with its LFN entries, for one more root file. */
  longName?: { name: string; short: string; data: Buffer };
  /** Write FSInfo's free count (else 0xFFFFFFFF, unknown, for the reader to count). */
  fsInfoFree: boolean;
}

const name11 = (n: string) => {
  const [base, ext = ''] = n.split('.');
  return Buffer.from(base!.padEnd(8) + ext.padEnd(3), 'ascii');
};

function entry(name: Buffer, attr: number, cluster: number, size: number): Buffer {
  const e = Buffer.alloc(32);
  name.copy(e, 0);
  e[11] = attr;
  e.writeUInt16LE(0x5a21, 22); // 11:09:02
  e.writeUInt16LE(0x5a21, 14);
  e.writeUInt16LE(((2024 - 1980) << 9) | (5 << 5) | 17, 24);
  e.writeUInt16LE(((2024 - 1980) << 9) | (5 << 5) | 17, 16);
  e.writeUInt16LE(cluster >>> 16, 20);
  e.writeUInt16LE(cluster & 0xffff, 26);
  e.writeUInt32LE(size, 28);
  return e;
}

function lfnEntries(long: string, short: Buffer): Buffer[] {
  let sum = 0;
  for (const c of short) sum = (((sum & 1) << 7) + (sum >> 1) + c) & 0xff;
  const units = [...long].map((c) => c.charCodeAt(0));
  const count = Math.ceil(units.length / 13);
  const out: Buffer[] = [];
  for (let seq = count; seq >= 1; seq--) {
    const e = Buffer.alloc(32);
    e[0] = seq | (seq === count ? 0x40 : 0);
    e[11] = 0x0f;
    e[13] = sum;
    const chunk = units.slice((seq - 1) * 13, seq * 13);
    [1, 3, 5, 7, 9, 14, 16, 18, 20, 22, 24, 28, 30].forEach((o, j) =>
      e.writeUInt16LE(j < chunk.length ? chunk[j]! : j === chunk.length ? 0 : 0xffff, o));
    out.push(e);
  }
  return out;
}

/** Write the image to `path` (sparse: only the sectors that hold something are written). */
export function writeFat32(path: string, spec: Fat32Spec): { clusters: number; free: number } {
  const base = spec.partitionStart ?? 0;
  const total = spec.bytes / SS - base;
  const reserved = 32;
  const fatSz = Math.ceil((total - reserved) / ((256 * spec.spc + 2) / 2));
  const clusters = Math.floor((total - reserved - 2 * fatSz) / spec.spc);
  const dataStart = base + reserved + 2 * fatSz;
  const cb = spec.spc * SS;
  const fat = new Uint32Array(clusters + 2);
  fat[0] = 0x0ffffff8;
  fat[1] = EOC;
  let next = 2;
  const sectors = new Map<number, Buffer>();
  const place = (data: Buffer): number => {
    const n = Math.max(1, Math.ceil(data.length / cb));
    const first = next;
    for (let i = 0; i < n; i++) {
      fat[next + i] = i === n - 1 ? EOC : next + i + 1;
      const chunk = Buffer.alloc(cb);
      data.copy(chunk, 0, i * cb, (i + 1) * cb);
      for (let s = 0; s < spec.spc; s++) sectors.set(dataStart + (next + i - 2) * spec.spc + s, chunk.subarray(s * SS, (s + 1) * SS));
    }
    next += n;
    return first;
  };
  const root: Buffer[] = [entry(Buffer.from('CARD       '), 0x08, 0, 0)];
  const rootCluster = place(Buffer.alloc(cb)); // filled in below, once its entries are known
  for (const [n, d] of Object.entries(spec.files)) root.push(entry(name11(n), 0x20, place(d), d.length));
  if (spec.dir) {
    const own = next;
    const dirEntries = [entry(Buffer.from('.          '), 0x10, own, 0), entry(Buffer.from('..         '), 0x10, 0, 0)];
    place(Buffer.alloc(cb));
    for (const [n, d] of Object.entries(spec.dir.files)) dirEntries.push(entry(name11(n), 0x20, place(d), d.length));
    const body = Buffer.concat(dirEntries, cb);
    for (let s = 0; s < spec.spc; s++) sectors.set(dataStart + (own - 2) * spec.spc + s, Buffer.from(body.subarray(s * SS, (s + 1) * SS)));
    root.push(entry(name11(spec.dir.name), 0x10, own, 0));
  }
  if (spec.longName) {
    const short = name11(spec.longName.short);
    root.push(...lfnEntries(spec.longName.name, short), entry(short, 0x20, place(spec.longName.data), spec.longName.data.length));
  }
  if (root.length * 32 > cb) throw new Error('root directory over one cluster');
  const rootBody = Buffer.concat(root, cb);
  for (let s = 0; s < spec.spc; s++) sectors.set(dataStart + (rootCluster - 2) * spec.spc + s, Buffer.from(rootBody.subarray(s * SS, (s + 1) * SS)));

  const boot = Buffer.alloc(SS);
  boot.set([0xeb, 0x58, 0x90]);
  boot.write('MSWIN4.1', 3, 'ascii');
  boot.writeUInt16LE(SS, 11);
  boot[13] = spec.spc;
  boot.writeUInt16LE(reserved, 14);
  boot[16] = 2;
  boot[21] = 0xf8;
  boot.writeUInt32LE(base, 28);
  boot.writeUInt32LE(total, 32);
  boot.writeUInt32LE(fatSz, 36);
  boot.writeUInt32LE(rootCluster, 44);
  boot.writeUInt16LE(1, 48);
  boot.writeUInt16LE(6, 50);
  boot[66] = 0x29;
  boot.write('CARD       FAT32   ', 71, 'ascii');
  boot.writeUInt16LE(0xaa55, 510);
  const free = clusters - (next - 2);
  const fsi = Buffer.alloc(SS);
  fsi.writeUInt32LE(0x41615252, 0);
  fsi.writeUInt32LE(0x61417272, 484);
  fsi.writeUInt32LE(spec.fsInfoFree ? free : 0xffffffff, 488);
  fsi.writeUInt32LE(0xffffffff, 492);
  fsi.writeUInt16LE(0xaa55, 510);
  sectors.set(base, boot);
  sectors.set(base + 1, fsi);
  sectors.set(base + 6, boot);
  sectors.set(base + 7, fsi);
  const fatBytes = Buffer.from(fat.buffer);
  for (let s = 0; s * SS < fatBytes.length; s++) {
    const part = Buffer.alloc(SS);
    fatBytes.copy(part, 0, s * SS, (s + 1) * SS);
    if (part.some((b) => b)) for (const copy of [0, 1]) sectors.set(base + reserved + copy * fatSz + s, part);
  }
  if (spec.partitionStart !== undefined) {
    const mbr = Buffer.alloc(SS);
    mbr[446 + 4] = 0x0c;
    mbr.writeUInt32LE(base, 446 + 8);
    mbr.writeUInt32LE(total, 446 + 12);
    mbr.writeUInt16LE(0xaa55, 510);
    sectors.set(0, mbr);
  }
  const fd = openSync(path, 'w');
  try {
    ftruncateSync(fd, spec.bytes);
    for (const [s, b] of sectors) writeSync(fd, b, 0, SS, s * SS);
  } finally {
    closeSync(fd);
  }
  return { clusters, free };
}

export interface Fat32Read {
  /** Root (and nested) files by path, long names where there are LFN entries, else the 8.3 name. */
  files: Map<string, Buffer>;
  clusters: number;
  /** Free clusters counted in FAT #1. */
  free: number;
  fsInfoFree: number;
  fatsEqual: boolean;
}

/** Read a FAT32 image (MBR or not) as the specification describes it. */
export function readFat32(path: string): Fat32Read {
  const fd = openSync(path, 'r');
  const sector = (n: number, count = 1) => {
    const b = Buffer.alloc(count * SS);
    readSync(fd, b, 0, b.length, n * SS);
    return b;
  };
  try {
    let base = 0;
    let boot = sector(0);
    if (boot[0] !== 0xeb && boot[0] !== 0xe9) {
      base = boot.readUInt32LE(446 + 8);
      boot = sector(base);
    }
    const spc = boot[13]!;
    const reserved = boot.readUInt16LE(14);
    const nFats = boot[16]!;
    const fatSz = boot.readUInt32LE(36);
    const total = boot.readUInt32LE(32);
    const dataStart = base + reserved + nFats * fatSz;
    const clusters = Math.floor((total - reserved - nFats * fatSz) / spc);
    const fats = Array.from({ length: nFats }, (_, f) => sector(base + reserved + f * fatSz, fatSz));
    const fatGet = (c: number) => fats[0]!.readUInt32LE(c * 4) & 0x0fffffff;
    let free = 0;
    for (let c = 2; c < clusters + 2; c++) if (fatGet(c) === 0) free++;
    const readChain = (first: number, size?: number) => {
      const parts: Buffer[] = [];
      for (let c = first; c >= 2 && c < 0x0ffffff8; c = fatGet(c)) parts.push(sector(dataStart + (c - 2) * spc, spc));
      const all = Buffer.concat(parts);
      return size === undefined ? all : all.subarray(0, size);
    };
    const files = new Map<string, Buffer>();
    const walk = (cluster: number, prefix: string) => {
      const d = readChain(cluster);
      let lfn: string[] = [];
      for (let o = 0; o < d.length && d[o] !== 0; o += 32) {
        const e = d.subarray(o, o + 32);
        if (e[0] === 0xe5) { lfn = []; continue; }
        if (e[11] === 0x0f) {
          let part = '';
          for (const off of [1, 3, 5, 7, 9, 14, 16, 18, 20, 22, 24, 28, 30]) {
            const ch = e.readUInt16LE(off);
            if (ch === 0 || ch === 0xffff) break;
            part += String.fromCharCode(ch);
          }
          lfn[(e[0]! & 0x1f) - 1] = part;
          continue;
        }
        if (e[11]! & 0x08) { lfn = []; continue; }
        const base8 = e.toString('ascii', 0, 8).trimEnd();
        const ext = e.toString('ascii', 8, 11).trimEnd();
        const short = (e[12]! & 0x08 ? base8.toLowerCase() : base8) + (ext ? '.' + (e[12]! & 0x10 ? ext.toLowerCase() : ext) : '');
        const name = lfn.length ? lfn.join('') : short;
        lfn = [];
        if (name === '.' || name === '..') continue;
        const first = (e.readUInt16LE(20) << 16) | e.readUInt16LE(26);
        if (e[11]! & 0x10) walk(first, `${prefix}${name}/`);
        else files.set(prefix + name, readChain(first, e.readUInt32LE(28)));
      }
    };
    walk(boot.readUInt32LE(44), '');
    return {
      files, clusters, free, fsInfoFree: sector(base + 1).readUInt32LE(488),
      fatsEqual: fats.every((f) => f.equals(fats[0]!)),
    };
  } finally {
    closeSync(fd);
  }
}
