// ROMFS: the image codec against the format's facts (MicroPython's own vfs_rom test fixes two image sizes),
// `romfs build` through the built CLI, and real firmware: the qemu port's VfsRom mounts and imports from an
// image we built, `romfs query` reads its segment, and `romfs deploy` reports the port's read-only segment
// as the one-line error it is (mpremote says "ROMFS image deployed" there).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHash, randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { decodeRomfs, encodeRomfs, romfsImageLength, RomfsFormatError, type RomfsEntry } from '../protocol/romfs-image.js';
import { boardctl } from './helpers/boardctl.js';
import { ensureBuilt } from './helpers/built-cli.js';
import { qemuMissing, startQemu, type Qemu } from './helpers/qemu.js';

const text = (s: string) => new TextEncoder().encode(s);
const work = mkdtempSync(join(tmpdir(), 'boardctl-romfs-'));
const env = { BOARDCTL_HOME: join(work, 'home') };

/** A project tree on the host: `files` maps relative paths to contents. */
function project(name: string, files: Record<string, string | Uint8Array>): string {
  const root = join(work, name);
  for (const [rel, content] of Object.entries(files)) {
    mkdirSync(join(root, rel, '..'), { recursive: true });
    writeFileSync(join(root, rel), content);
  }
  return root;
}

const blob = randomBytes(20_000); // a length whose varuint takes three bytes
const app = {
  'main.py': "print('main')\n",
  'lib/greet.py': 'def hello(n):\n    return "hello %d" % n\n',
  'lib/pkg/__init__.py': 'VALUE = 6 * 7\n',
  'data/blob.bin': blob,
  'notes.txt': 'not for the board\n',
  '.boardignore': 'notes.txt\n',
};

beforeAll(() => ensureBuilt());
afterAll(() => rmSync(work, { recursive: true, force: true }));

describe('the ROMFS image codec', () => {
  it('writes the sizes MicroPython fixes: an empty image is d2 cd 31 00, its test_inner image 46 bytes', () => {
    expect(Buffer.from(encodeRomfs([])).toString('hex')).toBe('d2cd3100');
    const inner = encodeRomfs([
      { name: 'test_inner.txt', data: text('contents_inner') },
      { name: 'c.py', data: new Uint8Array() },
    ]);
    expect(inner.length).toBe(46);
    // kind 5 (file), payload 31: name length 14, the name, then kind 2 (verbatim) with the 14 data bytes.
    expect(Buffer.from(inner.subarray(4, 8)).toString('hex')).toBe('051f0e74');
  });

  it('decodes what it encodes: nested folders, empty files, binary data, multi-byte lengths, UTF-8 names', () => {
    const tree: RomfsEntry[] = [
      { name: 'a', entries: [{ name: 'b', entries: [{ name: 'deep.py', data: text('x = 1\n') }] }, { name: 'empty', entries: [] }] },
      { name: 'blob.bin', data: new Uint8Array(blob) },
      { name: 'zero', data: new Uint8Array() },
      { name: 'müll.txt', data: text('ü') },
    ];
    const image = encodeRomfs(tree);
    expect(decodeRomfs(image)).toEqual(tree);
    expect(romfsImageLength(image)).toBe(image.length);
    expect(romfsImageLength(new Uint8Array(16))).toBeUndefined();
  });

  it('keeps every image an even number of bytes (a pad byte before the length where it would be odd)', () => {
    for (let n = 0; n < 6; n++) {
      const image = encodeRomfs([{ name: 'f', data: new Uint8Array(n) }]);
      expect(image.length % 2).toBe(0);
      expect(romfsImageLength(image)).toBe(image.length);
      expect(decodeRomfs(image)).toEqual([{ name: 'f', data: new Uint8Array(n) }]);
    }
  });

  it('skips records of kinds it does not know, follows data pointers, and refuses damage', () => {
    // Hand-made: padding (kind 1), then a file whose data is a pointer (kind 3: size 3, offset 2) into a
    // verbatim record at the start of the payload (kind 2 + length 3 = 2 bytes, so its data is at 2).
    const payload = [0x02, 0x03, ...text('abc'), 0x01, 0x02, 0xff, 0xff, 0x05, 0x06, 0x01, ...text('p'), 0x03, 0x02, 0x03, 0x02];
    const image = Uint8Array.from([0xd2, 0xcd, 0x31, payload.length, ...payload]);
    expect(decodeRomfs(image)).toEqual([{ name: 'p', data: text('abc') }]);
    expect(() => decodeRomfs(image.subarray(0, image.length - 2))).toThrow(RomfsFormatError);
    expect(() => decodeRomfs(Uint8Array.from([0xd2, 0xcd, 0x31, 0x02, 0x00, 0x00]))).toThrow(/kind 0/);
    expect(() => decodeRomfs(text('MF'))).toThrow(/not a ROMFS image/);
    expect(() => encodeRomfs([{ name: 'a/b', data: new Uint8Array() }])).toThrow(RomfsFormatError);
  });
});

describe('romfs build', () => {
  it('writes FOLDER.romfs (or -o FILE) holding the folder, .boardignore honoured, without a board', async () => {
    const root = project('app', app);
    const r = await boardctl(['-p', '/dev/nonexistent', 'romfs', 'build', `${root}/`], env);
    expect(r.stderr).toMatch(/^boardctl: wrote \d+ bytes to .*app\.romfs\n$/);
    expect(r.code).toBe(0);
    const tree = decodeRomfs(readFileSync(`${root}.romfs`));
    expect(tree.map((e) => e.name)).toEqual(['data', 'lib', 'main.py']);
    expect(tree).toContainEqual({ name: 'data', entries: [{ name: 'blob.bin', data: new Uint8Array(blob) }] });
    const out = join(work, 'other.img');
    const json = await boardctl(['--json', 'romfs', 'build', root, '-o', out], env);
    expect(JSON.parse(json.stdout)).toEqual({ command: 'romfs build', ok: true, output: out, bytes: readFileSync(out).length });
    const missing = await boardctl(['romfs', 'build', join(work, 'nope')], env);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toBe(`boardctl: romfs build: ${join(work, 'nope')}: not a folder\n`);
  });

  it('deploy on a port without ROMFS (the virtual ESP32, like ESP32_GENERIC v1.27.0) is the one-line error', async () => {
    const r = await boardctl(['-p', 'virtual', 'romfs', 'deploy', project('small', { 'a.py': 'a = 1\n' })], env, [], 40_000);
    expect(r.code).toBe(1);
    expect(r.stderr).toBe('boardctl: romfs deploy: the board has no ROMFS (its firmware is built without MICROPY_VFS_ROM)\n');
  });
});

const missing = qemuMissing('lfs');
describe('ROMFS on real firmware (qemu lfs.elf: one read-only 4 MiB segment)', { timeout: 120_000 }, () => {
  if (missing) {
    console.warn(`romfs qemu lane skipped: ${missing}`);
    it.skip(`skipped: ${missing}`, () => {});
    return;
  }
  let q: Qemu;
  beforeAll(async () => {
    q = await startQemu('lfs');
  }, 30_000);
  afterAll(() => q?.stop());
  const onQemu = (...args: string[]) => boardctl(['-p', q.path, ...args], env, [], 90_000);

  it('query shows the segment; deploy is refused by the port in one line and leaves it and the globals as they were', async () => {
    const empty = 'ROMFS0: 4194304 bytes, no ROMFS image; starts 00:00:00:00:00:00:00:00:00:00:00:00:00:00:00:00\n';
    // Each connection soft-resets the board first, so the globals are listed across a `resume` chain.
    const globals = ['eval', "sorted(k for k in globals() if k != '_bc')"];
    const query = await onQemu('exec', 'x = 1', '+', ...globals, '+', 'romfs', 'query', '+', ...globals);
    expect(query.stderr).toBe('');
    const [before, ...shown] = query.stdout.split(/(?<=\n)/);
    expect(before).toContain("'x'");
    expect(shown).toEqual([empty, before]);
    const root = project('ro', { 'a.py': 'a = 1\n' });
    const deploy = await onQemu('resume', 'romfs', 'deploy', root, '+', 'romfs', 'query');
    expect(deploy.code).toBe(1);
    expect(deploy.stderr).toBe('boardctl: romfs deploy: ROMFS0 cannot be written on this board: preparing it for writing was refused (-22, EINVAL); it is unchanged\n');
    expect((await onQemu('resume', ...globals, '+', 'romfs', 'query')).stdout).toBe(before + empty);
    const bad = await onQemu('romfs', 'deploy', '--partition', '1', root);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toBe('boardctl: romfs deploy: no ROMFS segment 1: the board has 1 (0)\n');
    const big = join(work, 'big.romfs');
    writeFileSync(big, encodeRomfs([{ name: 'big.bin', data: new Uint8Array(4 << 20) }]));
    const tooBig = await onQemu('romfs', 'deploy', big);
    expect(tooBig.code).toBe(1);
    expect(tooBig.stderr).toMatch(/^boardctl: romfs deploy: the image \(41943\d\d bytes\) does not fit ROMFS0 \(4194304 bytes\)\n$/);
    const notImage = await onQemu('romfs', 'deploy', join(root, 'a.py'));
    expect(notImage.code).toBe(10);
    expect(notImage.stderr).toBe('boardctl: romfs deploy: not a ROMFS image (it does not start with d2cd31)\n');
  });

  it("the firmware's own VfsRom mounts our image: listdir, import from /rom/lib, byte-equal files", async () => {
    const image = join(work, 'app.romfs');
    expect((await boardctl(['romfs', 'build', project('app', app), '-o', image], env)).code).toBe(0);
    const sha = createHash('sha256').update(blob).digest('hex');
    const r = await onQemu(
      'fs',
      'cp',
      image,
      ':app.romfs',
      '+',
      'exec',
      [
        'import vfs, sys, os, hashlib, binascii',
        "vfs.mount(vfs.VfsRom(open('app.romfs', 'rb').read()), '/rom')",
        "sys.path.insert(0, '/rom/lib')",
        'import greet, pkg',
        "print(sorted(os.listdir('/rom')), sorted(os.listdir('/rom/lib')), greet.hello(pkg.VALUE))",
        "print(binascii.hexlify(hashlib.sha256(open('/rom/data/blob.bin', 'rb').read()).digest()).decode(), os.stat('/rom/data/blob.bin')[6])",
      ].join('\n'),
    );
    expect(r.stderr).toBe('');
    expect(r.stdout).toBe(`['data', 'lib', 'main.py'] ['greet.py', 'pkg'] hello 42\n${sha} ${blob.length}\n`);
  });
});
