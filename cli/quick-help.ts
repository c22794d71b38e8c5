// `boardctl --help` and `--version` without commander or any command module: the build renders the root help
// from the real registrations at the width commander uses when stdout is not a terminal (dist/cli/help.txt), and
// a plain `--help` whose output would be the same text prints it. A terminal of another width, a config that does
// not load, or no file: commander renders it (cli/command-line.ts).
import { readFileSync, writeFileSync } from 'node:fs';
import { isatty } from 'node:tty';
import { loadConfig, macroHelp } from './config.js';

/** Commander's help width when stdout is not a terminal. */
export const HELP_WIDTH = 80;

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
  if (isatty(1) && process.stdout.columns !== HELP_WIDTH) return undefined;
  try {
    const text = readFileSync(HELP_URL, 'utf8');
    const macros = macroHelp(loadConfig());
    // The stored text ends with the after-help text and the newline commander adds; the config's macros go in between.
    return macros ? `${text.slice(0, -1)}${macros}\n` : text;
  } catch {
    return undefined;
  }
}

/** Stores the root help without macros, as rendered at HELP_WIDTH (the build runs it). */
export function writeQuickHelp(text: string): void {
  writeFileSync(HELP_URL, text);
}
