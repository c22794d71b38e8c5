// Issue 16 item 4: esp32.Partition on the board's flash and OTA updates as ESP-IDF does them, on the real board
// runtime (worker, resets, the ROM's boot path). The board carries MicroPython's OTA build (two app slots,
// otadata); board code writes a new app into the next slot, sets it to boot and resets; the bootloader boots it
// once as PENDING_VERIFY and rolls back on the next reset unless the app marked itself valid.
import { readFileSync, writeFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { firmwareOffset, generateApp, generateFirmware } from '../emulator/rom/firmware.js';
import { getProfile } from '../emulator/profiles.js';
import { TestBoard } from './helpers/test-board.js';

const profile = getProfile('esp32');
let board: TestBoard;

/** Erase the chip and write the OTA release firmware where it goes, as `esptool erase-flash` + `write-flash 0x1000` would. */
function flashOtaFirmware(path: string): void {
  const size = readFileSync(path).length;
  const image = new Uint8Array(size).fill(0xff);
  image.set(generateFirmware(profile, { ota: true }), firmwareOffset(profile));
  writeFileSync(path, image);
}

const UPDATE = `
import esp32, machine
part = esp32.Partition(esp32.Partition.RUNNING).get_next_update()
buf = bytearray(4096)
with open('/app.bin', 'rb') as f:
    block = 0
    while True:
        n = f.readinto(buf)
        if not n:
            break
        for i in range(n, 4096):
            buf[i] = 0xff
        part.writeblocks(block, buf)
        block += 1
part.set_boot()
machine.reset()
`;

beforeAll(async () => {
  board = await TestBoard.open();
});
afterAll(async () => {
  await board?.close();
});

describe('esp32.Partition and OTA', () => {
  it('boots the OTA build from ota_0 and lists the flashed partition table', async () => {
    const log = await board.reset(() => flashOtaFirmware(board.stored.flashPath));
    expect(log).toContain('MicroPython v1.27.0 on 2025-12-10; Generic ESP32 module with OTA with ESP32');
    const out = await board.run(
      'import esp32\nfrom esp32 import Partition\n' +
        'print([p.info()[4] for p in Partition.find(Partition.TYPE_APP)])\n' +
        'print([p.info()[4] for p in Partition.find(Partition.TYPE_DATA)])\n' +
        'run = Partition(Partition.RUNNING)\nprint(run.info(), run.get_next_update().info()[4])\n' +
        'print(Partition(Partition.BOOT) == run, Partition("vfs").ioctl(4, 0), Partition("nvs").ioctl(5, 0))\n' +
        'print(Partition.find(Partition.TYPE_DATA, label="vfs")[0])\n' +
        'import vfs\nprint(vfs.mount())',
    );
    expect(out).toBe(
      "['ota_0', 'ota_1']\n['nvs', 'otadata', 'phy_init', 'vfs']\n" +
        "(0, 16, 65536, 1572864, 'ota_0', False) ota_1\n" +
        'True 240 4096\n' +
        '<Partition type=1, subtype=129, address=3211264, size=983040, label=vfs, encrypted=0>\n' +
        "[(<VfsLfs2>, '/')]\n",
    );
  });

  it('reads, erases and writes blocks with the simple and the extended block protocol', async () => {
    const out = await board.run(
      'from esp32 import Partition\np = Partition("ota_1")\nb = bytearray(16)\n' +
        'p.ioctl(6, 300)\np.readblocks(300, b)\nprint(b[:4])\n' +
        'p.writeblocks(300, b"\\x0f\\xf0", 8)\np.writeblocks(300, b"\\xf3\\x3f", 8)\np.readblocks(300, b, 4)\nprint(b[4:6])\n' +
        'p.writeblocks(301, bytearray(4096))\np.readblocks(301, b)\nprint(b[:2])\n' +
        'try:\n    p.readblocks(384, b)\nexcept OSError as e:\n    print("OSError", e.errno)',
    );
    // NOR flash: a second program without an erase only clears bits.
    expect(out).toBe("bytearray(b'\\xff\\xff\\xff\\xff')\nbytearray(b'\\x030')\nbytearray(b'\\x00\\x00')\nOSError 22\n");
  });

  it('refuses to set a slot without a valid image as the boot partition', async () => {
    const out = await board.run(
      'from esp32 import Partition\np = Partition("ota_1")\np.ioctl(6, 0)\n' +
        'try:\n    p.set_boot()\nexcept OSError as e:\n    print(e.args)\nprint(Partition(Partition.BOOT).info()[4])',
    );
    expect(out).toBe("(-5379, 'ESP_ERR_OTA_VALIDATE_FAILED')\nota_0\n");
  });

  it('boots an update written from board code, and rolls back when it was not marked valid', async () => {
    const app = generateApp(profile, { ota: true, version: 'v1.27.0-ota-update' });
    await board.run(`with open('/app.bin', 'wb') as f:\n    f.write(bytes.fromhex('${Buffer.from(app).toString('hex')}'))`);
    const first = await board.runToReset(UPDATE, 'hard');
    expect(first).toContain('MicroPython v1.27.0-ota-update on 2025-12-10; Generic ESP32 module with OTA with ESP32');
    expect(await board.run('import esp32\nprint(esp32.Partition(esp32.Partition.RUNNING).info()[4])')).toBe('ota_1\n');
    // No mark_app_valid_cancel_rollback(): the bootloader gives the new image up and boots the old one.
    const second = await board.runToReset('import machine\nmachine.reset()', 'hard');
    expect(second).toContain('MicroPython v1.27.0 on 2025-12-10; Generic ESP32 module with OTA');
    expect(second).not.toContain('ota-update');
    expect(await board.run('import esp32\nprint(esp32.Partition(esp32.Partition.RUNNING).info()[4])')).toBe('ota_0\n');
  });

  it('keeps an update that marked itself valid across resets', async () => {
    await board.runToReset(UPDATE, 'hard');
    await board.run('import esp32\nesp32.Partition.mark_app_valid_cancel_rollback()');
    const again = await board.runToReset('import machine\nmachine.reset()', 'hard');
    expect(again).toContain('v1.27.0-ota-update');
    expect(await board.run('import esp32\nprint(esp32.Partition(esp32.Partition.RUNNING).info()[4])')).toBe('ota_1\n');
  });
});
