#!/usr/bin/env node
// The boardctl command: a plain `--help` or `--version` prints what the build stored (cli/quick-help.ts), a bare
// `boardctl` starts the TUI (cli/tui-start.ts); anything else loads the command line (commander and the
// registrations a chain names), a virtual board's VM thread started first (cli/early-start.ts).
import { quickHelp } from './quick-help.js';

const argv = process.argv.slice(2);
const help = quickHelp(argv);
if (help !== undefined) process.stdout.write(help);
else if (argv.length === 0) process.exit(await (await import('./tui-start.js')).runWithoutCommand());
else {
  await (await import('./early-start.js')).startEarly(argv);
  process.exit(await (await import('./command-line.js')).runCommandLine(argv));
}
