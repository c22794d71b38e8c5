// File operations on a board as plain functions (Board in, data out), shared by the CLI and the TUI.
// Every function runs one exec for all its paths; per-path failures come back as errno values.
import type { Board } from '../board.js';
import { BoardError } from '../errors.js';
import { resolveBoardPath } from './board-path.js';
import { boardCapabilities } from './capabilities.js';
import { boardFsError } from './errno.js';
import { outputLines, splitReprLine } from './py-repr.js';
import { listSource, pathOpSource, statvfsSource, walkSource, type PathOp } from './snippets.js';

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

/** Absolute board paths for user arguments (relative ones resolve against the board's cwd). */
export async function resolveOnBoard(board: Board, paths: string[]): Promise<string[]> {
  const { cwd } = await boardCapabilities(board);
  return paths.map((p) => resolveBoardPath(cwd, p));
}

async function lines(board: Board, code: string): Promise<string[]> {
  return outputLines((await board.exec(code)).stdout);
}

export interface Listing {
  kind: EntryKind;
  /** A directory's entries, or the file itself. */
  entries: FsEntry[];
}

export async function listPaths(board: Board, paths: string[], opts: { long?: boolean } = {}): Promise<Outcome<Listing>[]> {
  const out: Outcome<Listing>[] = [];
  for (const line of await lines(board, listSource(paths, opts.long === true))) {
    const { fields, name } = splitReprLine(line, 3);
    const [tag, size, mtime] = fields as [string, string, string];
    const entry = (kind: EntryKind): FsEntry => ({ name, kind, size: Number(size), ...(opts.long ? { mtime: Number(mtime) } : {}) });
    if (tag === 'E') out.push({ path: name, ok: false, errno: Number(size) });
    else if (tag === 'F') out.push({ path: name, ok: true, value: { kind: 'file', entries: [entry('file')] } });
    else if (tag === 'D') out.push({ path: name, ok: true, value: { kind: 'dir', entries: [] } });
    else {
      const last = out.at(-1);
      if (last?.ok) last.value.entries.push(entry(tag === 'd' ? 'dir' : 'file'));
    }
  }
  for (const o of out) if (o.ok) o.value.entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  return out;
}

/** Run one batched path operation; `value` is the op's text result (stat: `d 0`, sha256: hex). */
export async function runPathOp(board: Board, op: PathOp, paths: string[]): Promise<Outcome<string>[]> {
  if (paths.length === 0) return [];
  const out = await lines(board, pathOpSource(op, paths));
  return paths.map((path, i) => {
    const parts = (out[i] ?? 'E 5').split(' ');
    return parts[0] === 'OK' ? { path, ok: true, value: parts.slice(1).join(' ') } : { path, ok: false, errno: Number(parts[1]) };
  });
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
  sha256?: string;
}

export type WalkResult = { kind: 'dir'; entries: WalkEntry[] } | { kind: 'file'; size: number } | { kind: 'missing'; errno: number };

/**
 * Everything under `root` in one exec, parents before children. Files named in `hashFor` (relative path ->
 * size) whose size matches get their sha256 computed on the board. Upload debris is cleared on the way.
 */
export async function walkBoard(board: Board, root: string, hashFor?: Map<string, number>): Promise<WalkResult> {
  const out = await lines(board, walkSource(root, hashFor));
  const head = out[0]?.split(' ') ?? ['E', '5'];
  if (head[0] === 'E') return { kind: 'missing', errno: Number(head[1]) };
  if (head[0] === 'F') return { kind: 'file', size: Number(head[1]) };
  const entries: WalkEntry[] = [];
  for (const line of out.slice(1)) {
    const sp = line.indexOf(' ');
    const tag = line.slice(0, sp);
    const { fields, name } = splitReprLine(line.slice(sp + 1), 1);
    const entry: WalkEntry = { rel: name, kind: tag === 'd' ? 'dir' : 'file', size: Number(fields[0]) };
    const sha = line.slice(line.lastIndexOf(' ') + 1);
    if (entry.kind === 'file' && /^[0-9a-f]{64}$/.test(sha)) entry.sha256 = sha;
    entries.push(entry);
  }
  return { kind: 'dir', entries };
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
  blockSize: number;
  total: number;
  used: number;
  free: number;
}

export async function diskUsage(board: Board, path: string): Promise<DiskUsage> {
  const parts = (await lines(board, statvfsSource(path)))[0]?.split(' ') ?? ['E', '5'];
  if (parts[0] === 'E') throw boardFsError(path, Number(parts[1]));
  const [frsize, blocks, bfree, bavail] = parts.slice(2).map(Number) as [number, number, number, number];
  const total = frsize * blocks;
  return { path, blockSize: frsize, total, used: total - frsize * bfree, free: frsize * bavail };
}
