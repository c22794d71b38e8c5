// The virtual board's flash: every write reaches the host file at once (a crash of boardctl loses nothing), and
// the fsyncs littlefs asks for at each commit are coalesced (at most one per delay while writes go on, and at
// close), so small files are not bound by the host disk.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FileFlashStore } from '../emulator/flash-store.js';
import { createBoard } from '../emulator/board-store.js';
import { boardctl } from './helpers/boardctl.js';
import { MAIN, ensureBuilt } from './helpers/built-cli.js';

const dir = mkdtempSync(join(tmpdir(), 'boardctl-flash-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('FileFlashStore', () => {
  it('writes through at once and fsyncs once per delay while writes go on, and at close', () => {
    const path = join(dir, 'coalesce.bin');
    let t = 0;
    const flash = FileFlashStore.create(path, 8192, { syncDelayMs: 100, now: () => t });
    const base = flash.counters.fsyncs;
    flash.write(10, Uint8Array.of(1, 2, 3));
    flash.sync();
    // Another reader of the file (the OS's page cache) has the bytes before any fsync.
    expect([...readFileSync(path).subarray(10, 13)]).toEqual([1, 2, 3]);
    expect(flash.counters.fsyncs).toBe(base);
    t = 60;
    flash.write(20, Uint8Array.of(4));
    flash.sync();
    t = 99;
    flash.flushDue();
    expect(flash.counters.fsyncs).toBe(base);
    // Due by the oldest unsynced write (t=0), not the newest.
    t = 100;
    flash.flushDue();
    expect(flash.counters.fsyncs).toBe(base + 1);
    t = 500;
    flash.sync();
    flash.flushDue();
    expect(flash.counters.fsyncs, 'nothing written since: no fsync').toBe(base + 1);
    flash.write(30, Uint8Array.of(5));
    flash.sync();
    expect(flash.counters.fsyncs).toBe(base + 1);
    flash.close();
    expect(flash.counters.fsyncs, 'close makes the last writes durable').toBe(base + 2);
    expect(flash.counters).toMatchObject({ syncs: 4 });
  });

  it('with no delay, fsyncs at every sync that follows a write', () => {
    const flash = FileFlashStore.create(join(dir, 'eager.bin'), 8192, { syncDelayMs: 0 });
    const base = flash.counters.fsyncs;
    for (let i = 0; i < 3; i++) {
      flash.write(i, Uint8Array.of(i));
      flash.sync();
    }
    flash.sync();
    expect(flash.counters.fsyncs).toBe(base + 3);
    flash.close();
  });
});

describe('the unsynced mark another thread reads', () => {
  it('is set by a write and cleared by the fsync that makes it durable', () => {
    const unsynced = new Int32Array(new SharedArrayBuffer(4));
    const flash = FileFlashStore.create(join(dir, 'marked.bin'), 8192, { unsynced });
    expect(unsynced[0], 'creating an image writes its erased bytes').toBe(1);
    flash.flush();
    expect(unsynced[0]).toBe(0);
    flash.write(0, Uint8Array.of(1));
    flash.sync();
    expect(unsynced[0], 'written, its fsync not yet due').toBe(1);
    flash.flush();
    expect(unsynced[0]).toBe(0);
    flash.read(0, 16);
    expect(unsynced[0], 'a read leaves it').toBe(0);
    flash.erase(4096, 4096);
    expect(unsynced[0]).toBe(1);
    flash.close();
    expect(unsynced[0], 'close fsyncs').toBe(0);
  });
});

describe("a command's end on the in-process virtual board", () => {
  const home = join(dir, 'ending');
  const env = { BOARDCTL_HOME: home, BOARDCTL_DEBUG: 'timing' };
  const afterStop = 'flash image fsynced after its worker stopped';
  beforeAll(async () => {
    await ensureBuilt();
    createBoard('ending', { home });
    // The first boot formats the filesystem: writes this test is not about.
    expect((await boardctl(['-p', 'virtual:ending', 'exec', 'pass'], env, [], 60_000)).code).toBe(0);
  }, 90_000);

  it('fsyncs the image after a write whose coalesced fsync was not yet due, and not when nothing was written', async () => {
    const quiet = await boardctl(['-p', 'virtual:ending', 'exec', 'pass'], env, [], 60_000);
    expect(quiet.code, quiet.stderr).toBe(0);
    expect(quiet.stderr).not.toMatch(/fsync/);
    const wrote = await boardctl(['-p', 'virtual:ending', 'exec', "f = open('/w.txt', 'w'); f.write('x'); f.close()"], env, [], 60_000);
    expect(wrote.code, wrote.stderr).toBe(0);
    // The worker's own fsync, if it came due before the command ended, or the one after its stop: either way, last.
    const fsyncs = wrote.stderr.split('\n').filter((l) => /fsync/.test(l));
    expect(fsyncs.at(-1), wrote.stderr).toMatch(new RegExp(`${afterStop}|flash: fsync`));
    const read = await boardctl(['-p', 'virtual:ending', 'exec', "print(open('/w.txt').read())"], env, [], 60_000);
    expect(read.stdout.trim()).toBe('x');
  }, 120_000);
});

describe('a boardctl killed right after a cp', () => {
  const home = join(dir, 'home');
  const src = join(dir, 'src');
  // Inline files, one-block and multi-block CTZ files, an empty one: bytes that differ file to file.
  const sizes = [0, 1, 200, 511, 2000, 4096, 5000, 9000, ...Array.from({ length: 24 }, (_, i) => 150 + i * 37)];
  const files = sizes.map((n, i) => ({ name: `f${i}.bin`, data: Buffer.from(Array.from({ length: n }, (_, k) => (k * 131 + i * 7 + (k >> 8)) & 0xff)) }));
  beforeAll(async () => {
    await ensureBuilt();
    mkdirSync(src);
    for (const f of files) writeFileSync(join(src, f.name), f.data);
    createBoard('killed', { home });
  });

  it('leaves every file readable with its bytes at the next boot', async () => {
    const env = { ...process.env, BOARDCTL_PORT: '', BOARDCTL_HOME: home };
    const program = "print('copied')\nimport time\ntime.sleep(60)";
    const child = spawn(process.execPath, [MAIN, '-p', 'virtual:killed', 'cp', '-r', src, ':/up', '+', 'exec', program], {
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (d) => (stderr += d));
    const killed = await new Promise<NodeJS.Signals | null>((resolve, reject) => {
      let out = '';
      const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
      child.stdout.on('data', (d) => {
        out += d;
        // At once: the board's last writes are in the OS's page cache, their fsync possibly not yet due.
        if (out.includes('copied')) process.kill(child.pid!, 'SIGKILL');
      });
      child.on('error', reject);
      child.on('exit', (_code, signal) => (clearTimeout(timer), resolve(signal)));
    });
    expect(killed, stderr).toBe('SIGKILL');
    const check =
      "import os,hashlib,binascii\nfor n in sorted(os.listdir('/up')):\n" +
      " print(n, binascii.hexlify(hashlib.sha256(open('/up/'+n,'rb').read()).digest()).decode())";
    const r = await boardctl(['-p', 'virtual:killed', 'exec', check], { BOARDCTL_HOME: home }, [], 60_000);
    expect(r.stderr).toBe('');
    const want = files.map((f) => `${f.name} ${createHash('sha256').update(f.data).digest('hex')}`).sort();
    expect(r.stdout.trim().split('\n').map((l) => l.trim()).sort()).toEqual(want);
  }, 120_000);
});
