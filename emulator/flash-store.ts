// The board's flash chip: one image file, read and written in place (never rewritten whole), so a crash
// mid-operation leaves every untouched byte as it was. Erased flash reads 0xFF.
import { closeSync, fsyncSync, openSync, readSync, writeSync, ftruncateSync, fstatSync } from 'node:fs';

export interface FlashStore {
  readonly size: number;
  read(offset: number, length: number): Uint8Array;
  /** NOR semantics are the caller's business (littlefs erases before programming); this writes bytes as given. */
  write(offset: number, data: Uint8Array): void;
  /** Set a range to 0xFF. */
  erase(offset: number, length: number): void;
  sync(): void;
  close(): void;
}

export class FileFlashStore implements FlashStore {
  private fd: number;
  readonly size: number;

  constructor(readonly path: string, size?: number) {
    this.fd = openSync(path, 'r+');
    const actual = fstatSync(this.fd).size;
    this.size = size ?? actual;
    if (actual < this.size) {
      // Grow with erased bytes, never zeros: zeros would look like programmed flash.
      const pad = new Uint8Array(Math.min(1 << 20, this.size - actual)).fill(0xff);
      for (let off = actual; off < this.size; off += pad.length) {
        writeSync(this.fd, pad, 0, Math.min(pad.length, this.size - off), off);
      }
    } else if (actual > this.size) {
      ftruncateSync(this.fd, this.size);
    }
  }

  /** Create an erased image of `size` bytes (refuses to overwrite an existing file). */
  static create(path: string, size: number): FileFlashStore {
    closeSync(openSync(path, 'wx', 0o600)); // a board's flash is its owner's alone (see board-store.ts)
    return new FileFlashStore(path, size);
  }

  private check(offset: number, length: number): void {
    if (offset < 0 || length < 0 || offset + length > this.size) {
      throw new RangeError(`flash access 0x${offset.toString(16)}+${length} is outside the ${this.size}-byte chip`);
    }
  }

  read(offset: number, length: number): Uint8Array {
    this.check(offset, length);
    const buf = new Uint8Array(length);
    let done = 0;
    while (done < length) {
      const n = readSync(this.fd, buf, done, length - done, offset + done);
      if (n === 0) break;
      done += n;
    }
    return buf;
  }

  write(offset: number, data: Uint8Array): void {
    this.check(offset, data.length);
    let done = 0;
    while (done < data.length) done += writeSync(this.fd, data, done, data.length - done, offset + done);
  }

  erase(offset: number, length: number): void {
    this.check(offset, length);
    const chunk = new Uint8Array(Math.min(length, 64 * 1024)).fill(0xff);
    for (let off = 0; off < length; off += chunk.length) {
      this.write(offset + off, chunk.subarray(0, Math.min(chunk.length, length - off)));
    }
  }

  sync(): void {
    fsyncSync(this.fd);
  }

  close(): void {
    if (this.fd >= 0) closeSync(this.fd);
    this.fd = -1;
  }
}

/** A flash chip in memory, for tests and image building. */
export class MemoryFlashStore implements FlashStore {
  readonly data: Uint8Array;
  constructor(readonly size: number, init?: Uint8Array) {
    this.data = new Uint8Array(size).fill(0xff);
    if (init) this.data.set(init.subarray(0, size));
  }
  read(offset: number, length: number): Uint8Array {
    return this.data.slice(offset, offset + length);
  }
  write(offset: number, data: Uint8Array): void {
    this.data.set(data, offset);
  }
  erase(offset: number, length: number): void {
    this.data.fill(0xff, offset, offset + length);
  }
  sync(): void {}
  close(): void {}
}
