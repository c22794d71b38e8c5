// `mount [-l] LOCAL` and `umount`: the host folder appears on the board at /remote for the rest of the chain
// (and the REPL that follows a trailing mount, as mpremote does). The protocol lives in protocol/mount.
import { statSync } from 'node:fs';
import type { Command } from 'commander';
import { BoardError } from '../../protocol/errors.js';
import { fileError } from '../../protocol/host-error.js';
import type { CliContext } from '../context.js';

export function registerMountCommands(program: Command, ctx: () => CliContext): void {
  program
    .command('mount')
    .description('mount a local folder on the board at /remote (cwd and sys.path first); a REPL follows unless other commands do')
    .argument('<local>', 'local folder')
    .option('-l, --unsafe-links', 'follow symlinks, also those pointing outside the folder')
    .action(async (local: string, opts: { unsafeLinks?: boolean }) => {
      const c = ctx();
      let isDir: boolean;
      try {
        isDir = statSync(local).isDirectory();
      } catch (err) {
        throw fileError(local, err);
      }
      if (!isDir) throw new BoardError('USAGE', `${local}: not a folder`);
      const [{ HostTree }, { MountLink }, { MountedBoard, MOUNT_POINT }] = await Promise.all([
        import('../../protocol/mount/host-tree.js'),
        import('../../protocol/mount/mount-link.js'),
        import('../../protocol/mount/mounted-board.js'),
      ]);
      const tree = new HostTree(local, opts.unsafeLinks === true);
      const board = await c.session.interpose((t, o) => new MountedBoard(new MountLink(t, tree), o));
      await board.ensureMounted();
      if (!c.out.json) c.out.note(`mounted ${tree.root} at ${MOUNT_POINT}`);
      c.out.doc({ command: 'mount', ok: true, local: tree.root, remote: MOUNT_POINT });
    });

  program
    .command('umount')
    .description('unmount the folder mount put at /remote')
    .action(async () => {
      const c = ctx();
      const { MountedBoard } = await import('../../protocol/mount/mounted-board.js');
      const board = await c.session.connect();
      if (!(board instanceof MountedBoard)) throw new BoardError('USAGE', 'nothing is mounted in this session');
      await board.umount();
      c.out.doc({ command: 'umount', ok: true });
    });
}
