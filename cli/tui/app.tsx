// `boardctl` with no arguments on a terminal (or `boardctl tui`): the full-screen TUI. This module is imported
// only then, so ink and React never load for the other commands.
//
// Keys: the raw stdin goes straight to the app model (app-model.ts), which routes and handles each key as it
// arrives; ink only draws. In the REPL view every byte that is not a TUI key goes to the board untouched.
import { PassThrough } from 'node:stream';
import { render } from 'ink';
import { AppModel } from './app-model.js';
import { BoardLink } from './board-link.js';
import { App } from './components/app-view.js';
import { enterScreen } from './screen.js';
import type { Transport } from '../../protocol/transport.js';

export interface TuiOptions {
  /** Where to connect first (default: $BOARDCTL_PORT, else the default virtual board). */
  port?: string;
  /** PORT's link, already being opened (cli/tui-start.ts). */
  opening?: Promise<Transport>;
  localDir?: string;
}

export async function runTui(opts: TuiOptions = {}): Promise<number> {
  const stdin = process.stdin;
  const leaveScreen = enterScreen(stdin, process.stdout);
  const link = new BoardLink();
  let quit!: () => void;
  const quitting = new Promise<void>((resolve) => (quit = resolve));
  const model = new AppModel({ link, localDir: opts.localDir ?? process.cwd(), onQuit: () => quit() });
  const onKeys = (chunk: Buffer) => model.input(chunk);
  stdin.on('data', onKeys);
  stdin.resume();

  // ink reads no keys here (a stream nobody writes to): the model has them first, synchronously.
  const app = render(<App app={model} />, { stdin: new PassThrough() as unknown as NodeJS.ReadStream, stdout: process.stdout, exitOnCtrlC: false, maxFps: 20 });
  void link.connect(opts.port ?? (process.env.BOARDCTL_PORT || 'virtual'), opts.opening).catch(() => undefined); // shown in the status line
  try {
    await quitting;
    app.unmount();
    await app.waitUntilExit();
  } finally {
    stdin.off('data', onKeys);
    stdin.pause();
    model.panel.deactivate();
    await link.disconnect().catch(() => undefined);
    leaveScreen();
  }
  return 0;
}
