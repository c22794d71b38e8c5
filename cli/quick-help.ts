// `boardctl --help` and `--version` without commander, the CLI bundle or node's stream classes: the build renders the
// root help from the real registrations at the width commander uses when stdout is not a terminal (dist/cli/help.txt),
// and a plain `--help` whose output would be the same text prints it. A terminal of another width, a config that
// does not load, or no file: commander renders it (cli/command-line.ts). The bin (cli/boardctl.ts) answers these
// before it reads the bundle.
import { fstatSync, readFileSync, writeFileSync, writeSync } from 'node:fs';
import { loadConfig, macroHelp } from './config.js';

/** Commander's help width when stdout is not a terminal. */
export const HELP_WIDTH = 80;
/** The status of a process a SIGPIPE ended: what a pipeline reports for a writer whose reader left. */
export const SIGPIPE_STATUS = 128 + 13;

const HELP_URL = new URL('../cli/help.txt', import.meta.url); // from dist/cli and dist/chunks alike

/** boardctl's version, from the package.json above dist/. */
export function version(): string {
  const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };
  return pkg.version;
}

/** What a plain `--help` or `--version` prints when the stored text answers it, else undefined. */
export function quickHelp(argv: string[]): string | undefined {
  if (argv.length !== 1) return undefined;
  if (argv[0] === '--version' || argv[0] === '-V') return `${version()}\n`;
  if (argv[0] !== '--help' && argv[0] !== '-h') return undefined;
  try {
    // process.stdout (and node:tty, net and stream with it) only where stdout may be a terminal.
    if (fstatSync(1).isCharacterDevice() && process.stdout.isTTY && process.stdout.columns !== HELP_WIDTH) return undefined;
    const text = readFileSync(HELP_URL, 'utf8');
    const macros = macroHelp(loadConfig());
    // The stored text ends with the after-help text and the newline commander adds; the config's macros go in between.
    return macros ? `${text.slice(0, -1)}${macros}\n` : text;
  } catch {
    return undefined;
  }
}

/**
 * Write `text` to stdout as one synchronous write, without a stream. A reader that has gone (`| head`) ends it
 * quietly, with a SIGPIPE death's status as the command line's; a full non-blocking pipe gets the rest through
 * process.stdout, which waits for it.
 */
export function printNow(text: string): void {
  const bytes = Buffer.from(text);
  let off = 0;
  try {
    while (off < bytes.length) off += writeSync(1, bytes, off);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'EAGAIN') process.stdout.write(bytes.subarray(off));
    else if (code === 'EPIPE') process.exitCode = SIGPIPE_STATUS;
    else throw err;
  }
}

/** Stores the root help without macros, as rendered at HELP_WIDTH (the build runs it). */
export function writeQuickHelp(text: string): void {
  writeFileSync(HELP_URL, text);
}
