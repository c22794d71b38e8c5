// The small verbs of the edit-run loop, with mpremote's names: `sleep SECONDS` (between chain steps),
// `rtc [--set]`, `edit :FILE…` and `romfs query|build|deploy` (mpremote's, with --partition for its -p).
import { spawn } from 'node:child_process';
import { readFileSync, statSync, writeFileSync } from 'node:fs';
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
    .option('-s, --set', "set the board's clock from the host's (local time, as mpremote does)")
    .option('--no-set', 'only print the clock (the default)')
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

  const romfs = program.command('romfs').description("ROMFS images: build one from a folder, write it to the board's ROMFS segment, list the segments");
  romfs
    .command('query')
    .description("list the board's ROMFS segments: size, first bytes, the image each holds")
    .action(async () => {
      const c = ctx();
      const { querySegments } = await import('../../protocol/romfs.js');
      const segments = await querySegments(await c.session.connect());
      for (const s of segments) {
        const held = s.imageLength === undefined ? 'no ROMFS image' : `a ROMFS image of ${s.imageLength} bytes`;
        const blocks = s.blockSize ? ` (${s.size / s.blockSize} blocks of ${s.blockSize})` : '';
        c.out.text(`ROMFS${s.index}: ${s.size} bytes${blocks}, ${held}; starts ${s.head.replace(/(..)(?!$)/g, '$1:')}\n`);
      }
      c.out.doc({ command: 'romfs query', ok: true, segments });
    });
  romfs
    .command('build')
    .description('build a ROMFS image from a folder (.boardignore honoured; .py files go in as source)')
    .argument('<folder>', 'source folder')
    .option('-o, --output <file>', 'the image file (default: FOLDER.romfs)')
    .action(async (folder: string, opts: { output?: string }) => {
      const c = ctx();
      const [{ romfsEntriesFromFolder }, { encodeRomfs }] = await Promise.all([import('../../protocol/romfs-folder.js'), import('../../protocol/romfs-image.js')]);
      const image = encodeRomfs(romfsEntriesFromFolder(folder));
      const output = opts.output ?? `${folder.replace(/[\\/]+$/, '')}.romfs`;
      writeFileSync(output, image);
      if (!c.out.json) c.out.note(`wrote ${image.length} bytes to ${output}`);
      c.out.doc({ command: 'romfs build', ok: true, output, bytes: image.length });
    });
  romfs
    .command('deploy')
    .description("write a ROMFS image (a .romfs/.img file, or a folder built on the fly) to the board's ROMFS segment; mounted at /rom after a soft reset")
    .argument('<source>', 'image file or folder')
    .option('--partition <n>', 'the segment to write (mpremote: romfs -p N)', '0')
    .action(async (source: string, opts: { partition: string }) => {
      const c = ctx();
      const segment = Number(opts.partition);
      if (!/^\d+$/.test(opts.partition)) throw new BoardError('USAGE', `--partition: '${opts.partition}' is not a segment number`);
      const [{ deployRomfs }, { romfsEntriesFromFolder }, { encodeRomfs }] = await Promise.all([
        import('../../protocol/romfs.js'),
        import('../../protocol/romfs-folder.js'),
        import('../../protocol/romfs-image.js'),
      ]);
      const image = statSync(source, { throwIfNoEntry: false })?.isDirectory() ? encodeRomfs(romfsEntriesFromFolder(source)) : readLocal(source);
      const result = await deployRomfs(await c.session.connect(), image, { segment, signal: c.signal });
      if (!c.out.json) c.out.note(`wrote ${result.bytes} bytes to ROMFS${result.segment} (${result.segmentSize} bytes)${result.verified ? ', read back equal' : ''}; soft-reset to mount it at /rom`);
      c.out.doc({ command: 'romfs deploy', ok: true, ...result });
    });
}

/** A local file's bytes, or the one-line error. */
function readLocal(path: string): Uint8Array {
  try {
    return readFileSync(path);
  } catch (err) {
    throw new BoardError('LOCAL_IO', `${path}: ${(err as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file or folder' : (err as Error).message}`);
  }
}
