// The small verbs of the edit-run loop, with mpremote's names: `sleep SECONDS` (between chain steps),
// `rtc [--set]`, `edit :FILE…` and `romfs query|build|deploy`.
import { spawn } from 'node:child_process';
import type { Command } from 'commander';
import { BoardError } from '../../protocol/errors.js';
import type { CliContext } from '../context.js';

/** Seconds as mpremote's `sleep` takes them: a non-negative decimal number. */
export function sleepSeconds(text: string): number {
  const n = Number(text);
  if (!/^\s*(\d+\.?\d*|\.\d+)\s*$/.test(text) || !Number.isFinite(n)) throw new BoardError('USAGE', `'${text}' is not a number of seconds (such as 0.5)`);
  return n;
}

/** The editor users chose: $VISUAL, else $EDITOR (either may carry arguments, e.g. `code -w`). */
function chosenEditor(): string {
  const editor = (process.env.VISUAL || process.env.EDITOR || '').trim();
  if (!editor) throw new BoardError('USAGE', 'no editor: set $VISUAL or $EDITOR');
  return editor;
}

/** Run the editor on `file` through the shell, on our terminal; a missing editor or a failing one is an error. */
function runEditor(editor: string, file: string, signal: AbortSignal): Promise<void> {
  const quoted = `'${file.replace(/'/g, `'\\''`)}'`;
  return new Promise((resolve, reject) => {
    const child = spawn(`${editor} ${quoted}`, { shell: true, stdio: 'inherit', signal });
    child.on('error', (err) => reject(new BoardError('LOCAL_IO', `editor '${editor}': ${err.message}`)));
    child.on('close', (code) => {
      if (code === 0) resolve();
      else if (code === 127) reject(new BoardError('LOCAL_IO', `editor '${editor}' not found (check $VISUAL / $EDITOR)`));
      else reject(new BoardError('LOCAL_IO', `editor '${editor}' exited with status ${code}; the board file is unchanged`));
    });
  });
}

export function registerDevloopCommands(program: Command, ctx: () => CliContext): void {
  program
    .command('sleep')
    .description('wait SECONDS (a decimal number) before the next command of the chain')
    .argument('<seconds>', 'seconds to wait, e.g. 0.5')
    .action(async (text: string) => {
      const seconds = sleepSeconds(text);
      const c = ctx();
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, seconds * 1000);
        c.signal.addEventListener('abort', () => (clearTimeout(timer), resolve()), { once: true });
      });
      if (c.signal.aborted) throw new BoardError('INTERRUPTED', 'stopped by Ctrl-C');
      c.out.doc({ command: 'sleep', ok: true, seconds });
    });

  program
    .command('rtc')
    .description("print the board's clock (machine.RTC().datetime()); --set sets it from the host's local time")
    .option('--set', "set the board's clock from the host's (local time, as mpremote does)")
    .action(async (opts: { set?: boolean }) => {
      const c = ctx();
      const { readRtc, setRtc, rtcTuple, formatRtc } = await import('../../protocol/board-clock.js');
      const board = await c.session.connect();
      if (opts.set) await setRtc(board, rtcTuple(new Date()));
      const tuple = await readRtc(board);
      if (!opts.set) c.out.text(`${formatRtc(tuple)}\n`);
      c.out.doc({ command: 'rtc', ok: true, set: opts.set === true, datetime: tuple, text: formatRtc(tuple) });
    });

  program
    .command('edit')
    .description('edit board files in $VISUAL or $EDITOR; each is written back only if it changed')
    .argument('<files...>', 'board files (:main.py)')
    .action(async (files: string[]) => {
      const c = ctx();
      const editor = chosenEditor();
      const [{ editBoardFiles }, { resolveOnBoard }, { stripBoardMarker }] = await Promise.all([
        import('../../protocol/fs/edit.js'),
        import('../../protocol/fs/operations.js'),
        import('../../protocol/fs/board-path.js'),
      ]);
      const board = await c.session.connect();
      const paths = await resolveOnBoard(board, files.map(stripBoardMarker));
      const results = await editBoardFiles(board, paths, (file) => runEditor(editor, file, c.signal), { signal: c.signal });
      for (const r of results) if (!c.out.json) c.out.note(`${r.changed ? 'wrote' : 'unchanged'} :${r.path}`);
      c.out.doc({ command: 'edit', ok: true, files: results });
    });

  const romfs = program.command('romfs').description("the board's ROMFS segments (ports built with MICROPY_VFS_ROM)");
  const requireRomfs = async () => {
    const { requireRomfs: probe } = await import('../../protocol/romfs.js');
    return probe(await ctx().session.connect());
  };
  romfs
    .command('query')
    .description('list the ROMFS segments')
    .action(async () => {
      const segments = await requireRomfs();
      ctx().out.text(`${segments} ROMFS segment(s)\n`);
      ctx().out.doc({ command: 'romfs query', ok: true, segments });
    });
  romfs
    .command('deploy')
    .description('write a ROMFS image or folder to the board')
    .argument('<path>', 'ROMFS image or folder')
    .action(async () => {
      await requireRomfs();
      throw new BoardError('USAGE', 'romfs deploy: writing ROMFS segments is not implemented yet');
    });
  romfs
    .command('build')
    .description('build a ROMFS image from a folder (for the connected board)')
    .argument('<folder>', 'source folder')
    .action(async () => {
      await requireRomfs();
      throw new BoardError('USAGE', 'romfs build: building ROMFS images is not implemented yet');
    });
}
