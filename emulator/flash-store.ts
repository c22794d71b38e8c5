// The board's flash chip: one image file, read and written in place (never rewritten whole), so a crash
// mid-operation leaves every untouched byte as it was. Erased flash reads 0xFF.
// Every write goes to the host file at once (a crash of boardctl loses nothing: the OS has it); the fsyncs that
// make the image survive a host power cut are coalesced, at most one per SYNC_DELAY_MS while writes go on
// (littlefs asks for one per commit, several per small file: fsync was most of a small file's cost).
import { closeSync, fsyncSync, openSync, readSync, writeSync, ftruncateSync, fstatSync } from 'node:fs';
import { phase } from '../protocol/timing.js';

/** How long a write may stay in the host's page cache before the image is fsynced (the power-cut window). */
export const SYNC_DELAY_MS = 100;

export interface FlashStore {
  readonly size: number;
  read(offset: number, length: number): Uint8Array;
  /** NOR semantics are the caller's business (littlefs erases before programming); this writes bytes as given. */
  write(offset: number, data: Uint8Array): void;
  /** Set a range to 0xFF. */
  erase(offset: number, length: number): void;
  /** What was written so far must reach the medium (FileFlashStore: within its sync delay, see flushDue). */
  sync(): void;
  close(): void;
}

export interface FlashStoreOptions {
  /** fsync at most this often while writes go on; 0 fsyncs at every sync() (default SYNC_DELAY_MS). */
  syncDelayMs?: number;
  /** The clock the delay is measured on (ms; tests drive it). */
  now?: () => number;
  /**
   * A shared cell set to 1 before a write reaches the file and back to 0 once it is fsynced, so another thread
   * can tell, after stopping this one, whether the image needs an fsync (set first: a stop between the write
   * and the mark would otherwise lose it).
   */
  unsynced?: Int32Array;
}

/** What a FileFlashStore did: writes (pwrite calls), sync() requests and the fsyncs they cost. */
export interface FlashCounters {
  writes: number;
  syncs: number;
  fsyncs: number;
}

export class FileFlashStore implements FlashStore {
  private fd: number;
  readonly size: number;
  readonly counters: FlashCounters = { writes: 0, syncs: 0, fsyncs: 0 };
  private readonly delayMs: number;
  private readonly now: () => number;
  private readonly unsyncedMark: Int32Array | undefined;
  /** When the oldest write not yet fsynced was made; undefined when the file is durable. */
  private unsyncedSince: number | undefined;

  constructor(readonly path: string, size?: number, options: FlashStoreOptions = {}) {
    this.delayMs = options.syncDelayMs ?? SYNC_DELAY_MS;
    this.now = options.now ?? (() => performance.now());
    this.unsyncedMark = options.unsynced;
    this.fd = openSync(path, 'r+');
    const actual = fstatSync(this.fd).size;
    this.size = size ?? actual;
    if (actual < this.size) {
      // Grow with erased bytes, never zeros: zeros would look like programmed flash.
      const pad = new Uint8Array(Math.min(1 << 20, this.size - actual)).fill(0xff);
      for (let off = actual; off < this.size; off += pad.length) this.write(off, pad.subarray(0, Math.min(pad.length, this.size - off)));
    } else if (actual > this.size) {
      ftruncateSync(this.fd, this.size);
    }
  }

  /** Create an erased image of `size` bytes (refuses to overwrite an existing file). */
  static create(path: string, size: number, options?: FlashStoreOptions): FileFlashStore {
    closeSync(openSync(path, 'wx', 0o600)); // a board's flash is its owner's alone (see board-store.ts)
    return new FileFlashStore(path, size, options);
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
    if (this.unsyncedSince === undefined && this.unsyncedMark) Atomics.store(this.unsyncedMark, 0, 1);
    let done = 0;
    while (done < data.length) done += writeSync(this.fd, data, done, data.length - done, offset + done);
    this.counters.writes++;
    this.unsyncedSince ??= this.now();
  }

  erase(offset: number, length: number): void {
    this.check(offset, length);
    const chunk = new Uint8Array(Math.min(length, 64 * 1024)).fill(0xff);
    for (let off = 0; off < length; off += chunk.length) {
      this.write(offset + off, chunk.subarray(0, Math.min(chunk.length, length - off)));
    }
  }

  sync(): void {
    this.counters.syncs++;
    this.flushDue();
  }

  /** fsync when the oldest unsynced write is SYNC_DELAY_MS old: the board's poller calls this while it idles. */
  flushDue(): void {
    if (this.unsyncedSince !== undefined && this.now() - this.unsyncedSince >= this.delayMs) this.flush();
  }

  /** fsync now if anything was written since the last one. */
  flush(): void {
    if (this.unsyncedSince === undefined || this.fd < 0) return;
    fsyncSync(this.fd);
    this.unsyncedSince = undefined;
    if (this.unsyncedMark) Atomics.store(this.unsyncedMark, 0, 0);
    const c = this.counters;
    phase(`flash: fsync ${++c.fsyncs} (${c.writes} writes, ${c.syncs} syncs asked so far)`);
  }

  close(): void {
    if (this.fd < 0) return;
    try {
      this.flush();
    } finally {
      closeSync(this.fd);
      this.fd = -1;
    }
  }
}

/**
 * fsync a flash image from outside the thread that wrote it (its worker was terminated: power-off, hard reset,
 * close). On Linux an fsync on any descriptor writes back the file's dirty pages, whoever wrote them.
 */
export function syncImageFile(path: string): void {
  const fd = openSync(path, 'r');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
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
