#!/usr/bin/env node
// The boardctl command line. Kept light on purpose: `boardctl --help` loads commander and the command
// registrations only; serial ports, the virtual board's VM and the TUI load inside command actions.
import { readFileSync } from 'node:fs';
import { Command } from 'commander';
import { commandOf, hoistJsonFlag, splitChain, withDefaultCommand } from './chain.js';
import { registerBoardCommands } from './commands/board.js';
import { registerDevsCommand } from './commands/devs.js';
import { registerReplCommand } from './commands/repl.js';
import type { CliContext } from './context.js';
import { Output, reportError } from './output.js';
import { Session } from './session.js';

interface GlobalOptions {
  port?: string;
  baud?: number;
  json?: boolean;
}

/** Commands registered here; a chain of only these never loads the other command modules. */
const BUILTIN = new Set(['exec', 'eval', 'run', 'soft-reset', 'reset', 'bootloader', 'resume', 'connect', 'disconnect', 'devs', 'repl']);

type Registrar = (program: Command, ctx: () => CliContext) => void;

/** Command modules owned by other parts of boardctl, one line each, loaded only when a chain needs them. */
const EXTENSIONS: Array<() => Promise<Registrar>> = [
  () => import('./commands/sim.js').then((m) => m.registerSimCommands),
  () => import('./commands/flash.js').then((m) => (program, ctx) => m.registerFlashCommands(program, { openTransport: (port, o) => ctx().session.openTransport(port, o.baud) })),
  () =>
    Promise.all([import('./commands/fs.js'), import('./commands/fs-image.js')]).then(
      ([fs, image]) =>
        (program, ctx) =>
          image.registerFsImageCommands(
            fs.registerFsCommands(program, { openBoard: () => ctx().session.connect(), signal: ctx().signal, json: () => ctx().out.json }),
          ),
    ),
];

function version(): string {
  const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };
  return pkg.version;
}

function buildProgram(ctx: () => CliContext, extensions: Registrar[], onGlobals: (cmd: Command) => void): Command {
  const program = new Command('boardctl')
    .description('MicroPython boards from the terminal: run code, files, REPL, flashing, and a virtual board.\nChain commands with "+": boardctl exec "x = 1" + eval x')
    .version(version())
    .option('-p, --port <port>', 'device path, a0..a9/u0..u9/c0..c9, socket://HOST:PORT, rfc2217://HOST:PORT, virtual[:NAME] (default: $BOARDCTL_PORT, else auto-detect)')
    .option('--baud <rate>', 'serial line speed', (v) => Number.parseInt(v, 10))
    .option('--json', 'machine-readable output: one JSON document per command (NDJSON events for streams)')
    .enablePositionalOptions()
    .exitOverride()
    .configureOutput({ outputError: () => {} }) // reported once, our way, by reportError
    .hook('preAction', (_program, action) => onGlobals(action));
  registerBoardCommands(program, ctx);
  registerDevsCommand(program, ctx);
  registerReplCommand(program, ctx);
  for (const register of extensions) register(program, ctx);
  return program;
}

async function main(argv: string[]): Promise<number> {
  if (argv.length === 0) {
    // No arguments: the TUI on a terminal, else a headless demo (ink/React load only for the TUI).
    if (process.stdin.isTTY && process.stdout.isTTY && !process.env.CI) return (await import('./tui/app.js')).runTui();
    return (await import('./tui/headless-demo.js')).runHeadlessDemo();
  }
  const abort = new AbortController();
  let interrupts = 0;
  process.on('SIGINT', () => {
    // First Ctrl-C interrupts the board's program; a second one gives up on waiting.
    if (++interrupts > 1) process.exit(130);
    abort.abort();
  });

  const state = { json: false, command: '' };
  const ctx: CliContext = {
    session: new Session({ port: process.env.BOARDCTL_PORT || undefined }, () => ctx.out),
    get out() {
      return new Output(state.json);
    },
    signal: abort.signal,
    tracebackShown: false,
  };
  let code = 0;
  try {
    const segments = splitChain(withDefaultCommand(argv));
    const needed = segments.some((segment) => !BUILTIN.has(commandOf(segment) ?? ''));
    const extensions = needed ? await Promise.all(EXTENSIONS.map((load) => load())) : [];
    for (const segment of segments) {
      state.command = commandOf(segment) ?? ''; // for errors commander reports before any action runs
      const program = buildProgram(
        () => ctx,
        extensions,
        (action) => {
          const globals = action.optsWithGlobals<GlobalOptions>();
          state.command = action.name();
          state.json ||= globals.json === true;
          if (globals.port) ctx.session.port = globals.port;
          if (globals.baud) ctx.session.baudRate = globals.baud;
        },
      );
      await program.parseAsync(hoistJsonFlag(segment), { from: 'user' });
    }
  } catch (err) {
    const e = err as { code?: string; exitCode?: number };
    if (e.code === 'commander.helpDisplayed' || e.code === 'commander.version' || e.code === 'commander.help') code = e.exitCode ?? 0;
    else code = reportError(ctx.out, state.command, err, ctx.tracebackShown);
  }
  try {
    await ctx.session.close();
  } catch (err) {
    if (code === 0) code = reportError(ctx.out, state.command, err, false);
  }
  return code;
}

process.exit(await main(process.argv.slice(2)));
