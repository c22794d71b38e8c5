// node:child_process's spawn, the module loaded on first use. commander requires it at load (for executable
// subcommands, which boardctl has none of) and serialport's port listing too (for udevadm), and net, dgram and
// stream come with it (~1-2 ms): a command that starts no child should not pay. The esbuild step puts this module
// in their place (cli/bundle.mjs); the stty of a serial port (transports/serial.ts) spawns through it.
import type * as ChildProcess from 'node:child_process';
import { lazyBuiltin } from './lazy-builtin.js';

const real = lazyBuiltin<typeof ChildProcess>('node:child_process');

export const spawn = ((...args: unknown[]) => (real().spawn as (...a: unknown[]) => ChildProcess.ChildProcess)(...args)) as typeof ChildProcess.spawn;
