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
