// machine.SDCard on the esp32 profiles, the card being the board's sdcard.img, and FAT32 volumes on it: images
// made from the FAT specification by test/helpers/fat32-image.ts (as a PC or camera leaves a card), and what the
// board writes read back by that helper's own reader.
import { closeSync, existsSync, openSync, readSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sdCardPath } from '../emulator/board-store.js';
import { createSdCard } from '../emulator/storage/sdcard.js';
import { readFat32, writeFat32 } from './helpers/fat32-image.js';
import { TestBoard } from './helpers/test-board.js';

const MiB = 1024 * 1024;
const HELLO = Buffer.from('hello from a PC\n'.repeat(50)); // 800 bytes: two 512-byte clusters
const err = `
def err(fn):
    try:
        fn()
        return 'ok'
    except Exception as e:
        return '%s %s' % (type(e).__name__, e.errno if isinstance(e, OSError) else e)
`;

let board: TestBoard;
beforeAll(async () => {
  board = await TestBoard.open();
  await board.run(`import machine, vfs, os${err}`);
});
afterAll(async () => {
  await board?.close();
});
const card = () => sdCardPath(board.stored);
/** An empty card of `bytes` (sparse). */
const sized = (bytes: number) => {
  writeFileSync(card(), '');
  truncateSync(card(), bytes);
};
/** Sectors of an image, read without reading the whole (sparse, gigabytes) file. */
function readSectors(path: string, sectors: number[]): Buffer[] {
  const fd = openSync(path, 'r');
  try {
    return sectors.map((n) => {
      const b = Buffer.alloc(512);
      readSync(fd, b, 0, 512, n * 512);
      return b;
    });
  } finally {
    closeSync(fd);
  }
}

describe('FAT32 cards written elsewhere', () => {
  it('mount with their MBR, read, and take changes that an independent reader sees, FSInfo kept right', async () => {
    const made = writeFat32(card(), {
      bytes: 40 * MiB, partitionStart: 2048, spc: 1, fsInfoFree: true,
      files: { 'HELLO.TXT': HELLO }, dir: { name: 'DATA', files: { 'LOG.TXT': Buffer.from('logged') } },
      longName: { name: 'Long file name.txt', short: 'LONGFI~1.TXT', data: Buffer.from('long one') },
    });
    const out = await board.run(
      "sd = machine.SDCard()\nvfs.mount(sd, '/sd')\n" +
        "print(sorted(os.listdir('/sd')), len(open('/sd/HELLO.TXT').read()), open('/sd/DATA/LOG.TXT').read(), open('/sd/Long file name.txt').read())\n" +
        "st = os.statvfs('/sd')\nprint(st[0], st[2], st[3])\n" +
        "with open('/sd/board.txt', 'w') as f:\n    f.write('b' * 3000)\n" +
        "os.mkdir('/sd/new dir')\nwith open('/sd/new dir/inner.bin', 'wb') as f:\n    f.write(bytes(range(256)) * 20)\n" +
        "os.remove('/sd/HELLO.TXT')\nos.rename('/sd/DATA/LOG.TXT', '/sd/moved.txt')\nprint(os.statvfs('/sd')[3])\nvfs.umount('/sd')",
    );
    // board.txt takes 6 clusters, the new directory 1, inner.bin 10; HELLO.TXT gives its 2 back.
    const free = made.free - 6 - 1 - 10 + 2;
    expect(out).toBe(
      `['DATA', 'HELLO.TXT', 'Long file name.txt'] 800 logged long one\n512 ${made.clusters} ${made.free}\n${free}\n`,
    );
    const back = readFat32(card());
    expect([...back.files.keys()].sort()).toEqual(['Long file name.txt', 'board.txt', 'moved.txt', 'new dir/inner.bin']);
    expect(back.files.get('board.txt')!.toString()).toBe('b'.repeat(3000));
    expect(back.files.get('new dir/inner.bin')).toEqual(Buffer.from(Array.from({ length: 5120 }, (_, i) => i % 256)));
    expect(back.files.get('moved.txt')!.toString()).toBe('logged');
    expect({ free: back.free, fsInfo: back.fsInfoFree, fatsEqual: back.fatsEqual }).toEqual({ free, fsInfo: free, fatsEqual: true });
  });

  it('at sector 0 without an MBR and with the free count unknown: statvfs counts the FAT and FSInfo keeps it', async () => {
    const made = writeFat32(card(), { bytes: 72 * MiB, spc: 2, fsInfoFree: false, files: { 'A.TXT': Buffer.from('a') } });
    expect(readFat32(card()).fsInfoFree).toBe(0xffffffff);
    const out = await board.run(
      "sd = machine.SDCard()\nvfs.mount(sd, '/sd')\nst = os.statvfs('/sd')\nprint(st[0], st[2], st[3], open('/sd/A.TXT').read())\n" +
        "with open('/sd/b.txt', 'w') as f:\n    f.write('b')\nvfs.umount('/sd')",
    );
    expect(out).toBe(`1024 ${made.clusters} ${made.free} a\n`);
    const back = readFat32(card());
    expect([back.fsInfoFree, back.free, back.files.get('b.txt')?.toString()]).toEqual([made.free - 1, made.free - 1, 'b']);
  });
});

describe('machine.SDCard', () => {
  it('has the card a new board comes with: 64 MiB, an MBR and FAT32, what it holds kept across a power cycle', async () => {
    const fresh = await TestBoard.open({ name: 'fresh' });
    try {
      const out = await fresh.run(
        "import machine, vfs, os\nsd = machine.SDCard()\nprint(sd.info(), sd.ioctl(4, 0), sd.ioctl(5, 0))\nvfs.mount(sd, '/sd')\n" +
          "st = os.statvfs('/sd')\nprint(os.listdir('/sd'), st[0], st[2] - st[3])\n" +
          "with open('/sd/kept.txt', 'w') as f:\n    f.write('on the card')",
      );
      expect(out).toBe('(67108864, 512) 131072 512\n[] 512 1\n');
      const again = await fresh.powerCycle();
      try {
        expect(await again.run("import machine, vfs\nvfs.mount(machine.SDCard(), '/sd')\nprint(open('/sd/kept.txt').read())")).toBe('on the card\n');
        expect(readFat32(sdCardPath(again.stored)).files.get('kept.txt')?.toString()).toBe('on the card');
      } finally {
        await again.close();
      }
    } finally {
      await fresh.close().catch(() => {});
    }
  });

  it('holds more than the heap: 400 KB written and read back three times (no Python object pinned per block)', async () => {
    rmSync(card());
    createSdCard(card());
    const out = await board.run(
      "vfs.mount(machine.SDCard(), '/sd')\nwith open('/sd/big.bin', 'wb') as f:\n    for i in range(100):\n        f.write(bytes([i]) * 4096)\n" +
        "n = 0\nfor k in range(3):\n    with open('/sd/big.bin', 'rb') as f:\n        while True:\n            b = f.read(4096)\n" +
        "            if not b:\n                break\n            n += b[-1]\nprint(n, os.stat('/sd/big.bin')[6])\nvfs.umount('/sd')",
    );
    expect(out).toBe(`${3 * 4950} 409600\n`);
  });

  it('reads and writes whole 512-byte blocks, and os.VfsFat.mkfs formats the card as the firmware does (FAT16 here)', async () => {
    writeFat32(card(), { bytes: 40 * MiB, partitionStart: 2048, spc: 1, fsInfoFree: true, files: {} });
    const out = await board.run(
      'sd = machine.SDCard()\nb = bytearray(1024)\nprint(sd.readblocks(0, b), b[510], b[511], b[512 + 510])\n' +
        "print(sd.writeblocks(100, b'\\x5a' * 1024))\nsd.readblocks(101, b)\nprint(b[0], b[511], b[512])\n" +
        "os.VfsFat.mkfs(sd)\nfs = os.VfsFat(sd)\nprint(fs.statvfs('/')[0:4])\nsd.deinit()\nprint(sd.readblocks(0, b), sd.info())",
    );
    // f_mkfs(FM_FAT|FM_SFD) on 81920 sectors: 8-sector clusters, FAT16 (one 41-sector FAT, 512 root entries), no
    // partition table. After deinit() the host is gone (blocks fail) but the card's size is still known.
    expect(out).toBe('True 85 170 0\nTrue\n90 90 0\n(4096, 4096, 10230, 10230)\nFalse (41943040, 512)\n');
  });

  it('mkfs of a 3 GB card is FAT16 with 64 KiB clusters (f_mkfs doubles to 128 sectors)', async () => {
    sized(3 * 1024 * MiB);
    // 6291456 sectors: 64-sector clusters would be too many for FAT16, so f_mkfs retries with 128.
    expect(await board.run("sd = machine.SDCard()\nos.VfsFat.mkfs(sd)\nprint(os.VfsFat(sd).statvfs('/')[0:4])")).toBe(
      '(65536, 65536, 49150, 49150)\n',
    );
  });

  it('mkfs of a 4 GiB card is FAT32 in an MBR partition, as the firmware falls back to FM_FAT32, and a PC reads it', async () => {
    sized(4 * 1024 * MiB);
    const out = await board.run(
      "sd = machine.SDCard()\nos.VfsFat.mkfs(sd)\nvfs.mount(sd, '/sd')\nprint(os.statvfs('/sd'))\nos.mkdir('/sd/logs')\n" +
        "with open('/sd/logs/big.bin', 'wb') as f:\n    f.write(bytes(range(256)) * 200)\n" +
        "with open('/sd/a.txt', 'w') as f:\n    f.write('on FAT32')\nprint(os.statvfs('/sd')[3])\nvfs.umount('/sd')",
    );
    // The numbers MicroPython's extmod/vfs_fat_ramdisklarge.py expects of a 4 GiB disk; then logs/ takes a
    // cluster, big.bin (51200 bytes) two of 32 KiB, a.txt one.
    expect(out).toBe('(32768, 32768, 131054, 131053, 131053, 0, 0, 0, 0, 255)\n131049\n');
    const [mbr, boot, backup] = readSectors(card(), [0, 63, 69]);
    // One partition, type 0x0C, from sector 63 to the card's end (CHS as FatFs writes it).
    expect(mbr.subarray(446, 462).toString('hex')).toBe('000101000cfebf0a3f000000c1ff7f00');
    // 64-sector clusters (cst32), 32 reserved sectors, one FAT of 1025 sectors, the root in cluster 2, FSInfo at
    // 1, the boot sector's backup at 6.
    expect({
      spc: boot[13], reserved: boot.readUInt16LE(14), fats: boot[16], fatSectors: boot.readUInt32LE(36),
      root: boot.readUInt32LE(44), fsInfo: boot.readUInt16LE(48), backup: boot.readUInt16LE(50),
    }).toEqual({ spc: 64, reserved: 32, fats: 1, fatSectors: 1025, root: 2, fsInfo: 1, backup: 6 });
    expect(boot.toString('latin1', 71, 90)).toBe('NO NAME    FAT32   ');
    expect(backup).toEqual(boot);
    const back = readFat32(card());
    expect([...back.files.keys()].sort()).toEqual(['a.txt', 'logs/big.bin']);
    expect(back.files.get('a.txt')!.toString()).toBe('on FAT32');
    expect(back.files.get('logs/big.bin')).toEqual(Buffer.from(Array.from({ length: 51200 }, (_, i) => i % 256)));
    expect([back.clusters, back.free, back.fsInfoFree]).toEqual([131054, 131049, 131049]);
  });

  it('without a card in the slot: constructs, then info() ETIMEDOUT, block calls fail, mount EBUSY', async () => {
    rmSync(card());
    const out = await board.run(
      "sd = machine.SDCard()\nprint(err(sd.info), sd.readblocks(0, bytearray(512)), sd.ioctl(1, 0), sd.ioctl(4, 0))\n" +
        "print(err(lambda: vfs.mount(sd, '/sd')), err(lambda: os.VfsFat.mkfs(sd)))",
    );
    expect(out).toBe('OSError 110 False -1 -1\nOSError 16 OSError 16\n');
  });

  it("refuses the port's bad arguments: slot, width, pins", async () => {
    const out = await board.run(
      "for kw in ({'slot': 4}, {'slot': -1}, {'width': 3}, {'slot': 1, 'width': 8}, {'slot': 0, 'width': 8}, {'slot': 2, 'width': 4},\n" +
        "           {'slot': '1'}, {'cs': 'x'}, {'sck': 99}, {'cmd': machine.Pin(15)}, {'data': 2}, {'width': 4, 'data': (2,)}):\n" +
        '    print(err(lambda: machine.SDCard(**kw)))\nprint(err(lambda: machine.SDCard(1)))',
    );
    expect(out.split('\n')).toEqual([
      'ValueError slot number must be between 0 and 3 inclusive',
      'ValueError slot number must be between 0 and 3 inclusive',
      'ValueError width must be 1 or 4 (or 8 on slot 0)',
      'ValueError width must be 1 or 4 (or 8 on slot 0)',
      'ok',
      'ok', // the SPI slots take one data line whatever width says
      "TypeError can't convert str to int",
      'ValueError expecting a pin',
      'OSError 258',
      'ok',
      "TypeError object 'int' isn't a tuple or list",
      'ValueError need 4 data pins for width 4',
      expect.stringMatching(/^TypeError /),
      '',
    ]);
  });
});

describe('SDCard per port', () => {
  it('on the C3, which has no SD/MMC host, is an SPI slot only', async () => {
    const c3 = await TestBoard.open({ profile: 'esp32c3', name: 'c3' });
    try {
      const out = await c3.run(`import machine${err}\nprint(machine.SDCard().info(), err(lambda: machine.SDCard(slot=1)))`);
      expect(out).toBe('(67108864, 512) ValueError slot number must be 2\n');
    } finally {
      await c3.close();
    }
  });

  it('on the S3 takes the SD/MMC pins it routes through the GPIO matrix: sck, cmd and width data pins', async () => {
    const s3 = await TestBoard.open({ profile: 'esp32s3', name: 's3' });
    try {
      const out = await s3.run(
        `import machine${err}\nsd = machine.SDCard(slot=1, width=4, sck=14, cmd=15, data=(2, 4, 12, 13))\nprint(sd.info()[0] >> 20)\n` +
          'print(err(lambda: machine.SDCard(slot=1, width=4, data=(2,))), err(lambda: machine.SDCard(slot=0, cmd=99)))',
      );
      expect(out).toBe('64\nValueError need 4 data pins for width 4 OSError 258\n');
    } finally {
      await s3.close();
    }
  });

  it('is not on rp2, whose port has none, and an rp2 board has no card file', async () => {
    const pico = await TestBoard.open({ profile: 'rp2-pico', name: 'pico' });
    try {
      expect(await pico.run("import machine\nprint(hasattr(machine, 'SDCard'))")).toBe('False\n');
      expect(existsSync(sdCardPath(pico.stored))).toBe(false);
    } finally {
      await pico.close();
    }
  });
});
