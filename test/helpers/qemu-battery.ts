// The client's command battery on real MicroPython firmware (qemu, see qemu.ts), through the built CLI as
// users run it: every check passes or gives its documented clear error, and none shows a traceback from
// boardctl's own board-side code. One qemu per test file; each image's file calls qemuBattery().
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { boardctl as runCli, type CliRun } from './boardctl.js';
import { MAIN } from './built-cli.js';
import { cliTerminal } from './cli-terminal.js';
import { qemuMissing, startQemu, type Qemu, type QemuImage } from './qemu.js';
import { WATCH_RUNS } from './watch-runs.js';


type Run = CliRun;

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
  describe(`real firmware under qemu: ${image}.elf`, { timeout: 300_000 }, () => {
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

    // Each check runs on a board whose link moves 9 KB/s, and slower on a loaded host (the 17-command fs chain
    // took 17-23 s at load 13 and 54-69 s at load 15-20): two minutes per CLI process.
    const boardctl = (...args: string[]): Promise<Run> => runCli(['-p', q.path, ...args], { BOARDCTL_HOME: home }, [], 120_000);
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

    // Chains (`+`) share one connection, as users chain them; they keep the number of processes, each
    // paying the soft reset and probe on a 9 KB/s link, low.
    it('exec, eval, run, chains, soft-reset and --json', async () => {
      writeFileSync(join(host, 'prog.py'), 'for i in range(3):\n    print("line", i)\n');
      const chain = await ok('exec', 'import sys;print(sys.platform)', '+', 'exec', 'x = 6', '+', 'eval', 'x * 7', '+', 'run', join(host, 'prog.py'), '+', 'exec', 'y = 1', '+', 'soft-reset', '+', 'exec', 'v = 1', '+', 'eval', 'sorted(dir())');
      // The soft reset cleared y; the checksum guard around every program leaves none of its names behind.
      expect(chain.stdout).toBe("qemu\n42\nline 0\nline 1\nline 2\n['__file__', '__name__', 'v']\n");
      const json = (await ok('--json', 'eval', '1 + 1', '+', 'exec', 'print(3)')).stdout.trim().split('\n').map((l) => JSON.parse(l) as unknown);
      expect(json).toMatchObject([{ command: 'eval', ok: true, value: '2' }, { command: 'exec', ok: true, stdout: '3\r\n' }]);
    });

    it("a program's traceback is its own, exit 1; a missing local file is a one-line error", async () => {
      const r = await boardctl('exec', 'def f():\n    raise ValueError("bad")\nf()');
      expect(r.code).toBe(1);
      expect(r.stderr).toBe('Traceback (most recent call last):\n  File "<stdin>", line 3, in <module>\n  File "<stdin>", line 2, in f\nValueError: bad\n');
      // Nor after a program's error (resume: no soft reset in between).
      expect((await ok('resume', 'eval', 'sorted(dir())')).stdout).toBe("['__file__', '__name__', 'f']\n");
      await fails(1, /^boardctl: run: .*nope\.py: [Nn]o such file( or directory)?$/m, 'run', join(host, 'nope.py'));
    });

    it('resume keeps the state, also right after a program left running (Ctrl-C cannot stop it here)', async () => {
      await ok('exec', 'z = 5');
      expect((await ok('resume', 'eval', 'z')).stdout).toBe('5\n');
      // Not longer: qemu's guest clock runs 2-6x slower than the wall clock on a loaded host (a 1.5 s sleep took
      // 3-9 s at load 11-16, past the 10 s raw REPL deadline at load 20+), and the next command waits for it.
      await ok('exec', '--no-follow', 'import time\ntime.sleep(1)\nw = 9');
      // The board answers the first Ctrl-A only after the sleep: the banners of every retry must not count.
      expect((await ok('resume', 'eval', 'w', '+', 'eval', 'w + 1')).stdout).toBe('9\n10\n');
    });

    it('repl shows the board\'s CR LF as CR LF and quits on Ctrl-]', async () => {
      const term = cliTerminal(['-p', q.path, 'repl'], { BOARDCTL_HOME: home });
      try {
        await term.ready();
        term.write('print(2 + 3)\r');
        await expect.poll(term.screen, { timeout: 10_000 }).toMatch(/\r\n5\r\n>>> /);
        expect(term.screen()).not.toContain('\r\r\n');
        term.write('\x1d');
        expect(await term.exited).toBe(0);
      } finally {
        term.kill();
      }
    });

    // This port's time has no gmtime(), which mount's board side once needed to learn the board's epoch.
    it('mount: the host folder at /remote, its package imported, listed, stat()ed and written to', async () => {
      const proj = join(host, 'mounted');
      const big = `data = '${'x'.repeat(3000)}'\n`;
      tree(proj, { 'lib/pkg/__init__.py': 'from .m import X\n', 'lib/pkg/m.py': 'X = 41\n', 'big.py': big });
      const program = "import sys, os\nsys.path.append('/remote/lib')\nimport pkg, big\nprint(pkg.X + 1, len(big.data), os.getcwd(), sorted(os.listdir()), os.stat('big.py')[6])\nwith open('out.txt', 'w') as f:\n    f.write('w' * 5000)";
      const r = clean(await boardctl('mount', proj, '+', 'exec', program));
      expect(r).toMatchObject({ code: 0, stdout: `42 3000 /remote ['big.py', 'lib'] ${big.length}\n`, stderr: `boardctl: mounted ${proj} at /remote\n` });
      expect(readFileSync(join(proj, 'out.txt'), 'utf8')).toBe('w'.repeat(5000));
    });

    it('rtc on a port without machine.RTC says so in one line, exit 1', async () => {
      await fails(1, /^boardctl: rtc: the board has no clock: its machine module has no RTC\n$/, 'rtc');
      const json = JSON.parse((await boardctl('--json', 'rtc', '--set')).stdout) as Record<string, unknown>;
      expect(json).toMatchObject({ command: 'rtc', ok: false, error: 'DEVICE_OSERROR', lacking: 'machine.RTC' });
    });

    if (!facts.fs) {
      it('without a filesystem every file verb says "No such device" (as mpremote), exit 1', async () => {
        writeFileSync(join(host, 'a.py'), 'print(1)\n');
        expect((await ok('ls', '+', 'df')).stdout).toMatch(/^ +Size.*\n +0 +0 +0 +0% +\/\n$/);
        const json = JSON.parse((await boardctl('--json', 'cp', join(host, 'a.py'), ':')).stdout.trim().split('\n').at(-1)!) as Record<string, unknown>;
        expect(json).toMatchObject({ ok: false, error: 'DEVICE_OSERROR', errno: 19, message: ':/a.py: No such device' });
        await fails(1, /^boardctl: cat: :\/a\.py: No such device$/m, 'cat', ':/a.py');
        await fails(1, /^boardctl: mkdir: :\/d: No such device$/m, 'mkdir', ':/d');
        await fails(1, /^boardctl: sha256sum: :\/a\.py: No such device$/m, 'sha256sum', ':/a.py');
        tree(join(host, 'proj'), { 'main.py': 'x = 1\n' });
        await fails(1, /^boardctl: sync: :\/main\.py: No such device$/m, 'sync', join(host, 'proj'), ':/');
      });
      return;
    }

    it('every fs verb, and their errors', async () => {
      writeFileSync(join(host, 'a.py'), 'print("a")\n');
      const pad = (n: number) => String(n).padStart(12);
      const r = await ok(
        ...['cp', join(host, 'a.py'), ':', '+', 'mkdir', '-p', ':/m/n/o', '+', 'mkdir', ':/m/p', '+', 'touch', ':/m/t.txt', '+', 'rmdir', ':/m/n/o'],
        ...['+', 'ls', ':/m', '+', 'ls', '-l', ':/a.py', '+', 'cat', ':a.py', '+', 'cp', ':/a.py', ':/m/b.py', '+', 'cat', ':/m/b.py', '+', 'tree', '-s', ':/m'],
        ...['+', 'df', '+', 'rm', ':/m/b.py', '+', 'rm', '-r', ':/m', '+', 'ls'],
      );
      const expected = [
        `${pad(0)} n/\n${pad(0)} p/\n${pad(0)} t.txt\n`,
        ` +11 \\d{4}-\\d\\d-\\d\\d \\d\\d:\\d\\d /a\\.py\n`,
        'print\\("a"\\)\nprint\\("a"\\)\n',
        ':/m\n├── \\[ +11\\]  b\\.py\n├── n\n├── p\n└── \\[ +0\\]  t\\.txt\n',
        ' +Size +Used +Avail +Use% +Mounted on\n +2\\.0M .*/\n',
        `${pad(11)} a\\.py\n`,
      ];
      expect(r.stdout).toMatch(new RegExp(`^${expected.join('')}$`));
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
      const back = join(host, 'back');
      const all = join(host, 'all');
      // No :lib yet: lib becomes the copy (lib/a.py, as mpremote and POSIX cp do); then back, and the whole board.
      const r = await ok(
        ...['cp', '-r', `${src}/`, ':lib/', '+', 'ls', ':/lib', '+', 'exec', 'import sys\nsys.path.append("/lib/lib")\nimport big\nprint(big.value_299)'],
        ...['+', 'cp', '-r', ':/lib', back, '+', 'cp', '-r', ':/', `${all}/`],
      );
      expect(r.stdout).toBe(`${'5'.padStart(12)} ..bak\n${'6'.padStart(12)} a.py\n${'0'.padStart(12)} lib/\n2093\n`);
      expect(readFileSync(join(back, 'lib', 'big.py'), 'utf8')).toBe(text);
      expect(readFileSync(join(back, 'lib', 'blob.bin')).equals(blob)).toBe(true);
      expect(readFileSync(join(back, '..bak'), 'utf8')).toBe('dots\n');
      expect(readdirSync(all).sort()).toEqual(['a.py', 'lib']);
      expect(readFileSync(join(all, 'lib', 'lib', 'big.py'), 'utf8')).toBe(text);
    });

    it(`cp again ${facts.hashlib ? 'leaves the files the board holds alone (sha256 on the board)' : 'sends every file (no hashlib to compare with)'}; -f always sends`, async () => {
      const same = join(host, 'same.py');
      writeFileSync(same, 'S = 1\n');
      const r = clean(await boardctl('--json', 'cp', same, ':/same.py', '+', 'cp', same, ':/same.py', '+', 'cp', '-f', same, ':/'));
      expect(r.code).toBe(0);
      const files = r.stdout.trim().split('\n').map((l) => (JSON.parse(l) as { files: { unchanged?: boolean }[] }).files[0]!.unchanged);
      expect(files).toEqual([undefined, facts.hashlib ? true : undefined, undefined]);
      writeFileSync(same, 'S = 2\n'); // same size, other bytes
      expect((await ok('cp', same, ':/', '+', 'cat', ':/same.py')).stdout).toBe('S = 2\n');
    });

    it("watch's runs reload the project's modules and keep one imported from / before", async () => {
      expect((await ok(...WATCH_RUNS.chain)).stdout).toBe(WATCH_RUNS.stdout);
    });

    it('sync with --dry-run and --delete', async () => {
      const proj = join(host, 'proj');
      tree(proj, { 'main.py': 'print("v1")\n', 'lib/util.py': 'U = 1\n', 'data.bin': randomBytes(3000) });
      const first = await ok('sync', proj, ':/app');
      expect(first.stdout).toContain('3 to upload, 0 to delete, 0 unchanged');
      writeFileSync(join(proj, 'main.py'), 'print("v2")\n'); // same size, other content
      const dry = clean(await boardctl('exec', "open('/app/stale.py','w').write('x')", '+', 'sync', '--dry-run', '--delete', proj, ':/app'));
      expect(dry.code).toBe(0);
      expect(dry.stdout).toContain('would delete :/app/stale.py');
      expect(dry.stdout).toContain('would upload main.py (changed)');
      expect(dry.stdout).toContain('1 to upload, 1 to delete, 2 unchanged (dry run)');
      // Without hashlib the files are read back and hashed here, and sync says so in one line.
      expect(dry.stderr).toBe(facts.hashlib ? '' : 'boardctl: sync: no hashlib on the board: compared 3 same-size files by reading them back\n');
      const real = clean(await boardctl('--json', 'cat', ':/app/main.py', '+', 'sync', '--delete', proj, ':/app', '+', 'cat', ':/app/main.py', '+', 'ls', ':/app'));
      expect(real.code).toBe(0);
      const docs = real.stdout.trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
      expect(docs).toMatchObject([
        { command: 'cat', text: 'print("v1")\n' },
        { command: 'sync', ok: true, plan: { uploads: [{ rel: 'main.py' }], deletes: [{ rel: 'stale.py' }] } },
        { command: 'cat', text: 'print("v2")\n' },
        { command: 'ls', ok: true },
      ]);
      expect(JSON.stringify(docs[3])).not.toContain('stale.py');
    });

    it(`sha256sum ${facts.hashlib ? 'on the board' : 'on the host after reading the file back, saying so'}`, async () => {
      const data = randomBytes(4000);
      writeFileSync(join(host, 'h.bin'), data);
      const r = clean(await boardctl('cp', join(host, 'h.bin'), ':/h.bin', '+', 'sha256sum', ':/h.bin'));
      expect(r.code).toBe(0);
      expect(r.stdout).toBe(`${sha(data)}  /h.bin\n`);
      expect(r.stderr).toBe(facts.hashlib ? '' : 'boardctl: sha256sum: no hashlib on the board: hashing on the host after reading the files back\n');
    });
  });
}
