// The commands owned by other parts of boardctl (files, flashing, virtual boards, ...), loaded only when a chain
// names one of them. Their modules pull in the code behind the commands (crypto, zlib, the flash and fs
// clients), so `boardctl --help` lists them from a table written at build time from the real registrations
// (dist/cli/command-table.json, `npm run build`) instead of loading them. Without the table (a tsc-only
// build) every module loads, as for a command name the table does not know.
import { readFileSync, writeFileSync } from 'node:fs';
import { Command, type Help } from 'commander';
import type { CliContext } from './context.js';

export type Registrar = (program: Command, ctx: () => CliContext) => void;

/** One registration each, in the order of the help listing. */
export const EXTENSIONS: Array<() => Promise<Registrar>> = [
  () => import('./commands/sim.js').then((m) => m.registerSimCommands),
  () => import('./commands/share.js').then((m) => m.registerShareCommand),
  () => import('./commands/mip.js').then((m) => m.registerMipCommand),
  () => import('./commands/mount.js').then((m) => m.registerMountCommands),
  () => import('./commands/watch.js').then((m) => m.registerWatchCommand),
  () => import('./commands/devloop.js').then((m) => m.registerDevloopCommands),
  () => import('./commands/test.js').then((m) => m.registerTestCommand),
  () => import('./commands/flash.js').then((m) => (program, ctx) => m.registerFlashCommands(program, { openTransport: (o) => ctx().session.openTransport(undefined, o.baud) })),
  () =>
    Promise.all([import('./commands/fs.js'), import('./commands/fs-image.js')]).then(
      ([fs, image]) =>
        (program, ctx) =>
          image.registerFsImageCommands(
            fs.registerFsCommands(program, {
              openBoard: () => ctx().session.connect(),
              get signal() {
                return ctx().signal;
              },
              json: () => ctx().out.json,
            }),
          ),
    ),
];

/** A top-level command as the root help lists it, and which registration makes it. */
export interface TableEntry {
  /** Its name, then its aliases. */
  names: string[];
  /** The help listing's two columns. */
  term: string;
  description: string;
  hidden: boolean;
  /** Index into EXTENSIONS. */
  extension: number;
}

const TABLE_URL = new URL('../cli/command-table.json', import.meta.url); // from dist/cli and dist/chunks alike

/** The table of the last build, or undefined when there is none or it was made for other registrations. */
export function readCommandTable(): TableEntry[] | undefined {
  try {
    const table = JSON.parse(readFileSync(TABLE_URL, 'utf8')) as { extensions: number; commands: TableEntry[] };
    return table.extensions === EXTENSIONS.length ? table.commands : undefined;
  } catch {
    return undefined;
  }
}

/** The registration that makes command NAME, if the table knows it. */
export function extensionOf(table: TableEntry[], name: string): number | undefined {
  return table.find((e) => e.names.includes(name))?.extension;
}

const stubTerms = new WeakMap<Command, string>();

/** Registers extension INDEX's commands as help entries only (they have no options, arguments or action). */
export function registerStubs(program: Command, table: TableEntry[], index: number): void {
  for (const e of table) {
    if (e.extension !== index) continue;
    const [name, ...aliases] = e.names;
    const stub = program.command(name!, { hidden: e.hidden }).description(e.description);
    if (aliases.length) stub.aliases(aliases);
    stubTerms.set(stub, e.term);
  }
}

/** Help's subcommandTerm for stubs: the term the real command has (commander builds it from arguments and options). */
export function stubTerm(cmd: Command): string | undefined {
  return stubTerms.get(cmd);
}

/** The CLI context of registrations run at build time, when no action may run. */
export function notAtBuild(): CliContext {
  throw new Error('a command registration used the CLI context before any action ran');
}

/** Writes the table from the real registrations (the build runs it). */
export async function writeCommandTable(): Promise<void> {
  const program = new Command('boardctl');
  const help: Help = program.createHelp();
  const commands: TableEntry[] = [];
  for (const [extension, load] of EXTENSIONS.entries()) {
    const before = program.commands.length;
    (await load())(program, notAtBuild);
    for (const cmd of program.commands.slice(before)) {
      commands.push({
        names: [cmd.name(), ...cmd.aliases()],
        term: help.subcommandTerm(cmd),
        description: help.subcommandDescription(cmd),
        hidden: !help.visibleCommands(program).includes(cmd),
        extension,
      });
    }
  }
  writeFileSync(TABLE_URL, JSON.stringify({ extensions: EXTENSIONS.length, commands }, null, 1) + '\n');
}
