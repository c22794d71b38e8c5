// The edit-run loop behind `watch`: put the folder on the board (sync, hash-skipping; or a mount), run the
// entry point, stream its output, and on the next save (debounced, so an editor's write-rename-delete or a
// burst of saves is one change) stop the program if it still runs, sync again and run again. Ends when
// `signal` aborts. Reports through `onEvent` only (the command decides how events look).
import { readdirSync, watch, type FSWatcher } from 'node:fs';
import { relative, resolve, sep } from 'node:path';
import type { RawReplClient } from '../protocol/raw-repl.js';
import { isBoardError } from '../protocol/errors.js';
import { syncFolder, syncIgnoreRules } from '../protocol/fs/sync.js';
import { pyStr } from '../protocol/fs/wire.js';

export type WatchEvent =
  | { event: 'sync'; uploaded: string[]; deleted: string[]; kept: string[] }
  | { event: 'run'; changed: string[] }
  | { event: 'output'; data: string }
  | { event: 'error'; data: string }
  | { event: 'done'; ok: boolean; interrupted?: boolean; error?: string };

export interface WatchOptions {
  local: string;
  /** Board folder the files go to (ignored with a mount: the files are at /remote). */
  remote: string;
  /** What to run: a file of the folder, code, or a soft reset that runs the board's main.py. */
  entry: { file: string } | { code: string } | { reset: true };
  delete?: boolean;
  /** The board runs from a mount of the folder (set up by the caller), so nothing is copied. */
  mounted?: boolean;
  debounceMs?: number;
  signal: AbortSignal;
  onEvent(e: WatchEvent): void;
}

/**
 * The program for one run, in a namespace of its own: modules a previous run imported from the project's folder
 * are dropped first, so changed ones load afresh without the cost of a soft reset. A module is the project's when
 * its file, relative (imported from the cwd, the folder) or under the folder, starts with one of `tops`, the
 * folder's top-level names: firmware's frozen modules have relative names too (`asyncio/core.py`), and a module
 * boot.py imported from / (`config.py`) is not the project's either; both stay, as do /lib's.
 */
export function runProgram(dir: string, tops: Iterable<string>, entry: { file: string } | { code: string }): string {
  const run =
    'file' in entry
      ? `with open(${pyStr(entry.file)}) as _f:_s=_f.read()\nexec(_s,{'__name__':'__main__'})`
      : `exec(${pyStr(entry.code)},{'__name__':'__main__'})`;
  return [
    'import sys,os',
    `os.chdir(${pyStr(dir)})`,
    `_d=${pyStr(dir === '/' ? '/' : `${dir}/`)}`,
    `_t={${[...tops].map(pyStr).join(',')}}`,
    'def _p(f):',
    " if f[:1]=='/':",
    '  if not f.startswith(_d):return False',
    '  f=f[len(_d):]',
    " return f.split('/')[0] in _t",
    "for _m in [k for k,v in sys.modules.items() if _p(getattr(v,'__file__',''))]:del sys.modules[_m]",
    run,
  ].join('\n');
}

/** The folder's top-level names now, and those of every entry a sync of this watch saw (deleted ones too). */
function projectTops(root: string, seen: Set<string>): Set<string> {
  const tops = new Set(readdirSync(root));
  for (const rel of seen) tops.add(rel.split('/')[0]!);
  return tops;
}

export async function watchLoop(board: RawReplClient, opts: WatchOptions): Promise<void> {
  const root = resolve(opts.local);
  const ignore = syncIgnoreRules(root);
  const dir = opts.mounted ? '/remote' : opts.remote;
  const changed = new Set<string>();
  /** Host entries some sync of this watch saw; `shown`: kept board entries already reported. */
  const seen = new Set<string>();
  const keptShown = new Set<string>();
  let pending = false;
  let wake: (() => void) | undefined;
  let timer: NodeJS.Timeout | undefined;
  let running = new AbortController();
  let inRun = false;
  const watcher: FSWatcher = watch(root, { recursive: true }, (_type, name) => {
    if (!name) return;
    const rel = relative(root, resolve(root, name.toString())).split(sep).join('/');
    if (rel.startsWith('..') || ignore.ignores(rel, false)) return;
    changed.add(rel);
    clearTimeout(timer);
    timer = setTimeout(() => {
      pending = true;
      // Only a program still running is stopped: a Ctrl-C sent as one ends would reach the next helper.
      if (inRun) running.abort();
      wake?.();
    }, opts.debounceMs ?? 100);
  });
  const stop = () => {
    running.abort();
    wake?.();
  };
  opts.signal.addEventListener('abort', stop);
  try {
    for (let first = true; !opts.signal.aborted; first = false) {
      // A save during the run stops it; one during the sync starts another round after the run.
      running = new AbortController();
      pending = false;
      const files = [...changed];
      changed.clear();
      if (!opts.mounted) {
        // --delete follows deletions: it removes what the folder had during this watch and no longer has,
        // never board files it never had (boot.py, mip's lib/, data the program wrote).
        const result = await syncFolder(board, root, opts.remote, { delete: opts.delete, deletable: (rel) => seen.has(rel) });
        for (const rel of result.localRels) seen.add(rel);
        const uploaded = result.plan.uploads.map((u) => u.rel);
        const deleted = result.plan.deletes.map((d) => d.rel);
        const kept = result.plan.kept.filter((k) => !keptShown.has(k));
        for (const k of kept) keptShown.add(k);
        if (first || uploaded.length || deleted.length || kept.length) opts.onEvent({ event: 'sync', uploaded, deleted, kept });
      }
      opts.onEvent({ event: 'run', changed: files });
      try {
        inRun = true;
        await runEntry(board, dir, projectTops(root, seen), opts, running.signal);
        opts.onEvent({ event: 'done', ok: true });
      } catch (err) {
        if (isBoardError(err, 'INTERRUPTED')) opts.onEvent({ event: 'done', ok: false, interrupted: true });
        else if (isBoardError(err, 'DEVICE_EXCEPTION')) opts.onEvent({ event: 'done', ok: false, error: err.message });
        else throw err;
      } finally {
        inRun = false;
      }
      if (!pending && !opts.signal.aborted) await new Promise<void>((r) => (wake = r));
      wake = undefined;
    }
  } finally {
    clearTimeout(timer);
    watcher.close();
    opts.signal.removeEventListener('abort', stop);
  }
}

async function runEntry(board: RawReplClient, dir: string, tops: Set<string>, opts: WatchOptions, signal: AbortSignal): Promise<void> {
  const stream = {
    signal,
    onStdout: (data: string) => opts.onEvent({ event: 'output', data }),
    onStderr: (data: string) => opts.onEvent({ event: 'error', data }),
  };
  if ('reset' in opts.entry) {
    // As the board's own boot would: a fresh heap, then main.py if the folder has one.
    await board.softReset();
    await board.exec(runProgram(dir, tops, { code: "try:\n open('main.py').close()\nexcept OSError:pass\nelse:\n exec(open('main.py').read(),{'__name__':'__main__'})" }), stream);
    return;
  }
  await board.exec(runProgram(dir, tops, opts.entry), stream);
}
