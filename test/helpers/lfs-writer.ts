// Power-loss victim: rewrites and removes files on a littlefs image in a loop until killed. Flash writes are
// split into small chunks (separate syscalls) so a SIGKILL can land inside a commit or a block program.
// Each completed operation is appended to an fsync'd log that the test checks the image against.
// usage: node lfs-writer.mjs IMAGE LOG SEED FIRST_VERSION
import { fsyncSync, openSync, writeSync } from 'node:fs';
import { FileFlashStore, type FlashStore } from '../../emulator/flash-store.js';
import { BlockDevice } from '../../emulator/littlefs/block-device.js';
import { LittleFs } from '../../emulator/littlefs/lfs.js';
import { lfsWriterContent, lfsWriterMovedPath, lfsWriterPath } from './lfs-content.js';

class ChunkedFlash implements FlashStore {
  constructor(private readonly inner: FlashStore, private readonly chunk: number) {}
  get size(): number { return this.inner.size; }
  read(offset: number, length: number): Uint8Array { return this.inner.read(offset, length); }
  write(offset: number, data: Uint8Array): void {
    for (let i = 0; i < data.length; i += this.chunk) this.inner.write(offset + i, data.subarray(i, i + this.chunk));
  }
  erase(offset: number, length: number): void { this.write(offset, new Uint8Array(length).fill(0xff)); }
  sync(): void { this.inner.sync(); }
  close(): void { this.inner.close(); }
}

const [image, log, seedArg, firstArg] = process.argv.slice(2);
const flash = new ChunkedFlash(new FileFlashStore(image), 64);
const bd = new BlockDevice(flash, 0, flash.size);
const blank = flash.read(0, 2 * bd.blockSize).every((b) => b === 0xff);
const fs = blank ? LittleFs.format(bd) : LittleFs.mount(bd);
const logFd = openSync(log, 'a');
const note = (line: string) => {
  writeSync(logFd, line + '\n');
  fsyncSync(logFd);
};

for (const d of ['/d0', '/d1', '/d2']) {
  try { fs.mkdir(d); } catch { /* exists */ }
}
// Formatting is not power-safe (on littlefs either): the test arms its kill only once the filesystem exists.
process.stdout.write('ready\n');

let seed = Number(seedArg) >>> 0 || 1;
const rand = () => {
  seed ^= seed << 13; seed >>>= 0; seed ^= seed >>> 17; seed ^= seed << 5; seed >>>= 0;
  return seed;
};
let version = Number(firstArg);
const exists = (path: string) => {
  try {
    fs.stat(path);
    return true;
  } catch {
    return false;
  }
};
// A rename interrupted by the previous kill may have left a file at its temporary name: finish it.
for (let k = 0; k < 12; k++) {
  if (!exists(lfsWriterMovedPath(k))) continue;
  note(`M ${k}`);
  fs.rename(lfsWriterMovedPath(k), lfsWriterPath(k));
  note(`N ${k}`);
}
for (let n = 0; ; n++) {
  const k = rand() % 12;
  const op = rand() % 10;
  if (op === 0) {
    // A directory's life: create, fill, empty, remove (orphan bookkeeping on the metadata list).
    const dir = `/tmp${n % 4}`;
    if (!exists(dir)) fs.mkdir(dir);
    fs.writeFile(`${dir}/x`, new Uint8Array(300));
    fs.remove(`${dir}/x`);
    fs.remove(dir);
    continue;
  }
  if (op === 1) {
    // There and back again across directories (a move between metadata pairs).
    if (!exists(lfsWriterPath(k))) continue;
    note(`M ${k}`);
    fs.rename(lfsWriterPath(k), lfsWriterMovedPath(k));
    fs.rename(lfsWriterMovedPath(k), lfsWriterPath(k));
    note(`N ${k}`);
    continue;
  }
  if (op === 2) {
    if (!exists(lfsWriterPath(k))) continue;
    note(`R ${k}`);
    fs.remove(lfsWriterPath(k));
    note(`X ${k}`);
    continue;
  }
  const v = version++;
  const data = lfsWriterContent(k, v);
  note(`B ${k} ${v}`);
  const f = fs.open(lfsWriterPath(k), { write: true, create: true, trunc: true });
  const cut = rand() % (data.length + 1);
  f.write(data.subarray(0, cut));
  f.write(data.subarray(cut));
  f.close();
  note(`D ${k} ${v}`);
}
