// The digest a transfer is checked with, computed the same way on both ends (snippets.ts digestDefs is the
// board's half): the first 64 bits of sha256, in hex, where the board has hashlib (a damaged or changed file
// passes for the same with odds of 2^-64, and each digest costs 16 bytes at the baud rate instead of 64); elsewhere `sLENGTH.A.C`, a Fletcher-style sum over
// 512-byte blocks that C-speed sum() can compute on any firmware. It catches any single damaged, lost or
// extra byte, which is what a link does; it is no content hash, so sync never uses it to call files equal.
import { createHash, type Hash } from 'node:crypto';

export const BLOCKSUM_BLOCK = 512;

export function blockSum(data: Uint8Array): string {
  const d = new DigestStream(false);
  d.update(data);
  return d.digest();
}

export function sha256Hex(data: Uint8Array): string {
  return createHash('sha256').update(data).digest('hex');
}

/** Hex digits of sha256 that transfers and sync compare (the board's G.x() prints this many). */
export const SHORT_DIGEST_HEX = 16;

/** The sha256 digest transfers and sync compare: its first SHORT_DIGEST_HEX hex digits. */
export function shortSha256(data: Uint8Array): string {
  return sha256Hex(data).slice(0, SHORT_DIGEST_HEX);
}

/** The digest a board with (or without) hashlib reports for `data`. */
export function transferDigest(data: Uint8Array, hashlib: boolean): string {
  return hashlib ? shortSha256(data) : blockSum(data);
}

const SHORT_DIGEST = new RegExp(`^[0-9a-f]{${SHORT_DIGEST_HEX}}$`);

/** A digest as the board printed it is well-formed for that kind (a missing one is an error, never a pass). */
export function isDigest(text: string | undefined, hashlib: boolean): boolean {
  return text !== undefined && (hashlib ? SHORT_DIGEST.test(text) : /^s\d+\.\d+\.\d+$/.test(text));
}

/** transferDigest over data that arrives in pieces. */
export class DigestStream {
  private readonly sha: Hash | undefined;
  private a = 0;
  private c = 0;
  private n = 0;
  private partial = 0;
  private fill = 0;

  constructor(hashlib: boolean) {
    this.sha = hashlib ? createHash('sha256') : undefined;
  }

  update(data: Uint8Array): void {
    if (this.sha) {
      this.sha.update(data);
      return;
    }
    for (const b of data) {
      this.partial += b;
      if (++this.fill === BLOCKSUM_BLOCK) this.closeBlock();
    }
    this.n += data.length;
  }

  digest(): string {
    if (this.sha) return this.sha.digest('hex').slice(0, SHORT_DIGEST_HEX);
    if (this.fill) this.closeBlock();
    return `s${this.n}.${this.a}.${this.c}`;
  }

  private closeBlock(): void {
    this.a = (this.a + this.partial) & 0xffffff;
    this.c = (this.c + this.a) & 0xffffff;
    this.partial = 0;
    this.fill = 0;
  }
}
