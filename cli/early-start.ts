// Before the CLI loads: when the command line's first board is a virtual one, its VM thread starts now, so the
// thread's own start (a Node environment, the VM package) runs on the other core while this one loads the CLI. The
// bin (cli/boardctl.ts) asks before it compiles the CLI bundle; this module and emulator/worker-thread.ts are
// CommonJS files of their own in the build (cli/bundle.mjs), so the bin and the bundle share the one rule, its one
// answer and the one early thread. The board itself powers up only when a command connects (cli/session.ts): a
// wrong guess costs the idle thread, which holds no board and lets the process exit. A command that leaves the
// port to auto-detection gets the virtual board where no USB serial port is there to try (Linux says so cheaply).
import { asksForHelp, commandOf, splitChain, withDefaultCommand } from './chain.js';
import { expandMacros, groupPorts, loadConfig, resolvePort, type Config } from './config.js';
import { fleetArgs, fleetPorts } from './fleet.js';
import { isVirtualPort } from '../protocol/port-spec.js';
import { usbTtyPresent } from '../protocol/usb-ttys.js';

/**
 * The port the first command of `argv` connects to, as cli/command-line.ts will decide it: its `connect PORT`, else
 * -p/--port, else $BOARDCTL_PORT or the config's port, with the config's board names. Undefined where the command
 * line asks for help, runs on several boards, or leaves the port to auto-detection (deciding that means probing).
 */
export function firstPort(argv: string[], config: Config, env: NodeJS.ProcessEnv = process.env): string | undefined {
  const first = firstBoard(argv, config, env);
  return first?.port === 'auto' ? undefined : first?.port;
}

/** The first command's name and port as firstPort finds it ('auto' where none is given), or undefined (help, a fleet). */
function firstBoard(argv: string[], config: Config, env: NodeJS.ProcessEnv): { command: string | undefined; port: string } | undefined {
  if (asksForHelp(argv)) return undefined;
  const fleet = fleetArgs(expandMacros(argv, config.commands));
  if (fleet.all) return undefined;
  const first = splitChain(withDefaultCommand(fleet.rest))[0] ?? [];
  const command = commandOf(first);
  const connect = command === 'connect' ? first[first.indexOf('connect') + 1] : undefined;
  // (The session starts on $BOARDCTL_PORT or the config's port also when a later command of the chain connects.)
  const port = connect ?? fleet.port ?? (env.BOARDCTL_PORT || config.port);
  if (!port || port === 'auto') return { command, port: 'auto' };
  if (groupPorts(config, port) || several(port)) return undefined;
  return { command, port: resolvePort(config, port) };
}

/** Commands that open no MicroPython board by auto-detection (or none at all). */
const NO_AUTO_BOARD = new Set(['devs', 'sim', 'share', 'flash', 'tui', 'bootloader', 'disconnect']);

/**
 * Whether the first command of `argv` connects by auto-detection and will get the virtual board: where Linux's
 * sysfs (`ttys`) shows no USB tty, as auto-connect tries only USB ports (protocol/connect.ts). Elsewhere: false.
 */
export function autoConnectsVirtual(argv: string[], config: Config, env: NodeJS.ProcessEnv = process.env, ttys?: string): boolean {
  const first = firstBoard(argv, config, env);
  return first?.port === 'auto' && !NO_AUTO_BOARD.has(first.command ?? '') && usbTtyPresent(ttys) === false;
}

/** A -p list or pattern: a fleet, each board in a process of its own (a pattern matches ports found later). */
function several(port: string): boolean {
  try {
    return fleetPorts({ port }, []) !== undefined;
  } catch {
    return true;
  }
}

let decided: boolean | undefined;

/** Whether the first board of the process's command line `argv` is virtual (decided once: the bin asks first). */
export function virtualFirst(argv: string[]): boolean {
  return (decided ??= decide(argv));
}

function decide(argv: string[]): boolean {
  if (asksForHelp(argv)) return false; // before the config's read: --help's path stays short
  try {
    const config = loadConfig();
    return isVirtualPort(firstPort(argv, config)) || autoConnectsVirtual(argv, config);
  } catch {
    return false; // a broken config or command line: cli/command-line.ts reports it
  }
}
