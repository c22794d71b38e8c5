// Issue 16 item 4: the root is a vfs.VfsLfs2 as on the firmware, and user block devices mount as VfsLfs2 and
// VfsFat: the RAM disk class of MicroPython's filesystem guide (docs/reference/filesystem.rst), written here
// from that guide's description of the block protocol.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TestBoard } from './helpers/test-board.js';

const RAMDISK = `
class RAMBlockDev:
    def __init__(self, block_size, num_blocks):
        self.block_size = block_size
        self.data = bytearray(block_size * num_blocks)

    def readblocks(self, block_num, buf, offset=0):
        addr = block_num * self.block_size + offset
        for i in range(len(buf)):
            buf[i] = self.data[addr + i]

    def writeblocks(self, block_num, buf, offset=None):
        if offset is None:
            # do erase, then write
            for i in range(len(buf) // self.block_size):
                self.ioctl(6, block_num + i)
            offset = 0
        addr = block_num * self.block_size + offset
        for i in range(len(buf)):
            self.data[addr + i] = buf[i]

    def ioctl(self, op, arg):
        if op == 4:  # block count
            return len(self.data) // self.block_size
        if op == 5:  # block size
            return self.block_size
        if op == 6:  # block erase
            return 0
`;

let board: TestBoard;
beforeAll(async () => {
  board = await TestBoard.open();
});
afterAll(async () => {
  await board?.close();
});

describe('filesystems as on silicon', () => {
  it('mounts the flash as a vfs.VfsLfs2, which mount() and os.statvfs show', async () => {
    const out = await board.run(
      'import vfs, os\nm = vfs.mount()\nprint(m, type(m[0][0]).__name__, isinstance(m[0][0], vfs.VfsLfs2))\n' +
        'print(os.VfsLfs2 is vfs.VfsLfs2, hasattr(vfs, "VfsPosix"), os.statvfs("/")[0])',
    );
    expect(out).toBe("[(<VfsLfs2>, '/')] VfsLfs2 True\nTrue False 4096\n");
  });

  it('formats, mounts, writes, reads and unmounts a RAM-disk VfsLfs2', async () => {
    const out = await board.run(
      RAMDISK +
        'import os, vfs\nbdev = RAMBlockDev(512, 50)\nos.VfsLfs2.mkfs(bdev)\nos.mount(bdev, "/ramdisk")\n' +
        'with open("/ramdisk/test.txt", "w") as f:\n    f.write("Hello world")\n' +
        'os.mkdir("/ramdisk/sub")\nprint(sorted(os.listdir("/ramdisk")), open("/ramdisk/test.txt").read())\n' +
        'print([m for m in vfs.mount() if m[1] == "/ramdisk"], os.stat("/ramdisk/test.txt")[6])\n' +
        'os.umount("/ramdisk")\nprint("test.txt" in os.listdir("/"))\n' +
        // Mounted again (the detection finds littlefs) the file is still there.
        'vfs.mount(vfs.VfsLfs2(bdev), "/r2")\nprint(open("/r2/test.txt").read())\nvfs.umount("/r2")',
    );
    expect(out).toBe("['sub', 'test.txt'] Hello world\n[(<VfsLfs2>, '/ramdisk')] 11\nFalse\nHello world\n");
  });

  it('formats, mounts, writes, reads and unmounts a RAM-disk VfsFat', async () => {
    const out = await board.run(
      RAMDISK +
        'import os, vfs\nbdev = RAMBlockDev(512, 50)\nos.VfsFat.mkfs(bdev)\nos.mount(bdev, "/ramdisk")\n' +
        'with open("/ramdisk/test.txt", "w") as f:\n    f.write("Hello world")\n' +
        'with open("/ramdisk/A Long Name.data", "wb") as f:\n    f.write(bytes(range(256)) * 8)\n' +
        'os.mkdir("/ramdisk/logs")\nwith open("/ramdisk/logs/LOG1.TXT", "a") as f:\n    f.write("one\\n")\n' +
        'with open("/ramdisk/logs/LOG1.TXT", "a") as f:\n    f.write("two\\n")\n' +
        'print(sorted(os.listdir("/ramdisk")), open("/ramdisk/test.txt").read())\n' +
        'd = open("/ramdisk/A Long Name.data", "rb").read()\nprint(len(d), d[:3], d == bytes(range(256)) * 8)\n' +
        'print(open("/ramdisk/logs/LOG1.TXT").readlines(), [m for m in vfs.mount() if m[1] == "/ramdisk"])\n' +
        'os.rename("/ramdisk/test.txt", "/ramdisk/logs/moved.txt")\nos.remove("/ramdisk/A Long Name.data")\n' +
        'print(sorted(os.listdir("/ramdisk")), sorted(os.listdir("/ramdisk/logs")))\n' +
        'os.umount("/ramdisk")\n' +
        // The bytes are a FAT volume: boot sector signature, the type string f_mkfs writes for FAT12 and FAT16 alike.
        'print(bdev.data[510:512], bytes(bdev.data[54:62]))\n' +
        'vfs.mount(bdev, "/again")\nprint(open("/again/logs/moved.txt").read())\nvfs.umount("/again")',
    );
    expect(out).toBe(
      "['A Long Name.data', 'logs', 'test.txt'] Hello world\n" +
        "2048 b'\\x00\\x01\\x02' True\n" +
        "['one\\n', 'two\\n'] [(<VfsFat>, '/ramdisk')]\n" +
        "['logs'] ['LOG1.TXT', 'moved.txt']\n" +
        "bytearray(b'U\\xaa') b'FAT     '\n" +
        'Hello world\n',
    );
  });
});
