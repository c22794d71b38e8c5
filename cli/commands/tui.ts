// `boardctl tui`: the full-screen TUI on any port (bare `boardctl` opens it on the default one).
import type { Command } from 'commander';
import { BoardError } from '../../protocol/errors.js';
import type { CliContext } from '../context.js';

export function registerTuiCommand(program: Command, ctx: () => CliContext): void {
  program
    .command('tui')
    .description('the full-screen TUI (boards, REPL, files, flashing, virtual hardware) on -p PORT or the default board')
    .action(async () => {
      if (!process.stdin.isTTY || !process.stdout.isTTY) throw new BoardError('USAGE', 'the TUI needs a terminal (stdin and stdout are not both one)');
      const { startTui } = await import('../tui-start.js');
      await startTui(ctx().session.port);
    });
}
