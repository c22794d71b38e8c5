// Programs that break the board's VM or exceed it end the client's command with a clear error (issue 11 items 3
// and 11, issue 13 item 4): a host-side VM error closes the exec's framing before the board resets, and a
// script too large to compile reports its MemoryError.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openBoard } from '../cli/api.js';
import { createBoard } from '../emulator/board-store.js';
import type { Board } from '../protocol/board.js';
import { BoardError } from '../protocol/errors.js';
import { boardctl } from './helpers/boardctl.js';

const home = mkdtempSync(join(tmpdir(), 'boardctl-crash-'));
const env = { BOARDCTL_HOME: home };
let board: Board;

beforeAll(async () => {
  process.env.BOARDCTL_HOME = home;
  createBoard('crash', { home });
  createBoard('big', { home });
  board = await openBoard('virtual:crash');
}, 60_000);
afterAll(async () => {
  await board?.close();
  rmSync(home, { recursive: true, force: true });
});

/** The error an exec ends with, and how long it took to end. */
async function failing(code: string): Promise<{ err: BoardError; ms: number }> {
  const t0 = Date.now();
  const err = await board.exec(code).then(() => undefined, (e: unknown) => e);
  expect(err).toBeInstanceOf(BoardError);
  return { err: err as BoardError, ms: Date.now() - t0 };
}

/** These hung until the test's timeout; a loaded host takes a few seconds to reset the board, not this long. */
const HUNG_MS = 15_000;

describe('a host-side VM error under a running program', () => {
  it('ends the command with the error within seconds (C recursion in re), then the board answers again', async () => {
    const { err, ms } = await failing("import re\nre.match('(a*)*', 'aaa')");
    expect(err.code).toBe('DEVICE_EXCEPTION');
    expect(String(err.details.traceback)).toMatch(/host-side error \(RangeError: Maximum call stack size exceeded\); the board resets/);
    expect(ms).toBeLessThan(HUNG_MS);
    expect((await board.exec('print(6 * 7)')).stdout).toBe('42\r\n');
  });

  it('keeps answering when the program replaces builtins.__import__ (the host never imports through it)', async () => {
    const { err, ms } = await failing("import builtins\ndef no(*a):\n    raise ImportError('mine')\nbuiltins.__import__ = no\nimport json");
    expect(err.message).toBe('ImportError: mine');
    expect(ms).toBeLessThan(HUNG_MS);
    // The next command runs in the same VM, as on a board: its own code works, its imports meet the hook.
    expect((await board.exec('print(6 * 7)')).stdout).toBe('42\r\n');
    await board.softReset();
    expect((await board.exec('import json\nprint(json.dumps([1]))')).stdout).toBe('[1]\r\n');
  });

  it('does the same for the plain raw REPL (no raw-paste)', async () => {
    const { RawReplClient } = await import('../protocol/raw-repl.js');
    await board.close();
    const { openVirtualTransport } = await import('../emulator/board.js');
    board = new RawReplClient(await openVirtualTransport('virtual:crash', { home }), { rawPaste: false, resume: true });
    const { err, ms } = await failing("import re\nre.match('(a*)*', 'aaa')");
    expect(err.message).toMatch(/host-side error/);
    expect(ms).toBeLessThan(HUNG_MS);
    expect((await board.exec('print(6 * 7)')).stdout).toBe('42\r\n');
  });
});

describe('a script too large for the board', () => {
  it('reports its MemoryError and exits 1 (boardctl run)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'boardctl-big-'));
    try {
      const file = join(dir, 'm.py');
      writeFileSync(file, `x = 1  # ${'padding '.repeat(20)}\n`.repeat(15_000)); // 2.5 MB
      const r = await boardctl(['-p', 'virtual:big', 'run', file], env, [], 120_000);
      expect(r.stderr).toMatch(/MemoryError: memory allocation failed/);
      expect(r.code).toBe(1);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 150_000);
});
