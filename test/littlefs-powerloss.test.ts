import { spawn } from 'node:child_process';
import { appendFileSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { build } from 'esbuild';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { FileFlashStore } from '../emulator/flash-store.js';
import { BlockDevice } from '../emulator/littlefs/block-device.js';
import { LittleFs } from '../emulator/littlefs/lfs.js';
import { checkImage } from '../emulator/littlefs/image-tools.js';
import { lfsWriterContent, lfsWriterMovedPath, lfsWriterPath, lfsWriterVersion } from './helpers/lfs-content.js';

const KILLS = 30;
let dir = '';
let script = '';

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'lfs-powerloss-'));
  script = join(dir, 'lfs-writer.mjs');
  // The writer runs as a plain node process so it can be SIGKILLed; bundle it from TypeScript once.
  await build({
    entryPoints: [join(import.meta.dirname, 'helpers/lfs-writer.ts')],
    bundle: true, platform: 'node', format: 'esm', outfile: script, logLevel: 'silent',
  });
});

afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

type State = number | 'absent' | 'empty';
type Expect = { done?: State; pending?: { write: number } | 'remove'; moving?: boolean };

/** What each file may hold, from the writer's log: the last completed state, plus the interrupted operation. */
function expectations(log: string): Map<number, Expect> {
  const m = new Map<number, Expect>();
  for (const line of log.split('\n').filter(Boolean)) {
    const [op, ks, vs] = line.split(' ');
    const k = Number(ks);
    const e = m.get(k) ?? {};
    if (op === 'B') e.pending = { write: Number(vs) };
    if (op === 'D') { e.done = Number(vs); e.pending = undefined; }
    if (op === 'R') e.pending = 'remove';
    if (op === 'X') { e.done = 'absent'; e.pending = undefined; }
    if (op === 'M') e.moving = true;
    if (op === 'N') e.moving = false;
    // What the test found after a cut: an interrupted operation is settled one way or the other.
    if (op === 'S') { e.done = vs === 'absent' || vs === 'empty' ? vs : Number(vs); e.pending = undefined; e.moving = false; }
    m.set(k, e);
  }
  return m;
}

function runUntilKilled(image: string, log: string, seed: number, first: number, ms: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [script, image, log, String(seed), String(first)], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d) => { stderr += d; });
    // The power cut falls `ms` after the writer has its filesystem mounted, however slow the machine is to start it.
    let timer: NodeJS.Timeout | undefined;
    child.stdout.once('data', () => { timer = setTimeout(() => child.kill('SIGKILL'), ms); });
    child.on('exit', (code, signal) => {
      clearTimeout(timer);
      if (signal === 'SIGKILL') resolve();
      else reject(new Error(`writer exited early (${code}): ${stderr}`));
    });
  });
}

test(`every completed write survives ${KILLS} kill -9s; the interrupted one is old or new`, async () => {
  const image = join(dir, 'flash.bin');
  const log = join(dir, 'ops.log');
  FileFlashStore.create(image, 96 * 4096).close();
  let seed = 12345;
  const rand = () => (seed = (Math.imul(seed, 1103515245) + 12345) >>> 0);
  let interruptedWrites = 0;
  for (let round = 0; round < KILLS; round++) {
    await runUntilKilled(image, log, rand(), round * 1_000_000, 120 + (rand() % 300));
    // Structure first (on a copy): no cross-linked blocks, no orphaned pairs once mount has repaired.
    expect(checkImage(readFileSync(image), 4096).problems, `after kill ${round}`).toEqual([]);
    const flash = new FileFlashStore(image);
    const settled: string[] = [];
    try {
      const fs = LittleFs.mount(new BlockDevice(flash, 0, flash.size));
      for (const [k, e] of expectations(readFileSync(log, 'utf8'))) {
        const read = (path: string) => {
          try { return fs.readFile(path); } catch { return undefined; }
        };
        let data = read(lfsWriterPath(k));
        const moved = read(lfsWriterMovedPath(k));
        // Mid-rename the file is in exactly one of its two places; otherwise only at home.
        if (e.moving) expect(data === undefined || moved === undefined, `file ${k} in two places`).toBe(true);
        else expect(moved, `file ${k} left at its temporary name`).toBeUndefined();
        data ??= moved;
        const allowed: State[] = [e.done ?? 'absent'];
        if (e.pending === 'remove') allowed.push('absent');
        else if (e.pending) {
          allowed.push(e.pending.write);
          // A create is committed at open, before any data: a new file may exist but be empty.
          if ((e.done ?? 'absent') === 'absent') allowed.push('empty');
          interruptedWrites++;
        }
        const got = data === undefined ? 'absent' : data.length === 0 ? 'empty' : lfsWriterVersion(data);
        expect(allowed, `file ${k} after kill ${round}`).toContain(got);
        if (typeof got === 'number') expect(Buffer.compare(data!, lfsWriterContent(k, got)), `file ${k} content`).toBe(0);
        settled.push(`S ${k} ${got}`);
      }
    } finally {
      flash.close();
    }
    appendFileSync(log, settled.map((l) => l + '\n').join(''));
  }
  const completed = readFileSync(log, 'utf8').split('\n').filter((l) => l.startsWith('D ')).length;
  expect(completed).toBeGreaterThan(KILLS);
  expect(interruptedWrites).toBeGreaterThan(0);
}, 90_000);
