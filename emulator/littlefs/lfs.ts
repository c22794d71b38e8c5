// littlefs v2 (on-disk 2.0 / 2.1) over a BlockDevice: metadata pairs with append-only commits, compaction and
// splitting, CTZ skip-list files, global move/orphan state. Every public operation either commits atomically
// or leaves the committed state untouched, so a power cut at any point mounts to the old or the new state.
import type { BlockDevice } from './block-device.js';
import { blockCountFor } from './ctz.js';
import { LfsError } from './errors.js';
import { LfsFile, type OpenFlags } from './file.js';
import {
  type DirState, type Entry, type TagOp, applyOp, cloneState, commitOverhead, emptyState, encodeCommit, opsSize,
  pairBytes, parseBlock, stateOps,
} from './mdir.js';
import { NO_ID, NULL_BLOCK, T, le32, le32s, mkTag, putLe32, seqCmp, tagId, tagType1 } from './tags.js';

export interface LfsOptions {
  /** Program unit; MicroPython's VfsLfs2 default is 32. */
  progSize?: number;
  nameMax?: number;
  /** Largest file kept inline in its metadata pair (littlefs: min(cache_size, attr_max, block_size/8)). */
  inlineMax?: number;
  /** On-disk version format() writes: 2.1 (default, current littlefs) or 2.0 (readable by littlefs < 2.6). */
  diskVersion?: 0x00020000 | 0x00020001;
  /** Stamp committed files with MicroPython's mtime attribute (VfsLfs2's mtime=True, the default). */
  mtime?: boolean;
  /** The clock mtime is taken from (Unix ms): the board's RTC on a virtual board; the host's by default. */
  clock?: () => number;
}

export interface LfsStat {
  name: string;
  type: 'file' | 'dir';
  size: number;
  /** Modification time (seconds since 1970) from MicroPython's mtime attribute, when present. */
  mtime?: number;
}

export interface LfsStatvfs {
  blockSize: number;
  blockCount: number;
  blocksFree: number;
  nameMax: number;
}

export interface MDir {
  pair: [number, number];
  rev: number;
  off: number;
  etag: number;
  erased: boolean;
  state: DirState;
}

export const LFS_VERSION = 0x00020001;
/** MicroPython's attribute id for mtime: 64-bit little-endian nanoseconds since 1970. */
export const ATTR_MTIME = 1;
const FILE_MAX = 0x7fffffff;
const ATTR_MAX = 1022;
const ROOT: [number, number] = [0, 1];
const enc = new TextEncoder();
const dec = new TextDecoder();

/** Cache key of a pair, whichever block is current (stale pairs may share one block with a live one). */
const pairKey = (p: readonly [number, number]): string => (p[0] < p[1] ? `${p[0]},${p[1]}` : `${p[1]},${p[0]}`);
const pairEq = (a: readonly [number, number], b: readonly [number, number]): boolean =>
  a[0] === b[0] || a[0] === b[1] || a[1] === b[0] || a[1] === b[1];
const isNullPair = (p: readonly [number, number]): boolean => p[0] === NULL_BLOCK || p[1] === NULL_BLOCK;
const pairOf = (b: Uint8Array): [number, number] => [le32(b, 0), le32(b, 4)];

function cmpName(a: Uint8Array, b: Uint8Array): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return a[i] - b[i];
  // littlefs orders a longer name before its own prefix (a quirk kept for on-disk compatibility).
  return b.length - a.length;
}

interface Found { mdir: MDir; id: number; entry: Entry }
interface Lookup {
  /** Head pair of the directory that holds (or would hold) the last component; undefined for the root itself. */
  parent?: [number, number];
  name?: Uint8Array;
  found?: Found;
  /** Where a new entry with this name goes: the directory's last pair, at the sorted position. */
  insert?: { mdir: MDir; id: number };
}

export class LittleFs {
  readonly blockSize: number;
  readonly blockCount: number;
  readonly progSize: number;
  readonly inlineMax: number;
  version = LFS_VERSION;
  nameMax: number;
  /**
   * Head pair of the root directory: the pair holding the superblock entry. littlefs starts with {0, 1} but
   * "expands" the superblock once {0, 1} has been rewritten ~block_cycles times: every root entry, the
   * superblock included, moves to a new pair and {0, 1} keeps only a hard tail to it.
   */
  root: [number, number] = ROOT;
  /** Open file handles; their uncommitted blocks count as used. */
  readonly openFiles = new Set<LfsFile>();
  private readonly cache = new Map<string, MDir>();
  private used: Uint8Array;
  private cursor = 0;
  /** Blocks handed out during the current operation that nothing committed refers to yet. */
  private readonly pending = new Set<number>();
  private readonly stampMtime: boolean;
  private readonly clock: () => number;
  private gdisk = new Uint8Array(12);
  private gstate = new Uint8Array(12);

  private constructor(readonly bd: BlockDevice, opts: LfsOptions) {
    this.blockSize = bd.blockSize;
    this.blockCount = bd.blockCount;
    this.progSize = opts.progSize ?? 32;
    this.nameMax = opts.nameMax ?? 255;
    this.stampMtime = opts.mtime ?? true;
    this.clock = opts.clock ?? Date.now;
    this.inlineMax = opts.inlineMax ?? Math.min(4 * this.progSize, ATTR_MAX, this.blockSize / 8);
    this.used = new Uint8Array(this.blockCount);
  }

  /** Write an empty filesystem (root pair in blocks 0 and 1) and return it mounted. */
  static format(bd: BlockDevice, opts: LfsOptions = {}): LittleFs {
    const fs = new LittleFs(bd, opts);
    fs.version = opts.diskVersion ?? LFS_VERSION;
    bd.erase(0);
    bd.erase(1);
    const sb = le32s(fs.version, fs.blockSize, fs.blockCount, fs.nameMax, FILE_MAX, ATTR_MAX);
    const state = emptyState();
    state.entries.push({ type: T.SUPERBLOCK, name: enc.encode('littlefs'), struct: T.INLINESTRUCT, sdata: sb, attrs: new Map() });
    const root: MDir = { pair: [1, 0], rev: 0, off: 0, etag: 0, erased: false, state: emptyState() };
    fs.compact(root, state);
    fs.used = fs.scanUsed();
    return fs;
  }

  static mount(bd: BlockDevice, opts: LfsOptions = {}): LittleFs {
    const fs = new LittleFs(bd, opts);
    // Like littlefs, take the last pair on the metadata list whose entry 0 is the superblock as the root.
    let root: MDir | undefined;
    for (const d of fs.pairs()) {
      const e = d.state.entries[0];
      if (e && e.type === T.SUPERBLOCK && dec.decode(e.name) === 'littlefs') root = d;
    }
    const sb = root?.state.entries[0];
    if (!root || !sb || sb.sdata.length < 24) throw new LfsError('ECORRUPT', 'no littlefs superblock');
    fs.root = [root.pair[0], root.pair[1]];
    const version = le32(sb.sdata, 0);
    if (version >>> 16 !== 2 || (version & 0xffff) > 1) {
      throw new LfsError('EINVAL', `unsupported littlefs version ${version >>> 16}.${version & 0xffff}`);
    }
    if (le32(sb.sdata, 4) !== fs.blockSize) throw new LfsError('EINVAL', `block size ${le32(sb.sdata, 4)} on disk`);
    if (le32(sb.sdata, 8) !== fs.blockCount) throw new LfsError('EINVAL', `block count ${le32(sb.sdata, 8)} on disk`);
    fs.version = version;
    fs.nameMax = le32(sb.sdata, 12) || 255;
    fs.cache.clear(); // refetch so the erased state follows this disk version's rules
    for (const d of fs.pairs()) {
      for (let i = 0; i < 12; i++) fs.gdisk[i] ^= d.state.gdelta[i];
    }
    // A set orphan flag means at least one orphan may exist; count it so the fixup runs.
    if (fs.gdisk[3] & 0x80) putLe32(fs.gdisk, 0, (le32(fs.gdisk, 0) + 1) >>> 0);
    fs.gstate = fs.gdisk.slice();
    fs.used = fs.scanUsed();
    fs.cursor = root.rev % fs.blockCount;
    fs.fixGlobalState();
    return fs;
  }

  // ---- metadata pairs ------------------------------------------------------------------------------

  /** The current state of a metadata pair (cached: this instance is the only writer). */
  fetch(pair: readonly [number, number]): MDir {
    const cached = this.cache.get(pairKey(pair));
    if (cached) return cached;
    if (pair[0] >= this.blockCount || pair[1] >= this.blockCount) {
      throw new LfsError('ECORRUPT', `pair {${pair[0]}, ${pair[1]}} is outside the filesystem`);
    }
    const blocks = [this.bd.read(pair[0], 0, this.blockSize), this.bd.read(pair[1], 0, this.blockSize)];
    const order = seqCmp(le32(blocks[1], 0), le32(blocks[0], 0)) > 0 ? [1, 0] : [0, 1];
    for (const i of order) {
      const p = parseBlock(blocks[i], this.progSize);
      if (!p) continue;
      const erased = p.maybeErased && (this.version < LFS_VERSION || p.fcrcOk);
      const d: MDir = { pair: [pair[i], pair[1 - i]], rev: p.rev, off: p.off, etag: p.etag, erased, state: p.state };
      this.cache.set(pairKey(pair), d);
      return d;
    }
    throw new LfsError('ECORRUPT', `no valid commit in metadata pair {${pair[0]}, ${pair[1]}}`);
  }

  /** Every metadata pair on the threaded list, root first. */
  *pairs(): Generator<MDir> {
    const seen = new Set<string>();
    let p: [number, number] = ROOT;
    while (!isNullPair(p)) {
      if (seen.has(pairKey(p)) || seen.size > this.blockCount) throw new LfsError('ECORRUPT', 'metadata list loops');
      seen.add(pairKey(p));
      const d = this.fetch(p);
      yield d;
      p = d.state.tail;
    }
  }

  /** `carry`: global-state deltas of a pair being dropped from the list, which must live on in this one. */
  private commit(d: MDir, ops: TagOp[], carry?: Uint8Array): void {
    const change = this.gstate.map((g, i) => g ^ this.gdisk[i] ^ (carry?.[i] ?? 0));
    // Like littlefs, only the orphan flag (valid bit) reaches the disk, never the in-memory orphan count.
    change[0] &= ~0xff;
    change[1] &= ~0x03;
    const changed = change.some((x) => x !== 0);
    const gdelta = d.state.gdelta.map((g, i) => g ^ change[i]);
    const all = changed ? [...ops, { type: T.MOVESTATE, id: NO_ID, data: gdelta }] : ops;
    const next = cloneState(d.state);
    for (const op of all) applyOp(next, op);
    const fits = d.off + opsSize(all) + commitOverhead(this.progSize) <= this.blockSize;
    // What the commit will point at (new file blocks, a new pair) must be durable before the commit is.
    this.bd.sync();
    if (d.erased && fits && next.entries.length < NO_ID) {
      const c = encodeCommit({
        start: d.off, ptag: d.etag, ops: all, blockSize: this.blockSize, progSize: this.progSize,
        fcrc: this.version >= LFS_VERSION, readAhead: (o, n) => this.bd.read(d.pair[0], o, n),
      });
      this.bd.prog(d.pair[0], c.start, c.bytes);
      this.bd.sync();
      d.off = c.noff;
      d.etag = c.etag;
      d.erased = c.noff + this.progSize <= this.blockSize;
      d.state = next;
    } else {
      this.compact(d, next);
    }
    this.gdisk = this.gstate.slice();
  }

  /** Rewrite a pair into its other block from `state`, splitting off a new pair when it would be over half full. */
  private compact(d: MDir, state: DirState): void {
    const st = cloneState(state);
    const sizeOf = (s: DirState) => 4 + opsSize(stateOps(s, s.gdelta)) + commitOverhead(this.progSize);
    let size = sizeOf(st);
    if ((size > this.blockSize / 2 || st.entries.length >= 0xff) && st.entries.length >= 2) {
      let k = 0;
      let acc = sizeOf({ ...st, entries: [] });
      while (k < st.entries.length - 1) {
        acc += opsSize(stateOps({ ...emptyState(), entries: [st.entries[k]] }, new Uint8Array(12)));
        if ((acc > this.blockSize / 2 || k >= 0xfe) && k > 0) break;
        k++;
      }
      try {
        const tail = this.allocDir();
        this.compact(tail, { entries: st.entries.slice(k), tail: st.tail, split: st.split, gdelta: new Uint8Array(12) });
        st.entries = st.entries.slice(0, k);
        st.tail = tail.pair;
        st.split = true;
        size = sizeOf(st);
      } catch (err) {
        if (!(err instanceof LfsError && err.code === 'ENOSPC') || size > this.blockSize) throw err;
      }
    }
    if (size > this.blockSize || st.entries.length >= NO_ID) throw new LfsError('ENOSPC', 'metadata pair is full');
    const rev = (d.rev + 1) >>> 0;
    const c = encodeCommit({
      start: 0, ptag: 0xffffffff, ops: stateOps(st, st.gdelta), prefix: le32s(rev), blockSize: this.blockSize,
      progSize: this.progSize, fcrc: this.version >= LFS_VERSION,
      readAhead: (_o, n) => new Uint8Array(n).fill(0xff),
    });
    this.bd.rewrite(d.pair[1], c.bytes);
    this.bd.sync();
    d.pair = [d.pair[1], d.pair[0]];
    d.rev = rev;
    d.off = c.noff;
    d.etag = c.etag;
    d.erased = c.noff + this.progSize <= this.blockSize;
    d.state = st;
    this.cache.set(pairKey(d.pair), d);
  }

  /** A fresh pair; its first block is erased so no stale commit can outrank the first compaction. */
  private allocDir(): MDir {
    const a = this.alloc();
    const b = this.alloc();
    this.bd.erase(a);
    return { pair: [a, b], rev: 0, off: 0, etag: 0, erased: false, state: emptyState() };
  }

  // ---- global state (pending move, orphan count) ---------------------------------------------------

  private setOrphans(delta: number): void {
    let tag = (le32(this.gstate, 0) + delta) >>> 0;
    tag = ((tag & 0x7fffffff) | ((tag & 0x3ff) !== 0 ? 0x80000000 : 0)) >>> 0;
    putLe32(this.gstate, 0, tag);
  }

  private setMove(id: number, pair: readonly [number, number]): void {
    const keep = le32(this.gstate, 0) & ~mkTag(0x7ff, 0x3ff, 0);
    putLe32(this.gstate, 0, (keep | (id === NO_ID ? 0 : mkTag(T.DELETE, id, 0))) >>> 0);
    putLe32(this.gstate, 4, id === NO_ID ? 0 : pair[0]);
    putLe32(this.gstate, 8, id === NO_ID ? 0 : pair[1]);
  }

  /** Finish what a power cut interrupted: a move's source deletion, orphaned directory pairs. */
  private fixGlobalState(): void {
    const gtag = le32(this.gstate, 0);
    if (tagType1(gtag) !== 0) {
      const d = this.fetch([le32(this.gstate, 4), le32(this.gstate, 8)]);
      const id = tagId(gtag);
      this.setMove(NO_ID, ROOT);
      this.commit(d, id < d.state.entries.length ? [{ type: T.DELETE, id }] : []);
    }
    if ((le32(this.gstate, 0) & 0x1ff) === 0) return;
    this.setOrphans(-(le32(this.gstate, 0) & 0x1ff));
    // Outside split directories every pair on the list must be some directory's first pair. Fix one problem
    // per walk: each fix changes the list.
    for (let fixed = true; fixed;) {
      fixed = false;
      const heads = [...this.pairs()].flatMap((d) => d.state.entries.filter((e) => e.type === T.DIR).map((e) => pairOf(e.sdata)));
      let prev: MDir | undefined;
      for (const d of this.pairs()) {
        if (prev && !prev.state.split) {
          const head = heads.find((h) => pairEq(h, d.pair));
          if (!head) {
            // A removed directory whose unlinking was cut short.
            this.dropFrom(prev, d);
            fixed = true;
            break;
          }
          if (!(head.includes(d.pair[0]) && head.includes(d.pair[1]))) {
            // A relocated directory: its parent already names the new pair, the list still the old one.
            this.commit(prev, [{ type: T.SOFTTAIL, id: NO_ID, data: pairBytes(head) }]);
            this.cache.delete(pairKey(d.pair));
            fixed = true;
            break;
          }
        }
        prev = d;
      }
    }
    if (this.gstate.some((g, i) => g !== this.gdisk[i])) this.commit(this.fetch(this.root), []);
  }

  // ---- block allocation ----------------------------------------------------------------------------

  /** Blocks reachable from the committed state, open files and the operation in progress. */
  scanUsed(): Uint8Array {
    const used = new Uint8Array(this.blockCount);
    const mark = (b: number) => { if (b < this.blockCount) used[b] = 1; };
    for (const d of this.pairs()) {
      mark(d.pair[0]);
      mark(d.pair[1]);
      for (const e of d.state.entries) {
        if (e.struct === T.CTZSTRUCT) for (const b of this.ctzBlocks(le32(e.sdata, 0), le32(e.sdata, 4))) mark(b);
        // A directory's pair counts even when a cut-short relocation left it off the list (as littlefs does).
        if (e.struct === T.DIRSTRUCT) pairOf(e.sdata).forEach(mark);
      }
    }
    for (const f of this.openFiles) for (const b of f.blocks) mark(b);
    for (const b of this.pending) mark(b);
    return used;
  }

  /** A free block. Freed blocks become visible again only after a rescan, which happens when a full lap finds nothing. */
  alloc(): number {
    for (let pass = 0; pass < 2; pass++) {
      for (let n = 0; n < this.blockCount; n++) {
        const b = (this.cursor + n) % this.blockCount;
        if (!this.used[b]) {
          this.used[b] = 1;
          this.pending.add(b);
          this.cursor = (b + 1) % this.blockCount;
          return b;
        }
      }
      this.used = this.scanUsed();
    }
    throw new LfsError('ENOSPC', 'no free blocks');
  }

  /** Block numbers of a CTZ file, index order, following each block's first pointer back from the head. */
  ctzBlocks(head: number, size: number): number[] {
    const n = blockCountFor(size, this.blockSize);
    const blocks = new Array<number>(n);
    let b = head;
    for (let i = n - 1; i >= 0; i--) {
      if (b >= this.blockCount) throw new LfsError('ECORRUPT', `file block ${b} is outside the filesystem`);
      blocks[i] = b;
      if (i > 0) b = le32(this.bd.read(b, 0, 4), 0);
    }
    return blocks;
  }

  /** Run one public operation; blocks it allocated are owned by committed state or open files afterwards. */
  private op<R>(fn: () => R): R {
    try {
      return fn();
    } finally {
      this.pending.clear();
    }
  }

  // ---- paths ---------------------------------------------------------------------------------------

  private components(path: string): Uint8Array[] {
    const out: Uint8Array[] = [];
    for (const part of path.split('/')) {
      if (part === '' || part === '.') continue;
      if (part === '..') { out.pop(); continue; }
      out.push(enc.encode(part));
    }
    return out;
  }

  /**
   * Find `name` in the directory starting at pair `head`, or where a new entry of that name belongs. A
   * directory's entries are sorted across all of its pairs, and littlefs relies on it: its lookup stops at the
   * first pair holding a name that sorts after the one sought. So a new name goes before the first greater
   * name in list order (into whichever pair holds it), and only after the last pair's entries when no name
   * is greater.
   */
  private findInDir(head: [number, number], name: Uint8Array): { found?: Found; insert: { mdir: MDir; id: number } } {
    let d = this.fetch(head);
    let insert: { mdir: MDir; id: number } | undefined;
    for (;;) {
      const es = d.state.entries;
      for (let id = 0; id < es.length; id++) {
        if (es[id].type === T.SUPERBLOCK || es[id].name.length === 0) continue;
        const c = cmpName(es[id].name, name);
        if (c === 0) return { found: { mdir: d, id, entry: es[id] }, insert: { mdir: d, id } };
        if (c > 0 && !insert) insert = { mdir: d, id };
      }
      if (!d.state.split) break;
      d = this.fetch(d.state.tail);
    }
    return { insert: insert ?? { mdir: d, id: d.state.entries.length } };
  }

  /** The last pair of the directory whose chain passes through `d`. */
  private lastPair(d: MDir): MDir {
    while (d.state.split) d = this.fetch(d.state.tail);
    return d;
  }

  private lookup(path: string): Lookup {
    const comps = this.components(path);
    let head: [number, number] = this.root;
    for (let i = 0; i < comps.length; i++) {
      const r = this.findInDir(head, comps[i]);
      if (i === comps.length - 1) return { parent: head, name: comps[i], found: r.found, insert: r.found ? undefined : r.insert };
      if (!r.found) throw new LfsError('ENOENT', path);
      if (r.found.entry.type !== T.DIR) throw new LfsError('ENOTDIR', path);
      head = pairOf(r.found.entry.sdata);
    }
    return {};
  }

  /** A name about to be created must fit the superblock's name_max (lookups of longer names just fail). */
  private checkNewName(name: Uint8Array): void {
    if (name.length > this.nameMax) throw new LfsError('ENAMETOOLONG', dec.decode(name));
  }

  /** Directory head pair for `path`, or ENOENT / ENOTDIR. */
  private dirHead(path: string): [number, number] {
    const r = this.lookup(path);
    if (!r.name) return this.root;
    if (!r.found) throw new LfsError('ENOENT', path);
    if (r.found.entry.type !== T.DIR) throw new LfsError('ENOTDIR', path);
    return pairOf(r.found.entry.sdata);
  }

  /** Find an entry by parent head and name (file handles re-find their entry at each commit). */
  locate(parent: [number, number], name: Uint8Array): Found | undefined {
    return this.findInDir(parent, name).found;
  }

  // ---- public operations ---------------------------------------------------------------------------

  stat(path: string): LfsStat {
    const r = this.lookup(path);
    if (!r.name) return { name: '', type: 'dir', size: 0 };
    if (!r.found) throw new LfsError('ENOENT', path);
    return entryStat(r.found.entry);
  }

  readdir(path: string): LfsStat[] {
    const out: LfsStat[] = [];
    let d = this.fetch(this.dirHead(path));
    for (;;) {
      for (const e of d.state.entries) if (e.type === T.REG || e.type === T.DIR) out.push(entryStat(e));
      if (!d.state.split) return out;
      d = this.fetch(d.state.tail);
    }
  }

  mkdir(path: string): void {
    this.op(() => {
      const r = this.lookup(path);
      if (!r.name || r.found) throw new LfsError('EEXIST', path);
      this.checkNewName(r.name);
      const at = r.insert!;
      // The new pair joins the metadata list right after the parent directory's last pair.
      const last = this.lastPair(at.mdir);
      const dir = this.allocDir();
      this.compact(dir, { ...emptyState(), tail: last.state.tail });
      const entry: TagOp[] = [
        { type: T.CREATE, id: at.id },
        { type: T.DIR, id: at.id, data: r.name },
        { type: T.DIRSTRUCT, id: at.id, data: pairBytes(dir.pair) },
      ];
      if (last === at.mdir) {
        this.commit(at.mdir, [...entry, { type: T.SOFTTAIL, id: NO_ID, data: pairBytes(dir.pair) }]);
      } else {
        // The entry goes into an earlier pair of a split directory: link the new pair in first, marked as an
        // orphan until the entry naming it is committed (a power cut in between leaves an orphan to drop).
        this.setOrphans(+1);
        this.commit(last, [{ type: T.SOFTTAIL, id: NO_ID, data: pairBytes(dir.pair) }]);
        this.setOrphans(-1);
        this.commit(at.mdir, entry);
      }
    });
  }

  remove(path: string): void {
    this.op(() => {
      const r = this.lookup(path);
      if (!r.name) throw new LfsError('EINVAL', 'cannot remove the root directory');
      if (!r.found) throw new LfsError('ENOENT', path);
      const { mdir, id, entry } = r.found;
      if (entry.type === T.DIR) {
        const child = this.fetch(pairOf(entry.sdata));
        if (child.state.entries.length > 0 || child.state.split) throw new LfsError('ENOTEMPTY', path);
        this.setOrphans(+1);
        this.commit(mdir, [{ type: T.DELETE, id }]);
        this.unlinkPair(child);
      } else {
        this.commit(mdir, [{ type: T.DELETE, id }]);
        this.dropIfEmpty(mdir);
      }
    });
  }

  rename(from: string, to: string): void {
    this.op(() => {
      const src = this.lookup(from);
      if (!src.name) throw new LfsError('EINVAL', 'cannot rename the root directory');
      if (!src.found) throw new LfsError('ENOENT', from);
      const dst = this.lookup(to);
      if (!dst.name) throw new LfsError('EINVAL', 'cannot replace the root directory');
      this.checkNewName(dst.name);
      const s = src.found;
      if (dst.found && dst.found.mdir === s.mdir && dst.found.id === s.id) return;
      if (s.entry.type === T.DIR) {
        const a = this.components(from).map((c) => dec.decode(c)).join('/');
        const b = this.components(to).map((c) => dec.decode(c)).join('/');
        if (b.startsWith(a + '/')) throw new LfsError('EINVAL', 'cannot move a directory into itself');
      }
      let replaced: MDir | undefined;
      if (dst.found) {
        const t = dst.found.entry;
        if (s.entry.type === T.DIR && t.type !== T.DIR) throw new LfsError('ENOTDIR', to);
        if (s.entry.type !== T.DIR && t.type === T.DIR) throw new LfsError('EISDIR', to);
        if (t.type === T.DIR) {
          replaced = this.fetch(pairOf(t.sdata));
          if (replaced.state.entries.length > 0 || replaced.state.split) throw new LfsError('ENOTEMPTY', to);
          this.setOrphans(+1);
        }
      }
      const target = dst.found ?? { mdir: dst.insert!.mdir, id: dst.insert!.id };
      const newId = target.id;
      const head: TagOp[] = dst.found ? [{ type: T.DELETE, id: newId }] : [];
      head.push({ type: T.CREATE, id: newId }, ...entryOps(s.entry, newId, dst.name));
      if (target.mdir === s.mdir) {
        const oldId = !dst.found && newId <= s.id ? s.id + 1 : s.id;
        this.commit(s.mdir, [...head, { type: T.DELETE, id: oldId }]);
      } else {
        // Two commits: the move state makes the first one imply the second if power fails between them.
        this.setMove(s.id, s.mdir.pair);
        this.commit(target.mdir, head);
        this.setMove(NO_ID, ROOT);
        this.commit(s.mdir, [{ type: T.DELETE, id: s.id }]);
        this.dropIfEmpty(s.mdir);
      }
      if (replaced) this.unlinkPair(replaced);
    });
  }

  open(path: string, flags: OpenFlags): LfsFile {
    return this.op(() => {
      const r = this.lookup(path);
      if (!r.name) throw new LfsError('EISDIR', path);
      // littlefs fetches the pair from the device at each open (its revision counts first), so a device that
      // fails reads fails the open; the cache here would hide that.
      for (const b of (r.found ?? r.insert)?.mdir.pair ?? []) this.bd.read(b, 0, 4);
      if (r.found) {
        if (flags.create && flags.excl) throw new LfsError('EEXIST', path);
        if (r.found.entry.type === T.DIR) throw new LfsError('EISDIR', path);
      } else {
        if (!flags.create) throw new LfsError('ENOENT', path);
        this.checkNewName(r.name);
        const at = r.insert!;
        this.commit(at.mdir, [
          { type: T.CREATE, id: at.id },
          { type: T.REG, id: at.id, data: r.name },
          { type: T.INLINESTRUCT, id: at.id, data: new Uint8Array(0) },
        ]);
      }
      const file = new LfsFile(this, r.parent!, r.name, flags, !r.found);
      this.openFiles.add(file);
      return file;
    });
  }

  /** Commit a file's new structure (inline data or CTZ head/size) with its mtime, atomically. */
  commitFile(parent: [number, number], name: Uint8Array, struct: TagOp['type'], data: Uint8Array): void {
    this.op(() => {
      const f = this.locate(parent, name);
      // Removed while open: like littlefs, the handle's data goes nowhere.
      if (!f) return;
      const ops: TagOp[] = [{ type: struct, id: f.id, data }];
      if (this.stampMtime) {
        const mtime = new Uint8Array(8);
        new DataView(mtime.buffer).setBigUint64(0, BigInt(Math.floor(this.clock())) * 1000000n, true);
        ops.push({ type: T.USERATTR | ATTR_MTIME, id: f.id, data: mtime });
      }
      this.commit(f.mdir, ops);
    });
  }

  /** Run `fn` with allocation bookkeeping for one file write step. */
  fileOp<R>(fn: () => R): R {
    return this.op(fn);
  }

  statvfs(): LfsStatvfs {
    this.used = this.scanUsed();
    const usedCount = this.used.reduce((n, u) => n + u, 0);
    return { blockSize: this.blockSize, blockCount: this.blockCount, blocksFree: this.blockCount - usedCount, nameMax: this.nameMax };
  }

  /** Convenience: whole-file read. */
  readFile(path: string): Uint8Array {
    const f = this.open(path, { read: true });
    try {
      return f.read(f.size);
    } finally {
      f.close();
    }
  }

  /** Convenience: create or replace a file with `data`. */
  writeFile(path: string, data: Uint8Array): void {
    const f = this.open(path, { write: true, create: true, trunc: true });
    try {
      f.write(data);
    } finally {
      f.close();
    }
  }

  /** Close every open file (committing their changes). */
  unmount(): void {
    for (const f of [...this.openFiles]) f.close();
  }

  // ---- threaded-list maintenance -------------------------------------------------------------------

  private predecessor(pair: [number, number]): MDir | undefined {
    for (const d of this.pairs()) if (pairEq(d.state.tail, pair)) return d;
    return undefined;
  }

  /** Take a removed directory's pair off the threaded list, clearing the orphan mark set before its removal. */
  private unlinkPair(d: MDir): void {
    const pred = this.predecessor(d.pair);
    this.setOrphans(-1);
    if (pred) this.dropFrom(pred, d);
    else this.commit(this.fetch(this.root), [], d.state.gdelta);
  }

  /** An emptied continuation pair of a split directory is dropped from its directory. */
  private dropIfEmpty(d: MDir): void {
    if (d.state.entries.length > 0 || pairKey(d.pair) === pairKey(ROOT) || pairKey(d.pair) === pairKey(this.root)) return;
    const pred = this.predecessor(d.pair);
    if (pred?.state.split) this.dropFrom(pred, d);
  }

  /** Unlink `d` (whose predecessor is `pred`) from the list, keeping its global-state deltas. */
  private dropFrom(pred: MDir, d: MDir): void {
    const tail = { type: d.state.split ? T.HARDTAIL : T.SOFTTAIL, id: NO_ID, data: pairBytes(d.state.tail) };
    this.commit(pred, [tail], d.state.gdelta);
    this.cache.delete(pairKey(d.pair));
  }
}

function entryStat(e: Entry): LfsStat {
  const name = dec.decode(e.name);
  if (e.type === T.DIR) return { name, type: 'dir', size: 0 };
  const size = e.struct === T.CTZSTRUCT ? le32(e.sdata, 4) : e.sdata.length;
  const st: LfsStat = { name, type: 'file', size };
  const m = e.attrs.get(ATTR_MTIME);
  if (m && m.length === 8) st.mtime = Number(new DataView(m.buffer, m.byteOffset, 8).getBigUint64(0, true) / 1000000000n);
  return st;
}

/** The tags that recreate an entry under a new id and name (a rename carries struct and attributes). */
function entryOps(e: Entry, id: number, name: Uint8Array): TagOp[] {
  return [
    { type: T.NAME | e.type, id, data: name },
    { type: e.struct, id, data: e.sdata },
    ...[...e.attrs].map(([t, data]) => ({ type: T.USERATTR | t, id, data })),
  ];
}
