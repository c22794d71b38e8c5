import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Command } from 'commander';
import { afterEach, beforeEach, describe, expect, test, vi } from 'vitest';
import { MemoryFlashStore } from '../emulator/flash-store.js';
import { BlockDevice } from '../emulator/littlefs/block-device.js';
import { buildImage, checkImage, extractImage, listImage, parseSize } from '../emulator/littlefs/image-tools.js';
import { LittleFs } from '../emulator/littlefs/lfs.js';
import { registerFsImageCommands } from '../cli/commands/fs-image.js';
import { BoardError } from '../protocol/errors.js';

let tmp = '';
beforeEach(() => { tmp = mkdtempSync(join(tmpdir(), 'fs-image-')); });
afterEach(() => { rmSync(tmp, { recursive: true, force: true }); });

function tree(root: string, rel = ''): Record<string, string> {
  const out: Record<string, string> = {};
  for (const name of readdirSync(join(root, rel)).sort()) {
    const p = rel ? `${rel}/${name}` : name;
    if (statSync(join(root, p)).isDirectory()) Object.assign(out, { [`${p}/`]: '' }, tree(root, p));
    else out[p] = readFileSync(join(root, p)).toString('base64');
  }
  return out;
}

function sampleFolder(): string {
  const src = join(tmp, 'src');
  mkdirSync(join(src, 'lib', 'deep', 'er'), { recursive: true });
  mkdirSync(join(src, 'empty'));
  writeFileSync(join(src, 'main.py'), 'print("hi")\n');
  writeFileSync(join(src, 'empty.txt'), '');
  writeFileSync(join(src, 'lib', 'util.py'), 'X = 1\n'.repeat(200));
  writeFileSync(join(src, 'lib', 'deep', 'er', 'blob.bin'), Buffer.from(Array.from({ length: 150_000 }, (_, i) => (i * 31) & 0xff)));
  return src;
}

function errorOf(fn: () => unknown): BoardError {
  try {
    fn();
  } catch (err) {
    if (err instanceof BoardError) return err;
    throw err;
  }
  throw new Error('expected a BoardError');
}

describe('fs image core', () => {
  test('parseSize', () => {
    expect(parseSize('2M')).toBe(2 * 1024 * 1024);
    expect(parseSize('2MB')).toBe(2 * 1024 * 1024);
    expect(parseSize('512K')).toBe(512 * 1024);
    expect(parseSize('0x200000')).toBe(0x200000);
    expect(parseSize('4096')).toBe(4096);
    expect(errorOf(() => parseSize('2 parsecs')).code).toBe('USAGE');
  });

  test('build, ls, extract and check round-trip a folder', () => {
    const src = sampleFolder();
    const built = buildImage(src, { size: 512 * 1024 });
    expect(built.image.length).toBe(512 * 1024);
    expect(built.summary).toMatchObject({ files: 4, dirs: 4, blockSize: 4096, blockCount: 128 });
    const { entries } = listImage(built.image);
    expect(entries.map((e) => `${e.type} ${e.path} ${e.size}`)).toEqual([
      'dir /empty 0', 'file /empty.txt 0', 'dir /lib 0', 'dir /lib/deep 0', 'dir /lib/deep/er 0',
      'file /lib/deep/er/blob.bin 150000', 'file /lib/util.py 1200', 'file /main.py 12',
    ]);
    const out = join(tmp, 'out');
    extractImage(built.image, out);
    expect(tree(out)).toEqual(tree(src));
    expect(checkImage(built.image)).toMatchObject({ ok: true, version: '2.1', problems: [], files: 4 });
    // The image is what the board mounts: same layout as a formatted flash region.
    const fs = LittleFs.mount(new BlockDevice(new MemoryFlashStore(built.image.length, built.image), 0, built.image.length));
    expect(new TextDecoder().decode(fs.readFile('/main.py'))).toBe('print("hi")\n');
  });

  test('other block sizes are detected from the superblock', () => {
    const built = buildImage(sampleFolder(), { size: 1 << 20, blockSize: 8192 });
    expect(listImage(built.image).summary).toMatchObject({ blockSize: 8192, blockCount: 128 });
  });

  test('a folder that does not fit is NO_SPACE', () => {
    expect(errorOf(() => buildImage(sampleFolder(), { size: 64 * 1024 })).code).toBe('NO_SPACE');
  });

  test('check and ls report a damaged image as FS_CORRUPT', () => {
    const built = buildImage(sampleFolder(), { size: 512 * 1024 });
    const broken = built.image.slice();
    broken.fill(0, 0, 2 * 4096);
    expect(errorOf(() => checkImage(broken)).code).toBe('FS_CORRUPT');
    expect(errorOf(() => listImage(broken, 4096)).code).toBe('FS_CORRUPT');
  });

  test('extract refuses names that are unsafe on the host', () => {
    for (const bad of ['a\\b', 'nul\0x']) {
      const flash = new MemoryFlashStore(64 * 4096);
      const fs = LittleFs.format(new BlockDevice(flash, 0, flash.size));
      fs.writeFile(`/${bad}`, new Uint8Array([1]));
      const err = errorOf(() => extractImage(flash.data, join(tmp, 'x')));
      expect(err.code).toBe('UNSAFE_PATH');
    }
  });
});

describe('fs image CLI', () => {
  async function run(...args: string[]): Promise<string> {
    const program = new Command().exitOverride().option('--json');
    registerFsImageCommands(program.command('fs'));
    const chunks: string[] = [];
    const spy = vi.spyOn(process.stdout, 'write').mockImplementation((c) => (chunks.push(String(c)), true));
    try {
      await program.parseAsync(['node', 'boardctl', ...args]);
    } finally {
      spy.mockRestore();
    }
    return chunks.join('');
  }

  test('build then ls, check and extract through the commands', async () => {
    const src = sampleFolder();
    const img = join(tmp, 'fs.bin');
    expect(await run('fs', 'image', 'build', src, '-o', img, '--size', '1M')).toMatch(/^built .*fs\.bin: 4 files, 4 dirs/);
    expect(statSync(img).size).toBe(1 << 20);
    expect(await run('fs', 'image', 'ls', img)).toContain('    150000  /lib/deep/er/blob.bin\n');
    expect(await run('fs', 'image', 'check', img)).toMatch(/^ok: littlefs 2\.1, 4 files/);
    const doc = JSON.parse(await run('--json', 'fs', 'image', 'check', img));
    expect(doc).toMatchObject({ ok: true, blockCount: 256 });
    await run('fs', 'image', 'extract', img, join(tmp, 'back'));
    expect(tree(join(tmp, 'back'))).toEqual(tree(src));
  });

  test('bad input is a BoardError with a one-line message', async () => {
    await expect(run('fs', 'image', 'build', join(tmp, 'nope'), '-o', join(tmp, 'x.bin'), '--size', '1M')).rejects.toMatchObject({ code: 'LOCAL_IO' });
    await expect(run('fs', 'image', 'build', tmp, '-o', join(tmp, 'x.bin'), '--size', 'big')).rejects.toMatchObject({ code: 'USAGE' });
    await expect(run('fs', 'image', 'ls', join(tmp, 'missing.bin'))).rejects.toMatchObject({ code: 'LOCAL_IO' });
    writeFileSync(join(tmp, 'junk.bin'), Buffer.alloc(8192, 0x42));
    await expect(run('fs', 'image', 'check', join(tmp, 'junk.bin'))).rejects.toMatchObject({ code: 'FS_CORRUPT' });
  });
});
