// VfsFat and VfsLfs2 on user block devices as the ESP32 firmware has them (FatFs, littlefs v2): what
// MicroPython's extmod/vfs_* tests check in the conformance lane, here also where ../shared is absent. The
// device below speaks either block protocol: with ioctl (new) or with count/sync (old, no ioctl).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TestBoard } from './helpers/test-board.js';

const DEVICES = `
import os, vfs, time, errno

class Blocks:
    def __init__(self, blocks, size=512):
        self.size = size
        self.data = bytearray(blocks * size)
        self.result = None
        self.syncs = 0

    def readblocks(self, n, buf, off=0):
        if self.result == 'raise':
            raise KeyboardInterrupt
        at = n * self.size + off
        buf[:] = self.data[at:at + len(buf)]
        return self.result

    def writeblocks(self, n, buf, off=0):
        at = n * self.size + off
        self.data[at:at + len(buf)] = buf

class Disk(Blocks):
    def ioctl(self, op, arg):
        if op == 3:
            self.syncs += 1
        if op == 4:
            return len(self.data) // self.size
        if op == 5:
            return self.size
        if op == 6:
            return 0

class OldDisk(Blocks):
    # The old protocol: no ioctl; 512-byte blocks, count() and sync().
    def count(self):
        return len(self.data) // 512

    def sync(self):
        self.syncs += 1

class Sparse(Disk):
    # Only the blocks written take memory (the heap holds no whole device of 4096-byte blocks); simple protocol.
    def __init__(self, n, size=512):
        self.n, self.size, self.blocks = n, size, {}

    def readblocks(self, n, buf):
        buf[:] = self.blocks.get(n, bytes(len(buf)))

    def writeblocks(self, n, buf):
        self.blocks[n] = bytes(buf)

    def ioctl(self, op, arg):
        return self.n if op == 4 else self.size if op == 5 else None

def fat(blocks=50, cls=Disk):
    d = cls(blocks)
    vfs.VfsFat.mkfs(d)
    return d, vfs.VfsFat(d)

def lfs(blocks=30, **kw):
    d = Disk(blocks, 1024)
    vfs.VfsLfs2.mkfs(d)
    return d, vfs.VfsLfs2(d, **kw)

def err(fn):
    try:
        fn()
        return 'ok'
    except BaseException as e:
        return '%s %s' % (type(e).__name__, e)
`;

let board: TestBoard;
beforeAll(async () => {
  board = await TestBoard.open();
  await board.run(DEVICES);
});
afterAll(async () => {
  await board?.close();
});

const run = (code: string) => board.run(code);

describe('VfsFat on a user block device, as FatFs lays it out', () => {
  it('formats small volumes as f_mkfs does: one FAT, 512 root entries, 1-sector clusters', async () => {
    const out = await run(
      'd, fs = fat()\nprint(fs.statvfs("/"))\nprint(d.data[13], d.data[16], d.data[17] | d.data[18] << 8, d.data[22])\n' +
        'print(err(lambda: fat(49)))',
    );
    // 50 sectors: boot sector + 1 FAT sector + 32 root-directory sectors leave 16 clusters (FatFs's minimum).
    expect(out).toBe('(512, 512, 16, 16, 16, 0, 0, 0, 0, 255)\n1 1 512 1\nOSError [Errno 5] EIO\n');
  });

  it('formats the smallest volumes R0.13c does: 16 clusters after the system sectors, 22 sectors of 4096 bytes', async () => {
    const out = await run(
      'def smallest(size, n):\n    d = Sparse(n, size)\n    r = err(lambda: vfs.VfsFat.mkfs(d))\n    if r != "ok":\n        return r\n' +
        '    fs = vfs.VfsFat(d)\n    r = fs.statvfs("/")[:4]\n    fs.umount()\n    return r\n' +
        'for size, n in ((1024, 34), (1024, 33), (4096, 22), (4096, 21)):\n    print(size, n, smallest(size, n))',
    );
    // Boot sector, one FAT sector and the root directory (512 entries: 4 sectors of 4096 bytes, 16 of 1024).
    expect(out).toBe(
      '1024 34 (1024, 1024, 16, 16)\n1024 33 OSError [Errno 5] EIO\n4096 22 (4096, 4096, 16, 16)\n4096 21 OSError [Errno 5] EIO\n',
    );
  });

  it("writes f_mkfs's boot sector: MSDOS5.0, media 0xF8, 63/255, drive 0x80, NO NAME, \"FAT\", the serial from the clock", async () => {
    const out = await run(
      // GET_FATTIME, the board's calendar time packed as FAT packs it, just before and just after the mkfs.
      'def fattime():\n    t = time.localtime()\n    return (t[0] - 1980) << 25 | t[1] << 21 | t[2] << 16 | t[3] << 11 | t[4] << 5 | t[5] // 2\n' +
        "a = fattime()\nd, fs = fat()\nb = fattime()\nbs = d.data\n" +
        "print(bytes(bs[:11]), bs[21], bs[24], bs[26], bytes(bs[28:32]), bs[36], bs[38], bytes(bs[43:62]))\n" +
        "print(a <= int.from_bytes(bs[39:43], 'little') <= b)",
    );
    expect(out).toBe("b'\\xeb\\xfe\\x90MSDOS5.0' 248 63 255 b'\\x00\\x00\\x00\\x00' 128 41 b'NO NAME    FAT     '\nTrue\n");
  });

  it('takes a device with no volume, as f_mount does: ENODEV at each call that needs one and at mount(), which mkfs=True formats', async () => {
    const out = await run(
      "d = Sparse(50)\nfs = vfs.VfsFat(d)\nprint(fs.stat('/'), err(lambda: fs.ilistdir('/')), err(fs.getcwd), err(lambda: fs.open('f', 'w')))\n" +
        "print(err(lambda: vfs.mount(fs, '/blank')), err(lambda: vfs.mount(d, '/blank')), len(d.blocks))\n" +
        // mount's mkfs: f_mkfs(FM_FAT | FM_SFD), after the device's write protection.
        "print(err(lambda: vfs.mount(fs, '/blank', readonly=True, mkfs=True)), len(d.blocks))\n" +
        "vfs.mount(d, '/blank', mkfs=True)\nopen('/blank/f', 'w').close()\nprint(os.listdir('/blank'), os.statvfs('/blank')[:4])\n" +
        "vfs.umount('/blank')\n" +
        // What the constructor found decides mount(); the other calls look for the volume again.
        "d = Sparse(50)\nfs = vfs.VfsFat(d)\nvfs.VfsFat.mkfs(d)\nprint(err(lambda: vfs.mount(fs, '/blank')), list(fs.ilistdir()), fs.getcwd())\n" +
        // No FAT32 for mount's mkfs: a device too big for FAT16 is FR_MKFS_ABORTED, where VfsFat.mkfs falls back.
        "print(err(lambda: vfs.mount(Sparse(1 << 23), '/big', mkfs=True)))\n" +
        // A sector size FatFs does not take (512 to 4096 bytes) is FR_DISK_ERR, already at the constructor.
        'print(err(lambda: vfs.VfsFat(Sparse(50, 256))), err(lambda: vfs.VfsFat.mkfs(Sparse(50, 256))))',
    );
    expect(out).toBe(
      // The root's time is 2000-01-01 (vfs_fat.c), in seconds since the port's 1970 epoch.
      '(16384, 0, 0, 0, 0, 0, 0, 946684800, 946684800, 946684800) OSError [Errno 19] ENODEV OSError [Errno 19] ENODEV ' +
        'OSError [Errno 19] ENODEV\nOSError [Errno 19] ENODEV OSError [Errno 19] ENODEV 0\nOSError 30 0\n' +
        "['f'] (512, 512, 16, 16)\n" +
        'OSError [Errno 19] ENODEV [] /\n' +
        'OSError [Errno 5] EIO\nOSError [Errno 5] EIO OSError [Errno 5] EIO\n',
    );
  });

  it('resolves .. in chdir and answers ENOENT for chdir to a file, EISDIR/ENOTDIR/EACCES on removes', async () => {
    const out = await run(
      'd, fs = fat()\nfs.mkdir("a")\nfs.chdir("a")\nfs.open("f", "w").close()\nprint(fs.getcwd(), err(lambda: fs.chdir("f")))\n' +
        'fs.chdir("..")\nprint(fs.getcwd(), err(lambda: fs.remove("a")), err(lambda: fs.rmdir("a/f")), err(lambda: fs.rmdir("a")))',
    );
    expect(out).toBe('/a OSError [Errno 2] ENOENT\n/ OSError [Errno 21] EISDIR OSError 20 OSError [Errno 13] EACCES\n');
  });

  it('renames into the next free directory slot, keeping the entry (FatFs registers before it removes)', async () => {
    const out = await run(
      'd, fs = fat()\nfor n in ("one-long-name.txt", "b.txt"):\n    fs.open(n, "w").close()\n' +
        'fs.rename("one-long-name.txt", "c.txt")\nprint([e[0] for e in fs.ilistdir("/")], [e[0] for e in fs.ilistdir(b"")])\n' +
        // a (cluster 2, sector 34) moved into b (cluster 3): its '..' entry names cluster 3.
        'd, fs = fat()\nfs.mkdir("a")\nfs.mkdir("b")\nfs.rename("a", "b/a")\nprint([e[0] for e in fs.ilistdir("b")], d.data[34 * 512 + 32 + 26])',
    );
    expect(out).toBe("['b.txt', 'c.txt'] [b'b.txt', b'c.txt']\n['a'] 3\n");
  });
});

describe('files on user block devices', () => {
  it('are io.TextIOWrapper / io.FileIO as on the firmware, and a closed one raises as its filesystem does', async () => {
    const out = await run(
      'd, fs = fat()\nt = fs.open("t", "w")\nb = fs.open("b", "wb")\nprint(type(t).__name__, type(b).__name__, repr(t)[:18], repr(t)[-1])\n' +
        't.close()\nprint(err(lambda: t.write("x")))\n' +
        'd, fs = lfs()\nt = fs.open("t", "wb")\nprint(repr(t))\nt.close()\nprint(err(lambda: t.write("x")))',
    );
    expect(out).toBe(
      'TextIOWrapper FileIO <io.TextIOWrapper  >\nOSError [Errno 22] EINVAL\n<io.FileIO>\nValueError \n',
    );
  });

  it('on the flash are the same types, and what a filesystem raises carries no frame of the runtime', async () => {
    const out = await run(
      't = open("/types.txt", "w")\nprint(type(t).__name__, repr(t), type(open("/types.txt", "rb")).__name__)\nt.close()\n' +
        'print(err(lambda: t.write("x")))\nimport io, sys\nd, fs = fat()\ntry:\n    fs.stat("nope")\nexcept OSError as e:\n' +
        '    s = io.StringIO()\n    sys.print_exception(e, s)\n    print(s.getvalue().count("File "), "_vfs" in s.getvalue())\nos.remove("/types.txt")',
    );
    expect(out).toBe('TextIOWrapper <io.TextIOWrapper> FileIO\nValueError \n1 False\n');
  });

  it('import a module from a FAT mount (the file stream has ioctl)', async () => {
    const body = Array.from({ length: 40 }, (_, i) => `v${i} = ${i}`).join('\\n');
    const out = await run(
      `import sys\nd, fs = fat()\nvfs.mount(fs, "/fat")\nwith open("/fat/fatmod.py", "w") as f:\n    f.write("${body}\\ndef total():\\n    return v0 + v39\\n")\n` +
        'sys.path.append("/fat")\nimport fatmod\nprint(fatmod.total(), fatmod.__file__)\nsys.path.remove("/fat")\nvfs.umount("/fat")',
    );
    expect(out).toBe('39 /fat/fatmod.py\n');
  });

  it('open relative paths after os.chdir into the mount', async () => {
    const out = await run(
      'd, fs = fat()\nvfs.mount(fs, "/rel")\nos.chdir("/rel")\nos.mkdir("sub")\nwith open("sub/x.txt", "w+t") as f:\n    f.write("in sub")\n' +
        'print(open("/rel/sub/x.txt").read(), os.getcwd())\nos.chdir("/")\nvfs.umount("/rel")',
    );
    expect(out).toBe('in sub /rel\n');
  });

  it('keep what a dropped file wrote, as the finaliser that closes it on the firmware does', async () => {
    const out = await run(
      'd, fs = fat()\nfor n in ("x0", "x1"):\n    f = fs.open(n, "w")\n    f.write(n * 3)\n    f = None\n' +
        'print([fs.open(n).read() for n in ("x0", "x1")], fs.stat("x1")[6])',
    );
    expect(out).toBe("['x0x0x0', 'x1x1x1'] 6\n");
  });

  it('on the flash, a file left open keeps its data through a soft reset (closed as gc_sweep_all would)', async () => {
    await board.runToReset("f = open('/unclosed.txt', 'w')\nf.write('kept')\nimport machine\nmachine.soft_reset()", 'soft');
    expect(await run("import os\nprint(open('/unclosed.txt').read())\nos.remove('/unclosed.txt')")).toBe('kept\n');
    await run(DEVICES);
  });

  it('on a device that outlives a soft reset (a Partition), a file left open is closed by the reset, as the finaliser sweep does', async () => {
    const nvs = "import esp32\np = esp32.Partition.find(esp32.Partition.TYPE_DATA, label='nvs')[0]\n";
    await board.runToReset(
      `${nvs}vfs.VfsLfs2.mkfs(p)\nf = vfs.VfsLfs2(p).open('left', 'w')\nf.write('swept')\nimport machine\nmachine.soft_reset()`,
      'soft',
    );
    expect(await run(`import vfs\n${nvs}print(vfs.VfsLfs2(p).open('left').read())`)).toBe('swept\n');
    await run(DEVICES);
  });

  it('carry their modification time from the clock: FAT entries, littlefs mtime attribute (mtime=False: none)', async () => {
    const out = await run(
      't0 = time.time()\nd, fs = fat()\nfs.open("a", "w").close()\nd2, l = lfs()\nl.open("a", "w").close()\n' +
        'print(abs(fs.stat("a")[8] - t0) <= 2, abs(l.stat("a")[8] - t0) <= 1, fs.stat("a")[7] == fs.stat("a")[8])\n' +
        'l.umount()\nl = vfs.VfsLfs2(d2, mtime=False)\nl.open("b", "w").close()\nprint(l.stat("b")[8], l.stat("a")[8] > 0)',
    );
    expect(out).toBe('True True True\n0 True\n');
  });
});

describe('block devices', () => {
  it('speak the old protocol too: readblocks/writeblocks/count/sync, no ioctl', async () => {
    const out = await run(
      'd, fs = fat(60, OldDisk)\nvfs.mount(fs, "/old")\nwith open("/old/f.txt", "w") as f:\n    f.write("hello!")\n' +
        'print(os.listdir("/old"), open("/old/f.txt").read(), d.syncs > 0, fs.statvfs("/")[2])\nvfs.umount("/old")',
    );
    expect(out).toBe("['f.txt'] hello! True 26\n");
  });

  it('mounted with readonly=True refuse every change with EROFS (errno 30) and still read', async () => {
    const out = await run(
      'for mk in (fat, lfs):\n    d, fs = mk()\n    with fs.open("f", "w") as f:\n        f.write("kept")\n    fs.mkdir("d")\n' +
        '    vfs.mount(fs, "/ro", readonly=True)\n    changes = (lambda: open("/ro/g", "w"), lambda: open("/ro/f", "a"), lambda: open("/ro/f", "r+b"),\n' +
        '               lambda: os.mkdir("/ro/e"), lambda: os.remove("/ro/f"), lambda: os.rmdir("/ro/d"), lambda: os.rename("/ro/f", "/ro/h"))\n' +
        '    print(set(err(c) for c in changes), open("/ro/f").read(), sorted(os.listdir("/ro")))\n    vfs.umount("/ro")',
    );
    expect(out).toBe("{'OSError 30'} kept ['d', 'f']\n".repeat(2));
  });

  it('that fail: EIO on FAT for any failure, the errno (or EINVAL) on littlefs, and what the device raises', async () => {
    const out = await run(
      'def probe(fs, d, res):\n    fs.open("p", "w").close()\n    d.result = res\n    r = err(lambda: fs.open("p"))\n    d.result = None\n    return r\n' +
        'd, fs = fat()\nprint([probe(fs, d, r) for r in (-5, 5, True, False, "x", "raise")])\n' +
        'd, fs = lfs()\nprint([probe(fs, d, r) for r in (-5, 5, True, False, "x", "raise")])',
    );
    const fat = "'OSError [Errno 5] EIO', 'OSError [Errno 5] EIO', 'ok', 'OSError [Errno 5] EIO', \"TypeError can't convert str to int\", 'KeyboardInterrupt '";
    const lfs = "'OSError [Errno 5] EIO', 'OSError [Errno 22] EINVAL', 'ok', 'OSError [Errno 5] EIO', \"TypeError can't convert str to int\", 'KeyboardInterrupt '";
    expect(out).toBe(`[${fat}]\n[${lfs}]\n`);
  });
});
