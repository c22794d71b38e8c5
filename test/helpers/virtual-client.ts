// A test file's virtual board as a Node script opens it (openBoard('virtual:NAME') from the library), in a fresh
// BOARDCTL_HOME, with a temporary host folder for the files a test copies. Called at the top of a test file: the
// board opens before the file's tests and is closed, with both folders removed, after them (also when they fail).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll } from 'vitest';
import type { Board } from '../../protocol/board.js';

export interface VirtualClient {
  /** The BOARDCTL_HOME the board lives in (set in process.env for the file). */
  home: string;
  /** An empty host folder for the file's tests. */
  host: string;
}

/** `opened` receives the board once it is open (the file keeps it in its own `board` variable). */
export function virtualClient(name: string, opened: (board: Board) => void): VirtualClient {
  const home = mkdtempSync(join(tmpdir(), `boardctl-${name}-home-`));
  const host = mkdtempSync(join(tmpdir(), `boardctl-${name}-host-`));
  process.env.BOARDCTL_HOME = home;
  let board: Board | undefined;
  beforeAll(async () => {
    // Loaded here, after BOARDCTL_HOME is set, as a script that sets it first would load them.
    const [{ openBoard }, { createBoard }] = await Promise.all([import('../../cli/api.js'), import('../../emulator/board-store.js')]);
    createBoard(name);
    board = await openBoard(`virtual:${name}`);
    opened(board);
  }, 60_000);
  afterAll(async () => {
    await board?.close();
    const { closeAllVirtualBoards } = await import('../../emulator/board.js');
    await closeAllVirtualBoards();
    rmSync(home, { recursive: true, force: true });
    rmSync(host, { recursive: true, force: true });
  });
  return { home, host };
}
