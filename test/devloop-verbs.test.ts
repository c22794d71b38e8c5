// The small verbs of the edit-run loop through the built CLI on the virtual board: sleep in chains, rtc,
// edit with $EDITOR, romfs where the port has none.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chmodSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { rtcTuple } from '../protocol/board-clock.js';
import { boardctl } from './helpers/boardctl.js';
import { ensureBuilt } from './helpers/built-cli.js';
import { cliTerminal } from './helpers/cli-terminal.js';

const work = mkdtempSync(join(tmpdir(), 'boardctl-devloop-verbs-'));
const temp = join(work, 'tmp');
const env = { BOARDCTL_HOME: join(work, 'home'), TMPDIR: temp, VISUAL: '', EDITOR: '' };
const run = (args: string[], extra: Record<string, string> = {}) => boardctl(['-p', 'virtual', ...args], { ...env, ...extra }, [], 40_000);

/** A host folder holding `files` (name → text). */
function hostFolder(name: string, files: Record<string, string>): string {
  const dir = join(work, name);
  mkdirSync(dir);
  for (const [file, text] of Object.entries(files)) writeFileSync(join(dir, file), text);
  return dir;
}

/** An editor script: appends a line to the file it is given, then exits with `status`. */
function editor(name: string, status: number): string {
  const path = join(work, name);
  writeFileSync(path, `#!/bin/sh\necho "b = 2" >> "$1"\nexit ${status}\n`);
  chmodSync(path, 0o755);
  return path;
}

beforeAll(async () => {
  mkdirSync(temp);
  await ensureBuilt();
});
afterAll(() => rmSync(work, { recursive: true, force: true }));

describe('sleep', () => {
  it('waits between chain steps, and refuses what is not a number of seconds', async () => {
    const r = await run(['exec', 'import time; t = time.ticks_ms()', '+', 'sleep', '0.5', '+', 'exec', 'print(time.ticks_diff(time.ticks_ms(), t))']);
    expect(r.stderr).toBe('');
    expect(Number(r.stdout)).toBeGreaterThanOrEqual(490);
    const bad = await boardctl(['sleep', 'soon'], env);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toBe("boardctl: sleep: 'soon' is not a number of seconds (such as 0.5)\n");
  });
});

describe('rtc', () => {
  it("--set takes the host's local time (weekday 0 is Monday), and rtc reads it back", async () => {
    expect(rtcTuple(new Date(2024, 0, 1, 3, 4, 5, 6))).toEqual([2024, 1, 1, 0, 3, 4, 5, 6000]);
    const zone = 'Asia/Kolkata'; // UTC+5:30: a clock set in UTC would be off by hours
    const r = await run(['rtc', '--set', '+', 'rtc'], { TZ: zone });
    expect(r.code).toBe(0);
    const shown = /^(\d{4})-(\d\d)-(\d\d) (\d\d):(\d\d):(\d\d)\n$/.exec(r.stdout);
    expect(shown, r.stdout).not.toBeNull();
    const board = Date.UTC(+shown![1]!, +shown![2]! - 1, +shown![3]!, +shown![4]!, +shown![5]!, +shown![6]!);
    const wall = new Intl.DateTimeFormat('en-CA', { timeZone: zone, hourCycle: 'h23', year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', second: '2-digit' })
      .formatToParts(new Date())
      .reduce<Record<string, number>>((acc, p) => (p.type === 'literal' ? acc : { ...acc, [p.type]: Number(p.value) }), {});
    const host = Date.UTC(wall.year!, wall.month! - 1, wall.day!, wall.hour!, wall.minute!, wall.second!);
    expect(Math.abs(host - board)).toBeLessThan(30_000);
  });
});

describe('edit', () => {
  const leftovers = () => readdirSync(temp).filter((n) => n.startsWith('boardctl-edit-'));

  it('writes back an edited file, leaves an unedited one alone, and removes its temp copy', async () => {
    const r = await run(['exec', "with open('e.py', 'w') as f: f.write('a = 1\\n')", '+', 'edit', ':e.py', '+', 'edit', ':e.py', '+', 'fs', 'cat', ':e.py'], {
      EDITOR: editor('append.sh', 0),
    });
    expect(r.code).toBe(0);
    expect(r.stdout).toBe('a = 1\nb = 2\nb = 2\n');
    expect(r.stderr).toBe('boardctl: wrote :/e.py\nboardctl: wrote :/e.py\n');
    const same = await run(['edit', ':e.py', '+', 'fs', 'cat', ':e.py'], { VISUAL: 'true', EDITOR: editor('never.sh', 0) });
    expect(same.stdout).toBe('a = 1\nb = 2\nb = 2\n');
    expect(same.stderr).toBe('boardctl: unchanged :/e.py\n');
    expect(leftovers()).toEqual([]);
  });

  it('a failing, missing or unset editor is a one-line error and the board file stays as it was', async () => {
    const failing = await run(['edit', ':e.py'], { EDITOR: editor('fail.sh', 3) });
    expect(failing.code).not.toBe(0);
    expect(failing.stderr).toMatch(/exited with status 3; the board file is unchanged\n$/);
    const missing = await run(['edit', ':e.py'], { EDITOR: join(work, 'no-such-editor') });
    expect(missing.stderr.trim().split('\n').at(-1)).toMatch(/^boardctl: edit: editor '.*no-such-editor' not found/);
    const unset = await run(['edit', ':e.py', '+', 'fs', 'cat', ':e.py']);
    expect(unset.code).toBe(2);
    expect(unset.stderr).toBe('boardctl: edit: no editor: set $VISUAL or $EDITOR\n');
    const after = await run(['fs', 'cat', ':e.py']);
    expect(after.stdout).toBe('a = 1\nb = 2\nb = 2\n');
    expect(leftovers()).toEqual([]);
  });
});

describe('romfs', () => {
  it('is a one-line error on a port built without ROMFS', async () => {
    const r = await run(['romfs', 'query']);
    expect(r.code).toBe(1);
    expect(r.stderr).toBe('boardctl: romfs query: the board has no ROMFS (its firmware is built without MICROPY_VFS_ROM)\n');
  });
});

describe('fs cat of an empty file', () => {
  it('prints nothing and succeeds, also while a program still holds the file open (the link is not blamed)', async () => {
    const r = await run(['exec', "open('e.txt', 'w').close()\nf = open('held.py', 'w')\nf.write('x = 1')", '+', 'fs', 'cat', ':e.txt', ':held.py', '+', 'exec', 'f.close()', '+', 'fs', 'cat', ':held.py']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toBe('x = 1');
  });
});

describe('sync --delete to :/', () => {
  it("keeps the board's boot.py when the folder has none, and says so; extras the folder lacks go", async () => {
    const folder = hostFolder('sync-root', { 'main.py': "print('m')\n" });
    const r = await run(['exec', "open('/stale.py', 'w').write('x')", '+', 'fs', 'sync', '--delete', folder, ':/', '+', 'exec', "import os; print(sorted(os.listdir('/')))"]);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('delete :/stale.py');
    expect(r.stdout.trim().split('\n').at(-1)).toBe("['boot.py', 'main.py']");
    expect(r.stderr).toBe('boardctl: sync: --delete kept what the folder never had: :/boot.py\n');
  });
});

describe('--dtr / --rts', () => {
  it("set the lines on opening: RTS on with DTR off holds the virtual ESP32 in reset, both on do not", async () => {
    const both = await run(['--dtr', 'on', '--rts', '1', 'exec', 'print(1)']);
    expect(both.stdout).toBe('1\n');
    const held = await run(['--dtr', 'off', '--rts', 'on', 'exec', 'print(1)']);
    expect(held.code).toBe(5);
    expect(held.stderr).toMatch(/^boardctl: exec: virtual:default: no raw REPL prompt within \d+ ms; received: nothing\n$/);
    const bad = await boardctl(['--dtr', 'high', 'exec', '1'], env);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toBe("boardctl: exec: --dtr: 'high' is not a line level (on, off, 1 or 0)\n");
  });
});

describe('mount + repl', () => {
  it('mounts /remote again after a Ctrl-D soft reset in the terminal, without showing the raw REPL', async () => {
    const dir = hostFolder('mounted', { 'greet.py': "def hi():\n    return 'hi from the host'\n" });
    // A main.py that takes a while: the line typed during the boot must survive the remount.
    const boot = "with open('/main.py', 'w') as f:\n    f.write('import time\\ntime.sleep(0.5)\\nprint(\\'booted\\')\\n')";
    const term = cliTerminal(['-p', 'virtual', 'exec', boot, '+', 'mount', dir, '+', 'repl'], env);
    const screen = term.screen;
    try {
      await term.ready();
      term.write('x = 1\r\x04');
      await expect.poll(screen, { timeout: 10_000 }).toContain('soft reboot');
      // Typed at once: the keys wait while the helper runs, then reach the fresh REPL.
      term.write("import greet; print(greet.hi(), 'x' in globals())\r");
      await expect.poll(screen, { timeout: 15_000 }).toMatch(/\r\nbooted\r\n[^]*\r\nhi from the host False\r\n>>> /);
      expect(screen()).not.toContain('raw REPL');
      expect(screen().split('soft reboot')[1]).not.toContain('Traceback');
      term.write('\x1d');
      expect(await term.exited).toBe(0);
    } finally {
      term.kill();
    }
  });
});

describe('repl --inject-file', () => {
  it('pastes the file as it is when Ctrl-K is pressed', async () => {
    const file = join(work, 'inject.py');
    writeFileSync(file, "print('first', 6 * 7)\n");
    const term = cliTerminal(['-p', 'virtual', 'repl', '--inject-file', file], env);
    const screen = term.screen;
    try {
      await term.ready();
      term.write('\x0b');
      await expect.poll(screen, { timeout: 10_000 }).toMatch(/\r\nfirst 42\r\n/);
      writeFileSync(file, "print('second')\n");
      term.write('\x0b');
      await expect.poll(screen, { timeout: 10_000 }).toMatch(/\r\nsecond\r\n/);
      term.write('\x1d');
      expect(await term.exited).toBe(0);
    } finally {
      term.kill();
    }
  });
});
