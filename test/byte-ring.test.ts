// The board's byte ring (emulator/vm/ring.ts): its positions are byte counts that a look compares with an earlier
// one (board.ts: were bytes written, or read, since?), so nothing short of 2^32 bytes may bring one back.
import { describe, expect, it } from 'vitest';
import { ByteRing } from '../emulator/vm/ring.js';

const CAPACITY = 64 * 1024;
const bytes = (n: number, from: number) => Uint8Array.from({ length: n }, (_, i) => (from + i) % 251);
/** Whether `got` is bytes(got.length, from) (toEqual on 64 KiB arrays takes seconds). */
const isRun = (got: Uint8Array, from: number) => Buffer.from(got).equals(bytes(got.length, from));

describe('ByteRing', () => {
  it('moves its positions on for two ringfuls written and read (a look must not take them for none)', () => {
    const ring = new ByteRing(CAPACITY);
    ring.write(bytes(1000, 0));
    ring.read();
    const wrote = ring.writePosition();
    const read = ring.readPosition();
    for (let k = 0; k < 2; k++) {
      expect(ring.write(bytes(CAPACITY, k))).toBe(CAPACITY);
      expect(isRun(ring.read(), k)).toBe(true);
    }
    expect(ring.writePosition() - wrote).toBe(2 * CAPACITY);
    expect(ring.readPosition() - read).toBe(2 * CAPACITY);
  });

  it('keeps bytes, order, fill level and positions across the wrap of its 32-bit counts', () => {
    const sab = new SharedArrayBuffer(16 + CAPACITY);
    const ctl = new Int32Array(sab, 0, 4);
    // A ring that has carried almost 2^32 bytes: its counts wrap around 300 bytes on.
    ctl[0] = -300;
    ctl[1] = -300;
    const ring = new ByteRing(sab);
    expect(ring.available()).toBe(0);
    expect(ring.write(bytes(CAPACITY + 5, 0))).toBe(CAPACITY);
    expect(ring.available()).toBe(CAPACITY);
    expect(ring.write(bytes(1, 0))).toBe(0);
    const all = ring.read();
    expect(all.length).toBe(CAPACITY);
    expect(isRun(all, 0)).toBe(true);
    let written = CAPACITY;
    let read = CAPACITY;
    for (let step = 0; step < 40; step++) {
      written += ring.write(bytes(20_000, written));
      const out = ring.read(step % 2 ? 7000 : CAPACITY);
      expect(isRun(out, read)).toBe(true);
      read += out.length;
      expect(ring.available()).toBe(written - read);
    }
    expect(ring.writePosition()).toBe((written - 300) | 0);
    expect(ring.readPosition()).toBe((read - 300) | 0);
  });

  it('refuses a capacity that is not a power of two', () => {
    expect(() => new ByteRing(1000)).toThrow(/power of two/);
  });
});
