// node:child_process's spawn, the module loaded on first use. commander requires it at load (for executable
// subcommands, which boardctl has none of) and serialport's port listing too (for udevadm), and net, dgram and
// stream come with it (~1-2 ms): a command that starts no child should not pay. The esbuild step puts this module
// in their place (cli/bundle.mjs); the stty of a serial port (transports/serial.ts) spawns through it.
import { createRequire } from 'node:module';
import type * as ChildProcess from 'node:child_process';

let real: typeof ChildProcess | undefined;

export const spawn = ((...args: unknown[]) => {
  real ??= createRequire(import.meta.url)('node:child_process') as typeof ChildProcess;
  return (real.spawn as (...a: unknown[]) => ChildProcess.ChildProcess)(...args);
}) as typeof ChildProcess.spawn;
