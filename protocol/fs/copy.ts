// `cp` in every direction with Unix rules (mpremote's too): a trailing `/` or several sources make the
// destination a directory (created if missing) for files; `-r dir DEST` copies into DEST/dir when DEST is an
// existing directory and makes DEST the copy otherwise (`cp -r src/ :lib/` with no :lib gives lib/a.py);
// the board's root (`cp -r :/ backup/`) copies its contents. All uploads of one command go through one
// receiver and all downloads through one sender; steps the link spoils are done again (`retries`). As mpremote's
// cp does, a file the board already holds byte for byte (same size and sha256, checked on the board in one exec
// for all targets) is not sent again unless `force`; on firmware without hashlib everything is sent.
import { copyFileSync, readFileSync, statSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import type { Board } from '../board.js';
import { BoardError } from '../errors.js';
import { boardBasename, hasTrailingSlash, isBoardArg, joinBoardPath, stripBoardMarker } from './board-path.js';
import { boardBasics, boardCapabilities } from './capabilities.js';
import { shortSha256 } from './digest.js';
import { downloadFiles, readBoardFiles } from './download.js';
import { errnoText, ENOENT } from './errno.js';
import { safeHostJoin } from './host-names.js';
import { makeDirs } from './make-dirs.js';
import { walkLocal } from './local-tree.js';
import { retrying } from './helper.js';
import { resolveOnBoard, runPathOp, statPaths, walkBoard, type EntryKind } from './operations.js';
import { DEFAULT_RETRIES, uploadFiles, type FileResult, type TransferOptions, type UploadItem } from './upload.js';

export interface CopyOptions extends TransferOptions {
  recursive?: boolean;
  /** Send files to the board also where it holds the same bytes already (mpremote's cp -f). */
  force?: boolean;
}

/** A copy endpoint: board paths are absolute, host paths absolute too. */
interface Endpoint {
  board: boolean;
  path: string;
  /** As the user wrote it, for messages (`:lib/x.py`, `./a.py`). */
  shown: string;
  kind?: EntryKind;
  errno?: number;
}

interface Job {
  from: Endpoint;
  to: Endpoint;
}

/** A source that could not be copied, named as the user wrote it. */
const failed = (ep: Endpoint, error: string, extra: Partial<FileResult> = {}): FileResult => ({
  path: ep.board ? stripBoardMarker(ep.shown) || ep.path : ep.shown || ep.path,
  board: ep.board,
  size: 0,
  ok: false,
  error,
  ...extra,
});

function hostKind(path: string): EntryKind | undefined {
  try {
    return statSync(path).isDirectory() ? 'dir' : 'file';
  } catch {
    return undefined;
  }
}

/** Resolve arguments to endpoints, stating all board paths in one exec. */
async function endpoints(board: Board, args: string[]): Promise<Endpoint[]> {
  const boardArgs = args.filter(isBoardArg);
  // cp moves file data: the full probe first brings the basics with it (one program, not a short probe and
  // then the channel checks).
  await boardCapabilities(board);
  const abs = await resolveOnBoard(board, boardArgs.map(stripBoardMarker));
  const stats = await statPaths(board, abs);
  let k = 0;
  return args.map((arg) => {
    if (!isBoardArg(arg)) {
      const path = resolve(arg);
      const kind = hostKind(path);
      return { board: false, path, shown: arg, ...(kind ? { kind } : { errno: ENOENT }) };
    }
    const st = stats[k++]!;
    const ep: Endpoint = { board: true, path: abs[k - 1]!, shown: arg };
    if (st.ok) ep.kind = st.value.kind;
    else ep.errno = st.errno;
    return ep;
  });
}

const childOf = (ep: Endpoint, name: string): Endpoint => ({
  board: ep.board,
  path: ep.board ? joinBoardPath(ep.path, name) : join(ep.path, name),
  shown: ep.board ? `:${joinBoardPath(ep.path, name)}` : join(ep.shown, name),
});

export async function copyPaths(board: Board, sources: string[], dest: string, opts: CopyOptions = {}): Promise<FileResult[]> {
  if (sources.length === 0) throw new BoardError('USAGE', 'cp: missing destination');
  const retries = opts.retries ?? DEFAULT_RETRIES;
  const [to, ...from] = await retrying(retries, () => endpoints(board, [dest, ...sources]));
  const destDir = to!.kind === 'dir' || hasTrailingSlash(stripBoardMarker(dest)) || stripBoardMarker(dest) === '' || sources.length > 1;
  if (destDir && to!.kind === 'file') throw new BoardError('DEVICE_OSERROR', `${to!.shown}: ${errnoText(20)}`, { path: to!.path, errno: 20 });

  const results: FileResult[] = [];
  const jobs: Job[] = [];
  const boardDirs: string[] = [];
  const hostDirs: string[] = [];
  const needDir = (ep: Endpoint) => (ep.board ? boardDirs : hostDirs).push(ep.path);
  if (destDir && !to!.kind) needDir(to!);

  for (const src of from) {
    if (!src.kind) {
      const errno = src.errno ?? ENOENT;
      results.push(failed(src, errnoText(errno), src.board ? { errno } : { code: 'LOCAL_IO' }));
      continue;
    }
    const name = src.board ? boardBasename(src.path) : basename(src.path);
    if (src.kind === 'dir' && !opts.recursive) {
      results.push(failed(src, 'is a directory (not copied; use -r)'));
      continue;
    }
    let target: Endpoint;
    try {
      // A directory goes inside an existing directory, or becomes the (new) destination; files go inside
      // any destination that is a directory. The board's root has no name: its contents are the copy.
      const inside = src.kind === 'dir' ? to!.kind === 'dir' || sources.length > 1 : destDir;
      const rootDir = src.board && src.kind === 'dir' && name === '';
      if (!to!.board && src.board && !rootDir) safeHostJoin(to!.path, [name], src.path); // board-supplied name
      target = inside && !rootDir ? childOf(to!, name) : to!;
    } catch (err) {
      results.push(failed(src, (err as Error).message, { code: 'UNSAFE_PATH' }));
      continue;
    }
    if (src.kind === 'file') {
      jobs.push({ from: src, to: target });
      continue;
    }
    needDir(target);
    try {
      for (const e of await retrying(retries, () => listTree(board, src))) {
        const comps = e.rel.split('/');
        const child: Endpoint = target.board
          ? { board: true, path: joinBoardPath(target.path, ...comps), shown: '' }
          : { board: false, path: src.board ? safeHostJoin(target.path, comps, joinBoardPath(src.path, e.rel)) : join(target.path, ...comps), shown: '' };
        if (e.kind === 'dir') needDir(child);
        else jobs.push({ from: { board: src.board, path: src.board ? joinBoardPath(src.path, ...comps) : join(src.path, ...comps), shown: '' }, to: child });
      }
    } catch (err) {
      if (!(err instanceof BoardError) || err.code !== 'UNSAFE_PATH') throw err;
      results.push(failed(src, err.message, { code: 'UNSAFE_PATH' }));
    }
  }
  for (const d of hostDirs) makeDirs(d);
  // Under a board directory this command creates nothing can be unchanged.
  const fresh = to!.board && !to!.kind;
  results.push(...(await runJobs(board, jobs, boardDirs, { ...opts, force: opts.force || fresh })));
  return results;
}

/** A source directory's contents, relative paths, parents first. */
async function listTree(board: Board, src: Endpoint): Promise<{ rel: string; kind: EntryKind }[]> {
  if (!src.board) return walkLocal(src.path);
  const walk = await walkBoard(board, src.path);
  return walk.kind === 'dir' ? walk.entries : [];
}

async function runJobs(board: Board, jobs: Job[], boardDirs: string[], opts: CopyOptions): Promise<FileResult[]> {
  const results: FileResult[] = [];
  const uploads: UploadItem[] = [];
  // Board-to-board copies go through the host: read them all in one sender run first.
  const b2b = jobs.filter((j) => j.from.board && j.to.board);
  const fetched = b2b.length ? await readBoardFiles(board, b2b.map((j) => j.from.path), opts) : [];
  fetched.forEach((f, i) => {
    if (f.result.ok) uploads.push({ dest: b2b[i]!.to.path, data: f.data });
    else results.push(f.result);
  });
  for (const j of jobs) {
    if (j.from.board || !j.to.board) continue;
    try {
      uploads.push({ dest: j.to.path, data: readFileSync(j.from.path) });
    } catch (err) {
      results.push(failed(j.from, (err as Error).message, { code: 'LOCAL_IO' }));
    }
  }
  const same = opts.force ? new Set<UploadItem>() : await unchanged(board, uploads, opts.retries ?? DEFAULT_RETRIES);
  for (const u of same) results.push({ path: u.dest, board: true, size: u.data.length, ok: true, unchanged: true });
  const sends = uploads.filter((u) => !same.has(u));
  if (sends.length || boardDirs.length) results.push(...(await uploadFiles(board, sends, boardDirs, opts)));
  const downloads = jobs.filter((j) => j.from.board && !j.to.board);
  if (downloads.length) {
    results.push(...(await downloadFiles(board, downloads.map((j) => ({ src: j.from.path, dest: j.to.path })), opts)));
  }
  for (const j of jobs) {
    if (j.from.board || j.to.board) continue;
    copyFileSync(j.from.path, j.to.path);
    results.push({ path: j.to.path, board: false, size: statSync(j.to.path).size, ok: true });
  }
  return results;
}

/**
 * The uploads whose target already holds their bytes, asked in one exec: same size and short sha256 (the
 * odds that different bytes pass are 2^-64). A target that two uploads share is always written: the second
 * must win whatever the first leaves there.
 */
async function unchanged(board: Board, uploads: UploadItem[], retries: number): Promise<Set<UploadItem>> {
  const targets = new Map<string, number>();
  for (const u of uploads) targets.set(u.dest, (targets.get(u.dest) ?? 0) + 1);
  const once = uploads.filter((u) => targets.get(u.dest) === 1);
  if (!once.length || !(await boardBasics(board)).hashlib) return new Set();
  const answers = await retrying(retries, () => runPathOp(board, 'same', once.map((u) => u.dest), once.map((u) => u.data.length)));
  return new Set(
    once.filter((u, i) => {
      const a = answers[i]!;
      return a.ok && a.value === shortSha256(u.data);
    }),
  );
}
