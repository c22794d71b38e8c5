// The files pane's actions: the protocol/fs core functions the `fs` commands use, run on the TUI's link
// (which pauses the REPL pane meanwhile) with progress going to the status line.
import { readFile } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { downloadFiles } from '../../protocol/fs/download.js';
import { boardTree, diskUsage, firstFailure, runPathOp, type DiskUsage, type EntryKind, type TreeNode } from '../../protocol/fs/operations.js';
import { syncFolder, type SyncResult } from '../../protocol/fs/sync.js';
import { fileResultError, uploadFiles, type FileResult, type TransferOptions } from '../../protocol/fs/upload.js';
import { joinBoardPath } from '../../protocol/fs/board-path.js';
import { pyStr } from '../../protocol/fs/wire.js';
import type { BoardLink } from './board-link.js';

export interface BoardEntry {
  /** Absolute board path. */
  path: string;
  name: string;
  kind: EntryKind;
  size: number;
  depth: number;
}

export interface BoardListing {
  entries: BoardEntry[];
  usage: DiskUsage;
}

/** The tree flattened in display order (directories before their children). */
function flatten(node: TreeNode, dir: string, depth: number, out: BoardEntry[]): void {
  for (const child of node.children) {
    const path = joinBoardPath(dir, child.name);
    out.push({ path, name: child.name, kind: child.kind, size: child.size, depth });
    if (child.kind === 'dir') flatten(child, path, depth + 1, out);
  }
}

export function listBoard(link: BoardLink): Promise<BoardListing> {
  return link.withBoard('reading the board\'s files', async (board) => {
    const entries: BoardEntry[] = [];
    flatten(await boardTree(board, '/'), '/', 0, entries);
    return { entries, usage: await diskUsage(board, '/') };
  });
}

const progressTo = (link: BoardLink): TransferOptions => ({ onProgress: (p) => link.progress(p.bytesDone, p.bytesTotal) });

function checked(results: FileResult[]): FileResult[] {
  const failed = results.find((r) => !r.ok);
  if (failed) throw fileResultError(failed);
  return results;
}

export async function uploadFile(link: BoardLink, localPath: string, boardDir: string): Promise<string> {
  const dest = joinBoardPath(boardDir, basename(localPath));
  const data = await readFile(localPath);
  await link.withBoard(`uploading ${basename(localPath)}`, async (board) => checked(await uploadFiles(board, [{ dest, data }], [], progressTo(link))));
  return dest;
}

export async function downloadFile(link: BoardLink, boardPath: string, localDir: string): Promise<string> {
  const dest = join(localDir, basename(boardPath));
  await link.withBoard(`downloading ${boardPath}`, async (board) => checked(await downloadFiles(board, [{ src: boardPath, dest }], progressTo(link))));
  return dest;
}

export function removeEntry(link: BoardLink, entry: BoardEntry): Promise<void> {
  return link.withBoard(`deleting ${entry.path}`, async (board) => {
    const failure = firstFailure(await runPathOp(board, entry.kind === 'dir' ? 'removeTree' : 'remove', [entry.path]));
    if (failure) throw failure;
  });
}

export function renameEntry(link: BoardLink, from: string, to: string): Promise<void> {
  return link.withBoard(`renaming ${from}`, async (board) => {
    await board.exec(`import os\nos.rename(${pyStr(from)}, ${pyStr(to)})`);
  });
}

export function syncProject(link: BoardLink, localDir: string): Promise<SyncResult> {
  return link.withBoard(`syncing ${localDir}`, async (board) => {
    const result = await syncFolder(board, localDir, '/', progressTo(link));
    checked(result.files);
    return result;
  });
}
