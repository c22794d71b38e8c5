// File operations on a board as plain functions (Board in, data out), shared by the CLI and the TUI.
// Every function runs one exec for all its paths; per-path failures come back as errno values.
import type { Board } from '../board.js';
import { damagedCommand } from '../checked-program.js';
import { BoardError } from '../errors.js';
import { resolveBoardPath } from './board-path.js';
import { boardBasics } from './capabilities.js';
import { isDigest } from './digest.js';
import { boardFsError } from './errno.js';
import { helperLines, runHelper } from './helper.js';
import { parsePyStr, splitReprLine } from './py-repr.js';
import { listProgram, pathOpSource, statvfsSource, walkProgram, type PathOp } from './snippets.js';

export type EntryKind = 'file' | 'dir';

export interface FsEntry {
  name: string;
  kind: EntryKind;
  size: number;
  /** Seconds since the board's epoch (ls -l only). */
  mtime?: number;
}

/** One path's outcome: a value or the board's errno. */
export type Outcome<T> = { path: string; ok: true; value: T } | { path: string; ok: false; errno: number };

/** Absolute board paths for user arguments (relative ones resolve against the board's cwd, which only they ask for). */
export async function resolveOnBoard(board: Board, paths: string[]): Promise<string[]> {
  const cwd = paths.every((p) => p.startsWith('/')) ? '/' : (await boardBasics(board)).cwd;
  return paths.map((p) => resolveBoardPath(cwd, p));
}

const lines = (board: Board, code: string) => helperLines(board, code);

/** A reply line that does not parse is the link's doing (board output is machine-made). */
function parsed<T>(line: string, parse: () => T): T {
  try {
    return parse();
  } catch {
    throw damagedCommand(`the board's reply was damaged ("${line.slice(0, 60)}"); check the cable or lower the baud rate`);
  }
}

/** Paths per helper run: each run's program stays small (it travels at the baud rate and is compiled in RAM). */
const PATHS_PER_RUN = 150;
const PATH_BYTES_PER_RUN = 6000;

function batches(paths: string[]): string[][] {
  const out: string[][] = [];
  let cur: string[] = [];
  let bytes = 0;
  for (const p of paths) {
    if (cur.length && (cur.length >= PATHS_PER_RUN || bytes + p.length > PATH_BYTES_PER_RUN)) {
      out.push(cur);
      cur = [];
      bytes = 0;
    }
    cur.push(p);
    bytes += p.length + 4;
  }
  if (cur.length) out.push(cur);
  return out;
}

export interface Listing {
  kind: EntryKind;
  /** A directory's entries, or the file itself. */
  entries: FsEntry[];
}

/** An entry line of the listing library: `SIZE` or `d`, `,MTIME` with times, then repr(name). */
const ENTRY_LINE = /^(d|\d+)(?:,(\d+))?(['"].*)$/;

export async function listPaths(board: Board, paths: string[], opts: { long?: boolean } = {}): Promise<Outcome<Listing>[]> {
  const out: Outcome<Listing>[] = [];
  const damaged = () => damagedCommand(`the board's listing was damaged; check the cable or lower the baud rate`);
  const fsEntry = (name: string, kind: EntryKind, size: number, mtime: number): FsEntry => ({ name, kind, size, ...(opts.long ? { mtime } : {}) });
  // The directory whose entries are arriving, until its `N count` line closes it.
  let open: FsEntry[] | undefined;
  for (const line of await runHelper(board, listProgram(paths, opts.long === true))) {
    const entry = ENTRY_LINE.exec(line);
    if (entry) {
      if (!open) throw damaged();
      const name = parsed(line, () => {
        const s = parsePyStr(entry[3]!);
        if (s.end !== entry[3]!.length) throw new Error();
        return s.value;
      });
      const dir = entry[1] === 'd';
      open.push(fsEntry(name, dir ? 'dir' : 'file', dir ? 0 : Number(entry[1]), Number(entry[2] ?? 0)));
      continue;
    }
    if (line.startsWith('N ')) {
      if (!open || line !== `N ${open.length}`) throw damaged();
      open = undefined;
      continue;
    }
    const { fields, name } = parsed(line, () => splitReprLine(line, 3));
    const [tag, size, mtime] = fields as [string, string, string];
    // Only a directory that could not be read ends without its count (its E line replaces it).
    if (open && (tag !== 'E' || out.pop()?.path !== name)) throw damaged();
    open = undefined;
    if (tag === 'E') out.push({ path: name, ok: false, errno: Number(size) });
    else if (tag === 'F') out.push({ path: name, ok: true, value: { kind: 'file', entries: [fsEntry(name, 'file', Number(size), Number(mtime))] } });
    else if (tag === 'D') {
      open = [];
      out.push({ path: name, ok: true, value: { kind: 'dir', entries: open } });
    } else throw damaged();
  }
  if (open || out.length !== paths.length) throw damaged();
  for (const o of out) if (o.ok) o.value.entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  return out;
}

/**
 * Run one path operation over many paths (in as few helper runs as fit); `value` is the op's text result
 * (stat: `d 0`, digest: see digest.ts, same: `-` or the short sha256 of a file of its size in `sizes`, which
 * only a board with hashlib runs). Each reply line names its path's index, so none can be misread.
 */
export async function runPathOp(board: Board, op: PathOp, paths: string[], sizes?: number[]): Promise<Outcome<string>[]> {
  const out: Outcome<string>[] = [];
  const hashlib = op === 'digest' ? (await boardBasics(board)).hashlib : true;
  for (const batch of batches(paths)) {
    const byIndex = new Map<number, Outcome<string>>();
    const batchSizes = sizes?.slice(out.length, out.length + batch.length);
    for (const line of await lines(board, pathOpSource(op, batch, hashlib, batchSizes))) {
      const m = /^(OK|E) (\d+) ?(.*)$/.exec(line);
      const i = Number(m?.[2]);
      const path = batch[i];
      if (!m || path === undefined || byIndex.has(i) || (m[1] === 'E' && !/^\d+$/.test(m[3]!))) parsed(line, () => { throw new Error(); });
      byIndex.set(i, m![1] === 'OK' ? { path: path!, ok: true, value: m![3]! } : { path: path!, ok: false, errno: Number(m![3]) });
    }
    if (byIndex.size !== batch.length) throw damagedCommand(`the board's reply was damaged (${byIndex.size} of ${batch.length} answers); check the cable or lower the baud rate`);
    out.push(...batch.map((_, i) => byIndex.get(i)!));
  }
  return out;
}

export interface PathStat {
  kind: EntryKind;
  size: number;
}

export async function statPaths(board: Board, paths: string[]): Promise<Outcome<PathStat>[]> {
  return (await runPathOp(board, 'stat', paths)).map((o) => {
    if (!o.ok) return o;
    const [k, size] = o.value.split(' ');
    return { path: o.path, ok: true, value: { kind: k === 'd' ? 'dir' : 'file', size: Number(size) } };
  });
}

/** Throw the first failure as `:path: reason` (for callers that want all-or-error). */
export function firstFailure<T>(outcomes: Outcome<T>[]): BoardError | undefined {
  const bad = outcomes.find((o) => !o.ok);
  return bad && !bad.ok ? boardFsError(bad.path, bad.errno) : undefined;
}

export interface WalkEntry {
  /** Path relative to the walk root, `/`-separated. */
  rel: string;
  kind: EntryKind;
  size: number;
  /** The file's short digest (digest.ts), where the walk was asked for this size's digests. */
  digest?: string;
}

export type WalkResult =
  /** `hashed`: the board could compute the digests asked for (it has hashlib). */
  | { kind: 'dir'; entries: WalkEntry[]; hashed: boolean }
  | { kind: 'file'; size: number }
  | { kind: 'missing'; errno: number };

/** A walk line: `d 0 repr(rel)` or `f SIZE repr(rel)`, optionally followed by ` DIGEST`. */
const WALK_LINE = /^([df]) (\d+) (['"].*)$/;

/**
 * Everything under `root` in one exec, parents before children (upload debris left out). With `digestSizes`,
 * files of those sizes come with their short digest where the board has hashlib (`hashed`).
 */
export async function walkBoard(board: Board, root: string, digestSizes?: number[]): Promise<WalkResult> {
  const out = await runHelper(board, walkProgram(root, digestSizes));
  const head = out[0] ?? '';
  if (/^E \d+$/.test(head)) return { kind: 'missing', errno: Number(head.slice(2)) };
  if (/^F \d+$/.test(head)) return { kind: 'file', size: Number(head.slice(2)) };
  const tail = out.at(-1) ?? '';
  if ((head !== 'D' && head !== 'D-') || !/^N \d+$/.test(tail) || Number(tail.slice(2)) !== out.length - 2) {
    throw damagedCommand(`the board's listing of :${root} was damaged; check the cable or lower the baud rate`);
  }
  const hashed = head === 'D' && digestSizes !== undefined;
  const sizes = new Set(hashed ? digestSizes : []);
  const entries = out.slice(1, -1).map((line): WalkEntry =>
    parsed(line, () => {
      const m = WALK_LINE.exec(line);
      if (!m) throw new Error();
      const name = parsePyStr(m[3]!);
      const rest = m[3]!.slice(name.end);
      const size = Number(m[2]);
      const kind = m[1] === 'd' ? 'dir' : 'file';
      // A file of a size asked for carries a well-formed digest, and only such a file carries one.
      const digest = kind === 'file' && sizes.has(size) ? rest.slice(1) : undefined;
      if (digest !== undefined ? rest[0] !== ' ' || !isDigest(digest, true) : rest !== '') throw new Error();
      return { rel: name.value, kind, size, ...(digest !== undefined ? { digest } : {}) };
    }),
  );
  return { kind: 'dir', entries, hashed };
}

export interface TreeNode {
  name: string;
  kind: EntryKind;
  size: number;
  children: TreeNode[];
}

/** The tree under a board directory, children sorted by name. */
export async function boardTree(board: Board, root: string): Promise<TreeNode> {
  const walk = await walkBoard(board, root);
  if (walk.kind === 'missing') throw boardFsError(root, walk.errno);
  if (walk.kind === 'file') throw boardFsError(root, 20);
  const top: TreeNode = { name: root, kind: 'dir', size: 0, children: [] };
  const byRel = new Map<string, TreeNode>([['', top]]);
  for (const e of walk.entries) {
    const cut = e.rel.lastIndexOf('/');
    const node: TreeNode = { name: e.rel.slice(cut + 1), kind: e.kind, size: e.size, children: [] };
    byRel.get(cut < 0 ? '' : e.rel.slice(0, cut))?.children.push(node);
    byRel.set(e.rel, node);
  }
  for (const n of byRel.values()) n.children.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  return top;
}

export interface DiskUsage {
  path: string;
  /** The mount point of the filesystem that holds `path` (`path` itself where the firmware cannot list mounts). */
  mount: string;
  blockSize: number;
  total: number;
  used: number;
  free: number;
}

export async function diskUsage(board: Board, path: string): Promise<DiskUsage> {
  const parts = (await lines(board, statvfsSource(path)))[0]?.split(' ') ?? ['E', '5'];
  if (parts[0] === 'E') throw boardFsError(path, Number(parts[1]));
  const [frsize, blocks, bfree, bavail] = parts.slice(2, 6).map(Number) as [number, number, number, number];
  const total = frsize * blocks;
  return { path, mount: parts.slice(6).join(' ') || path, blockSize: frsize, total, used: total - frsize * bfree, free: frsize * bavail };
}
