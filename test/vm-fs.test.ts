import { loadMicroPython } from '@micropython/micropython-webassembly-pyscript';
import { describe, expect, test } from 'vitest';
import { MemoryFlashStore } from '../emulator/flash-store.js';
import { BlockDevice } from '../emulator/littlefs/block-device.js';
import { LittleFs } from '../emulator/littlefs/lfs.js';
import { DEFAULT_BOOT_PY, createVmFsPlugin } from '../emulator/storage/vm-fs.js';

const FS_OFFSET = 0x200000;
const FS_SIZE = 0x200000;

interface Vm {
  /** Run code; returns stdout, with an uncaught exception's last line appended as `EXC …`. */
  py(code: string): string;
  boot: string[];
}

/** Load the real VM the way the board worker does: register `_bfs`, run the boot source. */
async function bootVm(
  flash: MemoryFlashStore,
  onLine?: (line: string, mp: { _module: Record<string, () => void> }) => void,
  port?: 'esp32' | 'rp2',
): Promise<Vm> {
  const out: string[] = [];
  const mp = await loadMicroPython({
    stdout: (l: string) => {
      out.push(l);
      onLine?.(l, mp as never);
    },
  });
  const plugin = createVmFsPlugin({ flash, offset: FS_OFFSET, size: FS_SIZE, port });
  for (const [name, mod] of Object.entries(plugin.jsModules ?? {})) mp.registerJsModule(name, mod);
  const run = (code: string): string => {
    out.length = 0;
    try {
      mp.runPython(code);
    } catch (e) {
      out.push(`EXC ${(e as Error).message.trim().split('\n').pop()}`);
    }
    return out.join('\n');
  };
  const boot = run(plugin.bootSource!).split('\n').filter(Boolean);
  return { py: run, boot };
}

const newFlash = () => new MemoryFlashStore(4 << 20);

describe('VM root filesystem on littlefs', () => {
  test('first boot formats the blank region and writes boot.py; later boots keep files', async () => {
    const flash = newFlash();
    const vm = await bootVm(flash);
    expect(vm.boot).toEqual(['Performing initial setup']);
    expect(vm.py(`import os\nprint(os.listdir('/'), os.getcwd())\nprint(open('boot.py').read(), end='')`))
      .toBe(`['boot.py'] /\n${DEFAULT_BOOT_PY.trimEnd()}`);
    vm.py(`with open('/main.py', 'w') as f:\n    f.write('print(42)\\n')`);
    // Only the filesystem region was touched, and it is littlefs a host tool can mount.
    expect(flash.data.subarray(0, FS_OFFSET).every((b) => b === 0xff)).toBe(true);
    const lfs = LittleFs.mount(new BlockDevice(flash, FS_OFFSET, FS_SIZE));
    expect(new TextDecoder().decode(lfs.readFile('/main.py'))).toBe('print(42)\n');
    const again = await bootVm(flash);
    expect(again.boot).toEqual([]);
    expect(again.py(`import os\nprint(sorted(os.listdir()))\nexec(open('main.py').read())`)).toBe(`['boot.py', 'main.py']\n42`);
  });

  test('text and binary file objects: read, readinto, readline, iteration, print(file=), json, seek', async () => {
    const vm = await bootVm(newFlash());
    const out = vm.py(`
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
    expect(out.split('\n')).toEqual([
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

  test('os: mkdir, chdir, ilistdir, stat, statvfs, rename, remove, rmdir', async () => {
    const vm = await bootVm(newFlash());
    const out = vm.py(`
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
    expect(out.split('\n')).toEqual([
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
    const vm = await bootVm(newFlash());
    const out = vm.py(`
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
    expect(out.split('\n')).toEqual([
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
    const vm = await bootVm(newFlash());
    const out = vm.py(`
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
    expect(out).toBe('full 28 True\nstill fine True');
  });

  test('a region that is neither blank nor littlefs gets the fs_corrupted() loop; Ctrl-C stops it', async () => {
    const flash = newFlash();
    flash.data.fill(0x42, FS_OFFSET, FS_OFFSET + 8192);
    let interrupts = 0;
    const vm = await bootVm(flash, (line, mp) => {
      // Press Ctrl-C once the message shows, as a user at the REPL would.
      if (line.startsWith('by firmware programming') && interrupts++ === 0) mp._module._mp_sched_keyboard_interrupt();
    });
    expect(vm.boot.slice(0, 4)).toEqual([
      'The filesystem appears to be corrupted. If you had important data there, you',
      'may want to make a flash snapshot to try to recover it. Otherwise, perform',
      'factory reprogramming of MicroPython firmware (completely erase flash, followed',
      'by firmware programming).',
    ]);
    expect(vm.boot.at(-1)).toMatch(/KeyboardInterrupt/);
    expect(flash.data.subarray(FS_OFFSET, FS_OFFSET + 8192).every((b) => b === 0x42)).toBe(true);
  }, 20_000);

  test('rp2 boot: any unmountable region is formatted silently, with no boot.py', async () => {
    const flash = newFlash();
    flash.data.fill(0x42, FS_OFFSET, FS_OFFSET + 8192);
    const vm = await bootVm(flash, undefined, 'rp2');
    expect(vm.boot).toEqual([]);
    expect(vm.py(`import os\nprint(os.listdir('/'))\nwith open('x.txt', 'w') as f:\n    f.write('y' * 600)`)).toBe('[]');
    expect((await bootVm(flash, undefined, 'rp2')).py(`print(open('x.txt').read() == 'y' * 600)`)).toBe('True');
  });

  test('running the boot source again in the same VM remounts; the fallback transfer path is byte-exact', async () => {
    const flash = newFlash();
    const out: string[] = [];
    const mp = await loadMicroPython({ stdout: (l: string) => out.push(l) });
    const plugin = createVmFsPlugin({ flash, offset: FS_OFFSET, size: FS_SIZE });
    mp.registerJsModule('_bfs', plugin.jsModules!._bfs);
    mp.runPython(plugin.bootSource!);
    mp.runPython(`keep = open('open.bin', 'wb')\nkeep.write(bytes(range(256)))`);
    // Soft-reset style: the root is now our VFS, so the transfer device cannot be reopened.
    mp.runPython(plugin.bootSource!);
    mp.runPython(`
import os
blob = bytes(range(256)) * 50
with open('hex.bin', 'wb') as f:
    f.write(blob)
with open('hex.bin', 'rb') as f:
    print(f.read() == blob, os.stat('open.bin')[6], sorted(os.listdir('/')))
`);
    expect(out.at(-1)).toBe("True 256 ['boot.py', 'hex.bin', 'open.bin']");
  });

  test('soft reset (a fresh VM, same board): files left open are committed, as finalisers do', async () => {
    const flash = newFlash();
    const plugin = createVmFsPlugin({ flash, offset: FS_OFFSET, size: FS_SIZE });
    const boot = async () => {
      const out: string[] = [];
      const mp = await loadMicroPython({ stdout: (l: string) => out.push(l) });
      mp.registerJsModule('_bfs', plugin.jsModules!._bfs);
      mp.runPython(plugin.bootSource!);
      return { mp, out };
    };
    const first = await boot();
    first.mp.runPython(`f = open('log.txt', 'a')\nf.write('line 1\\n')\nprint('x' * 3, file=f)`);
    const second = await boot();
    second.mp.runPython(`print(repr(open('log.txt').read()))`);
    expect(second.out.at(-1)).toBe("'line 1\\nxxx\\n'");
  });
});
