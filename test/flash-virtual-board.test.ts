// Issue 6 acceptance: our flasher against the virtual board's ROM over the in-process link, a pseudo-terminal and
// TCP; and the board booting whatever ends up in its flash.
import { afterAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { createBoard } from '../emulator/board-store.js';
import { VirtualBoard } from '../emulator/board.js';
import { serveBoard } from '../emulator/link/serve.js';
import { getProfile } from '../emulator/profiles.js';
import { generateFirmware } from '../emulator/rom/firmware.js';
import { openTransport } from '../protocol/connect.js';
import type { Transport } from '../protocol/transport.js';
import { connectEsp, disconnectEsp } from '../flash/esp-connect.js';
import { writeFlash, eraseAll, eraseRegion } from '../flash/write-flash.js';
import { readFlash, verifyFlash } from '../flash/read-flash.js';
import { flashId, readMac } from '../flash/esp-info.js';
import { BoardConsole } from './helpers/board-console.js';

const home = mkdtempSync(join(tmpdir(), 'boardctl-flash-'));
afterAll(() => rmSync(home, { recursive: true, force: true }));

type Opened = { transport: Transport; close(): Promise<void>; board(): VirtualBoard };

const links: Array<[string, (name: string) => Promise<Opened>]> = [
  [
    'the in-process link (DTR/RTS reset into the ROM)',
    async (name) => {
      const board = await VirtualBoard.open(name, { home });
      await board.whenReady();
      const transport = board.attach();
      return { transport, board: () => board, close: async () => (await transport.close(), await board.close()) };
    },
  ],
  [
    'a pseudo-terminal (no control lines: SYNC enters the ROM)',
    async (name) => {
      const serving = await serveBoard({ name, home });
      await serving.board.whenReady();
      const transport = await openTransport(serving.ptyPath!);
      return { transport, board: () => serving.board, close: async () => (await transport.close(), await serving.close()) };
    },
  ],
  [
    'TCP',
    async (name) => {
      const serving = await serveBoard({ name, home, tcp: '127.0.0.1:0' });
      await serving.board.whenReady();
      const transport = await openTransport(`socket://127.0.0.1:${serving.tcp!.port}`);
      return { transport, board: () => serving.board, close: async () => (await transport.close(), await serving.close()) };
    },
  ],
  [
    'RFC 2217 (DTR/RTS carried over Telnet)',
    async (name) => {
      const serving = await serveBoard({ name, home, rfc2217: '127.0.0.1:0' });
      await serving.board.whenReady();
      const transport = await openTransport(`rfc2217://127.0.0.1:${serving.tcp!.port}`);
      expect(transport.hasControlLines).toBe(true);
      return { transport, board: () => serving.board, close: async () => (await transport.close(), await serving.close()) };
    },
  ],
];

describe.each(links)('flashing the virtual board over %s', (label, open) => {
  it('reads chip, MAC and flash id; writes 1 MB compressed and raw; verifies, reads back, erases', async () => {
    const name = `fl-${links.findIndex(([l]) => l === label)}`;
    const stored = createBoard(name, { home });
    const link = await open(name);
    try {
      const session = await connectEsp(link.transport, { before: 'default-reset', attempts: 3 });
      expect(session.chip.name).toBe('ESP32');
      expect(await readMac(session)).toBe(stored.config.mac);
      const id = await flashId(session);
      expect(id.size).toBe(4 * 1024 * 1024);

      const data = randomBytes(1024 * 1024);
      await writeFlash(session, [{ address: 0x100000, data }], { compress: true, skipUnchanged: false });
      const raw = randomBytes(64 * 1024);
      await writeFlash(session, [{ address: 0x300000, data: raw }], { compress: false, skipUnchanged: false });
      const verify = await verifyFlash(session, [{ address: 0x100000, data }, { address: 0x300000, data: raw }]);
      expect(verify.every((v) => v.ok)).toBe(true);
      expect(Buffer.from(await readFlash(session, 0x300000, raw.length)).equals(raw)).toBe(true);

      await eraseRegion(session, 0x300000, 0x10000);
      expect([...(await readFlash(session, 0x300000, 64))].every((b) => b === 0xff)).toBe(true);
      await eraseAll(session);
      expect([...(await readFlash(session, 0x1000, 64))].every((b) => b === 0xff)).toBe(true);
      await disconnectEsp(session, 'hard-reset');
    } finally {
      await link.close();
    }
  }, 120_000);
});

describe('booting what is flashed', () => {
  async function reflash(name: string, image: Uint8Array, address: number): Promise<BoardConsole> {
    const board = await VirtualBoard.open(name, { home });
    await board.whenReady();
    const transport = board.attach();
    const con = new BoardConsole({ write: (d) => transport.write(d), onData: (l) => transport.onData(l), close: () => transport.close() });
    const session = await connectEsp(transport, { before: 'default-reset' });
    if (image.length) await writeFlash(session, [{ address, data: image }], { skipUnchanged: false, force: true });
    else await eraseAll(session);
    con.take();
    await disconnectEsp(session, 'hard-reset');
    return con;
  }

  it('loops "invalid header" after an erase, boots MicroPython after the generated firmware, reports garbage', async () => {
    createBoard('boot', { home });
    try {
      let con = await reflash('boot', new Uint8Array(), 0);
      expect(await con.expect(/invalid header: 0xffffffff\r\n[\s\S]*invalid header: 0xffffffff\r\n/)).toContain('ets Jun  8 2016');
      await con.link.close();

      con = await reflash('boot', generateFirmware(getProfile('esp32')), 0x1000);
      await con.expect('MicroPython v1.27.0 on 2025-12-10; Generic ESP32 module with ESP32\r\n', 10_000);
      await con.friendlyPrompt();
      await con.send("print(__import__('os').listdir('/'))\r");
      expect(await con.expect('>>> ')).toContain('boot.py'); // fresh filesystem after the erase
      await con.link.close();

      // An image magic and a segment count, then nonsense: every segment length is 0x5a5a5a5a.
      const garbage = Buffer.alloc(8192, 0x5a);
      garbage[0] = 0xe9;
      garbage[1] = 2;
      con = await reflash('boot', garbage, 0x1000);
      // The ROM rejects the image, says why, and the chip resets: the boot log comes round again.
      const text = await con.expect(/ets Jun {2}8 2016[\s\S]*ets Jun {2}8 2016/);
      expect(text).toMatch(/truncated|segments|header|[Cc]hecksum/);
      expect(text).not.toContain('MicroPython v1.27.0');
      await con.link.close();
    } finally {
      await (await VirtualBoard.open('boot', { home })).close();
    }
  }, 60_000);
});
