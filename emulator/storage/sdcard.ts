// The SD card of an esp32-family board: a file of 512-byte sectors in the board's data directory (sdcard.img),
// behind machine.SDCard (the `_sd` module). The file is opened for each call, so removing or replacing it is
// taking the card out or putting another in: what a call finds is what the slot holds then. Calls never throw:
// a failure (no card, a sector past its end) is -EIO, and the Python side answers as the port's driver does.
import { closeSync, fstatSync, fsyncSync, openSync, readSync, writeSync, ftruncateSync } from 'node:fs';
import type { ControllablePlugin } from '../vm/host-api.js';
import { put16, put32 } from './fat-volume.js';

export const SD_SECTOR = 512;
/** The card a new board comes with: 64 MiB, formatted as a card is sold (an MBR, one FAT32 partition). */
export const DEFAULT_CARD_BYTES = 64 * 1024 * 1024;
/** Where the partition starts: 4 MiB in, the alignment SD card formatters give small cards. */
const PARTITION_START = 8192;
const EIO = -5;

/** Call fn with the card file open, or answer -EIO when the slot is empty. */
function withCard<R>(path: string, write: boolean, fn: (fd: number, sectors: number) => R): R | number {
  let fd: number;
  try {
    fd = openSync(path, write ? 'r+' : 'r');
  } catch {
    return EIO;
  }
  try {
    return fn(fd, Math.floor(fstatSync(fd).size / SD_SECTOR));
  } catch {
    return EIO;
  } finally {
    closeSync(fd);
  }
}

export function createSdCardPlugin(path: string): ControllablePlugin {
  const api = {
    /** The card's size in sectors (its CSD capacity), -EIO without a card. */
    sectors: () => withCard(path, false, (_fd, sectors) => sectors),
    /** count sectors from `sector`, as hex. */
    read: (sector: number, count: number) =>
      withCard(path, false, (fd, sectors) => {
        if (sector < 0 || sector + count > sectors) return EIO;
        const buf = Buffer.alloc(count * SD_SECTOR);
        readSync(fd, buf, 0, buf.length, sector * SD_SECTOR);
        return buf.toString('hex');
      }),
    write: (sector: number, hex: string) =>
      withCard(path, true, (fd, sectors) => {
        const buf = Buffer.from(hex, 'hex');
        if (sector < 0 || sector * SD_SECTOR + buf.length > sectors * SD_SECTOR) return EIO;
        writeSync(fd, buf, 0, buf.length, sector * SD_SECTOR);
        return 0;
      }),
    /** The card has what was written (FatFs's CTRL_SYNC at each file's sync and close). */
    sync: () => withCard(path, true, (fd) => (fsyncSync(fd), 0)),
  };
  return { name: 'sdcard', jsModules: { _sd: Object.freeze(api) } };
}

/**
 * A blank card as SD formatters leave one: an MBR whose first entry is a FAT32 (LBA) partition, the volume laid
 * out by Microsoft's FAT specification (32 reserved sectors with FSInfo at 1 and the boot sector's backup at 6,
 * two FATs, the root directory in cluster 2, the cluster one sector, the smallest that makes a volume this size
 * FAT32). The file is sparse: only the sectors written here take room on disk.
 */
export function createSdCard(path: string, bytes = DEFAULT_CARD_BYTES): void {
  const total = Math.floor(bytes / SD_SECTOR) - PARTITION_START;
  const reserved = 32;
  const nFats = 2;
  const spc = 1;
  // The specification's FAT size for FAT32 (its FATSz computation, RootDirSectors 0).
  const fatSectors = Math.ceil((total - reserved) / ((256 * spc + nFats) / 2));
  const clusters = Math.floor((total - reserved - nFats * fatSectors) / spc);
  if (clusters <= 0xfff5) throw new RangeError(`a ${bytes}-byte card is too small for FAT32`);

  const mbr = new Uint8Array(SD_SECTOR);
  mbr.set([0x00, 0xfe, 0xff, 0xff, 0x0c, 0xfe, 0xff, 0xff], 446); // no CHS: LBA only, type 0x0C FAT32 (LBA)
  put32(mbr, 454, PARTITION_START);
  put32(mbr, 458, total);
  put16(mbr, 510, 0xaa55);

  const boot = new Uint8Array(SD_SECTOR);
  boot.set([0xeb, 0x58, 0x90]);
  boot.set(Buffer.from('BOARDCTL'), 3);
  put16(boot, 11, SD_SECTOR);
  boot[13] = spc;
  put16(boot, 14, reserved);
  boot[16] = nFats;
  boot[21] = 0xf8;
  put16(boot, 24, 63);
  put16(boot, 26, 255);
  put32(boot, 28, PARTITION_START);
  put32(boot, 32, total);
  put32(boot, 36, fatSectors);
  put32(boot, 44, 2); // root directory cluster
  put16(boot, 48, 1); // FSInfo sector
  put16(boot, 50, 6); // backup boot sector
  boot[64] = 0x80;
  boot[66] = 0x29;
  put32(boot, 67, (Math.random() * 0x100000000) >>> 0);
  boot.set(Buffer.from('NO NAME    FAT32   '), 71);
  put16(boot, 510, 0xaa55);

  const fsInfo = new Uint8Array(SD_SECTOR);
  put32(fsInfo, 0, 0x41615252);
  put32(fsInfo, 484, 0x61417272);
  put32(fsInfo, 488, clusters - 1); // cluster 2 holds the root
  put32(fsInfo, 492, 2);
  put16(fsInfo, 510, 0xaa55);

  const fat = new Uint8Array(SD_SECTOR);
  put32(fat, 0, 0x0ffffff8);
  put32(fat, 4, 0x0fffffff);
  put32(fat, 8, 0x0fffffff); // the root's one cluster

  const fd = openSync(path, 'wx', 0o600); // a board's files are its owner's alone (board-store.ts)
  try {
    ftruncateSync(fd, bytes);
    const put = (sector: number, data: Uint8Array) => writeSync(fd, data, 0, data.length, sector * SD_SECTOR);
    put(0, mbr);
    for (const at of [0, 6]) {
      put(PARTITION_START + at, boot);
      put(PARTITION_START + at + 1, fsInfo);
    }
    for (let f = 0; f < nFats; f++) put(PARTITION_START + reserved + f * fatSectors, fat);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}
