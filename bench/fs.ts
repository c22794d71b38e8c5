// Filesystem speed: write/read throughput of Python code inside the VM through the littlefs bridge (VM loaded
// directly, flash in a temp file like the board's), and the time to mount a well-filled 2 MB image.
// Run: npm run build && node dist/bench/fs.js
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { FileFlashStore } from '../emulator/flash-store.js';
import { BlockDevice } from '../emulator/littlefs/block-device.js';
import { LittleFs } from '../emulator/littlefs/lfs.js';
import { createVmFsPlugin } from '../emulator/storage/vm-fs.js';

export interface FsBenchResult {
  vmWriteKBps: number;
  vmReadKBps: number;
  vmSmallWritesKBps: number;
  vmFilesPerSec: number;
  mount2MBms: number;
}

const MiB = 1 << 20;
// The VM package ships no type declarations; a variable specifier keeps tsc from looking for them.
const VM_PACKAGE: string = '@micropython/micropython-webassembly-pyscript';

interface Vm {
  registerJsModule(name: string, module: object): void;
  runPython(code: string): unknown;
  globals: { get(name: string): unknown };
}

export async function runFsBench(): Promise<FsBenchResult> {
  const dir = mkdtempSync(join(tmpdir(), 'bench-fs-'));
  try {
    const flash = FileFlashStore.create(join(dir, 'flash.bin'), 4 * MiB);
    const { loadMicroPython } = (await import(VM_PACKAGE)) as { loadMicroPython(o: object): Promise<Vm> };
    const mp = await loadMicroPython({ stdout: () => undefined });
    const plugin = createVmFsPlugin({ flash, offset: 2 * MiB, size: 2 * MiB });
    mp.registerJsModule('_bfs', plugin.jsModules!._bfs);
    mp.runPython(plugin.bootSource!);
    const timed = (code: string) => {
      const t0 = performance.now();
      mp.runPython(code);
      return performance.now() - t0;
    };
    const size = MiB;
    const kbps = (bytes: number, ms: number) => Math.round(bytes / 1024 / (ms / 1000));
    const writeMs = timed(`
buf = bytes(range(256)) * 16
with open('big.bin', 'wb') as f:
    for i in range(${size / 4096}):
        f.write(buf)
`);
    const readMs = timed(`
b = bytearray(4096)
with open('big.bin', 'rb') as f:
    while f.readinto(b):
        pass
`);
    // Many small writes (print to a file): the Python-side buffer matters here.
    const lines = 20000;
    const smallMs = timed(`
with open('log.txt', 'w') as f:
    for i in range(${lines}):
        print('line', i, file=f)
`);
    mp.runPython(`import os\nlog_size = os.stat('log.txt')[6]\nos.remove('log.txt')\nos.remove('big.bin')`);
    const smallBytes = Number(mp.globals.get('log_size'));
    // Many small files (a project's .py files): one metadata commit, with its flash sync, per close.
    const files = 200;
    const filesMs = timed(`
os.mkdir('proj')
src = 'x = 1\\n' * 80
for i in range(${files}):
    with open('proj/m%d.py' % i, 'w') as f:
        f.write(src)
`);
    mp.runPython(`for n in os.listdir('proj'):\n    os.remove('proj/' + n)\nos.rmdir('proj')`);
    // Fill the image with many files and directories, then time fresh mounts.
    mp.runPython(`
for d in range(10):
    os.mkdir('d%d' % d)
    for i in range(30):
        with open('d%d/f%d.txt' % (d, i), 'w') as f:
            f.write('x' * (i * 40))
`);
    const runs = 10;
    const t0 = performance.now();
    for (let i = 0; i < runs; i++) LittleFs.mount(new BlockDevice(flash, 2 * MiB, 2 * MiB));
    const mountMs = (performance.now() - t0) / runs;
    flash.close();
    return {
      vmWriteKBps: kbps(size, writeMs),
      vmReadKBps: kbps(size, readMs),
      vmSmallWritesKBps: kbps(smallBytes, smallMs),
      vmFilesPerSec: Math.round(files / (filesMs / 1000)),
      mount2MBms: Math.round(mountMs * 100) / 100,
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const r = await runFsBench();
  console.log(`fs: VM write ${r.vmWriteKBps} KB/s (1 MB in 4 KB writes)`);
  console.log(`fs: VM read ${r.vmReadKBps} KB/s (1 MB in 4 KB readinto)`);
  console.log(`fs: VM print(file=) ${r.vmSmallWritesKBps} KB/s (20000 short lines)`);
  console.log(`fs: VM small files ${r.vmFilesPerSec} files/s (200 files of 480 bytes)`);
  console.log(`fs: mount of a 2 MB image with 300 files ${r.mount2MBms} ms`);
}
