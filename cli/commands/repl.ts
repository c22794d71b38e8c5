// `repl`: a raw terminal on the board's friendly REPL.
import type { Command } from 'commander';
import type { Transport } from '../../protocol/transport.js';
import type { CliContext } from '../context.js';
import type { TerminalOptions } from '../terminal.js';

/** Over a mount (`mount DIR + repl`), what the terminal needs to mount again after the board's soft resets. */
async function remountFor(transport: Transport): Promise<TerminalOptions['remount']> {
  const [{ MountLink }, { MountedBoard }] = await Promise.all([import('../../protocol/mount/mount-link.js'), import('../../protocol/mount/mounted-board.js')]);
  if (!(transport instanceof MountLink) || !transport.mounted) return undefined;
  return {
    arm: (onReboot) => (transport.onReboot = onReboot),
    run: async () => {
      // A client of its own for the moment: no soft reset (that is what just happened), raw REPL in and out.
      const board = new MountedBoard(transport, { resume: true });
      await board.ensureMounted();
      await board.release();
    },
  };
}

export function registerReplCommand(program: Command, ctx: () => CliContext): void {
  program
    .command('repl')
    .description('terminal on the board (Ctrl-] or Ctrl-X to quit, Ctrl-J to inject --inject-code, Ctrl-K --inject-file)')
    .option('--capture <file>', 'append the session output to FILE')
    .option('--inject-code <code>', 'code to paste when Ctrl-J is pressed')
    .option('--inject-file <file>', 'local file to paste (read afresh each time) when Ctrl-K is pressed')
    .action(async (opts: { capture?: string; injectCode?: string; injectFile?: string }) => {
      const c = ctx();
      const [{ runTerminal, terminalNewlines }, { Utf8Stream }] = await Promise.all([import('../terminal.js'), import('../../protocol/utf8-stream.js')]);
      const text = new Utf8Stream();
      const transport = await c.session.openTransport();
      const remount = await remountFor(transport);
      const toScreen = process.stdout.isTTY ? terminalNewlines((b) => process.stdout.write(b)) : (b: Uint8Array) => process.stdout.write(b);
      const stdin = process.stdin;
      const raw = stdin.isTTY === true;
      if (raw) stdin.setRawMode(true);
      if (!c.out.json) c.out.note(`connected to ${transport.path}; Ctrl-] or Ctrl-X to quit`);
      try {
        await runTerminal({
          transport,
          reopen: () => c.session.openTransport(transport.path),
          input: stdin,
          output: (bytes) => {
            if (c.out.json) c.out.doc({ event: 'output', data: text.push(bytes) });
            else toScreen(bytes);
          },
          status: (event, message) => {
            if (c.out.json) c.out.doc({ event, message });
            else c.out.note(message);
          },
          capturePath: opts.capture,
          injectCode: opts.injectCode,
          injectFile: opts.injectFile,
          remount,
        });
      } finally {
        if (raw) stdin.setRawMode(false);
      }
      c.out.doc({ event: 'exit' });
    });
}
