// The first boot of a VM build writes a boot image beside the boards (emulator/vm/boot-image.ts); every later
// process restores it instead of installing the runtime. A restored board must be a fresh board in every way a
// program can see, every board's own parts must be its own, and an image that is stale, cut short or damaged must
// be ignored (and replaced) without failing the boot.
import { mkdtempSync, readdirSync, readFileSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createBoard, loadBoard } from '../emulator/board-store.js';
import { ensureBuilt } from './helpers/built-cli.js';
import { boardctl, type CliRun } from './helpers/boardctl.js';

const home = mkdtempSync(join(tmpdir(), 'boardctl-boot-image-'));
const imageDir = join(home, 'vm');

beforeAll(async () => {
  createBoard('one', { home });
  createBoard('two', { home });
  await ensureBuilt();
}, 180_000);
afterAll(() => rmSync(home, { recursive: true, force: true }));

/** What a program can see of a fresh board, one fact a line; the last line is the free heap. */
const PROBE = [
  'import os, sys, gc, machine, random',
  'print(os.uname())',
  "help('modules')",
  'print(sorted(sys.modules), sorted(globals()))',
  'print([i * i for i in range(6)], repr(machine.Pin(2, machine.Pin.OUT)))',
  'p = machine.Pin(4, machine.Pin.OUT)',
  'p.value(1)',
  "print(p.value(), machine.unique_id().hex(), open('kept.txt').read())",
  'print(random.getrandbits(30))',
  'del p',
  'gc.collect()',
  'print(gc.mem_free())',
].join('\n');

function trace(run: CliRun): string[] {
  return run.stderr.split('\n').filter((l) => l.startsWith('boardctl timing:')).map((l) => l.replace(/^boardctl timing:\s+\S+ ms\s+\+\S+ ms  /, ''));
}

async function cli(board: string, args: string[], env: Record<string, string> = {}): Promise<CliRun & { phases: string[] }> {
  const run = await boardctl(['-p', `virtual:${board}`, ...args], { BOARDCTL_HOME: home, BOARDCTL_DEBUG: 'timing', ...env }, [], 60_000);
  expect(run.code, run.stderr).toBe(0);
  return { ...run, phases: trace(run) };
}

/** The probe's lines split into what must match exactly, the random draw and the free heap. */
function facts(stdout: string): { same: string[]; draw: string; free: number } {
  const lines = stdout.split(/\r?\n/).filter(Boolean);
  return { same: lines.slice(0, -2), draw: lines.at(-2)!, free: Number(lines.at(-1)) };
}

function image(): string {
  const files = readdirSync(imageDir).filter((f) => f.endsWith('.img'));
  expect(files).toHaveLength(1);
  return join(imageDir, files[0]!);
}

const RESTORED = 'board: runtime restored from its boot image';
const INSTALLED = 'board: runtime installed';

// Each test runs one to three CLI processes, each given 60 s (a loaded host boots them slowly): so does the test.
describe('the boot image', { timeout: 180_000 }, () => {
  let fresh: ReturnType<typeof facts>;
  let imageBytes = 0;

  it('is written by the first boot and restored by the next process, which is a fresh board', async () => {
    // A file on flash, written by a process that keeps no image.
    const setup = await cli('one', ['exec', "with open('kept.txt', 'w') as f: f.write('on flash')"], { BOARDCTL_BOOT_IMAGE: 'off' });
    expect(setup.phases).not.toContain('board: boot image written');
    // `resume`: the program sees the board as it booted, with no soft reset (nor its in-process snapshot) between.
    const first = await cli('one', ['resume', 'exec', PROBE]);
    expect(first.phases).toContain(INSTALLED);
    expect(first.phases).toContain('board: boot image written');
    expect(first.phases).not.toContain(RESTORED);
    fresh = facts(first.stdout);
    imageBytes = readFileSync(image()).length;
    expect(fresh.same.join('\n')).toContain(`1 ${loadBoard('one', home).config.uniqueId} on flash`);

    const second = await cli('one', ['resume', 'exec', PROBE, '+', 'soft-reset', '+', 'exec', PROBE]);
    expect(second.phases).toContain(RESTORED);
    expect(second.phases).not.toContain(INSTALLED);
    const out = second.stdout.split(/\r?\n/).filter(Boolean);
    const half = out.length / 2;
    const boots = [facts(out.slice(0, half).join('\n')), facts(out.slice(half).join('\n'))];
    for (const restored of boots) {
      expect(restored.same).toEqual(fresh.same);
      expect(Math.abs(restored.free - fresh.free)).toBeLessThanOrEqual(128);
      // The generator is seeded anew at each boot, not left where the image had it.
      expect(restored.draw).not.toBe(fresh.draw);
    }
    expect(boots[0]!.draw).not.toBe(boots[1]!.draw);
  });

  it('is shared by another board of the profile, whose parts stay its own', async () => {
    const other = await cli('two', ['exec', "with open('kept.txt', 'w') as f: f.write('two')", '+', 'exec', PROBE]);
    expect(other.phases).toContain(RESTORED);
    expect(facts(other.stdout).same.join('\n')).toContain(`1 ${loadBoard('two', home).config.uniqueId} two`);
  });

  it('is ignored when its key changed, and replaced', async () => {
    const before = readFileSync(image());
    const run = await cli('one', ['exec', PROBE], { BOARDCTL_BOOT_IMAGE_KEY: 'another runtime' });
    expect(run.phases).toContain('board: boot image not used (stale (made by another VM or runtime))');
    expect(run.phases).toContain(INSTALLED);
    expect(facts(run.stdout).same).toEqual(fresh.same);
    expect(readFileSync(image()).equals(before)).toBe(false);
    // The image now carries that key: a process with the usual key finds it stale in turn, and writes its own.
    const back = await cli('one', ['exec', 'pass']);
    expect(back.phases).toContain(INSTALLED);
    expect(back.phases).toContain('board: boot image written');
  });

  it.each([
    ['cut short', (path: string) => truncateSync(path, Math.floor(readFileSync(path).length / 2)), 'damaged (checksum)'],
    ['damaged', (path: string) => {
      const bytes = readFileSync(path);
      bytes[bytes.length >> 1] ^= 0x55;
      writeFileSync(path, bytes);
    }, 'damaged (checksum)'],
    ['not an image', (path: string) => writeFileSync(path, 'hello'), 'not an image'],
  ])('is ignored when %s, the board boots and the image is written again', async (_what, spoil, why) => {
    spoil(image());
    const run = await cli('one', ['exec', PROBE]);
    expect(run.phases).toContain(`board: boot image not used (${why})`);
    expect(run.phases).toContain('board: boot image written');
    expect(facts(run.stdout).same).toEqual(fresh.same);
    // The image of the same boot again (the next process restores it: see the first case).
    expect(readFileSync(image()).length).toBe(imageBytes);
  });

  it('is left whole (and no temporary file) by two processes booting at once', async () => {
    rmSync(imageDir, { recursive: true, force: true });
    const runs = await Promise.all(['one', 'two'].map((b) => cli(b, ['exec', 'pass'])));
    // Each installed and wrote its image, or found the other's already there (a loaded machine runs them apart).
    expect(runs[0]!.phases.includes(INSTALLED) || runs[1]!.phases.includes(INSTALLED)).toBe(true);
    for (const run of runs) expect(run.phases.includes(INSTALLED) !== run.phases.includes(RESTORED)).toBe(true);
    expect(readdirSync(imageDir).filter((f) => !f.endsWith('.img'))).toEqual([]);
    expect((await cli('one', ['exec', 'pass'])).phases).toContain(RESTORED);
  });
});
