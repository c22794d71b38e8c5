// The client's command battery on real MicroPython firmware (qemu, see qemu.ts), through the built CLI as
// users run it: every check passes or gives its documented clear error, and none shows a traceback from
// boardctl's own board-side code. One qemu per test file; each image's file calls qemuBattery().
import { spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pty from '@lydell/node-pty';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { qemuMissing, startQemu, type Qemu, type QemuImage } from './qemu.js';

const MAIN = join(import.meta.dirname, '..', '..', 'dist', 'cli', 'main.js');

export interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

export interface ImageFacts {
  /** littlefs at / (stock has no filesystem: open() raises ENODEV). */
  fs: boolean;
  /** hashlib, binascii and deflate (lean has none of them). */
  hashlib: boolean;
}

const sha = (data: Uint8Array | string) => createHash('sha256').update(data).digest('hex');

/** Nothing from our own helpers: no traceback at all unless the check provoked one in user code. */
function clean(r: Run): Run {
  expect(r.stderr).not.toContain('Traceback');
  expect(r.stderr).not.toContain('<string>');
  expect(r.stdout).not.toContain('Traceback');
  return r;
}

function tree(root: string, files: Record<string, string | Uint8Array>): void {
  for (const [rel, content] of Object.entries(files)) {
    mkdirSync(join(root, rel, '..'), { recursive: true });
    writeFileSync(join(root, rel), content);
  }
}

export function qemuBattery(image: QemuImage, facts: ImageFacts): void {
  const missing = qemuMissing(image) ?? (existsSync(MAIN) ? undefined : `${MAIN} is missing (npm run build)`);
  // Each check runs several CLI processes on a board whose link moves 9 KB/s; a loaded CI machine needs room.
  describe(`real firmware under qemu: ${image}.elf`, { timeout: 180_000 }, () => {
    if (missing) {
      console.warn(`qemu lane (${image}) skipped: ${missing}`);
      it.skip(`skipped: ${missing}`, () => {});
      return;
    }
    let q: Qemu;
    let home: string;
    let host: string;
    beforeAll(async () => {
      home = mkdtempSync(join(tmpdir(), `boardctl-qemu-${image}-home-`));
      host = mkdtempSync(join(tmpdir(), `boardctl-qemu-${image}-`));
      q = await startQemu(image);
    }, 30_000);
    afterAll(async () => {
      await q?.stop();
      rmSync(home, { recursive: true, force: true });
      rmSync(host, { recursive: true, force: true });
    });

    const boardctl = (...args: string[]): Promise<Run> =>
      new Promise((resolve, reject) => {
        const child = spawn(process.execPath, [MAIN, '-p', q.path, ...args], {
          env: { ...process.env, BOARDCTL_HOME: home, BOARDCTL_PORT: '' },
          stdio: ['ignore', 'pipe', 'pipe'],
        });
        let stdout = '';
        let stderr = '';
        child.stdout.on('data', (d) => (stdout += d));
        child.stderr.on('data', (d) => (stderr += d));
        const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
        child.on('error', reject);
        child.on('close', (code) => {
          clearTimeout(timer);
          resolve({ code, stdout, stderr });
        });
      });
    const ok = async (...args: string[]) => {
      const r = clean(await boardctl(...args));
      expect(r.stderr).toBe('');
      expect(r.code).toBe(0);
      return r;
    };
    /** The documented error: exit code and a one-line `boardctl: CMD: …` message. */
    const fails = async (exit: number, message: RegExp, ...args: string[]) => {
      const r = clean(await boardctl(...args));
      expect(r.code).toBe(exit);
      expect(r.stderr).toMatch(message);
      expect(r.stderr.trim().split('\n').every((l) => l.startsWith('boardctl: '))).toBe(true);
      return r;
    };

    it('exec, eval, run, chains and soft-reset', async () => {
      expect((await ok('exec', 'import sys;print(sys.platform)')).stdout).toBe('qemu\r\n');
      expect((await ok('exec', 'x = 6', '+', 'eval', 'x * 7')).stdout).toBe('42\n');
      writeFileSync(join(host, 'prog.py'), 'for i in range(3):\n    print("line", i)\n');
      expect((await ok('run', join(host, 'prog.py'))).stdout).toBe('line 0\r\nline 1\r\nline 2\r\n');
      expect((await ok('exec', 'y = 1', '+', 'soft-reset', '+', 'eval', "'y' in globals()")).stdout).toBe('False\n');
      const json = JSON.parse((await ok('--json', 'eval', '1 + 1')).stdout) as Record<string, unknown>;
      expect(json).toMatchObject({ command: 'eval', ok: true, value: '2' });
    });

    it("a program's traceback is its own, exit 1; a missing local file is a one-line error", async () => {
      const r = await boardctl('exec', 'def f():\n    raise ValueError("bad")\nf()');
      expect(r.code).toBe(1);
      expect(r.stderr).toBe('Traceback (most recent call last):\r\n  File "<stdin>", line 3, in <module>\r\n  File "<stdin>", line 2, in f\r\nValueError: bad\r\n');
      await fails(1, /^boardctl: run: .*nope\.py: no such file$/m, 'run', join(host, 'nope.py'));
    });

    it('resume keeps the state, also right after a program left running (Ctrl-C cannot stop it here)', async () => {
      await ok('exec', 'z = 5');
      expect((await ok('resume', 'eval', 'z')).stdout).toBe('5\n');
      await ok('exec', '--no-follow', 'import time\ntime.sleep(1.5)\nw = 9');
      // The board answers the first Ctrl-A only after the sleep: the banners of every retry must not count.
      expect((await ok('resume', 'eval', 'w', '+', 'eval', 'w + 1')).stdout).toBe('9\n10\n');
    });

    it('repl shows the board\'s CR LF as CR LF and quits on Ctrl-]', async () => {
      const term = pty.spawn(process.execPath, [MAIN, '-p', q.path, 'repl'], {
        env: { ...process.env, BOARDCTL_HOME: home, BOARDCTL_PORT: '' } as Record<string, string>,
        cols: 100,
        rows: 30,
      });
      let screen = '';
      term.onData((d) => (screen += d));
      const exited = new Promise<number>((resolve) => term.onExit(({ exitCode }) => resolve(exitCode)));
      try {
        await expect.poll(() => screen, { timeout: 10_000 }).toContain('Ctrl-] or Ctrl-X to quit');
        term.write('\r');
        await expect.poll(() => screen, { timeout: 10_000 }).toContain('>>> ');
        term.write('print(2 + 3)\r');
        await expect.poll(() => screen, { timeout: 10_000 }).toMatch(/\r\n5\r\n>>> /);
        expect(screen).not.toContain('\r\r\n');
        term.write('\x1d');
        expect(await exited).toBe(0);
      } finally {
        term.kill();
      }
    });

    if (!facts.fs) {
      it('without a filesystem every file verb says "No such device" (as mpremote), exit 1', async () => {
        writeFileSync(join(host, 'a.py'), 'print(1)\n');
        expect((await ok('ls')).stdout).toBe('');
        await fails(1, /^boardctl: cp: :\/a\.py: No such device$/m, 'cp', join(host, 'a.py'), ':');
        const json = JSON.parse((await boardctl('--json', 'cp', join(host, 'a.py'), ':/a.py')).stdout.trim().split('\n').at(-1)!) as Record<string, unknown>;
        expect(json).toMatchObject({ ok: false, error: 'DEVICE_OSERROR', errno: 19, message: ':/a.py: No such device' });
        await fails(1, /^boardctl: cat: :\/a\.py: No such device$/m, 'cat', ':/a.py');
        await fails(1, /^boardctl: mkdir: :\/d: No such device$/m, 'mkdir', ':/d');
        await fails(1, /^boardctl: touch: :\/t: No such device$/m, 'touch', ':/t');
        await fails(1, /^boardctl: sha256sum: :\/a\.py: No such device$/m, 'sha256sum', ':/a.py');
        tree(join(host, 'proj'), { 'main.py': 'x = 1\n' });
        await fails(1, /^boardctl: sync: :\/main\.py: No such device$/m, 'sync', join(host, 'proj'), ':/');
        expect((await ok('df')).stdout).toMatch(/ 0 +0 +0 +0% +\//);
      });
      return;
    }

    it('every fs verb', async () => {
      writeFileSync(join(host, 'a.py'), 'print("a")\n');
      await ok('cp', join(host, 'a.py'), ':');
      await ok('mkdir', '-p', ':/m/n/o', '+', 'mkdir', ':/m/p', '+', 'touch', ':/m/t.txt', '+', 'rmdir', ':/m/n/o');
      expect((await ok('ls', ':/m')).stdout).toBe(`${'0'.padStart(12)} n/\n${'0'.padStart(12)} p/\n${'0'.padStart(12)} t.txt\n`);
      expect((await ok('ls', '-l', ':/a.py')).stdout).toMatch(/^ +11 \d{4}-\d\d-\d\d \d\d:\d\d \/a\.py\n$/);
      expect((await ok('cat', ':a.py')).stdout).toBe('print("a")\n');
      await ok('cp', ':/a.py', ':/m/b.py');
      expect((await ok('cat', ':/m/b.py')).stdout).toBe('print("a")\n');
      expect((await ok('tree', '-s', ':/m')).stdout).toBe(`:/m\n├── [       11]  b.py\n├── n\n├── p\n└── [        0]  t.txt\n`);
      expect((await ok('df')).stdout).toMatch(/Size +Used +Avail +Use% +Mounted on\n +2\.0M /);
      await ok('rm', ':/m/b.py', '+', 'rm', '-r', ':/m');
      expect((await ok('ls')).stdout).toBe(`${'11'.padStart(12)} a.py\n`);
      await fails(1, /^boardctl: cat: :\/nope\.py: No such file or directory$/m, 'cat', ':/nope.py');
      await fails(1, /^boardctl: mkdir: :\/a\.py: File exists$/m, 'mkdir', ':/a.py');
      mkdirSync(join(host, 'dir'));
      await fails(1, /is a directory \(not copied; use -r\)$/m, 'cp', join(host, 'dir'), ':/');
    });

    it('cp -r both ways, text and binary, with names that only look like traversal', async () => {
      const src = join(host, 'src');
      const blob = randomBytes(6000);
      const text = Array.from({ length: 300 }, (_, i) => `value_${i} = ${i * 7}  # comment\n`).join('');
      tree(src, { 'a.py': 'A = 1\n', 'lib/big.py': text, 'lib/blob.bin': blob, '..bak': 'dots\n' });
      // No :lib yet: lib becomes the copy (lib/a.py, as mpremote and POSIX cp do).
      await ok('cp', '-r', `${src}/`, ':lib/');
      expect((await ok('ls', ':/lib')).stdout).toBe(`${'5'.padStart(12)} ..bak\n${'6'.padStart(12)} a.py\n${'0'.padStart(12)} lib/\n`);
      expect((await ok('exec', 'import sys\nsys.path.append("/lib/lib")\nimport big\nprint(big.value_299)')).stdout).toBe('2093\r\n');
      const back = join(host, 'back');
      await ok('cp', '-r', ':/lib', back);
      expect(readFileSync(join(back, 'lib', 'big.py'), 'utf8')).toBe(text);
      expect(readFileSync(join(back, 'lib', 'blob.bin')).equals(blob)).toBe(true);
      expect(readFileSync(join(back, '..bak'), 'utf8')).toBe('dots\n');
      // The whole board.
      const all = join(host, 'all');
      await ok('cp', '-r', ':/', `${all}/`);
      expect(readdirSync(all).sort()).toEqual(['a.py', 'lib']);
      expect(readFileSync(join(all, 'lib', 'lib', 'big.py'), 'utf8')).toBe(text);
      const json = JSON.parse((await ok('--json', 'cp', join(src, 'a.py'), ':/c.py')).stdout) as { files: { ok: boolean }[] };
      expect(json.files).toMatchObject([{ ok: true, path: '/c.py' }]);
    });

    it('sync with --dry-run and --delete', async () => {
      const proj = join(host, 'proj');
      tree(proj, { 'main.py': 'print("v1")\n', 'lib/util.py': 'U = 1\n', 'data.bin': randomBytes(3000) });
      const first = await ok('sync', proj, ':/app');
      expect(first.stdout).toContain('3 to upload, 0 to delete, 0 unchanged');
      const again = await boardctl('sync', proj, ':/app');
      clean(again);
      expect(again.code).toBe(0);
      expect(again.stdout).toContain('0 to upload, 0 to delete, 3 unchanged');
      // Without hashlib the files are read back and hashed here, and sync says so in one line.
      expect(again.stderr).toBe(facts.hashlib ? '' : 'boardctl: sync: no hashlib on the board: compared 3 same-size files by reading them back\n');
      writeFileSync(join(proj, 'main.py'), 'print("v2")\n'); // same size, other content
      await ok('exec', "open('/app/stale.py','w').write('x')");
      const dry = clean(await boardctl('sync', '--dry-run', '--delete', proj, ':/app'));
      expect(dry.stdout).toContain('would delete :/app/stale.py');
      expect(dry.stdout).toContain('would upload main.py (changed)');
      expect((await ok('cat', ':/app/main.py')).stdout).toBe('print("v1")\n');
      const real = clean(await boardctl('--json', 'sync', '--delete', proj, ':/app'));
      expect(real.code).toBe(0);
      expect(JSON.parse(real.stdout)).toMatchObject({ ok: true, plan: { uploads: [{ rel: 'main.py' }], deletes: [{ rel: 'stale.py' }] } });
      expect((await ok('cat', ':/app/main.py')).stdout).toBe('print("v2")\n');
      expect((await ok('ls', ':/app')).stdout).not.toContain('stale.py');
    });

    it(`sha256sum ${facts.hashlib ? 'on the board' : 'on the host after reading the file back, saying so'}`, async () => {
      const data = randomBytes(4000);
      writeFileSync(join(host, 'h.bin'), data);
      await ok('cp', join(host, 'h.bin'), ':/h.bin');
      const r = clean(await boardctl('sha256sum', ':/h.bin'));
      expect(r.code).toBe(0);
      expect(r.stdout).toBe(`${sha(data)}  /h.bin\n`);
      expect(r.stderr).toBe(facts.hashlib ? '' : 'boardctl: sha256sum: no hashlib on the board: hashing on the host after reading the files back\n');
    });
  });
}
