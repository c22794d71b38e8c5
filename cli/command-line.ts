// The boardctl command line (cli/main.ts loads it unless a prebuilt help text answers). Kept light on purpose:
// a command loads commander and the registrations it names; serial ports, the virtual board's VM and the TUI
// load inside command actions.
import { Command, Help } from 'commander';
import { commandOf, defaultPortApplies, hoistJsonFlag, splitChain, withDefaultCommand, withTrailingRepl } from './chain.js';
import { esptoolSpellings } from './esptool-spellings.js';
import { fleetArgs, fleetPorts, type FoundPort } from './fleet.js';
import { registerBoardCommands } from './commands/board.js';
import { registerDevsCommand } from './commands/devs.js';
import { registerReplCommand } from './commands/repl.js';
import { registerTuiCommand } from './commands/tui.js';
import { BoardError } from '../protocol/errors.js';
import { expandMacros, groupPorts, loadConfig, macroHelp, type Config } from './config.js';
import type { CliContext } from './context.js';
import { Output, reportError } from './output.js';
import { Session } from './session.js';
import { phase } from '../protocol/timing.js';
import { EXTENSIONS, extensionOf, readCommandTable, registerStubs, notAtBuild, stubTerm, writeCommandTable, type Registrar, type TableEntry } from './command-table.js';
import { HELP_WIDTH, SIGPIPE_STATUS, version, writeQuickHelp } from './quick-help.js';

interface GlobalOptions {
  port?: string;
  baud?: number;
  password?: string;
  dtr?: boolean;
  rts?: boolean;
  /** false when --no-reset-lines was given (commander's negated flag). */
  resetLines?: boolean;
  json?: boolean;
}

/** Commands registered here; a chain of only these never loads the other command modules. */
const BUILTIN = new Set(['exec', 'eval', 'run', 'soft-reset', 'reset', 'bootloader', 'resume', 'connect', 'disconnect', 'devs', 'repl', 'tui']);

const HELP_AFTER = `
Without a command:
  boardctl              the TUI on a terminal (a short demo on the virtual board otherwise)
  boardctl -p PORT      the plain REPL on PORT, as mpremote does (Ctrl-] or Ctrl-X quits)
  boardctl [-p PORT] tui   the TUI on any port

Errors are one line, "boardctl: COMMAND: message", with the exit status README's table documents.`;

function baudRate(text: string): number {
  const n = Number(text);
  if (!/^\d+$/.test(text.trim()) || !Number.isSafeInteger(n) || n < 50) throw new BoardError('USAGE', `--baud: '${text}' is not a baud rate (a whole number such as 115200)`);
  return n;
}

/** A control line's level as mpremote's --dtr/--rts take it (PR #17532): on/off or 1/0. */
function lineLevel(option: string): (text: string) => boolean {
  return (text) => {
    const level = { on: true, '1': true, off: false, '0': false }[text.trim().toLowerCase()];
    if (level === undefined) throw new BoardError('USAGE', `${option}: '${text}' is not a line level (on, off, 1 or 0)`);
    return level;
  };
}

/**
 * Descriptions wrap to the terminal's width; where a long term leaves too little room beside it (flash's
 * `write-flash [options] <address-file...>`), the description goes on the lines below instead of running past the edge.
 */
const helpLayout: Partial<Help> = {
  minWidthToWrap: 20,
  subcommandTerm(this: Help, cmd: Command): string {
    return stubTerm(cmd) ?? Help.prototype.subcommandTerm.call(this, cmd);
  },
  formatItem(this: Help, term: string, termWidth: number, description: string, helper: Help): string {
    const width = this.helpWidth ?? 80;
    if (!description || width - termWidth - 4 >= this.minWidthToWrap) return Help.prototype.formatItem.call(this, term, termWidth, description, helper);
    const indent = '      ';
    return `  ${term}\n${helper.boxWrap(description, width - indent.length).replace(/^/gm, indent)}`;
  },
};

/** The full name of the command a chain segment runs (`fs image extract`), for error lines before its action starts. */
function commandPath(program: Command, segment: string[]): string {
  const names: string[] = [];
  let cmd = program;
  for (let i = 0; i < segment.length; i++) {
    const word = segment[i]!;
    if (word.startsWith('-')) {
      const option = cmd.options.find((o) => o.short === word || o.long === word);
      if (option?.required || option?.optional) i++;
      continue;
    }
    const sub = cmd.commands.find((c) => c.name() === word || c.aliases().includes(word));
    if (!sub) break;
    names.push(sub.name());
    cmd = sub;
  }
  return names.join(' ');
}

/** `flash read-flash` for the action's command (its parents up to the program). */
function actionPath(action: Command): string {
  const names: string[] = [];
  for (let c: Command | null = action; c?.parent; c = c.parent) names.unshift(c.name());
  return names.join(' ');
}

/** The other parts' commands a chain needs: registrations loaded, and the table for the help listing of the rest. */
interface Extensions {
  loaded: Map<number, Registrar>;
  table?: TableEntry[];
}

/**
 * Loads the registrations the chain's commands need: none for built-in commands, the owner of each command the
 * table knows, the table alone for a segment with no command (`--help`, `--version`), all of them otherwise.
 */
async function loadExtensions(segments: string[][]): Promise<Extensions> {
  const names = segments.map(commandOf).filter((name) => !BUILTIN.has(name ?? ''));
  if (names.length === 0) return { loaded: new Map() };
  const table = readCommandTable();
  const indices = new Set<number>();
  for (const name of names) {
    const owner = table && (name === undefined ? -1 : extensionOf(table, name));
    if (owner === undefined) {
      for (const i of EXTENSIONS.keys()) indices.add(i);
      break;
    }
    if (owner >= 0) indices.add(owner);
  }
  const loaded = new Map(await Promise.all([...indices].map(async (i) => [i, await EXTENSIONS[i]!()] as const)));
  if (loaded.size) phase('command modules loaded');
  return { loaded, table };
}

function buildProgram(ctx: () => CliContext, extensions: Extensions, onGlobals: (cmd: Command) => void, macros: string): Command {
  const program = new Command('boardctl')
    .description('MicroPython boards from the terminal: run code, files, REPL, flashing, and a virtual board.\nChain commands with "+": boardctl exec "x = 1" + eval x')
    .version(version())
    .option('-p, --port <port>', 'device path, a0..a9/u0..u9/c0..c9, socket://HOST:PORT, rfc2217://HOST:PORT, virtual[:NAME] (default: $BOARDCTL_PORT, else auto-detect)')
    .option('--baud <rate>', 'serial line speed', baudRate)
    .option('--password <password>', 'WebREPL password of a ws:// port (else its ?password=, $BOARDCTL_WEBREPL_PASSWORD or a prompt)')
    .option('--dtr <level>', 'set DTR on or off right after opening the port (by default opening and closing leave both lines alone)', lineLevel('--dtr'))
    .option('--rts <level>', 'set RTS on or off right after opening the port (on with DTR off holds an ESP dev board in reset)', lineLevel('--rts'))
    .option('--no-reset-lines', "never move DTR/RTS: flash defaults to --before/--after no-reset, and reset --hard is refused")
    .option('--json', 'machine-readable output: one JSON document per command (NDJSON events for streams)')
    .option('--jobs <n>', 'with several boards (-p a0,u1,virtual:x, a glob such as \'u*\', or --all): how many run at once (default 8)')
    .option('--all', 'run on every USB board found')
    .enablePositionalOptions()
    .exitOverride()
    .configureOutput({ outputError: () => {} }) // reported once, our way, by reportError
    .configureHelp(helpLayout)
    .addHelpText('after', HELP_AFTER + macros)
    .hook('preAction', (_program, action) => onGlobals(action));
  registerBoardCommands(program, ctx);
  registerDevsCommand(program, ctx);
  registerReplCommand(program, ctx);
  registerTuiCommand(program, ctx);
  for (const index of EXTENSIONS.keys()) {
    const register = extensions.loaded.get(index);
    if (register) register(program, ctx);
    else if (extensions.table) registerStubs(program, extensions.table, index);
  }
  return program;
}

/** Writes what help listings read instead of loading every registration: the command table and the root help. */
export async function writeHelpFiles(): Promise<void> {
  await writeCommandTable();
  const loaded = new Map(await Promise.all(EXTENSIONS.map(async (load, i) => [i, await load()] as const)));
  const program = buildProgram(notAtBuild, { loaded }, () => {}, '');
  let text = '';
  program.configureOutput({ writeOut: (s) => (text += s), getOutHelpWidth: () => HELP_WIDTH });
  program.outputHelp();
  writeQuickHelp(text);
}

/** Ports a fleet pattern may match: the serial ports found, and with `virtual:…` the stored virtual boards. */
async function foundPorts(pattern: string | undefined): Promise<FoundPort[]> {
  const { listPorts } = await import('../protocol/ports.js');
  const found: FoundPort[] = await listPorts();
  if (!pattern?.includes('virtual:')) return found;
  const { scanBoards } = await import('../emulator/board-store.js');
  return [...found, ...scanBoards().boards.map((b) => ({ path: `virtual:${b.name}` }))];
}

/** Runs one command line (a chain or a fleet; cli/main.ts runs a bare `boardctl`); resolves to the exit status. */
export async function runCommandLine(argv: string[]): Promise<number> {
  phase('node started, CLI modules loaded');
  const abort = new AbortController();
  let interrupts = 0;
  process.on('SIGINT', () => {
    // First Ctrl-C interrupts the board's program; a second one gives up on waiting.
    if (++interrupts > 1) process.exit(130);
    abort.abort();
  });
  // A reader that went away (`boardctl exec … | head`): the board's program is stopped as by Ctrl-C, nothing more
  // is said, and the status is a SIGPIPE death's (128 + 13), as other tools in a pipeline end, so pipefail sees it.
  let readerGone = false;
  process.stdout.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code !== 'EPIPE') throw err;
    readerGone = true;
    abort.abort();
  });

  // --json stands anywhere (see hoistJsonFlag), so a command line commander rejects still gets its JSON document.
  const state = { json: argv.includes('--json'), command: '' };
  let config: Config;
  try {
    config = loadConfig();
  } catch (err) {
    return reportError(new Output(state.json), '', err, false);
  }
  const ctx: CliContext = {
    session: new Session({ port: process.env.BOARDCTL_PORT || config.port, baudRate: config.baud, boards: config.boards, signal: abort.signal }, () => ctx.out),
    get out() {
      return new Output(state.json);
    },
    signal: abort.signal,
    tracebackShown: false,
  };
  let code = 0;
  try {
    // Macros first: one may name several boards (cli/config.ts).
    const expanded = expandMacros(argv, config.commands);
    // Several boards: the command line runs on each, in processes of their own (cli/fleet-run.ts).
    const fleet = fleetArgs(expanded);
    // A group from the config runs as a fleet, also when it has one board; so does a default port
    // ($BOARDCTL_PORT, else the config's "port") naming one, unless the chain connects elsewhere or asks for help.
    const port = fleet.port ?? (defaultPortApplies(expanded) ? process.env.BOARDCTL_PORT || config.port : undefined);
    const members = groupPorts(config, port);
    const spec = { port: members?.join(',') ?? port, all: fleet.all };
    const boards = fleetPorts(spec, spec.all || /[*?]/.test(spec.port ?? '') ? await foundPorts(spec.port) : []) ?? members;
    if (boards) {
      const { runFleetCli } = await import('./fleet-run.js');
      return await runFleetCli({ boards, jobs: fleet.jobs, rest: fleet.rest, json: state.json, out: ctx.out, signal: abort.signal });
    }
    const segments = withTrailingRepl(splitChain(withDefaultCommand(expanded)));
    const extensions = await loadExtensions(segments);
    for (const written of segments) {
      const { args: segment, warnings } = esptoolSpellings(written);
      for (const w of warnings) ctx.out.note(`warning: Deprecated: ${w}`);
      const program = buildProgram(
        () => ctx,
        extensions,
        (action) => {
          const globals = action.optsWithGlobals<GlobalOptions>();
          state.command = actionPath(action);
          state.json ||= globals.json === true;
          if (globals.port) ctx.session.port = ctx.session.named(globals.port);
          if (globals.baud) ctx.session.baudRate = globals.baud;
          if (globals.password !== undefined) ctx.session.password = globals.password;
          if (globals.dtr !== undefined) ctx.session.lines.dtr = globals.dtr;
          if (globals.rts !== undefined) ctx.session.lines.rts = globals.rts;
          if (globals.resetLines === false) ctx.session.noResetLines = true;
        },
        macroHelp(config),
      );
      state.command = commandPath(program, segment); // for errors commander reports before any action runs
      await program.parseAsync(hoistJsonFlag(segment), { from: 'user' });
    }
  } catch (err) {
    const e = err as { code?: string; exitCode?: number };
    if (e.code === 'commander.helpDisplayed' || e.code === 'commander.version' || e.code === 'commander.help') code = e.exitCode ?? 0;
    else if (!readerGone) code = reportError(ctx.out, state.command, err, ctx.tracebackShown);
  }
  try {
    await ctx.session.end();
  } catch (err) {
    if (code === 0 && !readerGone) code = reportError(ctx.out, state.command, err, false);
  }
  return readerGone ? SIGPIPE_STATUS : code;
}

