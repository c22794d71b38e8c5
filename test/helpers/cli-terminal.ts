// The built CLI on a real pseudo-terminal, as a person runs `boardctl repl`: what it shows gathers in `screen`.
import pty from '@lydell/node-pty';
import { MAIN } from './built-cli.js';

export interface CliTerminal {
  /** Everything the CLI has written to the terminal so far. */
  readonly screen: string;
  write(keys: string): void;
  /** The exit code, once the CLI has ended. */
  readonly exited: Promise<number>;
  kill(): void;
}

/** Start `boardctl ARGS` on a 120×30 terminal; BOARDCTL_PORT is cleared, `env` added. */
export function cliTerminal(args: string[], env: Record<string, string> = {}): CliTerminal {
  const term = pty.spawn(process.execPath, [MAIN, ...args], {
    env: { ...process.env, BOARDCTL_PORT: '', ...env } as Record<string, string>,
    cols: 120,
    rows: 30,
  });
  let screen = '';
  term.onData((d) => (screen += d));
  const exited = new Promise<number>((resolve) => term.onExit(({ exitCode }) => resolve(exitCode)));
  return {
    get screen() {
      return screen;
    },
    write: (keys) => term.write(keys),
    exited,
    kill: () => term.kill(),
  };
}
