// The file commands: `fs ls|cat|cp|rm|mkdir|rmdir|touch|tree|sha256sum|df` (mpremote's names, also as
// top-level aliases), `df` and `sync`. Thin wiring: the work is in protocol/fs, output layout in cli/fs.
import type { Command } from 'commander';
import type { Board } from '../../protocol/board.js';
import { BoardError } from '../../protocol/errors.js';
import { isBoardArg, stripBoardMarker } from '../../protocol/fs/board-path.js';
import { boardBasics } from '../../protocol/fs/capabilities.js';
import { sha256Hex } from '../../protocol/fs/digest.js';
import { retrying } from '../../protocol/fs/helper.js';
import { boardFsError } from '../../protocol/fs/errno.js';
import {
  boardTree,
  diskUsage,
  listPaths,
  resolveOnBoard,
  runPathOp,
  type Outcome,
} from '../../protocol/fs/operations.js';
import type { PathOp } from '../../protocol/fs/snippets.js';
import { copyPaths } from '../../protocol/fs/copy.js';
import { readBoardFiles } from '../../protocol/fs/download.js';
import { syncFolder } from '../../protocol/fs/sync.js';
import { DEFAULT_RETRIES, fileResultError, type FileResult } from '../../protocol/fs/upload.js';
import { formatDiskUsage, formatListing, formatTree } from '../fs/format.js';
import { progressLine } from '../fs/progress.js';
import { Output } from '../output.js';

export interface FsDeps {
  openBoard(): Promise<Board>;
  /** Host Ctrl-C; without it the commands listen for SIGINT themselves while they run. */
  signal?: AbortSignal;
  /** --json given anywhere in the chain (it holds for every command of a chain). */
  json?: () => boolean;
}

interface Run {
  board: Board;
  out: Output;
  name: string;
  signal: AbortSignal;
}

/** Wrap an action: connect, give it output and a Ctrl-C signal, and stop listening afterwards. */
function action<A extends unknown[]>(deps: FsDeps, body: (run: Run, ...args: A) => Promise<void>) {
  return async (...args: unknown[]) => {
    const cmd = args.at(-1) as Command;
    const json = cmd.optsWithGlobals<{ json?: boolean }>().json === true || deps.json?.() === true;
    const own = deps.signal ? undefined : new AbortController();
    const onSigint = () => own?.abort();
    if (own) process.once('SIGINT', onSigint);
    try {
      const board = await deps.openBoard();
      await body({ board, out: new Output(json), name: cmd.name(), signal: deps.signal ?? own!.signal }, ...(args.slice(0, -1) as A));
    } finally {
      if (own) process.removeListener('SIGINT', onSigint);
    }
  };
}

/**
 * Report failures: all but the last on stderr here, the last thrown (the CLI prints it and exits 1),
 * carrying per-path results for --json.
 */
function throwFailures(run: Run, errors: BoardError[], details: Record<string, unknown>): void {
  if (errors.length === 0) return;
  for (const e of errors.slice(0, -1)) if (!run.out.json) run.out.error(`boardctl: ${run.name}: ${e.message}\n`);
  const last = errors.at(-1)!;
  throw new BoardError(last.code, last.message, { ...last.details, ...details, failed: errors.length });
}

const outcomeErrors = <T>(outcomes: Outcome<T>[], shown: string[]) =>
  outcomes.flatMap((o, i) => (o.ok ? [] : [boardFsError(shown[i] ?? o.path, o.errno)]));

const fileErrors = (results: FileResult[]) => results.filter((r) => !r.ok).map(fileResultError);

/** Board path arguments of the non-cp commands (the `:` is optional there). */
const boardArgs = (paths: string[]) => paths.map(stripBoardMarker);

/** A batched path operation (rm, mkdir, rmdir, touch): silent on success, like the Unix tools. */
async function pathCommand(run: Run, op: PathOp, paths: string[]): Promise<void> {
  const shown = boardArgs(paths);
  const outcomes = await runPathOp(run.board, op, await resolveOnBoard(run.board, shown));
  run.out.doc({ command: run.name, ok: outcomes.every((o) => o.ok), paths: outcomes });
  throwFailures(run, outcomeErrors(outcomes, shown), { paths: outcomes });
}

type Define = (cmd: Command, deps: FsDeps) => void;

const COMMANDS: Record<string, Define> = {
  ls: (cmd, deps) =>
    cmd
      .description('list board directories')
      .argument('[paths...]', 'board paths (default: the current directory)')
      .option('-l, --long', 'include modification times')
      .action(
        action(deps, async (run, paths: string[], opts: { long?: boolean }) => {
          const shown = paths.length ? boardArgs(paths) : [''];
          const outcomes = await listPaths(run.board, await resolveOnBoard(run.board, shown), { long: opts.long });
          outcomes.forEach((o, i) => {
            if (!o.ok) return;
            if (outcomes.length > 1) run.out.text(`${i ? '\n' : ''}:${shown[i]}:\n`);
            run.out.text(formatListing(o.value.entries, opts.long === true));
          });
          run.out.doc({ command: 'ls', ok: outcomes.every((o) => o.ok), paths: outcomes });
          throwFailures(run, outcomeErrors(outcomes, shown), {});
        }),
      ),
  cat: (cmd, deps) =>
    cmd
      .description('print board files')
      .argument('<paths...>', 'board files')
      .action(
        action(deps, async (run, paths: string[]) => {
          const shown = boardArgs(paths);
          const files = await readBoardFiles(run.board, await resolveOnBoard(run.board, shown), { signal: run.signal });
          for (const { result, data } of files) {
            if (!result.ok) continue;
            if (run.out.json) run.out.doc({ command: 'cat', path: result.path, text: Buffer.from(data).toString('utf8') });
            else process.stdout.write(data);
          }
          throwFailures(run, fileErrors(files.map((f, i) => ({ ...f.result, path: shown[i]! }))), {});
        }),
      ),
  cp: (cmd, deps) =>
    cmd
      .description('copy files; board paths start with ":" (cp a.py :lib/, cp -r :lib ./backup, cp :a :b)')
      .argument('<paths...>', 'sources then the destination; a trailing / makes the destination a directory')
      .option('-r, --recursive', 'copy directories')
      .option('-f, --force', 'send files also where the board holds the same bytes already (by sha256)')
      .option('--no-compress', 'never deflate-compress uploads')
      .option('--retries <n>', `send a file again up to N times when the link spoils its transfer (default ${DEFAULT_RETRIES})`, parseRetries)
      .action(
        action(deps, async (run, paths: string[], opts: { recursive?: boolean; force?: boolean; compress?: boolean; retries?: number }) => {
          if (paths.length < 2) throw new BoardError('USAGE', 'missing destination (cp SRC... DEST)');
          if (!paths.some(isBoardArg)) throw new BoardError('USAGE', 'no board path given: mark board paths with ":" (e.g. cp main.py :)');
          const progress = progressLine();
          let results: FileResult[];
          try {
            results = await copyPaths(run.board, paths.slice(0, -1), paths.at(-1)!, {
              recursive: opts.recursive,
              force: opts.force,
              compress: opts.compress,
              retries: opts.retries,
              signal: run.signal,
              onProgress: (p) => progress.update(p),
            });
          } finally {
            progress.done();
          }
          for (const r of results) if (r.unchanged) run.out.text(`Up to date: :${r.path}\n`);
          run.out.doc({ command: 'cp', ok: results.every((r) => r.ok), files: results });
          throwFailures(run, fileErrors(results), { files: results });
        }),
      ),
  rm: (cmd, deps) =>
    cmd
      .description('remove board files')
      .argument('<paths...>', 'board paths')
      .option('-r, --recursive', 'remove directories and their contents')
      .action(action(deps, (run, paths: string[], opts: { recursive?: boolean }) => pathCommand(run, opts.recursive ? 'removeTree' : 'remove', paths))),
  mkdir: (cmd, deps) =>
    cmd
      .description('create board directories')
      .argument('<paths...>', 'board paths')
      .option('-p, --parents', 'create missing parents; no error if it exists')
      .action(action(deps, (run, paths: string[], opts: { parents?: boolean }) => pathCommand(run, opts.parents ? 'mkdirParents' : 'mkdir', paths))),
  rmdir: (cmd, deps) =>
    cmd
      .description('remove empty board directories')
      .argument('<paths...>', 'board paths')
      .action(action(deps, (run, paths: string[]) => pathCommand(run, 'rmdir', paths))),
  touch: (cmd, deps) =>
    cmd
      .description('create empty board files (existing ones are left as they are)')
      .argument('<paths...>', 'board paths')
      .action(action(deps, (run, paths: string[]) => pathCommand(run, 'touch', paths))),
  tree: (cmd, deps) =>
    cmd
      .description('show a board directory tree')
      .argument('[path]', 'board directory (default: the current directory)')
      .option('-s, --size', 'show sizes in bytes')
      .option('-h, --human', 'show human-readable sizes')
      .helpOption('--help', 'display help for command')
      .action(
        action(deps, async (run, path: string | undefined, opts: { size?: boolean; human?: boolean }) => {
          const [abs] = await resolveOnBoard(run.board, [stripBoardMarker(path ?? '')]);
          const tree = await boardTree(run.board, abs!);
          run.out.text(formatTree(tree, opts.size ? 'bytes' : opts.human ? 'human' : 'none'));
          run.out.doc({ command: 'tree', ok: true, tree });
        }),
      ),
  sha256sum: (cmd, deps) =>
    cmd
      .description('sha256 of board files (computed on the board; without hashlib, read back and hashed here)')
      .argument('<paths...>', 'board files')
      .action(
        action(deps, async (run, paths: string[]) => {
          const shown = boardArgs(paths);
          const abs = await resolveOnBoard(run.board, shown);
          let outcomes: Outcome<string>[];
          let onHost = false;
          if ((await boardBasics(run.board)).hashlib) {
            outcomes = await retrying(DEFAULT_RETRIES, () => runPathOp(run.board, 'digest', abs));
          } else {
            // As mpremote does: read the files back and hash them here.
            onHost = true;
            run.out.note(`${run.name}: no hashlib on the board: hashing on the host after reading the files back`);
            const files = await readBoardFiles(run.board, abs, { signal: run.signal });
            const bad = files.find((f) => !f.result.ok && f.result.errno === undefined);
            if (bad) throw fileResultError(bad.result);
            outcomes = files.map(({ result, data }) =>
              result.ok ? { path: result.path, ok: true, value: sha256Hex(data) } : { path: result.path, ok: false, errno: result.errno! },
            );
          }
          outcomes.forEach((o, i) => o.ok && run.out.text(`${o.value}  ${shown[i]}\n`));
          run.out.doc({ command: 'sha256sum', ok: outcomes.every((o) => o.ok), hashedOn: onHost ? 'host' : 'board', paths: outcomes });
          throwFailures(run, outcomeErrors(outcomes, shown), {});
        }),
      ),
  df: (cmd, deps) =>
    cmd
      .description('board filesystem size and free space')
      .argument('[path]', 'a path on the filesystem to report', '/')
      .action(
        action(deps, async (run, path: string) => {
          const [abs] = await resolveOnBoard(run.board, [stripBoardMarker(path)]);
          const usage = await diskUsage(run.board, abs!);
          run.out.text(formatDiskUsage(usage));
          run.out.doc({ command: 'df', ok: true, ...usage });
        }),
      ),
};

function defineSync(cmd: Command, deps: FsDeps): void {
  cmd
    .description('upload what changed in LOCAL to :REMOTE (hashes compared on the board in one batch; honours .boardignore)')
    .argument('<local>', 'host folder')
    .argument('<remote>', 'board folder, e.g. :/ or :lib')
    .option('--delete', 'remove board files that are not in LOCAL (ignored ones are kept)')
    .option('-n, --dry-run', 'show what would change without touching the board')
    .option('--exclude <glob>', 'skip matching paths (repeatable; .boardignore syntax)', (v: string, prev: string[] = []) => [...prev, v])
    .option('--retries <n>', `send a file again up to N times when the link spoils its transfer (default ${DEFAULT_RETRIES})`, parseRetries)
    .action(
      action(deps, async (run, local: string, remote: string, opts: { delete?: boolean; dryRun?: boolean; exclude?: string[]; retries?: number }) => {
        if (!isBoardArg(remote)) throw new BoardError('USAGE', `the destination must be a board path (":${remote}")`);
        const [root] = await resolveOnBoard(run.board, [stripBoardMarker(remote)]);
        const progress = progressLine();
        let result;
        try {
          result = await syncFolder(run.board, local, root!, {
            delete: opts.delete,
            dryRun: opts.dryRun,
            exclude: opts.exclude,
            retries: opts.retries,
            signal: run.signal,
            onProgress: (p) => progress.update(p),
          });
        } finally {
          progress.done();
        }
        const { plan } = result;
        for (const n of result.notes) run.out.note(`${run.name}: ${n}`);
        const verb = opts.dryRun ? 'would ' : '';
        for (const d of plan.deletes) run.out.text(`${verb}delete :${joinShown(root!, d.rel)}${d.kind === 'dir' ? '/' : ''}\n`);
        for (const u of plan.uploads) run.out.text(`${verb}upload ${u.rel} (${u.reason})\n`);
        run.out.text(`${plan.uploads.length} to upload, ${plan.deletes.length} to delete, ${plan.unchanged.length} unchanged${opts.dryRun ? ' (dry run)' : ''}\n`);
        const errors = [
          ...fileErrors(result.files),
          ...result.deleteErrors.map((d) => boardFsError(d.path, d.errno)),
        ];
        run.out.doc({ command: 'sync', ok: errors.length === 0, dryRun: opts.dryRun === true, plan, files: result.files, notes: result.notes });
        throwFailures(run, errors, { files: result.files });
      }),
    );
}

const joinShown = (root: string, rel: string) => (root === '/' ? `/${rel}` : `${root}/${rel}`);

function parseRetries(text: string): number {
  const n = Number(text);
  if (!/^\d+$/.test(text) || n > 100) throw new BoardError('USAGE', `bad --retries '${text}': use a whole number from 0 to 100`);
  return n;
}

/**
 * Add `fs` with its subcommands, the top-level aliases, `df` and `sync`. Returns the `fs` command so
 * other modules can hang their own subcommands (fs image …) under it.
 */
export function registerFsCommands(program: Command, deps: FsDeps): Command {
  const fs = program.commands.find((c) => c.name() === 'fs') ?? program.command('fs').description('files on the board and filesystem images');
  for (const [name, define] of Object.entries(COMMANDS)) {
    define(fs.command(name), deps);
    define(program.command(name), deps);
  }
  defineSync(fs.command('sync'), deps);
  defineSync(program.command('sync'), deps);
  return fs;
}
