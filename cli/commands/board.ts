// Commands that run code on the board and manage the connection: exec, eval, run, soft-reset, reset,
// bootloader, resume, connect, disconnect. Registration is light; the protocol code loads on first use.
import { readFile } from 'node:fs/promises';
import type { Command } from 'commander';
import type { ExecOptions } from '../../protocol/board.js';
import { BoardError } from '../../protocol/errors.js';
import { fileError } from '../../protocol/host-error.js';
import type { CliContext } from '../context.js';

/** Stream the program's output to the terminal as it arrives (tracebacks to stderr). */
function streaming(ctx: CliContext): ExecOptions {
  return {
    signal: ctx.signal,
    onStdout: (text) => ctx.out.text(text),
    onStderr: (text) => {
      ctx.tracebackShown = true;
      ctx.out.error(text);
    },
  };
}

async function runCode(ctx: CliContext, command: string, code: string, follow: boolean): Promise<void> {
  const board = await ctx.session.connect();
  if (!follow) {
    // mpremote's --no-follow: start the program and leave it running.
    await board.start(code, { signal: ctx.signal });
    await ctx.session.abandon();
    ctx.out.doc({ command, ok: true, follow: false });
    return;
  }
  const result = await board.exec(code, streaming(ctx));
  ctx.out.doc({ command, ok: true, ...result });
}

/** Start a one-liner the board does not return from (it resets), then let go of the link. */
async function startAndLetGo(ctx: CliContext, command: string, code: string): Promise<void> {
  const board = await ctx.session.connect();
  await board.start(code);
  await ctx.session.abandon();
  ctx.out.doc({ command, ok: true });
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export function registerBoardCommands(program: Command, ctx: () => CliContext): void {
  program
    .command('exec')
    .description('run Python code on the board')
    .argument('<code>', 'Python source')
    .option('--no-follow', 'start the code and return without waiting for its output')
    .action((code: string, opts: { follow: boolean }) => runCode(ctx(), 'exec', code, opts.follow));

  program
    .command('eval')
    .description('evaluate an expression on the board and print its repr()')
    .argument('<expr>', 'Python expression')
    .action(async (expr: string) => {
      const c = ctx();
      const board = await c.session.connect();
      // The value is printed once, after the fact; only a traceback streams.
      const value = await board.eval(expr, { ...streaming(c), onStdout: undefined });
      c.out.text(`${value}\n`);
      c.out.doc({ command: 'eval', ok: true, value });
    });

  program
    .command('run')
    .description('run a local Python file on the board (without copying it)')
    .argument('<file>', 'local .py file')
    .option('--no-follow', 'start the file and return without waiting for its output')
    .action(async (file: string, opts: { follow: boolean }) => {
      let code: string;
      try {
        code = await readFile(file, 'utf8');
      } catch (err) {
        throw fileError(file, err);
      }
      await runCode(ctx(), 'run', code, opts.follow);
    });

  program
    .command('soft-reset')
    .description('soft reset (Ctrl-D): clear the heap, keep files')
    .action(async () => {
      const c = ctx();
      await (await c.session.connect()).softReset();
      c.session.markSoftReset();
      c.out.doc({ command: 'soft-reset', ok: true });
    });

  program
    .command('reset')
    .description('hard reset: machine.reset(), or with --hard a DTR/RTS pulse on EN')
    .option('--hard', 'pulse RTS (EN) with DTR released instead of asking MicroPython')
    .action(async (opts: { hard?: boolean }) => {
      const c = ctx();
      if (!opts.hard) return startAndLetGo(c, 'reset', 'import machine\nmachine.reset()\n');
      const board = await c.session.connect();
      const link = board.transport;
      if (!link.hasControlLines) throw new BoardError('USAGE', `${link.path} has no DTR/RTS control lines; use reset without --hard`);
      // RTS asserted holds EN low; DTR released keeps GPIO0 high, so the chip boots normally.
      await link.setSignals({ dtr: false, rts: true });
      await sleep(100);
      await link.setSignals({ rts: false });
      await c.session.abandon();
      c.out.doc({ command: 'reset', ok: true, hard: true });
    });

  program
    .command('bootloader')
    .description('enter the bootloader: machine.bootloader()')
    .action(() => startAndLetGo(ctx(), 'bootloader', 'import machine\nmachine.bootloader()\n'));

  program
    .command('resume')
    .description('do not soft-reset before the next command (keep the running state)')
    .action(() => {
      const c = ctx();
      c.session.resume();
      c.out.doc({ command: 'resume', ok: true });
    });

  program
    .command('connect')
    .description('connect to PORT (device path, a0..a9/u0..u9/c0..c9, socket://, rfc2217://, virtual[:NAME], auto)')
    .argument('<port>', 'port to use for the following commands')
    .action(async (port: string) => {
      const c = ctx();
      await c.session.use(port === 'auto' ? undefined : port);
      // Connect now, as mpremote does, so a wrong port fails here and not at the next command.
      const board = await c.session.connect();
      c.out.doc({ command: 'connect', ok: true, port: board.transport.path, kind: board.transport.kind });
    });

  program
    .command('disconnect')
    .description('leave the board in the friendly REPL and close the link')
    .action(async () => {
      const c = ctx();
      await c.session.close();
      c.out.doc({ command: 'disconnect', ok: true });
    });
}
