// `boardctl` with no arguments on a terminal: the full-screen TUI. This module is imported only then, so
// ink and React never load for the other commands.
//
// Keys: the raw stdin is read here and split by the key router. The TUI's own keys (F-keys, Ctrl-]
// prefix) become commands; in the REPL view everything else goes to the board byte for byte; in the
// other views it is fed to ink (through its own input stream) for the views' useInput handlers.
import { EventEmitter } from 'node:events';
import { PassThrough } from 'node:stream';
import { render } from 'ink';
import { BoardLink } from './board-link.js';
import { App } from './components/app-view.js';
import { KeyRouter, viewAfter, type ViewName } from './key-router.js';
import { enterScreen } from './screen.js';

export interface TuiOptions {
  /** Where to connect first (default: $BOARDCTL_PORT, else the default virtual board). */
  port?: string;
  localDir?: string;
}

/** ink's input: a stream that looks like a TTY in raw mode, fed with the keys meant for the views. */
function viewInput(): NodeJS.ReadStream {
  const stream = new PassThrough() as unknown as NodeJS.ReadStream & { isTTY: boolean };
  stream.isTTY = true;
  stream.setRawMode = () => stream;
  stream.ref = () => stream;
  stream.unref = () => stream;
  return stream;
}

export async function runTui(opts: TuiOptions = {}): Promise<number> {
  const stdin = process.stdin;
  const leaveScreen = enterScreen(stdin, process.stdout);
  const link = new BoardLink();
  const commands = new EventEmitter();
  const router = new KeyRouter();
  const toViews = viewInput();
  let view: ViewName = 'repl';

  const onKeys = (chunk: Buffer) => {
    for (const r of router.route(chunk)) {
      if (r.to === 'tui') {
        // Decided here at once, so keys typed right after a view switch go where the user now looks.
        view = viewAfter(view, r.command);
        commands.emit('command', r.command);
      }
      else if (view === 'repl') link.sendKeys(r.bytes);
      else toViews.write(r.bytes);
    }
  };
  stdin.on('data', onKeys);
  stdin.resume();

  const app = render(
    <App link={link} commands={commands} localDir={opts.localDir ?? process.cwd()} onView={(v) => (view = v)} />,
    { stdin: toViews, stdout: process.stdout, exitOnCtrlC: false, maxFps: 20 },
  );
  void link.connect(opts.port ?? (process.env.BOARDCTL_PORT || 'virtual')).catch(() => undefined); // shown in the status line
  try {
    await app.waitUntilExit();
  } finally {
    stdin.off('data', onKeys);
    stdin.pause();
    await link.disconnect().catch(() => undefined);
    leaveScreen();
  }
  return 0;
}
