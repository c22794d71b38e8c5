// Metadata pairs: parsing a block's commit log into the current state of its entries, and encoding new
// commits (XOR-chained tags, CRC tag with the next commit's expected valid bit, optional forward CRC).
import { crc32Update as lfsCrc } from '../../protocol/crc32.js';
import {
  DELETED, NO_ID, NULL_BLOCK, T, be32, isValid, le32, mkTag, putBe32, putLe32, tagChunk, tagDsize, tagId, tagSize,
  tagType, tagType1,
} from './tags.js';

export interface Entry {
  /** REG, DIR or SUPERBLOCK (the chunk of the name tag). */
  type: number;
  name: Uint8Array;
  /** DIRSTRUCT, INLINESTRUCT or CTZSTRUCT. */
  struct: number;
  sdata: Uint8Array;
  attrs: Map<number, Uint8Array>;
}

export interface DirState {
  entries: Entry[];
  tail: [number, number];
  /** Hard tail: the next pair continues this directory. */
  split: boolean;
  /** This pair's share of the global state (all pairs' shares XOR to it). */
  gdelta: Uint8Array;
}

/** One tag to commit: type, id and payload (a deleted attr has `deleted` set and no payload). */
export interface TagOp {
  type: number;
  id: number;
  data?: Uint8Array;
  deleted?: boolean;
}

export const emptyState = (): DirState => ({
  entries: [], tail: [NULL_BLOCK, NULL_BLOCK], split: false, gdelta: new Uint8Array(12),
});

/**
 * A copy to apply a commit's ops to. Entries are shared with the original: applyOp never changes an entry in
 * place (it puts a changed copy in the list), so a commit costs its ops, not a copy of every entry of the pair.
 */
export function cloneState(s: DirState): DirState {
  return {
    entries: s.entries.slice(),
    tail: [s.tail[0], s.tail[1]],
    split: s.split,
    gdelta: s.gdelta.slice(),
  };
}

const blankEntry = (): Entry => ({
  type: 0, name: new Uint8Array(0), struct: T.INLINESTRUCT, sdata: new Uint8Array(0), attrs: new Map(),
});

/** Replay one tag onto a directory state, in log order. */
export function applyOp(s: DirState, op: TagOp): void {
  const t1 = op.type & 0x700;
  const data = op.data ?? new Uint8Array(0);
  if (t1 === T.SPLICE) {
    if (op.type === T.CREATE) s.entries.splice(op.id, 0, blankEntry());
    else if (op.type === T.DELETE) s.entries.splice(op.id, 1);
    return;
  }
  if (t1 === T.TAIL) {
    s.tail = [le32(data, 0), le32(data, 4)];
    s.split = (op.type & 1) === 1;
    return;
  }
  if (t1 === T.GSTATE) {
    // A pair holds one delta: each MOVESTATE tag supersedes the previous one (it already includes it).
    s.gdelta = new Uint8Array(12);
    s.gdelta.set(data.subarray(0, 12));
    return;
  }
  if (op.id === NO_ID) return;
  while (s.entries.length <= op.id) s.entries.push(blankEntry());
  const old = s.entries[op.id];
  // Copy on write (see cloneState); the attrs map only when an attr changes.
  const e: Entry = { ...old, attrs: t1 === T.USERATTR ? new Map(old.attrs) : old.attrs };
  s.entries[op.id] = e;
  if (t1 === T.NAME) {
    e.type = op.type & 0xff;
    e.name = data;
  } else if (t1 === T.STRUCT) {
    e.struct = op.type;
    e.sdata = data;
  } else if (t1 === T.USERATTR) {
    if (op.deleted) e.attrs.delete(op.type & 0xff);
    else e.attrs.set(op.type & 0xff, data);
  }
}

export interface ParsedBlock {
  rev: number;
  state: DirState;
  /** End of the last valid commit. */
  off: number;
  /** Tag the next commit's first tag is XORed with. */
  etag: number;
  /** The log ended right after a CRC tag, on a program boundary... */
  maybeErased: boolean;
  /** ...and (lfs2.1) the forward CRC of the next program unit still matches. */
  fcrcOk: boolean;
}

/** Parse one metadata block; undefined when it holds no valid commit. */
export function parseBlock(b: Uint8Array, progSize: number): ParsedBlock | undefined {
  const blockSize = b.length;
  const rev = le32(b, 0);
  const state = emptyState();
  let pending: TagOp[] = [];
  let crc = lfsCrc(0xffffffff, b, 0, 4);
  let ptag = 0xffffffff;
  let off = 4;
  let found = false;
  let goodOff = 0;
  let goodEtag = 0;
  let maybeErased = false;
  let fcrc: { size: number; crc: number } | undefined;
  let goodFcrc: typeof fcrc;
  while (off + 4 <= blockSize) {
    const tag = (be32(b, off) ^ ptag) >>> 0;
    if (!isValid(tag)) {
      maybeErased = tagType1(ptag) === T.CRC && (tagChunk(ptag) & 0x80) === 0;
      break;
    }
    const dsize = tagDsize(tag);
    if (off + dsize > blockSize) break;
    crc = lfsCrc(crc, b, off, off + 4);
    ptag = tag;
    const type = tagType(tag);
    if (tagType1(tag) === T.CRC && type !== T.FCRC) {
      if (off + 8 > blockSize || crc !== le32(b, off + 4)) break;
      ptag = (ptag ^ ((tagChunk(tag) & 1) << 31)) >>> 0;
      for (const op of pending) applyOp(state, op);
      pending = [];
      found = true;
      goodOff = off + dsize;
      goodEtag = ptag;
      goodFcrc = fcrc;
      fcrc = undefined;
      crc = 0xffffffff;
    } else {
      crc = lfsCrc(crc, b, off + 4, off + dsize);
      if (type === T.FCRC) {
        fcrc = { size: le32(b, off + 4), crc: le32(b, off + 8) };
      } else {
        const deleted = tagSize(tag) === DELETED;
        pending.push({ type, id: tagId(tag), data: b.slice(off + 4, off + dsize), deleted });
      }
    }
    off += dsize;
  }
  if (!found) return undefined;
  maybeErased = maybeErased && goodOff % progSize === 0;
  let fcrcOk = false;
  if (maybeErased && goodFcrc && goodOff + goodFcrc.size <= blockSize) {
    fcrcOk = lfsCrc(0xffffffff, b, goodOff, goodOff + goodFcrc.size) === goodFcrc.crc;
  }
  return { rev, state, off: goodOff, etag: goodEtag, maybeErased, fcrcOk };
}

/** Every tag that describes `s`, in the order a compaction writes them (name first for each id). */
export function stateOps(s: DirState, gdelta: Uint8Array): TagOp[] {
  const ops: TagOp[] = [];
  s.entries.forEach((e, id) => {
    ops.push({ type: T.NAME | e.type, id, data: e.name });
    ops.push({ type: e.struct, id, data: e.sdata });
    for (const [t, d] of [...e.attrs].sort((a, b) => a[0] - b[0])) ops.push({ type: T.USERATTR | t, id, data: d });
  });
  if (s.tail[0] !== NULL_BLOCK || s.tail[1] !== NULL_BLOCK) {
    ops.push({ type: s.split ? T.HARDTAIL : T.SOFTTAIL, id: NO_ID, data: pairBytes(s.tail) });
  }
  if (gdelta.some((x) => x !== 0)) ops.push({ type: T.MOVESTATE, id: NO_ID, data: gdelta });
  return ops;
}

export const pairBytes = (p: readonly [number, number]): Uint8Array => {
  const b = new Uint8Array(8);
  putLe32(b, 0, p[0]);
  putLe32(b, 4, p[1]);
  return b;
};

export const opsSize = (ops: TagOp[]): number =>
  ops.reduce((n, op) => n + 4 + (op.deleted ? 0 : (op.data?.length ?? 0)), 0);

/** Worst-case bytes the closing CRC (and forward CRC) take after the tags, including alignment. */
export const commitOverhead = (progSize: number): number => 20 + progSize;

export interface EncodedCommit {
  /** Bytes to program at `start` (padding after the CRC is left unprogrammed). */
  bytes: Uint8Array;
  start: number;
  /** Where the next commit begins. */
  noff: number;
  etag: number;
}

/**
 * Encode a commit whose bytes begin at block offset `start`, chained from tag `ptag`. `prefix` (the revision
 * count, when compacting into a fresh block at 0) is covered by the CRC. `readAhead(off, len)` returns the current (normally erased) bytes after the commit,
 * used for the valid bit of the next commit and, in lfs2.1, its forward CRC.
 */
export function encodeCommit(opts: {
  start: number; ptag: number; ops: TagOp[]; prefix?: Uint8Array; blockSize: number; progSize: number;
  fcrc: boolean; readAhead: (off: number, len: number) => Uint8Array;
}): EncodedCommit {
  const { blockSize, progSize } = opts;
  const prefix = opts.prefix ?? new Uint8Array(0);
  const body = new Uint8Array(prefix.length + opsSize(opts.ops) + 12 + 8);
  body.set(prefix);
  let p = prefix.length;
  let ptag = opts.ptag;
  const putTag = (tag: number, data?: Uint8Array) => {
    putBe32(body, p, ((tag & 0x7fffffff) ^ ptag) >>> 0);
    ptag = tag & 0x7fffffff;
    p += 4;
    if (data) { body.set(data, p); p += data.length; }
  };
  for (const op of opts.ops) {
    const len = op.deleted ? DELETED : (op.data?.length ?? 0);
    putTag(mkTag(op.type, op.id, len), op.deleted ? undefined : op.data);
  }
  const off = opts.start + p;
  const reserve = opts.fcrc ? 20 : 8;
  const end = alignUp(Math.min(off + reserve, blockSize), progSize);
  let noff = Math.min(end - (off + 4), 0x3fe) + off + 4;
  if (noff < end) noff = Math.min(noff, end - reserve);
  let eperturb = -1;
  if (opts.fcrc) {
    if (noff >= end && noff <= blockSize - progSize) {
      const ahead = opts.readAhead(noff, progSize);
      eperturb = ahead[0];
      const f = new Uint8Array(8);
      putLe32(f, 0, progSize);
      putLe32(f, 4, lfsCrc(0xffffffff, ahead));
      putTag(mkTag(T.FCRC, NO_ID, 8), f);
    }
  } else if (noff < blockSize) {
    eperturb = opts.readAhead(noff, 1)[0];
  }
  const cur = opts.start + p;
  const flip = ((~eperturb & 0xff) >>> 7) & 1;
  const ntag = mkTag(T.CCRC | flip, NO_ID, noff - (cur + 4));
  putTag(ntag);
  const crc = lfsCrc(0xffffffff, body, 0, p);
  putLe32(body, p, crc);
  p += 4;
  return { bytes: body.subarray(0, p), start: opts.start, noff, etag: (ntag ^ (flip << 31)) >>> 0 };
}

export const alignUp = (n: number, a: number): number => Math.ceil(n / a) * a;
