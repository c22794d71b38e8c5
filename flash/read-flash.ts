// read-flash and verify-flash. Reads go through READ_FLASH_SLOW in the ROM, the streamed READ_FLASH in the stub.
import { createHash } from 'node:crypto';
import { BoardError } from '../protocol/errors.js';
import type { Progress } from '../protocol/esp/loader.js';
import { detectFlashSize, type EspSession } from './esp-connect.js';
import { formatFlashSize } from './esp-info.js';

export async function readFlash(session: EspSession, address: number, size: number, onProgress?: Progress): Promise<Uint8Array> {
  const flashSize = await detectFlashSize(session);
  if (flashSize && address + size > flashSize) {
    throw new BoardError('USAGE', `0x${address.toString(16)}+0x${size.toString(16)} lies beyond the ${formatFlashSize(flashSize)} flash`);
  }
  return session.loader.readFlash(address, size, onProgress);
}

export interface VerifyResult {
  address: number;
  name?: string;
  size: number;
  ok: boolean;
  /** First differing offsets (absolute flash addresses), when the MD5 differed and --diff was asked for. */
  differences?: number[];
}

/**
 * Compare regions by MD5; with `diff`, read mismatching regions back to list where they differ.
 * Throws VERIFY_FAILED listing every mismatching region after checking them all.
 */
export async function verifyFlash(session: EspSession, regions: readonly { address: number; data: Uint8Array; name?: string }[], opts: { diff?: boolean } = {}): Promise<VerifyResult[]> {
  const results: VerifyResult[] = [];
  for (const r of regions) {
    const expected = createHash('md5').update(r.data).digest('hex');
    const actual = await session.loader.flashMd5(r.address, r.data.length);
    const res: VerifyResult = { address: r.address, name: r.name, size: r.data.length, ok: expected === actual };
    if (!res.ok && opts.diff) {
      const flash = await session.loader.readFlash(r.address, r.data.length);
      res.differences = [];
      for (let i = 0; i < flash.length && res.differences.length < 16; i++) if (flash[i] !== r.data[i]) res.differences.push(r.address + i);
    }
    results.push(res);
  }
  const bad = results.filter((r) => !r.ok);
  if (bad.length) {
    throw new BoardError('VERIFY_FAILED', `Verification failed: MD5 mismatch for ${bad.map((r) => r.name ?? `0x${r.address.toString(16)}`).join(', ')}`, { results });
  }
  return results;
}
