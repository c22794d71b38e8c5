// The files the power-loss writer produces: content is a pure function of (file number, version) so the
// test can tell an old version from a new one and spot any torn mixture.

const SIZES = [0, 10, 127, 128, 200, 3000, 9000, 30_000];

export const lfsWriterPath = (k: number): string => `/d${k % 3}/f${k}`;
/** Where a file sits halfway through the writer's round-trip rename. */
export const lfsWriterMovedPath = (k: number): string => `/d${(k + 1) % 3}/moved${k}`;

export function lfsWriterContent(k: number, v: number): Uint8Array {
  const n = SIZES[(k * 7 + v) % SIZES.length];
  const out = new Uint8Array(n + 16);
  new DataView(out.buffer).setUint32(0, k, true);
  new DataView(out.buffer).setUint32(4, v, true);
  let s = (k * 1000003 + v * 7919 + 1) >>> 0;
  for (let i = 8; i < out.length; i++) {
    s = (Math.imul(s, 1103515245) + 12345) >>> 0;
    out[i] = s >>> 24;
  }
  return out;
}

/** Version recorded in a file's header. */
export const lfsWriterVersion = (data: Uint8Array): number =>
  new DataView(data.buffer, data.byteOffset, data.byteLength).getUint32(4, true);
