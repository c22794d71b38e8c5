// Commands that run code on the board and manage the connection: exec, eval, run, soft-reset, reset,
// bootloader, resume, connect, disconnect. Registration is light; the protocol code loads on first use.
import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import type { ExecOptions } from '../../protocol/board.js';
import { BoardError } from '../../protocol/errors.js';
import { fileError } from '../../protocol/host-error.js';
import type { CliContext } from '../context.js';
import { lineEndsFor } from '../line-ends.js';
import { version } from '../quick-help.js';

/** Stream the program's output to the terminal as it arrives (tracebacks to stderr); `done` writes what is held. */
function streaming(ctx: CliContext, raw = false): ExecOptions & { done(): void } {
  const out = lineEndsFor(() => process.stdout, raw);
  const err = lineEndsFor(() => process.stderr, raw);
  return {
    signal: ctx.signal,
    onStdout: (text) => ctx.out.text(out.push(text)),
    onStderr: (text) => {
      ctx.tracebackShown = true;
      ctx.out.error(err.push(text));
    },
    done: () => {
      ctx.out.text(out.end());
      ctx.out.error(err.end());
    },
  };
}

async function runCode(ctx: CliContext, command: string, code: string, opts: RunOptions): Promise<void> {
  const board = await ctx.session.connect();
  if (!opts.follow) {
    // mpremote's --no-follow: start the program and leave it running.
    await board.start(code, { signal: ctx.signal });
    await ctx.session.abandon();
    ctx.out.doc({ command, ok: true, follow: false });
    return;
  }
  const stream = streaming(ctx, opts.raw);
  try {
    const result = await board.exec(code, stream);
    ctx.out.doc({ command, ok: true, ...result });
  } finally {
    stream.done();
  }
}

/** mpremote's -f/--follow (the default) and --no-follow, for a program that is `what` (the code, the file). */
function withFollow(cmd: Command, what: string): Command {
  return cmd
    .option('-f, --follow', `wait for the ${what}'s output until it ends`, true)
    .option('--no-follow', `start the ${what} and return without waiting for its output`);
}

interface RunOptions {
  follow: boolean;
  /** Board output exactly as it came (CR LF included) even when stdout is not a terminal. */
  raw?: boolean;
}

const RAW_HELP = "write the board's output as it came (CR LF); by default CR LF becomes LF when stdout is not a terminal";

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
    .command('version')
    .description("print boardctl's version (mpremote's verb, as --version)")
    .action(() => {
      ctx().out.text(`${version()}\n`);
      ctx().out.doc({ command: 'version', ok: true, version: version() });
    });
  const exec = program
    .command('exec')
    .description('run Python code on the board')
    .argument('<code>', 'Python source');
  withFollow(exec, 'code')
    .option('--raw', RAW_HELP)
    .action((code: string, opts: RunOptions) => runCode(ctx(), 'exec', code, opts));

  program
    .command('eval')
    .description('evaluate an expression on the board and print its repr()')
    .argument('<expr>', 'Python expression')
    .option('--raw', RAW_HELP)
    .action(async (expr: string, opts: { raw?: boolean }) => {
      const c = ctx();
      const board = await c.session.connect();
      // The value is printed once, after the fact; only a traceback streams.
      const stream = streaming(c, opts.raw);
      let value: string;
      try {
        value = await board.eval(expr, { ...stream, onStdout: undefined });
      } finally {
        stream.done();
      }
      c.out.text(`${value}\n`);
      c.out.doc({ command: 'eval', ok: true, value });
    });

  const run = program
    .command('run')
    .description('run a local Python file on the board (without copying it)')
    .argument('<file>', 'local .py file');
  withFollow(run, 'file')
    .option('--raw', RAW_HELP)
    .action(async (file: string, opts: RunOptions) => {
      let code: string;
      try {
        code = readFileSync(file, 'utf8'); // (node:fs/promises loads readline's modules too: not for this one file)
      } catch (err) {
        throw fileError(file, err);
      }
      await runCode(ctx(), 'run', code, opts);
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
    .option('--hard', "pulse RTS (EN) with DTR released instead of asking MicroPython (ESP dev boards; a Pico's USB serial has no reset line)")
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
