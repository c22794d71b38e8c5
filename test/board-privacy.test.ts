// A board's data is its owner's alone: directories 0700, files and the control socket 0600 whatever the umask,
// and boards left readable by others (an older version, a loose umask, a copy) are made private when opened.
import { afterAll, describe, expect, it } from 'vitest';
import { execFile } from 'node:child_process';
import { chmodSync, mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { cliPath, startCli, stopAllCli, stopCli } from './helpers/serve-cli.js';

const home = mkdtempSync(join(tmpdir(), 'boardctl-private-'));
afterAll(async () => {
  await stopAllCli();
  rmSync(home, { recursive: true, force: true });
});
const env = { ...process.env, BOARDCTL_HOME: join(home, 'data') };
const run = promisify(execFile);

/** boardctl ARGS under umask 002 (group-writable by default), as on many desktops' shared-group setups. */
const boardctl = (...args: string[]) => run('sh', ['-c', 'umask 002; exec "$0" "$@"', process.execPath, cliPath, ...args], { env });
const mode = (path: string) => (statSync(path).mode & 0o777).toString(8);
const modes = (dir: string) => Object.fromEntries([['.', mode(dir)], ...readdirSync(dir).map((f) => [f, mode(join(dir, f))])]);

describe('board files on disk', () => {
  const dir = join(home, 'data', 'boards', 'secret');

  it('are private under umask 002: directories 0700, files 0600, and the lock and control socket while served', async () => {
    await boardctl('sim', 'create', 'secret');
    expect(mode(join(home, 'data', 'boards'))).toBe('700');
    expect(modes(dir)).toEqual({ '.': '700', 'flash.bin': '600', 'board.json': '600', 'sdcard.img': '600' });
    const { child } = await startCli(['sim', 'serve', 'secret'], env, 1, '002');
    try {
      expect(modes(dir)).toEqual({
        '.': '700', 'flash.bin': '600', 'board.json': '600', 'sdcard.img': '600', lock: '600', 'control.sock': '600',
      });
    } finally {
      expect(await stopCli(child)).toBe(0);
    }
  });

  it('are made private when a board left readable by others is opened', async () => {
    chmodSync(dir, 0o775);
    chmodSync(join(dir, 'flash.bin'), 0o664);
    chmodSync(join(dir, 'board.json'), 0o644);
    chmodSync(join(dir, 'sdcard.img'), 0o666);
    await boardctl('sim', 'info', 'secret');
    expect(modes(dir)).toEqual({ '.': '700', 'flash.bin': '600', 'board.json': '600', 'sdcard.img': '600' });
  });
});
