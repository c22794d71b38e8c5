#!/usr/bin/env node
// The boardctl command (the bin, cli/boardctl.ts, has answered a plain `--help` or `--version` already): a bare
// `boardctl` starts the TUI (cli/tui-start.ts); anything else loads the command line (commander and the
// registrations a chain names), a virtual board's VM thread started first (cli/early-start.ts; the bin has started it
// already) and the board's modules loading beside the command line's.
import { mayBeVirtual } from './may-be-virtual.js';

const argv = process.argv.slice(2);
// No top-level await: this module is also the entry of the CommonJS bundle (cli/boardctl.ts).
if (argv.length === 0) void import('./tui-start.js').then((m) => m.runWithoutCommand()).then((code) => process.exit(code));
else {
  const early = mayBeVirtual(argv)
    ? import('./early-start.js').then(async (m) => {
        if (!m.virtualFirst(argv)) return;
        (await import('../emulator/worker-thread.js')).startWorkerEarly();
        import('../emulator/board.js').catch(() => undefined); // a failure shows where the board opens
      })
    : Promise.resolve();
  void early
    .then(() => import('./command-line.js'))
    .then((m) => m.runCommandLine(argv))
    .then((code) => process.exit(code));
}
