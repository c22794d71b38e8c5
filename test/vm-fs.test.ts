// The board's root filesystem: littlefs on its flash image, mounted by the board-side _boot.py through the `_bfs`
// bridge (emulator/storage/vm-fs.ts), on the real board (worker, link, resets).
import { readFileSync } from 'node:fs';
import { afterEach, describe, expect, test } from 'vitest';
import { FileFlashStore } from '../emulator/flash-store.js';
import { BlockDevice } from '../emulator/littlefs/block-device.js';
import { LittleFs } from '../emulator/littlefs/lfs.js';
import { getProfile, type ProfileName } from '../emulator/profiles.js';
import { DEFAULT_BOOT_PY } from '../emulator/storage/vm-fs.js';
import { TestBoard, type TestBoardOptions } from './helpers/test-board.js';

let board: TestBoard | undefined;
afterEach(async () => {
  await board?.close();
  board = undefined;
});

async function open(opts: TestBoardOptions = {}): Promise<TestBoard> {
  board = await TestBoard.open(opts);
  return board;
}

function fsRegion(b: TestBoard): { offset: number; size: number } {
  return getProfile(b.stored.config.profile as ProfileName).fsRegion(b.stored.config.flashSize);
}

function withFlash<T>(b: TestBoard, fn: (flash: FileFlashStore) => T): T {
  const flash = new FileFlashStore(b.stored.flashPath);
  try {
    return fn(flash);
  } finally {
    flash.close();
  }
}

describe('VM root filesystem on littlefs', () => {
  test('first boot formats the blank region and writes boot.py; later boots keep files', async () => {
    const b = await open();
    const { offset, size } = fsRegion(b);
    // As bought: the filesystem region is erased (the board's first boot formatted it before we attached).
    const log = await b.reset(() => withFlash(b, (flash) => flash.erase(offset, size)));
    expect(log).toContain('Performing initial setup');
    const before = readFileSync(b.stored.flashPath);
    expect(await b.run(`import os\nprint(os.listdir('/'), os.getcwd())\nprint(open('boot.py').read(), end='')`))
      .toBe(`['boot.py'] /\n${DEFAULT_BOOT_PY}`);
    await b.run(`with open('/main.py', 'w') as f:\n    f.write('print(42)\\n')`);
    // Only the filesystem region was touched, and it is littlefs a host tool can mount.
    const after = readFileSync(b.stored.flashPath);
    expect(after.subarray(0, offset).equals(before.subarray(0, offset))).toBe(true);
    withFlash(b, (flash) => {
      const lfs = LittleFs.mount(new BlockDevice(flash, offset, size));
      expect(new TextDecoder().decode(lfs.readFile('/main.py'))).toBe('print(42)\n');
    });
    const again = await b.reset();
    expect(again).not.toContain('Performing initial setup');
    expect(again).toMatch(/\n42\nMicroPython v1\.27\.0/);
    expect(await b.run(`import os\nprint(sorted(os.listdir()))`)).toBe(`['boot.py', 'main.py']\n`);
  });

  test('text and binary file objects: read, readinto, readline, iteration, print(file=), json, seek', async () => {
    const b = await open();
    const out = await b.run(`
import json, os
with open('data.json', 'w') as f:
    json.dump({'a': [1, 2, 3], 'b': 'x' * 300}, f)
with open('data.json') as f:
    d = json.load(f)
print(d['a'], len(d['b']))
with open('t.txt', 'w') as f:
    print('first', 1, file=f)
    f.write('second\\nthird')
with open('t.txt') as f:
    print([l for l in f])
f = open('t.txt')
print(repr(f.readline()), repr(f.read(3)), f.tell(), repr(f.readline()))
f.seek(0)
print(len(f.readlines()))
f.close()
blob = bytes(range(256)) * 40
with open('b.bin', 'wb') as f:
    print(f.write(blob))
with open('b.bin', 'rb') as f:
    buf = bytearray(1000)
    n = f.readinto(buf)
    print(n, bytes(buf[:3]), f.tell())
    f.seek(-10, 2)
    print(f.read(), f.read())
with open('b.bin', 'ab') as f:
    f.write(b'END')
with open('b.bin', 'r+b') as f:
    f.seek(5)
    f.write(b'XY')
with open('b.bin', 'rb') as f:
    d = f.read()
print(len(d), d[:8], d[-3:], os.stat('b.bin')[6])
with open('u.txt', 'w') as f:
    f.write('héllo ✓ wörld 😀!')
with open('u.txt') as f:
    print([f.read(1) for i in range(4)], f.read(3), f.read())
`);
    expect(out.trimEnd().split('\n')).toEqual([
      '[1, 2, 3] 300',
      "['first 1\\n', 'second\\n', 'third']",
      "'first 1\\n' 'sec' 11 'ond\\n'",
      '3',
      '10240',
      "1000 b'\\x00\\x01\\x02' 1000",
      "b'\\xf6\\xf7\\xf8\\xf9\\xfa\\xfb\\xfc\\xfd\\xfe\\xff' b''",
      "10243 b'\\x00\\x01\\x02\\x03\\x04XY\\x07' b'END' 10243",
      "['h', '\\xe9', 'l', 'l'] o ✓  wörld 😀!",
    ]);
  });

  test('read() after readline(), readinto(buf, n), and reads that fill the buffer across the read-ahead', async () => {
    const b = await open();
    const out = await b.run(`
with open('r.txt', 'w') as f:
    f.write('head\\n' + 'x' * 3000)
f = open('r.txt')
print(repr(f.readline()), len(f.read()), repr(f.read()))
f.close()
f = open('r.txt', 'rb')
buf = bytearray(1000)
print(f.readinto(buf, 3), bytes(buf[:4]))
print(f.readinto(buf), f.readinto(memoryview(buf)[:600]), f.readinto(buf, 5000), f.readinto(buf))
f.close()
`);
    expect(out).toBe("'head\\n' 3000 ''\n3 b'hea\\x00'\n1000 600 1000 402\n");
  });

  test('os: mkdir, chdir, ilistdir, stat, statvfs, rename, remove, rmdir', async () => {
    const b = await open();
    const out = await b.run(`
import os
os.mkdir('lib')
os.chdir('lib')
open('a.py', 'w').close()
with open('big.bin', 'wb') as f:
    f.write(b'z' * 50000)
print(os.getcwd(), sorted(os.listdir()))
print(sorted(os.ilistdir('/lib')))
st = os.stat('big.bin')
print(st[0] == 0x8000, st[6], os.stat('/lib')[0] == 0x4000)
v = os.statvfs('/')
print(v[0], v[1], v[2], v[2] - v[3] >= 14, v[9])
os.rename('a.py', '/b.py')
os.rename('/lib', '/pkg')
os.chdir('/')
print(sorted(os.listdir()), os.listdir('pkg'))
os.remove('pkg/big.bin')
os.rmdir('pkg')
os.remove('b.py')
print(os.listdir('/'))
`);
    expect(out.trimEnd().split('\n')).toEqual([
      "/lib ['a.py', 'big.bin']",
      "[('a.py', 32768, 0, 0), ('big.bin', 32768, 0, 50000)]",
      'True 50000 True',
      '4096 4096 512 True 255',
      "['b.py', 'boot.py', 'pkg'] ['big.bin']",
      "['boot.py']",
    ]);
  });

  // Like the real firmware, the VM only knows names for some errnos (no ENOTDIR, ENOTEMPTY, ENAMETOOLONG).
  test('failures surface as OSError with MicroPython errno numbers', async () => {
    const b = await open();
    const out = await b.run(`
import os
os.mkdir('d')
open('d/f', 'w').close()
def t(fn):
    try:
        fn()
        print('ok')
    except OSError as e:
        print(e.errno, e)
t(lambda: open('missing.txt'))
t(lambda: os.mkdir('d'))
t(lambda: os.rmdir('d'))
t(lambda: open('d'))
t(lambda: open('d/f/x', 'w'))
t(lambda: os.stat('nope/x'))
t(lambda: open('d/f').write('x'))
t(lambda: os.chdir('d/f'))
t(lambda: os.rename('d', 'd/f/inside'))
t(lambda: open('x' * 256, 'w'))
`);
    expect(out.trimEnd().split('\n')).toEqual([
      '2 [Errno 2] ENOENT',
      '17 [Errno 17] EEXIST',
      '39 39',
      '21 [Errno 21] EISDIR',
      '20 20',
      '2 [Errno 2] ENOENT',
      '9 [Errno 9] EBADF',
      '20 20',
      '20 20',
      '36 36',
    ]);
  });

  test('ENOSPC when the disk fills, and the filesystem still works afterwards', async () => {
    const b = await open();
    const out = await b.run(`
import os
n = 0
try:
    while True:
        with open('fill%d' % n, 'wb') as f:
            f.write(b'x' * 100000)
        n += 1
except OSError as e:
    print('full', e.errno, n > 15)
for i in range(3):
    os.remove('fill%d' % i)
with open('after.txt', 'w') as f:
    f.write('still fine')
print(open('after.txt').read(), os.statvfs('/')[3] > 0)
`);
    expect(out).toBe('full 28 True\nstill fine True\n');
  });

  // A filesystem the boot cannot mount: see the corruption tests (issue 11 item 10).

  test('rp2 boot: any unmountable region is formatted silently, with no boot.py', async () => {
    let b = await open({ profile: 'rp2-pico' });
    const { offset } = fsRegion(b);
    // A Pico has no reset line: the region is spoiled under the idle board, and machine.reset()'s boot (which
    // the link sees, as it does not see a power-on's) meets it.
    withFlash(b, (flash) => flash.write(offset, new Uint8Array(8192).fill(0x42)));
    const log = await b.runToReset('import machine\nmachine.reset()', 'hard');
    expect(log).not.toMatch(/corrupted|initial setup/);
    expect(await b.run(`import os\nprint(os.listdir('/'))\nwith open('x.txt', 'w') as f:\n    f.write('y' * 600)`)).toBe('[]\n');
    b = board = await b.powerCycle();
    expect(await b.run(`print(open('x.txt').read() == 'y' * 600)`)).toBe('True\n');
  });

  test("rp2.Flash is the root's block device: its blocks are littlefs's, and the docs' reformat (umount, mkfs, mount) holds over a soft reset", async () => {
    const b = await open({ profile: 'rp2-pico' });
    const { size } = fsRegion(b);
    await b.run(`with open('old.txt', 'w') as f:\n    f.write('old')`);
    expect(await b.run(`
import rp2
f = rp2.Flash()
b = bytearray(16)
f.readblocks(0, b, 8)
print(f is rp2.Flash(), f.ioctl(4, 0), f.ioctl(5, 0), bytes(b[:8]), f.ioctl(1, 0), f.ioctl(99, 0))
part = rp2.Flash(start=4096 * 8, len=4096 * 2)
print(part.ioctl(4, 0), part is f)
for kw in ({'start': 100}, {'len': 0}, {'start': 4096, 'len': ${size}}):
    try:
        rp2.Flash(**kw)
    except ValueError:
        print('ValueError', end=' ')
`)).toBe(`True ${size / 4096} 4096 b'littlefs' 0 None\n2 False\nValueError ValueError ValueError `);
    // The rp2 docs' way to an empty filesystem, then a file in it.
    expect(await b.run(`
import os, rp2
os.umount('/')
os.VfsLfs2.mkfs(rp2.Flash(), progsize=256)
os.mount(os.VfsLfs2(rp2.Flash(), progsize=256), '/')
with open('/new.txt', 'w') as f:
    f.write('new')
print(os.listdir('/'))
`)).toBe("['new.txt']\n");
    await b.runToReset('import machine\nmachine.soft_reset()', 'soft');
    expect(await b.run(`import os\nprint(os.listdir('/'), open('new.txt').read())`)).toBe("['new.txt'] new\n");
  });

  test('soft reset (a fresh VM, same board): files left open are committed, as finalisers do', async () => {
    const b = await open();
    await b.run(`f = open('log.txt', 'a')\nf.write('line 1\\n')\nprint('x' * 3, file=f)`);
    await b.runToReset('import machine\nmachine.soft_reset()', 'soft');
    expect(await b.run(`print(repr(open('log.txt').read()))`)).toBe("'line 1\\nxxx\\n'\n");
  });

  test('a board closed while it idles commits the files left open first, as the next soft reset would', async () => {
    let b = await open();
    await b.run(`f = open('log.txt', 'a')\nf.write('kept\\n')\nopen('dropped.bin', 'wb').write(bytes(range(256)) * 20)`);
    b = board = await b.powerCycle();
    expect(await b.run(`print(repr(open('log.txt').read()), open('dropped.bin', 'rb').read() == bytes(range(256)) * 20)`)).toBe("'kept\\n' True\n");
  });
});
