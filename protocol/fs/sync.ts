// `sync LOCAL :REMOTE`: list the board's tree in one exec, which on a board with hashlib also hashes the files
// whose size a local file has (on firmware without hashlib they are read back and hashed here), upload only
// what differs, and with --delete remove what the host no longer has.
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { Board } from '../board.js';
import { BoardError } from '../errors.js';
import { fileError } from '../host-error.js';
import { joinBoardPath } from './board-path.js';
import { shortSha256 } from './digest.js';
import { readBoardFiles } from './download.js';
import { boardFsError } from './errno.js';
import { retrying } from './helper.js';
import { DEFAULT_IGNORES, IgnoreRules } from './ignore.js';
import { walkLocal } from './local-tree.js';
import { runPathOp, walkBoard } from './operations.js';
import { planSync, type LocalFile, type RemoteFile, type SyncPlan } from './sync-plan.js';
import { DEFAULT_RETRIES, fileResultError, uploadFiles, type FileResult, type TransferOptions } from './upload.js';

export interface SyncOptions extends TransferOptions {
  delete?: boolean;
  /** With --delete: board entries (relative to the sync root) that may go although the host tree lacks them. */
  deletable?: (rel: string, kind: 'file' | 'dir') => boolean;
  dryRun?: boolean;
  exclude?: string[];
}

export interface SyncResult {
  plan: SyncPlan;
  /** The host tree's entries this sync saw (relative paths). */
  localRels: string[];
  /** Upload outcomes (empty on a dry run). */
  files: FileResult[];
  /** Board paths that failed to delete, with their errno. */
  deleteErrors: { path: string; errno: number }[];
  /** What the user should hear about how the comparison was made (e.g. no hashlib on the board). */
  notes: string[];
}

/** `.boardignore` at the root of the local folder, the defaults and --exclude patterns. */
export function syncIgnoreRules(localRoot: string, exclude: string[] = []): IgnoreRules {
  const rules = new IgnoreRules(DEFAULT_IGNORES);
  const file = join(localRoot, '.boardignore');
  if (existsSync(file)) rules.addFile(readFileSync(file, 'utf8'));
  for (const p of exclude) rules.add(p);
  return rules;
}

/** `remoteRoot` is an absolute board path (the folder is created if missing). */
export async function syncFolder(board: Board, localDir: string, remoteRoot: string, opts: SyncOptions = {}): Promise<SyncResult> {
  const root = resolve(localDir);
  const ignore = syncIgnoreRules(root, opts.exclude);
  let localEntries;
  try {
    localEntries = walkLocal(root, ignore);
  } catch (err) {
    throw new BoardError('LOCAL_IO', `${localDir}: ${(err as Error).message}`, { path: localDir }, { cause: err });
  }
  const data = new Map<string, Uint8Array>();
  const local: LocalFile[] = localEntries.map((e) => {
    if (e.kind === 'dir') return { rel: e.rel, kind: 'dir', size: 0 };
    let bytes: Uint8Array;
    try {
      bytes = readFileSync(e.abs);
    } catch (err) {
      throw fileError(`cannot read ${join(localDir, e.rel)}`, err);
    }
    data.set(e.rel, bytes);
    return { rel: e.rel, kind: 'file', size: bytes.length, sha256: shortSha256(bytes) };
  });
  const retries = opts.retries ?? DEFAULT_RETRIES;
  // The walk brings the digests of the files whose size a local file has (where the board has hashlib): the
  // whole comparison in one run, with no probe first.
  const sizes = local.filter((l) => l.kind === 'file').map((l) => l.size);
  const walk = await retrying(retries, () => walkBoard(board, remoteRoot, sizes));
  if (walk.kind === 'file') throw boardFsError(remoteRoot, 20);
  const remote: RemoteFile[] = walk.kind === 'dir' ? walk.entries.map(({ digest, ...e }) => ({ ...e, ...(digest ? { sha256: digest } : {}) })) : [];
  const abs = (rel: string) => joinBoardPath(remoteRoot, ...rel.split('/'));
  const notes = walk.kind === 'dir' && !walk.hashed ? await readBackSameSize(board, local, remote, abs, opts) : [];
  // The board's own boot.py at / survives a --delete from a tree that has none (mpremote users keep it there).
  const deletable = (rel: string, kind: 'file' | 'dir') => !(remoteRoot === '/' && rel === 'boot.py') && (opts.deletable?.(rel, kind) ?? true);
  const plan = planSync(local, remote, { delete: opts.delete, ignore, deletable });
  if (plan.kept.length) notes.push(`--delete kept what the folder never had: ${plan.kept.map((k) => `:${abs(k)}`).join(', ')}`);
  const result: SyncResult = { plan, localRels: local.map((l) => l.rel), files: [], deleteErrors: [], notes };
  if (opts.dryRun) return result;

  if (plan.deletes.length) {
    const outcomes = await retrying(retries, () => runPathOp(board, 'removeTree', plan.deletes.map((d) => abs(d.rel))));
    for (const o of outcomes) if (!o.ok && o.errno !== 2) result.deleteErrors.push({ path: o.path, errno: o.errno });
  }
  const dirs = [...(walk.kind === 'missing' ? [remoteRoot] : []), ...plan.mkdirs.map(abs)];
  result.files = await uploadFiles(
    board,
    plan.uploads.map((u) => ({ dest: abs(u.rel), data: data.get(u.rel)! })),
    dirs,
    opts,
  );
  return result;
}

/**
 * On firmware without hashlib: fill in the digest of board files that could equal their local counterpart
 * (same size) by reading them back (as mpremote does), which the returned note says.
 */
async function readBackSameSize(
  board: Board,
  local: LocalFile[],
  remote: RemoteFile[],
  abs: (rel: string) => string,
  opts: SyncOptions,
): Promise<string[]> {
  const sizes = new Map(local.filter((l) => l.kind === 'file').map((l) => [l.rel, l.size]));
  const candidates = remote.filter((r) => r.kind === 'file' && sizes.get(r.rel) === r.size);
  if (!candidates.length) return [];
  const files = await readBoardFiles(board, candidates.map((c) => abs(c.rel)), { ...opts, onProgress: undefined });
  files.forEach((f, i) => {
    if (f.result.ok) candidates[i]!.sha256 = shortSha256(f.data);
    else if (f.result.code) throw fileResultError(f.result);
  });
  return [`no hashlib on the board: compared ${candidates.length} same-size file${candidates.length === 1 ? '' : 's'} by reading ${candidates.length === 1 ? 'it' : 'them'} back`];
}
