// node:crypto, loaded on first use. Its load takes ~2-3 ms of a board's worker thread, whose boot hashes nothing
// (boot-image.ts and vm-loader.ts check with code-cache.ts's checksum, the seed comes from Math.random): the
// modules the worker bundle holds that hash or parse keys only on some paths (an ESP image, a partition table, a
// TLS key, os.urandom) get it from here.
import { createRequire } from 'node:module';
import type * as Crypto from 'node:crypto';

let real: typeof Crypto | undefined;

export const nodeCrypto = (): typeof Crypto => (real ??= createRequire(import.meta.url)('node:crypto') as typeof Crypto);
