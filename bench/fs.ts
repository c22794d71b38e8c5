// Filesystem speed: write/read throughput of Python code on the virtual board through the littlefs bridge (the real
// board runtime, flash in a temp file), timed inside the VM; and the time to mount a well-filled 2 MB image.
// Run: npm run build && node dist/bench/fs.js
import { pathToFileURL } from 'node:url';
import { FileFlashStore } from '../emulator/flash-store.js';
import { BlockDevice } from '../emulator/littlefs/block-device.js';
import { LittleFs } from '../emulator/littlefs/lfs.js';
import { TestBoard } from '../test/helpers/test-board.js';

export interface FsBenchResult {
  vmWriteKBps: number;
  vmReadKBps: number;
  vmSmallWritesKBps: number;
  vmFilesPerSec: number;
  mount2MBms: number;
}

const MiB = 1 << 20;

export async function runFsBench(): Promise<FsBenchResult> {
  const board = await TestBoard.open();
  try {
    // Milliseconds the code took on the board (ticks_us), and the last value it printed.
    const timed = async (code: string) => {
      const out = await board.run(`import time\n_t = time.ticks_us()\n${code}\nprint(time.ticks_diff(time.ticks_us(), _t) / 1000)`, 120_000);
      return Number(out.trim().split('\n').pop());
    };
    const size = MiB;
    const kbps = (bytes: number, ms: number) => Math.round(bytes / 1024 / (ms / 1000));
    const writeMs = await timed(`
buf = bytes(range(256)) * 16
with open('big.bin', 'wb') as f:
    for i in range(${size / 4096}):
        f.write(buf)
`);
    const readMs = await timed(`
b = bytearray(4096)
with open('big.bin', 'rb') as f:
    while f.readinto(b):
        pass
`);
    // Many small writes (print to a file): the Python-side buffer matters here.
    const lines = 20000;
    const smallMs = await timed(`
with open('log.txt', 'w') as f:
    for i in range(${lines}):
        print('line', i, file=f)
`);
    const smallBytes = Number(await board.run(`import os\nprint(os.stat('log.txt')[6])\nos.remove('log.txt')\nos.remove('big.bin')`));
    // Many small files (a project's .py files): one metadata commit, with its flash sync, per close.
    const files = 200;
    const filesMs = await timed(`
os.mkdir('proj')
src = 'x = 1\\n' * 80
for i in range(${files}):
    with open('proj/m%d.py' % i, 'w') as f:
        f.write(src)
`);
    await board.run(`for n in os.listdir('proj'):\n    os.remove('proj/' + n)\nos.rmdir('proj')`);
    // Fill the image with many files and directories, then time fresh mounts.
    await board.run(`
for d in range(10):
    os.mkdir('d%d' % d)
    for i in range(30):
        with open('d%d/f%d.txt' % (d, i), 'w') as f:
            f.write('x' * (i * 40))
`);
    await board.board.close();
    const flash = new FileFlashStore(board.stored.flashPath);
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
    await board.close();
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
