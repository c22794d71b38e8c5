// The TUI's start: its first link opens while ink and React load (about a quarter of a second), so a virtual
// board boots in its worker thread, on another core, meanwhile instead of after the first frame. A bare
// `boardctl` comes here without loading commander or any command module.
import { phase } from '../protocol/timing.js';
import type { Transport } from '../protocol/transport.js';

/** `boardctl` with no arguments: the TUI on a terminal, else a headless demo (ink and React load only for the TUI). */
export async function runWithoutCommand(): Promise<number> {
  phase('node started, CLI modules loaded');
  if (process.stdin.isTTY && process.stdout.isTTY && !process.env.CI) return startTui();
  return (await import('./tui/headless-demo.js')).runHeadlessDemo();
}

/** Runs the TUI on PORT (default: $BOARDCTL_PORT, else the default virtual board); resolves to the exit status. */
export async function startTui(port = process.env.BOARDCTL_PORT || 'virtual'): Promise<number> {
  const [api, { isVirtualPort }] = await Promise.all([import('./api.js'), import('../protocol/port-spec.js')]);
  // The emulator's modules first: opening the board then reaches its worker's start before ink's module
  // evaluation holds this thread (a bad port name is the status line's to show).
  if (isVirtualPort(port)) await import('../emulator/board.js');
  const opening: Promise<Transport> = api.openTransport(port);
  opening.catch(() => undefined); // the TUI's status line shows the error
  const { runTui } = await import('./tui/app.js');
  return runTui({ port, opening });
}
