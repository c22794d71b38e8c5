// Node's built-in modules loaded on first use. Each costs a board's worker thread (or the CLI) its load where it is
// imported at the top: node:crypto ~2-3 ms, node:v8 ~1 ms. The worker's boot hashes nothing (boot-image.ts and
// vm-loader.ts check with code-cache.ts's checksum, the seed comes from Math.random) and reads its heap's size only
// after a while (board-runtime.ts): what hashes or parses keys on some paths (an ESP image, a partition table, a TLS
// key, os.urandom), and the memory watch, get them from here.
import { createRequire } from 'node:module';
import type * as Crypto from 'node:crypto';
import type * as V8 from 'node:v8';

/** The built-in module `name`, required at the first call. */
export function lazyBuiltin<T>(name: string): () => T {
  let real: T | undefined;
  return () => (real ??= createRequire(import.meta.url)(name) as T);
}

export const nodeCrypto = lazyBuiltin<typeof Crypto>('node:crypto');
export const nodeV8 = lazyBuiltin<typeof V8>('node:v8');
