// Python's calls for raw access to a region of the board's flash, as a NOR chip takes them: reads, programming that
// only clears bits, and erases of whole 4 KiB sectors back to 0xFF. Behind esp32.Partition (partitions.ts) and
// rp2.Flash (the filesystem's region on the Pico). They never throw: out of the region, or misaligned, is `bad`.
import type { FlashStore } from '../flash-store.js';
import type { ControllablePlugin } from '../vm/host-api.js';

export const SECTOR = 4096;

export interface NorFlashCalls {
  /** `n` bytes at `offset` in the region, in hex. */
  read(offset: number, n: number): string | number;
  write(offset: number, hex: string): number;
  erase(offset: number, n: number): number;
}

export function norFlashCalls(flash: FlashStore, bad: number, base = 0, size = flash.size): NorFlashCalls {
  const inside = (offset: number, n: number) => offset >= 0 && n >= 0 && offset + n <= size;
  return {
    read: (offset, n) => (inside(offset, n) ? Buffer.from(flash.read(base + offset, n)).toString('hex') : bad),
    write: (offset, hex) => {
      const data = Buffer.from(hex, 'hex');
      if (!inside(offset, data.length)) return bad;
      const old = flash.read(base + offset, data.length);
      for (let i = 0; i < old.length; i++) old[i] &= data[i]!;
      flash.write(base + offset, old);
      return 0;
    },
    erase: (offset, n) => {
      if (!inside(offset, n) || offset % SECTOR || n % SECTOR) return bad;
      flash.erase(base + offset, n);
      return 0;
    },
  };
}

const EINVAL = 22;

/** `_flash`, behind rp2.Flash: the region the port keeps its filesystem in (MICROPY_HW_FLASH_STORAGE_BASE/BYTES). */
export function createRp2FlashPlugin(flash: FlashStore, offset: number, size: number): ControllablePlugin {
  return { name: 'rp2-flash', jsModules: { _flash: Object.freeze({ ...norFlashCalls(flash, -EINVAL, offset, size), size: () => size }) } };
}
