// The files pane's actions: the protocol/fs core functions the `fs` commands use, run on the TUI's link
// (which pauses the REPL pane meanwhile) with progress going to the status line.
import { copyPaths } from '../../protocol/fs/copy.js';
import { boardFsError } from '../../protocol/fs/errno.js';
import { diskUsage, firstFailure, listPaths, runPathOp, type DiskUsage, type EntryKind } from '../../protocol/fs/operations.js';
import { syncFolder, type SyncResult } from '../../protocol/fs/sync.js';
import { fileResultError, type FileResult, type TransferOptions } from '../../protocol/fs/upload.js';
import { boardDirname, joinBoardPath } from '../../protocol/fs/board-path.js';
import { pyStr } from '../../protocol/fs/wire.js';
import type { BoardLink } from './board-link.js';

export interface BoardEntry {
  /** Absolute board path. */
  path: string;
  /** `..` for the way up. */
  name: string;
  kind: EntryKind;
  size: number;
}

export interface BoardListing {
  /** The folder listed, absolute. */
  dir: string;
  /** `..` first (below the root), then folders, then files, by name. */
  entries: BoardEntry[];
  usage: DiskUsage;
}

/** One board folder, as the files pane shows it. */
export function listBoardDir(link: BoardLink, dir: string): Promise<BoardListing> {
  return link.withBoard("reading the board's files", async (board) => {
    const [listed] = await listPaths(board, [dir]);
    if (!listed || !listed.ok) throw boardFsError(dir, listed && !listed.ok ? listed.errno : 5);
    if (listed.value.kind !== 'dir') throw boardFsError(dir, 20);
    const children = listed.value.entries
      .map((e): BoardEntry => ({ path: joinBoardPath(dir, e.name), name: e.name, kind: e.kind, size: e.size }))
      .sort((a, b) => Number(b.kind === 'dir') - Number(a.kind === 'dir'));
    const up: BoardEntry[] = dir === '/' ? [] : [{ path: boardDirname(dir), name: '..', kind: 'dir', size: 0 }];
    return { dir, entries: [...up, ...children], usage: await diskUsage(board, dir) };
  });
}

const progressTo = (link: BoardLink): TransferOptions => ({ onProgress: (p) => link.progress(p.bytesDone, p.bytesTotal) });

function checked(results: FileResult[]): FileResult[] {
  const failed = results.find((r) => !r.ok);
  if (failed) throw fileResultError(failed);
  return results;
}

/**
 * `cp -r LOCAL :DIR/` (or `cp -r :PATH LOCALDIR/`): a file or a whole folder into a folder, with mpremote's rules.
 * Returns how many files went, and how many the board held already (not sent).
 */
export async function copyInto(link: BoardLink, what: string, source: string, destDir: string, toBoard: boolean): Promise<{ sent: number; unchanged: number }> {
  const dest = toBoard ? `:${destDir === '/' ? '/' : `${destDir}/`}` : `${destDir}/`;
  const results = await link.withBoard(what, async (board) =>
    checked(await copyPaths(board, [toBoard ? source : `:${source}`], dest, { ...progressTo(link), recursive: true })),
  );
  const unchanged = results.filter((r) => r.unchanged).length;
  return { sent: results.length - unchanged, unchanged };
}

export function removeEntry(link: BoardLink, entry: BoardEntry): Promise<void> {
  return link.withBoard(`deleting ${entry.path}`, async (board) => {
    const failure = firstFailure(await runPathOp(board, entry.kind === 'dir' ? 'removeTree' : 'remove', [entry.path]));
    if (failure) throw failure;
  });
}

export function renameEntry(link: BoardLink, from: string, to: string): Promise<void> {
  return link.withBoard(`renaming ${from}`, async (board) => {
    await board.exec(`__import__('os').rename(${pyStr(from)}, ${pyStr(to)})`);
  });
}

/** `sync LOCAL :DIR [--delete]`; with `dryRun` only the plan, which the pane shows before anything runs. */
export function syncInto(link: BoardLink, localDir: string, boardDir: string, opts: { delete: boolean; dryRun: boolean }): Promise<SyncResult> {
  return link.withBoard(opts.dryRun ? `planning the sync of ${localDir}` : `syncing ${localDir}`, async (board) => {
    const result = await syncFolder(board, localDir, boardDir, { ...progressTo(link), ...opts });
    checked(result.files);
    const failedDelete = result.deleteErrors[0];
    if (failedDelete) throw boardFsError(failedDelete.path, failedDelete.errno);
    return result;
  });
}
