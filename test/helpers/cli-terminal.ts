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

/** Start `boardctl ARGS` on a 120×30 terminal; BOARDCTL_PORT is cleared, `env` added. */
export function cliTerminal(args: string[], env: Record<string, string> = {}): CliTerminal {
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

/**
 * Run `boardctl ARGS` to its end on a real COLS-column terminal: all it printed (CR LF as LF) and its exit
 * status. A shell behind it prints an end mark and waits, because node-pty drops what the pty still holds 200 ms
 * after the child exits (a loaded machine misses that), so the mark, not the exit, says the output is whole.
 */
export async function runOnTerminal(args: string[], cols: number, env: Record<string, string> = {}): Promise<{ output: string; code: number }> {
  const term = pty.spawn('/bin/sh', ['-c', '"$@"; printf "\\n@@end %s@@" $?; read _', 'sh', process.execPath, MAIN, ...args], {
    env: { ...process.env, BOARDCTL_PORT: '', ...env } as Record<string, string>,
    cols,
    rows: 40,
  });
  let shown = '';
  term.onData((d) => (shown += d));
  const exited = new Promise((resolve) => term.onExit(resolve));
  try {
    await expect.poll(() => shown, { timeout: 30_000 }).toMatch(/\n@@end \d+@@/);
  } finally {
    term.kill();
    await exited;
  }
  const end = /\r?\n@@end (\d+)@@/.exec(shown)!;
  return { output: shown.slice(0, end.index).replace(/\r\n/g, '\n'), code: Number(end[1]) };
}
