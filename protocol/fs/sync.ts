// `sync LOCAL :REMOTE`: hash everything on the board in one exec, upload only what differs in one
// receiver run, and with --delete remove what the host no longer has (one exec).
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { Board } from '../board.js';
import { BoardError } from '../errors.js';
import { joinBoardPath } from './board-path.js';
import { boardFsError } from './errno.js';
import { DEFAULT_IGNORES, IgnoreRules } from './ignore.js';
import { walkLocal } from './local-tree.js';
import { runPathOp, walkBoard } from './operations.js';
import { planSync, type LocalFile, type SyncPlan } from './sync-plan.js';
import { uploadFiles, type FileResult, type TransferOptions } from './upload.js';

export interface SyncOptions extends TransferOptions {
  delete?: boolean;
  dryRun?: boolean;
  exclude?: string[];
}

export interface SyncResult {
  plan: SyncPlan;
  /** Upload outcomes (empty on a dry run). */
  files: FileResult[];
  /** Board paths that failed to delete, with their errno. */
  deleteErrors: { path: string; errno: number }[];
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
    const bytes = readFileSync(e.abs);
    data.set(e.rel, bytes);
    return { rel: e.rel, kind: 'file', size: bytes.length, sha256: createHash('sha256').update(bytes).digest('hex') };
  });
  const hashFor = new Map(local.filter((l) => l.kind === 'file').map((l) => [l.rel, l.size]));
  const walk = await walkBoard(board, remoteRoot, hashFor);
  if (walk.kind === 'file') throw boardFsError(remoteRoot, 20);
  const remote = walk.kind === 'dir' ? walk.entries : [];
  const plan = planSync(local, remote, { delete: opts.delete, ignore });
  const result: SyncResult = { plan, files: [], deleteErrors: [] };
  if (opts.dryRun) return result;

  const abs = (rel: string) => joinBoardPath(remoteRoot, ...rel.split('/'));
  if (plan.deletes.length) {
    const outcomes = await runPathOp(board, 'removeTree', plan.deletes.map((d) => abs(d.rel)));
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
