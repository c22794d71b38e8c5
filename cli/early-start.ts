// Before commander loads: when the command line's first board is a virtual one, its VM thread starts now and the
// board's modules load beside the command line's, so the thread's own start (a Node environment, the VM package)
// runs on the other core while this one loads the CLI. The board itself powers up only when a command connects
// (cli/session.ts): a wrong guess costs the idle thread, which holds no board and lets the process exit.
import { asksForHelp, commandOf, splitChain, withDefaultCommand } from './chain.js';
import { expandMacros, groupPorts, loadConfig, resolvePort, type Config } from './config.js';
import { fleetArgs, fleetPorts } from './fleet.js';
import { isVirtualPort } from '../protocol/port-spec.js';

/**
 * The port the first command of `argv` connects to, as cli/command-line.ts will decide it: its `connect PORT`, else
 * -p/--port, else $BOARDCTL_PORT or the config's port, with the config's board names. Undefined where the command
 * line asks for help, runs on several boards, or leaves the port to auto-detection (deciding that means probing).
 */
export function firstPort(argv: string[], config: Config, env: NodeJS.ProcessEnv = process.env): string | undefined {
  if (asksForHelp(argv)) return undefined;
  const fleet = fleetArgs(expandMacros(argv, config.commands));
  if (fleet.all) return undefined;
  const first = splitChain(withDefaultCommand(fleet.rest))[0] ?? [];
  const connect = commandOf(first) === 'connect' ? first[first.indexOf('connect') + 1] : undefined;
  // (The session starts on $BOARDCTL_PORT or the config's port also when a later command of the chain connects.)
  const port = connect ?? fleet.port ?? (env.BOARDCTL_PORT || config.port);
  if (!port || port === 'auto' || groupPorts(config, port) || several(port)) return undefined;
  return resolvePort(config, port);
}

/** A -p list or pattern: a fleet, each board in a process of its own (a pattern matches ports found later). */
function several(port: string): boolean {
  try {
    return fleetPorts({ port }, []) !== undefined;
  } catch {
    return true;
  }
}

/** Start the VM thread and load the board's modules now if the command line's first board is virtual. */
export async function startEarly(argv: string[]): Promise<void> {
  let port: string | undefined;
  try {
    port = firstPort(argv, loadConfig());
  } catch {
    return; // a broken config or command line: cli/command-line.ts reports it
  }
  if (!isVirtualPort(port)) return;
  (await import('../emulator/worker-thread.js')).startWorkerEarly();
  import('../emulator/board.js').catch(() => undefined); // a failure shows where the board opens
}
