// `watch LOCAL [:REMOTE]`: the edit-run loop (cli/watch-loop.ts) on the session's board, until Ctrl-C. Output
// streams as the program prints it; --json gives editors one NDJSON event per step.
import { statSync } from 'node:fs';
import type { Command } from 'commander';
import { resolveBoardPath } from '../../protocol/fs/board-path.js';
import { BoardError } from '../../protocol/errors.js';
import { fileError } from '../../protocol/host-error.js';
import type { CliContext } from '../context.js';
import { lineEndsFor } from '../line-ends.js';
import type { WatchEvent, WatchOptions } from '../watch-loop.js';

interface WatchFlags {
  run?: string;
  exec?: string;
  reset?: boolean;
  delete?: boolean;
  mount?: boolean;
  unsafeLinks?: boolean;
}

function entryOf(flags: WatchFlags): WatchOptions['entry'] {
  const chosen = [flags.run !== undefined, flags.exec !== undefined, flags.reset === true].filter(Boolean).length;
  if (chosen > 1) throw new BoardError('USAGE', 'choose one of --run, --exec and --reset');
  if (flags.exec !== undefined) return { code: flags.exec };
  if (flags.reset) return { reset: true };
  return { file: flags.run ?? 'main.py' };
}

export function registerWatchCommand(program: Command, ctx: () => CliContext): void {
  program
    .command('watch')
    .description('sync LOCAL to the board and run it again on every save (Ctrl-C stops); runs main.py unless told otherwise')
    .argument('<local>', 'local folder')
    .argument('[remote]', 'board folder, :PATH (default :/)')
    .option('--run <file>', "file of the folder to run after each sync (default main.py)")
    .option('--exec <code>', 'Python code to run after each sync')
    .option('--reset', "soft-reset after each sync and run the folder's main.py, as a boot would")
    .option('--delete', 'remove board files the folder had during this watch and no longer has (never ones it never had, such as boot.py)')
    .option('--mount', 'run from a mount of the folder instead of copying it')
    .option('-l, --unsafe-links', 'with --mount: follow symlinks, also those pointing outside the folder')
    .action(async (local: string, remote: string | undefined, flags: WatchFlags) => {
      const c = ctx();
      try {
        if (!statSync(local).isDirectory()) throw new BoardError('USAGE', `${local}: not a folder`);
      } catch (err) {
        throw err instanceof BoardError ? err : fileError(local, err);
      }
      if (remote !== undefined && !remote.startsWith(':')) throw new BoardError('USAGE', `${remote}: a board path starts with ':'`);
      const entry = entryOf(flags);
      const { watchLoop } = await import('../watch-loop.js');
      let board;
      if (flags.mount) {
        const [{ HostTree }, { MountLink }, { MountedBoard }] = await Promise.all([
          import('../../protocol/mount/host-tree.js'),
          import('../../protocol/mount/mount-link.js'),
          import('../../protocol/mount/mounted-board.js'),
        ]);
        const tree = new HostTree(local, flags.unsafeLinks === true);
        board = await c.session.interpose((t, o) => new MountedBoard(new MountLink(t, tree), o));
        await board.ensureMounted();
      } else board = await c.session.connect();
      const out = lineEndsFor(() => process.stdout, false);
      const err = lineEndsFor(() => process.stderr, false);
      const show = (e: WatchEvent) => {
        if (c.out.json) return c.out.doc(e);
        if (e.event === 'output') c.out.text(out.push(e.data));
        else if (e.event === 'error') c.out.error(err.push(e.data));
        else if (e.event === 'sync') {
          c.out.note(`synced: ${e.uploaded.length} uploaded, ${e.deleted.length} deleted`);
          if (e.kept.length) c.out.note(`--delete keeps board files this folder never had: ${e.kept.join(', ')}`);
        }
        else if (e.event === 'done') {
          c.out.text(out.end());
          if (e.interrupted) c.out.note('stopped');
          c.out.note('waiting for changes (Ctrl-C stops)');
        }
      };
      await watchLoop(board, {
        local,
        remote: resolveBoardPath('/', remote?.slice(1) ?? '/'),
        entry,
        delete: flags.delete,
        mounted: flags.mount,
        signal: c.signal,
        onEvent: show,
      });
      c.out.doc({ command: 'watch', ok: true });
    });
}
