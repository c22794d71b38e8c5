// CTZ skip-lists: block i of a file (i > 0) starts with ctz(i)+1 little-endian pointers to blocks i-1, i-2,
// i-4 … i-2^ctz(i); data follows. Block 0 holds only data.

export const ctz = (n: number): number => 31 - Math.clz32(n & -n);

function popcount(n: number): number {
  let c = 0;
  for (let x = n >>> 0; x; x &= x - 1) c++;
  return c;
}

/** Pointer bytes at the head of block i. */
export const ptrBytes = (i: number): number => (i === 0 ? 0 : 4 * (ctz(i) + 1));

/** File offset of the first data byte of block i: i blocks minus the pointers of blocks 1..i-1. */
export const blockStart = (i: number, blockSize: number): number =>
  i === 0 ? 0 : blockSize * i - 4 * (2 * (i - 1) - popcount(i - 1));

/** Index of the block holding file offset `off`. */
export function blockIndex(off: number, blockSize: number): number {
  let i = Math.floor(off / (blockSize - 8));
  while (i > 0 && blockStart(i, blockSize) > off) i--;
  while (blockStart(i + 1, blockSize) <= off) i++;
  return i;
}

/** Number of blocks a file of `size` bytes occupies. */
export const blockCountFor = (size: number, blockSize: number): number =>
  size === 0 ? 0 : blockIndex(size - 1, blockSize) + 1;
