// The SD card of an esp32-family board: a file of 512-byte sectors in the board's data directory (sdcard.img),
// behind machine.SDCard (the `_sd` module). The file is opened for each call, so removing or replacing it is
// taking the card out or putting another in: what a call finds is what the slot holds then. Calls never throw:
// a failure (no card, a sector past its end) is -EIO, and the Python side answers as the port's driver does.
import { closeSync, fstatSync, fsyncSync, openSync, readSync, writeSync, ftruncateSync } from 'node:fs';
import type { ControllablePlugin } from '../vm/host-api.js';
import { fat32BootSector, fatFirstSector, fsInfoSector, MAX_FAT16, mbrSector } from './fat-volume.js';

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
  if (clusters <= MAX_FAT16) throw new RangeError(`a ${bytes}-byte card is too small for FAT32`);

  // No CHS in the partition entry, LBA only: type 0x0C, FAT32 (LBA).
  const mbr = mbrSector(SD_SECTOR, [0x00, 0xfe, 0xff, 0xff, 0x0c, 0xfe, 0xff, 0xff], PARTITION_START, total);
  const volume = { ss: SD_SECTOR, jump: [0xeb, 0x58, 0x90], oem: 'BOARDCTL', spc, reserved, nFats, hidden: PARTITION_START, total };
  const boot = fat32BootSector(volume, fatSectors, (Math.random() * 0x100000000) >>> 0);
  const fsInfo = fsInfoSector(SD_SECTOR, clusters - 1, 2); // cluster 2 holds the root
  const fat = fatFirstSector(SD_SECTOR, [0x0ffffff8, 0x0fffffff, 0x0fffffff]); // the root's one cluster

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
