// Wrapped links keep what a server in front of them needs: a fault-injecting link (and a test's targeted
// faults around it) over a virtual board's link still passes back-pressure and purge to the board, so a pty or
// TCP server with faults on keeps its flow control; members the link lacks stay absent.
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
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

/** Type `line` while the output is held and wait until the board has run it: its LED (Pin 2) comes on after. */
async function runHeld(line: string): Promise<void> {
  await board.controlRequest({ plugin: 'hw', op: 'set', args: { what: 'pin', pin: 2, level: 0 } });
  await con.send(`${line};import machine;machine.Pin(2, machine.Pin.OUT).on()\r`);
  const ledOn = async () => ((await board.controlRequest({ plugin: 'hw', op: 'get', args: { what: 'leds' } })) as { leds: { pin: number; on: boolean }[] }).leds.some((l) => l.pin === 2 && l.on);
  await vi.waitFor(async () => expect(await ledOn()).toBe(true), { timeout: 20_000, interval: 50 });
  await settle(300); // the printed bytes on their way from the VM to the held link
}

describe('a wrapped board link', () => {
  it('holds the board\'s output while held and delivers all of it on release', async () => {
    link.holdOutput(true);
    await runHeld('print("held" + "back")');
    expect(con.take()).not.toContain('heldback');
    link.holdOutput(false);
    await con.expect('heldback\r\n>>> ');
  }, 20_000);

  it('purges what the board sent and the client has not read', async () => {
    link.holdOutput(true);
    await runHeld('print("to" + "drop")');
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
