// Issue 14 acceptance over `sim serve`'s pseudo-terminal, which has no DTR/RTS: our flasher and an esptool-like
// client taking turns on one served board (a stub left running, re-uploaded, sent back to the ROM), 1 MB reads
// through the ROM and through the stub, and the app booting at the end.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createBoard } from '../emulator/board-store.js';
import { serveBoard, type Serving } from '../emulator/link/serve.js';
import { openTransport } from '../protocol/connect.js';
import type { Transport } from '../protocol/transport.js';
import { connectEsp, disconnectEsp, type AfterReset } from '../flash/esp-connect.js';
import { readFlash, verifyFlash } from '../flash/read-flash.js';
import { writeFlash } from '../flash/write-flash.js';
import { esptool } from './helpers/esptool-like.js';
import { MiB, STUB, md5, micropythonAnswers, testData } from './helpers/esp-rig.js';

const home = mkdtempSync(join(tmpdir(), 'boardctl-served-'));
let serving: Serving;

beforeAll(async () => {
  createBoard('served', { home });
  serving = await serveBoard({ name: 'served', home });
  await serving.board.whenReady();
});

afterAll(async () => {
  await serving?.close();
  rmSync(home, { recursive: true, force: true });
});

/** One client's turn on the pty: open, run, close. */
async function turn<T>(fn: (t: Transport) => Promise<T>): Promise<T> {
  const t = await openTransport(serving.ptyPath!);
  try {
    return await fn(t);
  } finally {
    await t.close();
  }
}

// Inside the factory app partition, past the (small) generated app: the board still boots MicroPython.
const AREA = 0x180000;

describe('our flasher and esptool take turns on a served pty', () => {
  it('ten rounds: ours, esptool (stub reused), esptool --before no-reset-no-sync, ours again; then the app boots', async () => {
    const afters: AfterReset[] = ['hard-reset', 'no-reset-stub', 'no-reset'];
    for (let round = 0; round < 10; round++) {
      const ours = testData(48 * 1024, round + 1);
      await turn(async (t) => {
        const s = await connectEsp(t, { stub: round % 2 ? STUB : undefined });
        await writeFlash(s, [{ address: AREA, data: ours }]);
        await disconnectEsp(s, afters[round % afters.length]);
      });

      // esptool with its defaults: stub, --after hard-reset, which a pty cannot do: its stub stays running.
      const theirs = testData(32 * 1024, 100 + round);
      const first = await turn((t) => esptool(t, { stub: STUB }, async (esp) => {
        await esp.writeFlash(AREA + 0x10000, theirs);
        return esp.readMac();
      }));
      expect(first.result).toBe(serving.board.stored.config.mac);

      // The next esptool finds that stub ("already running"), and one with no-reset-no-sync uploads over it.
      const second = await turn((t) => esptool(t, { stub: STUB, after: 'no-reset-stub' }, (esp) => esp.readFlash(AREA, ours.length)));
      expect(second.log).toContain('Stub flasher is already running. No upload is necessary.');
      expect(md5(second.result)).toBe(md5(ours));
      const third = await turn((t) => esptool(t, { stub: STUB, before: 'no-reset-no-sync', after: 'no-reset' }, (esp) => esp.readFlash(AREA + 0x10000, theirs.length)));
      expect(third.log).toContain('Stub flasher running.');
      expect(md5(third.result)).toBe(md5(theirs));

      // Back in the ROM after esptool's --after no-reset: our flasher again.
      await turn(async (t) => {
        const s = await connectEsp(t);
        expect(s.loader.isStub).toBe(false);
        expect(await verifyFlash(s, [{ address: AREA, data: ours }, { address: AREA + 0x10000, data: theirs }])).toHaveLength(2);
        await disconnectEsp(s, 'hard-reset');
      });
    }
    // The last --after hard-reset went out through the protocol (FLASH_END(1)): MicroPython runs.
    await turn(micropythonAnswers);
  }, 240_000);
});

describe('leaving the ROM', () => {
  it('esptool --no-stub run: FLASH_END(1) in the ROM boots the app', async () => {
    await turn((t) => esptool(t, { stub: STUB, noStub: true, after: 'no-reset-stub' }, (esp) => esp.run()));
    await turn(micropythonAnswers);
  }, 60_000);
});

describe('1 MB read-flash over the unpaced pty equals the image', () => {
  const image = testData(MiB, 77);

  beforeAll(async () => {
    await turn(async (t) => {
      const s = await connectEsp(t, { stub: STUB });
      await writeFlash(s, [{ address: 0x100000, data: image }]);
      await disconnectEsp(s, 'no-reset');
    });
  }, 60_000);

  it.each([['the ROM (READ_FLASH_SLOW)', undefined], ['the stub (64 packets in flight)', STUB]] as const)('through %s, with our flasher', async (_label, stub) => {
    const back = await turn(async (t) => {
      const s = await connectEsp(t, { stub });
      const data = await readFlash(s, 0x100000, MiB);
      await disconnectEsp(s, 'no-reset');
      return data;
    });
    expect(md5(back)).toBe(md5(image));
  }, 120_000);

  it('through the stub, with esptool', async () => {
    const { result } = await turn((t) => esptool(t, { stub: STUB, after: 'no-reset' }, (esp) => esp.readFlash(0x100000, MiB)));
    expect(md5(result)).toBe(md5(image));
  }, 120_000);
});
