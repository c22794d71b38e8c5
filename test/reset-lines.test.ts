// What boardctl does to HUPCL and DTR/RTS, and --no-reset-lines. A tty driver's default termios has HUPCL (drop
// DTR and RTS on the last close: a reset on boards that wire them to EN); the pty here gets it set as a USB serial
// port would have it, and the termios is read from a /usr/bin/python3 helper after boardctl has gone. A pty has no
// lines (its driver ignores HUPCL), so boardctl leaves it alone there; the stty it runs on a serial port is tried on
// the pty directly. --no-reset-lines is esptool's no-reset for every step.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { closeSync, constants, existsSync, mkdtempSync, openSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { clearHupcl } from '../protocol/transports/serial.js';
import { boardctl } from './helpers/boardctl.js';
import { ensureBuilt } from './helpers/built-cli.js';
import { startCli, stopAllCli } from './helpers/serve-cli.js';

const home = mkdtempSync(join(tmpdir(), 'boardctl-reset-lines-'));
const env = { ...process.env, BOARDCTL_HOME: home, BOARDCTL_PORT: '' };

/** HUPCL of the tty at `path`: read, or set to `value` first. */
function hupcl(path: string, value?: boolean): boolean {
  const set = value === undefined ? '' : `a[2] = a[2] | termios.HUPCL if ${value ? 'True' : 'False'} else a[2] & ~termios.HUPCL\ntermios.tcsetattr(fd, termios.TCSANOW, a)\n`;
  const code = `import os, sys, termios\nfd = os.open(sys.argv[1], os.O_RDWR | os.O_NOCTTY | os.O_NONBLOCK)\na = termios.tcgetattr(fd)\n${set}print(bool(termios.tcgetattr(fd)[2] & termios.HUPCL))\n`;
  const r = spawnSync('/usr/bin/python3', ['-c', code, path], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`termios helper failed: ${r.stderr}`);
  return r.stdout.trim() === 'True';
}

const python = spawnSync('/usr/bin/python3', ['-c', 'import termios'], { encoding: 'utf8' }).status === 0;
const stty = spawnSync('/bin/sh', ['-c', 'command -v stty'], { encoding: 'utf8' }).stdout.trim();

beforeAll(() => ensureBuilt());
afterAll(async () => {
  await stopAllCli();
  rmSync(home, { recursive: true, force: true });
});

describe('HUPCL on a real pty (a served virtual board)', { timeout: 90_000 }, () => {
  if (!python) {
    console.warn('reset-lines pty checks skipped: /usr/bin/python3 has no termios');
    it.skip('skipped: /usr/bin/python3 has no termios', () => {});
    return;
  }
  let pty: string;
  let holder: number;
  beforeAll(async () => {
    const served = await startCli(['sim', 'serve'], env);
    pty = served.lines[0]!.slice('pty: '.length);
    // Held for the whole file, so no close of ours or boardctl's is the last one (the termios stays readable).
    holder = openSync(pty, constants.O_RDWR | constants.O_NOCTTY | constants.O_NONBLOCK);
  }, 60_000);
  afterAll(() => closeSync(holder));

  it('is left alone on a pseudo-terminal, which has no lines for it to drop: no stty runs', async () => {
    // An stty on PATH that leaves a mark: boardctl on a serial port runs it right after opening.
    const bin = mkdtempSync(join(home, 'marking-stty-'));
    const mark = join(bin, 'ran');
    writeFileSync(join(bin, 'stty'), `#!/bin/sh\ntouch ${mark}\nexec ${stty} "$@"\n`, { mode: 0o755 });
    expect(hupcl(pty, true)).toBe(true);
    const r = await boardctl(['-p', pty, 'eval', '6 * 7'], { ...env, PATH: `${bin}:${process.env.PATH}` });
    expect(r).toMatchObject({ code: 0, stdout: '42\n' });
    expect(existsSync(mark)).toBe(false);
    expect(hupcl(pty)).toBe(true);
  });

  it('is cleared by the stty that boardctl runs on a serial port (tried on the pty: this machine has no serial port)', async () => {
    expect(hupcl(pty, true)).toBe(true);
    await clearHupcl(pty);
    expect(hupcl(pty)).toBe(false);
  });
});

describe('--no-reset-lines', { timeout: 60_000 }, () => {
  // Its own board store: the served board above holds the default virtual board.
  const own = { ...env, BOARDCTL_HOME: join(home, 'own') };
  const run = (...args: string[]) => boardctl(['-p', 'virtual', '--no-reset-lines', ...args], own, [], 40_000);

  it('runs commands as usual and refuses what would move the lines, in one line each', async () => {
    expect((await run('exec', 'print(1)')).stdout).toBe('1\n');
    const hard = await run('exec', 'x = 5', '+', 'reset', '--hard', '+', 'eval', 'x');
    expect(hard.code).toBe(2);
    expect(hard.stderr).toBe(
      'boardctl: reset: --no-reset-lines: this step would move DTR/RTS (a reset or bootloader entry by the control lines); drop --no-reset-lines, or reset the board by hand\n',
    );
    const both = await run('--dtr', 'off', 'exec', 'print(1)');
    expect(both.code).toBe(2);
    expect(both.stderr).toBe('boardctl: exec: --no-reset-lines leaves DTR/RTS alone, --dtr/--rts set them: choose one\n');
  });

  it('makes flash connect without a reset (esptool --before/--after no-reset) and refuses an explicit reset', async () => {
    // The virtual ESP32 answers a SYNC that arrives without a reset by the lines, as a board put into download
    // mode by hand does.
    const kept = await run('flash', 'chip-id');
    expect(kept.stderr).toContain('Connected to ESP32');
    expect(kept.code).toBe(0);
    const asked = await run('flash', '--before', 'default-reset', 'chip-id');
    expect(asked.code).toBe(2);
    expect(asked.stderr.trim().split('\n').at(-1)).toMatch(/^boardctl: flash chip-id: --no-reset-lines: this step would move DTR\/RTS/);
  });
});
