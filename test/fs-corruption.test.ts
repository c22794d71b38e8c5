// A filesystem the boot cannot mount (issue 11 item 10): the board says so as esp32's inisetup does, boots to a
// REPL without a filesystem instead of looping, its ROM still erases, and `flash erase-region` + reset repairs it.
// The broken images come about as users break them: `flash write-flash` over the filesystem, a truncated flash.bin.
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, statSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadBoard } from '../emulator/board-store.js';
import { boardctl } from './helpers/boardctl.js';
import { TestBoard } from './helpers/test-board.js';

const home = mkdtempSync(join(tmpdir(), 'boardctl-corrupt-'));
const env = { BOARDCTL_HOME: home };
afterAll(() => rmSync(home, { recursive: true, force: true }));

const CORRUPTED = 'The filesystem appears to be corrupted. If you had important data there, you\n';
const HINT = '[boardctl] The board runs without a filesystem: to reformat it (its files are lost), erase the filesystem region and reset: boardctl flash erase-region 0x200000 0x200000\n';

async function cli(...args: string[]) {
  const r = await boardctl(args, env, [], 60_000);
  return { ...r, out: r.stdout + r.stderr };
}

/** What the board prints when it is reset now. */
async function bootLog(name: string): Promise<string> {
  const board = await TestBoard.open({ home, name });
  try {
    return await board.reset();
  } finally {
    await board.close();
  }
}

describe('a filesystem region the boot cannot mount', () => {
  it('written over with flash write-flash: reported at boot, commands answer, erase-region + reset repairs it', async () => {
    expect((await cli('sim', 'create', 'garbage')).code).toBe(0);
    expect((await cli('-p', 'virtual:garbage', 'exec', "open('keep.txt', 'w').write('x')")).code).toBe(0);
    const junk = join(home, 'junk.bin');
    writeFileSync(junk, randomBytes(64 * 1024));
    expect((await cli('-p', 'virtual:garbage', 'flash', 'write-flash', '0x200000', junk)).code).toBe(0);

    const log = await bootLog('garbage');
    expect(log).toContain(CORRUPTED);
    expect(log).toContain(HINT);
    expect(log).toMatch(/MicroPython v1\.27\.0[^\n]*\nType "help\(\)" for more information\.\n>>> $/);
    // No filesystem, but the board answers: as on silicon, the root lists no files and opening one fails.
    const ls = await cli('-p', 'virtual:garbage', 'exec', "import os\nprint(os.listdir('/'))\ntry:\n    open('keep.txt')\nexcept OSError as e:\n    print('OSError', e.errno)");
    expect(ls.stdout).toBe('[]\nOSError 19\n'); // ENODEV, as on an ESP32 without a mounted root
    expect((await cli('-p', 'virtual:garbage', 'eval', '6 * 7')).stdout).toBe('42\n');

    const erase = await cli('-p', 'virtual:garbage', 'flash', 'erase-region', '0x200000', '0x200000');
    expect(erase.code).toBe(0);
    const repaired = await bootLog('garbage');
    expect(repaired).not.toContain(CORRUPTED);
    expect((await cli('-p', 'virtual:garbage', 'ls')).stdout).toMatch(/^\s+\d+ boot\.py\n$/);
  }, 120_000);

  it('a flash.bin cut short: the missing part reads as erased flash, the board boots and formats it', async () => {
    expect((await cli('sim', 'create', 'short')).code).toBe(0);
    const stored = loadBoard('short', home);
    truncateSync(stored.flashPath, 0x180000);
    const r = await cli('-p', 'virtual:short', 'exec', "import os\nprint(os.listdir('/'))");
    expect(r.out).toBe("['boot.py']\n");
    expect(statSync(stored.flashPath).size).toBe(stored.config.flashSize);
    expect(await bootLog('short')).toMatch(/>>> $/);
  }, 60_000);

  it('`sim serve` of a board with a broken filesystem comes up and says where it serves', async () => {
    expect((await cli('sim', 'create', 'serve-broken')).code).toBe(0);
    const junk = join(home, 'junk2.bin');
    writeFileSync(junk, randomBytes(16 * 1024));
    expect((await cli('-p', 'virtual:serve-broken', 'flash', 'write-flash', '0x200000', junk)).code).toBe(0);
    const { serveBoard } = await import('../emulator/link/serve.js');
    const serving = await serveBoard({ name: 'serve-broken', home });
    try {
      expect(serving.ptyPath).toMatch(/^\/dev\/pts\//);
    } finally {
      await serving.close();
    }
  }, 60_000);
});
