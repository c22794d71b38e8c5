// An open littlefs file. Changes are copy-on-write: blocks before the first modified one are shared with the
// committed version, later ones are written to fresh blocks, and nothing is visible until sync/close commits
// the new inline data or CTZ head in one metadata commit.
import { blockIndex, blockStart, ctz, ptrBytes } from './ctz.js';
import { LfsError } from './errors.js';
import type { LittleFs } from './lfs.js';
import { T, le32, putLe32 } from './tags.js';

export interface OpenFlags {
  read?: boolean;
  write?: boolean;
  create?: boolean;
  excl?: boolean;
  trunc?: boolean;
  append?: boolean;
}

/** A Python open() mode ('r', 'wb', 'a+', 'x', …) as open flags. */
export function parseMode(mode: string): OpenFlags {
  const plus = mode.includes('+');
  if (mode.includes('w')) return { write: true, read: plus, create: true, trunc: true };
  if (mode.includes('a')) return { write: true, read: plus, create: true, append: true };
  if (mode.includes('x')) return { write: true, read: plus, create: true, excl: true };
  return { read: true, write: plus };
}

export type Whence = 0 | 1 | 2;

interface Dirty {
  /** File offset of buf[0]: the start of the first block that will be rewritten. */
  start: number;
  buf: Uint8Array;
  len: number;
}

export class LfsFile {
  pos = 0;
  /** CTZ blocks of the current content (committed, or written and awaiting commit), index order. */
  blocks: number[] = [];
  private inline: Uint8Array | null = null;
  /** Bytes held by `inline` or `blocks`. */
  private stored = 0;
  private dirty: Dirty | null = null;
  private changed = false;
  private errored = false;
  private closed = false;

  constructor(
    private readonly fs: LittleFs,
    private readonly parent: [number, number],
    private readonly name: Uint8Array,
    readonly flags: OpenFlags,
    created = false,
  ) {
    this.load();
    if (flags.trunc && flags.write && this.size > 0) this.truncate(0);
    // As littlefs marks a created or truncated file dirty: its close commits it (and its mtime) even unwritten.
    if (flags.write && (created || flags.trunc)) this.changed = true;
  }

  get size(): number {
    return this.dirty ? this.dirty.start + this.dirty.len : this.stored;
  }

  /** Back to the committed content (after open, or after a failed write). */
  private load(): void {
    const f = this.fs.locate(this.parent, this.name);
    if (!f) throw new LfsError('ENOENT', new TextDecoder().decode(this.name));
    const { struct, sdata } = f.entry;
    this.dirty = null;
    if (struct === T.CTZSTRUCT) {
      this.stored = le32(sdata, 4);
      this.blocks = this.fs.ctzBlocks(le32(sdata, 0), this.stored);
      this.inline = null;
    } else {
      this.inline = sdata;
      this.stored = sdata.length;
      this.blocks = [];
    }
  }

  private check(write: boolean): void {
    if (this.closed) throw new LfsError('EBADF', 'file is closed');
    if (write ? !this.flags.write : this.flags.read === false) throw new LfsError('EBADF', 'file not open for that');
  }

  /** Bytes [off, off+len) of the stored (non-dirty) content. */
  private readStored(off: number, len: number): Uint8Array {
    if (this.inline) return this.inline.slice(off, off + len);
    const out = new Uint8Array(len);
    const bs = this.fs.blockSize;
    let done = 0;
    while (done < len) {
      const at = off + done;
      const i = blockIndex(at, bs);
      const n = Math.min(len - done, blockStart(i + 1, bs) - at);
      out.set(this.fs.bd.read(this.blocks[i], ptrBytes(i) + at - blockStart(i, bs), n), done);
      done += n;
    }
    return out;
  }

  private readAt(off: number, len: number): Uint8Array {
    const d = this.dirty;
    if (!d || off + len <= d.start) return this.readStored(off, len);
    const out = new Uint8Array(len);
    const split = Math.max(off, d.start);
    if (split > off) out.set(this.readStored(off, split - off));
    out.set(d.buf.subarray(split - d.start, off + len - d.start), split - off);
    return out;
  }

  read(n = Infinity): Uint8Array {
    this.check(false);
    const len = Math.max(0, Math.min(n, this.size - this.pos));
    const out = this.readAt(this.pos, len);
    this.pos += len;
    return out;
  }

  /** Make sure the in-memory tail starts at or before the block holding offset `p` (p <= size). */
  private makeDirty(p: number): Dirty {
    const bs = this.fs.blockSize;
    const from = (q: number) => (this.inline ? 0 : blockStart(blockIndex(q, bs), bs));
    if (!this.dirty) {
      const start = from(Math.min(p, this.stored));
      const buf = this.readStored(start, this.stored - start);
      this.dirty = { start, buf, len: buf.length };
    } else if (p < this.dirty.start) {
      const start = from(p);
      const head = this.readStored(start, this.dirty.start - start);
      const buf = new Uint8Array(head.length + this.dirty.buf.length);
      buf.set(head);
      buf.set(this.dirty.buf.subarray(0, this.dirty.len), head.length);
      this.dirty = { start, buf, len: head.length + this.dirty.len };
    }
    return this.dirty;
  }

  private ensureCapacity(d: Dirty, n: number): void {
    if (n <= d.buf.length) return;
    const buf = new Uint8Array(Math.max(n, d.buf.length * 2, 256));
    buf.set(d.buf.subarray(0, d.len));
    d.buf = buf;
  }

  write(data: Uint8Array): number {
    this.check(true);
    if (this.flags.append) this.pos = this.size;
    this.guard(() => {
      const d = this.makeDirty(Math.min(this.pos, this.size));
      const rel = this.pos - d.start;
      this.ensureCapacity(d, rel + data.length);
      if (rel > d.len) d.buf.fill(0, d.len, rel);
      d.buf.set(data, rel);
      d.len = Math.max(d.len, rel + data.length);
      this.changed = true;
      if (d.len > 4 * this.fs.blockSize) this.writeBlocks(false);
    });
    this.pos += data.length;
    return data.length;
  }

  seek(off: number, whence: Whence = 0): number {
    if (this.closed) throw new LfsError('EBADF', 'file is closed');
    const base = whence === 0 ? 0 : whence === 1 ? this.pos : this.size;
    if (base + off < 0) throw new LfsError('EINVAL', 'seek before start of file');
    this.pos = base + off;
    return this.pos;
  }

  truncate(size: number): void {
    this.check(true);
    if (size < 0) throw new LfsError('EINVAL', 'negative size');
    this.guard(() => {
      const d = this.makeDirty(Math.min(size, this.size));
      const rel = size - d.start;
      this.ensureCapacity(d, rel);
      if (rel > d.len) d.buf.fill(0, d.len, rel);
      d.len = rel;
      this.changed = true;
    });
  }

  /**
   * Write the in-memory tail to fresh blocks: every complete block when `final` is false (bounding memory and
   * reporting ENOSPC at write time), everything when true.
   */
  private writeBlocks(final: boolean): void {
    const d = this.dirty;
    if (!d) return;
    const bs = this.fs.blockSize;
    const total = d.start + d.len;
    let i = blockIndex(d.start, bs);
    let start = d.start;
    while (start < total) {
      const end = blockStart(i + 1, bs);
      if (!final && end >= total) break;
      const block = this.fs.alloc();
      const dataEnd = Math.min(end, total);
      const content = new Uint8Array(ptrBytes(i) + dataEnd - start);
      for (let k = 0; i > 0 && k <= ctz(i); k++) putLe32(content, 4 * k, this.blocks[i - (1 << k)]);
      content.set(d.buf.subarray(start - d.start, dataEnd - d.start), ptrBytes(i));
      this.fs.bd.rewrite(block, content);
      this.blocks.length = i;
      this.blocks.push(block);
      this.inline = null;
      i++;
      start = end;
    }
    if (start >= total) {
      this.stored = total;
      this.dirty = null;
    } else if (start > d.start) {
      this.stored = start;
      this.dirty = { start, buf: d.buf.slice(start - d.start, d.len), len: total - start };
    }
  }

  /** Commit the current content; until this returns the committed file is the old one. */
  sync(): void {
    if (this.closed) throw new LfsError('EBADF', 'file is closed');
    if (!this.changed || this.errored) return;
    this.guard(() => {
      const size = this.size;
      if (size <= this.fs.inlineMax) {
        const data = this.readAt(0, size);
        this.fs.commitFile(this.parent, this.name, T.INLINESTRUCT, data);
        this.inline = data;
        this.blocks = [];
        this.stored = size;
        this.dirty = null;
      } else {
        this.writeBlocks(true);
        const head = new Uint8Array(8);
        putLe32(head, 0, this.blocks[this.blocks.length - 1]);
        putLe32(head, 4, size);
        this.fs.commitFile(this.parent, this.name, T.CTZSTRUCT, head);
      }
      this.changed = false;
    });
  }

  close(): void {
    if (this.closed) return;
    try {
      this.sync();
    } finally {
      this.closed = true;
      this.fs.openFiles.delete(this);
    }
  }

  /** A failed step (ENOSPC, I/O) abandons uncommitted changes, as littlefs does: the file stays as committed. */
  private guard(fn: () => void): void {
    try {
      this.fs.fileOp(fn);
    } catch (err) {
      this.errored = true;
      this.changed = false;
      this.load();
      throw err;
    }
  }
}
