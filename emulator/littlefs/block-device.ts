// A littlefs block device: a window of a FlashStore split into erase blocks. Every operation goes straight to
// the store so a crash loses nothing that was already programmed.
import type { FlashStore } from '../flash-store.js';
import { LfsError } from './errors.js';

export class BlockDevice {
  readonly blockCount: number;
  private readonly erased: Uint8Array;
  private dirty = false;

  constructor(
    readonly flash: FlashStore,
    readonly offset: number,
    readonly size: number,
    readonly blockSize = 4096,
  ) {
    if (offset < 0 || size <= 0 || offset + size > flash.size) {
      throw new LfsError('EINVAL', `region 0x${offset.toString(16)}+${size} is outside the ${flash.size}-byte flash`);
    }
    this.blockCount = Math.floor(size / blockSize);
    if (this.blockCount < 2) throw new LfsError('EINVAL', 'region holds fewer than two blocks');
    this.erased = new Uint8Array(blockSize).fill(0xff);
  }

  private addr(block: number, off: number, len: number): number {
    if (block >= this.blockCount || off + len > this.blockSize) {
      throw new LfsError('EIO', `block access ${block}+${off}+${len} is out of range`);
    }
    return this.offset + block * this.blockSize + off;
  }

  read(block: number, off: number, len: number): Uint8Array {
    return this.flash.read(this.addr(block, off, len), len);
  }

  prog(block: number, off: number, data: Uint8Array): void {
    this.flash.write(this.addr(block, off, data.length), data);
    this.dirty = true;
  }

  erase(block: number): void {
    this.flash.write(this.addr(block, 0, this.blockSize), this.erased);
    this.dirty = true;
  }

  /** Erase a block and program `data` at its start in one store write (the tail stays erased). */
  rewrite(block: number, data: Uint8Array): void {
    const buf = new Uint8Array(this.blockSize).fill(0xff);
    buf.set(data.subarray(0, this.blockSize));
    this.flash.write(this.addr(block, 0, this.blockSize), buf);
    this.dirty = true;
  }

  /** Make everything programmed so far durable (a no-op when nothing was). */
  sync(): void {
    if (!this.dirty) return;
    this.flash.sync();
    this.dirty = false;
  }
}
