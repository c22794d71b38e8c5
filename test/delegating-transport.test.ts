// Wrapped links keep what a server in front of them needs: a fault-injecting link (and a test's targeted
// faults around it) over a virtual board's link still passes back-pressure and purge to the board, so a pty or
// TCP server with faults on keeps its flow control; members the link lacks stay absent.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { VirtualBoard, type BoardLink } from '../emulator/board.js';
import { createBoard } from '../emulator/board-store.js';
import { withFaults } from '../protocol/transports/faults.js';
import { TargetedFaults } from './helpers/targeted-faults.js';
import { BoardConsole } from './helpers/board-console.js';

const home = mkdtempSync(join(tmpdir(), 'boardctl-deleg-'));
let board: VirtualBoard;
let link: TargetedFaults;
let con: BoardConsole;

beforeAll(async () => {
  createBoard('d', { home });
  board = await VirtualBoard.open('d', { home });
  await board.whenReady();
  // Two wrappers deep, no faults: what reaches the board is what the board link itself would do.
  link = new TargetedFaults(withFaults<BoardLink>(board.attach(), 'seed=1'));
  con = new BoardConsole(link);
  await con.friendlyPrompt();
}, 60_000);

afterAll(async () => {
  await link?.close().catch(() => {});
  await board?.close();
  rmSync(home, { recursive: true, force: true });
});

const settle = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('a wrapped board link', () => {
  it('holds the board\'s output while held and delivers all of it on release', async () => {
    link.holdOutput(true);
    await con.send('print("held" + "back")\r');
    await settle(300);
    expect(con.take()).not.toContain('heldback');
    link.holdOutput(false);
    await con.expect('heldback\r\n>>> ');
  }, 20_000);

  it('purges what the board sent and the client has not read', async () => {
    link.holdOutput(true);
    await con.send('print("to" + "drop")\r');
    await settle(300);
    await link.purge('receive');
    link.holdOutput(false);
    await settle(200);
    expect(con.take()).not.toContain('todrop');
    // The link still works after the purge.
    await con.send('print(6 * 7)\r');
    await con.expect('42\r\n>>> ');
  }, 20_000);

  it('has no modem lines where the inner link has none', () => {
    expect(link.modemLines).toBeUndefined();
    expect(link.kind).toBe('virtual');
    expect(link.path).toBe('virtual:d');
  });
});
