#!/usr/bin/env node
// The boardctl binary, dist/cli/boardctl.cjs (CommonJS: a command reaches its code without Node's ES module
// loader). A plain `--help` or `--version` prints the text the build stored (cli/quick-help.ts). A command runs the
// CLI bundle dist/cli/main.cjs with its code cache (protocol/code-cache.ts); a bare `boardctl` is the TUI, which
// stays an ES module (ink has top-level await): dist/cli/main.js. A command whose first board is virtual starts that
// board's VM thread before the bundle compiles (cli/early-start.ts).
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { asksForHelp, commandOf } from './chain.js';
import { printNow, quickHelp } from './quick-help.js';
import { mayBeVirtual } from './may-be-virtual.js';
import { cacheFile, runBundle } from '../protocol/code-cache.js';

/** Commands whose next word is a program, not a subcommand. */
const TAKES_CODE = new Set(['exec', 'eval']);

/**
 * What a run compiles depends on its command: its name and, for a command with subcommands, the next word
 * ("fs ls"), never an option's value or a program's text (`-p virtual exec pass` is "exec").
 */
function kindOf(argv: string[]): string {
  const command = commandOf(argv) ?? '';
  const next = argv[argv.indexOf(command) + 1];
  return next && !TAKES_CODE.has(command) && /^[a-z][a-z0-9-]*$/.test(next) ? `${command} ${next}` : command;
}

const argv = process.argv.slice(2);
const help = quickHelp(argv);
if (help !== undefined) printNow(help);
else if (argv.length === 0) void import(pathToFileURL(join(import.meta.dirname, 'main.js')).href);
else {
  // The early start's modules are CommonJS files of their own (cli/bundle.mjs), loaded only where they may be used
  // (cli/may-be-virtual.ts).
  const load = createRequire(join(import.meta.dirname, 'boardctl.cjs'));
  const virtual = !asksForHelp(argv) && mayBeVirtual(argv) && (load('./early-start.cjs') as typeof import('./early-start.js')).virtualFirst(argv);
  if (virtual) (load('./worker-thread.cjs') as typeof import('../emulator/worker-thread.js')).startWorkerEarly();
  // A command that runs a virtual board in this process (or `sim`, which serves and edits them) runs the emulator's
  // main-thread half too, ~150-190 KB of bytecode that V8 deserializes up front with the rest of a cache: those
  // commands keep a cache of their own, and one on a serial port or socket does not load theirs.
  const cache = cacheFile(virtual || commandOf(argv) === 'sim' ? 'cli-virtual' : 'cli');
  const { save } = runBundle(join(import.meta.dirname, 'main.cjs'), cache, kindOf(argv));
  process.once('exit', save);
}
