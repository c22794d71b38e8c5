// boardctl's file verbs (and rtc) leave the user's globals as they were: their board-side programs keep their names
// local (only `_bc`, the helpers' holder, stays), so `exec "x=1" + ls + exec "print(x)"` sees 1 and nothing new.
// One chain on the virtual board through the built CLI, with the globals listed before and after every verb;
// romfs's verbs against a scripted firmware with writable ROMFS segments (test/fixtures/romfs), where the
// deploys also have to land byte for byte.
import { createHash, randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { boardctl } from './helpers/boardctl.js';
import { ensureBuilt } from './helpers/built-cli.js';

/** More names than one list statement takes (snippets.ts LIST_BATCH), so the calls' list temporaries are used too. */
const MANY = 55;
const GLOBALS = "sorted(k for k in globals() if k != '_bc')";

/** `verbs` in one chain after `setup`, each followed by a globals listing; the listings and the run. */
async function globalsAround(home: string, setup: string[], verbs: string[][], tail: string[] = []) {
  const args = ['-p', 'virtual', ...setup, ...(setup.length ? ['+'] : []), 'exec', 'x = 1', '+', 'eval', GLOBALS];
  for (const v of verbs) args.push('+', ...v, '+', 'eval', GLOBALS);
  args.push('+', 'exec', 'print(x)', '+', 'eval', "'_bc' in globals()", ...tail);
  const r = await boardctl(args, { BOARDCTL_HOME: home }, [], 110_000);
  const listings = r.stdout.split('\n').filter((l) => l.startsWith('['));
  expect(listings).toHaveLength(verbs.length + 1);
  expect(listings[0]).toContain("'x'");
  expect(listings.map((l, i) => ({ after: i ? verbs[i - 1]!.join(' ') : '(before)', globals: l }))).toEqual(
    listings.map((_, i) => ({ after: i ? verbs[i - 1]!.join(' ') : '(before)', globals: listings[0] })),
  );
  return r;
}

describe('fs verbs and the user globals', { timeout: 120_000 }, () => {
  let home: string;
  let host: string;
  beforeAll(async () => {
    await ensureBuilt();
    home = mkdtempSync(join(tmpdir(), 'boardctl-fs-globals-home-'));
    host = mkdtempSync(join(tmpdir(), 'boardctl-fs-globals-'));
  }, 120_000);
  afterAll(() => {
    rmSync(home, { recursive: true, force: true });
    rmSync(host, { recursive: true, force: true });
  });

  it('every verb leaves only _bc behind, whatever it did', async () => {
    const proj = join(host, 'proj');
    mkdirSync(join(proj, 'sub'), { recursive: true });
    // Distinct sizes: sync's walk then asks for the digests of more sizes than one list statement holds.
    for (let i = 0; i < MANY; i++) writeFileSync(join(proj, `f${i}.txt`), 'x'.repeat(i + 1));
    writeFileSync(join(proj, 'sub', 'a.py'), 'A = 1\n');
    const many = Array.from({ length: MANY }, (_, i) => `:/p/f${i}.txt`);
    const verbs: string[][] = [
      ['cp', '-r', `${proj}/`, ':/p/'],
      ['ls', ':/p/sub'],
      ['ls', '-l', ...many],
      ['cat', ':/p/sub/a.py'],
      ['cp', ':/p/sub/a.py', ':/p/b.py'],
      ['cp', ':/p/b.py', join(host, 'b.py')],
      ['cp', '-r', ':/p', join(host, 'back')],
      ['mkdir', ':/d'],
      ['mkdir', '-p', ':/d/e/f'],
      ['rmdir', ':/d/e/f'],
      ['touch', ':/d/t.txt'],
      ['tree', '-s', ':/d'],
      ['df'],
      ['sha256sum', ':/p/b.py'],
      ['sync', '--delete', proj, ':/p'],
      ['rm', ...many.slice(0, MANY - 1)],
      ['rm', '-r', ':/d'],
      ['rtc'],
      ['rtc', '--set'],
    ];
    const r = await globalsAround(home, [], verbs);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout.trimEnd().split('\n').slice(-2)).toEqual(['1', 'True']);
  });

  it('romfs query and deploy (a flash segment and a block-device segment) leave only _bc behind', async () => {
    const src = join(host, 'rom');
    mkdirSync(src);
    writeFileSync(join(src, 'main.py'), "print('rom')\n");
    writeFileSync(join(src, 'data.bin'), randomBytes(5000)); // more than one 4 KiB write, several 1 KiB blocks
    const image = join(host, 'rom.romfs');
    expect((await boardctl(['romfs', 'build', src, '-o', image], { BOARDCTL_HOME: home })).code).toBe(0);
    const bytes = readFileSync(image);
    const fixture = readFileSync(join(import.meta.dirname, 'fixtures/romfs/writable_vfs.py'), 'utf8');
    const held = (segment: string) => `__import__('binascii').hexlify(__import__('hashlib').sha256(bytes(${segment}[:${bytes.length}])).digest())`;
    const r = await globalsAround(
      home,
      ['exec', fixture],
      [
        ['romfs', 'query'],
        ['romfs', 'deploy', image],
        ['romfs', 'deploy', '--partition', '1', src],
        ['romfs', 'query'],
      ],
      ['+', 'eval', held("__import__('vfs').rom_ioctl(2,0)"), '+', 'eval', held("__import__('vfs').rom_ioctl(2,1).data")],
    );
    expect(r.code).toBe(0);
    expect(r.stderr).toBe(
      `boardctl: wrote ${bytes.length} bytes to ROMFS0 (16384 bytes), read back equal; soft-reset to mount it at /rom\n` +
        `boardctl: wrote ${bytes.length} bytes to ROMFS1 (8192 bytes); soft-reset to mount it at /rom\n`,
    );
    const sha = createHash('sha256').update(bytes).digest('hex');
    expect(r.stdout.trimEnd().split('\n').slice(-2)).toEqual([`b'${sha}'`, `b'${sha}'`]);
    expect(r.stdout.split('\n').filter((l) => l.startsWith('ROMFS'))).toEqual([
      expect.stringMatching(/^ROMFS0: 16384 bytes, no ROMFS image; starts 00:00/),
      expect.stringMatching(/^ROMFS1: 8192 bytes.*, no ROMFS image; starts ff:ff/),
      expect.stringMatching(new RegExp(`^ROMFS0: 16384 bytes, a ROMFS image of ${bytes.length} bytes; starts d2:cd:31`)),
      expect.stringMatching(new RegExp(`^ROMFS1: 8192 bytes.*, a ROMFS image of ${bytes.length} bytes; starts d2:cd:31`)),
    ]);
  });
});
