// The built CLI on a real pseudo-terminal, as a person runs `boardctl … repl`: what it printed so far, keys
// to type, and its exit status.
import pty from '@lydell/node-pty';
import { expect } from 'vitest';
import { MAIN } from './built-cli.js';

export interface CliTerminal {
  /** Everything the terminal showed so far. */
  screen(): string;
  write(keys: string): void;
  exited: Promise<number>;
  kill(): void;
  /** Wait for the repl's greeting, press Enter, wait for the board's prompt. */
  ready(): Promise<void>;
}

export function cliTerminal(args: string[], env: Record<string, string>): CliTerminal {
  const term = pty.spawn(process.execPath, [MAIN, ...args], {
    env: { ...process.env, BOARDCTL_PORT: '', ...env } as Record<string, string>,
    cols: 120,
    rows: 30,
  });
  let shown = '';
  term.onData((d) => (shown += d));
  const exited = new Promise<number>((resolve) => term.onExit(({ exitCode }) => resolve(exitCode)));
  const screen = () => shown;
  const ready = async () => {
    await expect.poll(screen, { timeout: 20_000 }).toContain('Ctrl-] or Ctrl-X to quit');
    term.write('\r');
    await expect.poll(screen, { timeout: 10_000 }).toContain('>>> ');
  };
  return { screen, write: (keys) => term.write(keys), exited, kill: () => term.kill(), ready };
}
