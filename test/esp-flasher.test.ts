import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { MemoryFlashStore } from '../emulator/flash-store.js';
import { SYNC_FRAME } from '../emulator/rom/sync-detector.js';
import { Op } from '../protocol/esp/commands.js';
import { decodeEspImageHeader, encodeEspImage } from '../protocol/esp/image.js';
import { u32le } from '../protocol/esp/packet.js';
import { slipEncode } from '../protocol/esp/slip.js';
import { connectEsp, disconnectEsp, type ConnectOptions, type EspSession } from '../flash/esp-connect.js';
import { describeChip, flashId, readMac } from '../flash/esp-info.js';
import { readFlash, verifyFlash } from '../flash/read-flash.js';
import { eraseAll, eraseRegion, writeFlash } from '../flash/write-flash.js';
import { MiB, STUB, closeRigs, md5, rawLine, rig, testData, type Rig } from './helpers/esp-rig.js';

afterEach(closeRigs);

async function connect(r: Rig, opts: ConnectOptions = {}): Promise<EspSession> {
  return connectEsp(r.host, opts);
}

describe('identification', () => {
  it('ESP32: chip by magic word, MAC from eFuse, flash id via SPI registers', async () => {
    const r = rig('esp32');
    const s = await connect(r);
    expect(s.chip.name).toBe('ESP32');
    // eFuse and APB_CTL_DATE as an ESP32-D0WD-V3 has them: esptool and we print revision v3.0.
    expect(await describeChip(s)).toEqual({ chip: 'ESP32', description: 'ESP32-D0WD-V3 (revision v3.0)', revision: { major: 3, minor: 0 } });
    expect(await readMac(s)).toBe('24:0a:c4:12:34:56');
    expect(await flashId(s)).toEqual({ manufacturer: 0xc8, device: 0x4016, size: 4 * MiB });
    await disconnectEsp(s, 'no-reset');
  });

  it.each([['esp32c3', 'ESP32-C3', 'v0.4', 0x4016], ['esp32s3', 'ESP32-S3', 'v0.2', 0x4017]] as const)('%s: chip from GET_SECURITY_INFO, revision from eFuse BLOCK1', async (profile, name, rev, device) => {
    const r = rig(profile);
    const s = await connect(r, { chip: profile });
    expect(s.chip.name).toBe(name);
    expect((await describeChip(s)).description).toBe(`${name} (revision ${rev})`);
    expect(await readMac(s)).toBe('24:0a:c4:12:34:56');
    expect((await flashId(s)).device).toBe(device);
  });

  it('refuses a wrong --chip', async () => {
    const r = rig('esp32');
    await expect(connect(r, { chip: 'esp32c3' })).rejects.toMatchObject({ code: 'USAGE', message: 'This chip is ESP32, not ESP32-C3. Wrong --chip argument?' });
  });

  it('reads the UART divider so the crystal estimates as 40 MHz', async () => {
    const r = rig('esp32');
    const s = await connect(r);
    const div = await s.loader.readReg(0x3ff40014);
    expect(Math.round((115200 * div) / 1e6)).toBe(40);
  });
});

describe('write, verify, read back (ROM loader, no stub)', () => {
  const image = testData(MiB);

  it.each([['compressed', true], ['uncompressed', false]])('writes 1 MB %s at 0x10000', async (_n, compress) => {
    const r = rig('esp32');
    const s = await connect(r);
    const progress: number[] = [];
    const [res] = await writeFlash(s, [{ address: 0x10000, data: image, name: 'app.bin' }], { compress, onProgress: (p) => progress.push(p.done) });
    expect(res).toMatchObject({ address: 0x10000, size: MiB, md5: md5(image), skipped: false });
    if (compress) expect(res.compressedSize).toBeLessThan(MiB);
    expect(md5(r.flash.data.subarray(0x10000, 0x10000 + MiB))).toBe(md5(image));
    expect(r.flash.data[0xffff]).toBe(0xff);
    expect(r.flash.data[0x110000]).toBe(0xff);
    expect(progress.at(-1)).toBe(MiB);
    expect(progress).toEqual([...progress].sort((a, b) => a - b));
    expect(await verifyFlash(s, [{ address: 0x10000, data: image }])).toEqual([{ address: 0x10000, size: MiB, ok: true, name: undefined }]);
    const back = await readFlash(s, 0x10000 + MiB - 4096, 4096);
    expect(md5(back)).toBe(md5(image.subarray(MiB - 4096)));
  });

  it('reads 1 MB back byte-identical through READ_FLASH_SLOW', async () => {
    const r = rig('esp32');
    r.flash.write(0x20000, image);
    const s = await connect(r);
    expect(md5(await readFlash(s, 0x20000, MiB))).toBe(md5(image));
  });

  it('pads a file that is not a multiple of 4 with 0xFF and keeps neighbours', async () => {
    const r = rig('esp32c3');
    r.flash.data.fill(0x00, 0x3000, 0x5000);
    const s = await connect(r);
    const data = testData(4097);
    await writeFlash(s, [{ address: 0x3000, data }], { compress: false });
    expect(r.flash.data.subarray(0x3000, 0x3000 + 4097)).toEqual(data);
    expect(Array.from(r.flash.data.subarray(0x4001, 0x4004))).toEqual([0xff, 0xff, 0xff]);
    expect(r.flash.data[0x4004]).toBe(0xff); // erased sector tail
    expect(r.flash.data[0x5000 - 1]).toBe(0xff);
  });

  it('writes several regions and skips unchanged ones on the second run', async () => {
    const r = rig('esp32');
    const s = await connect(r);
    const parts = [{ address: 0x8000, data: testData(3072, 2) }, { address: 0x10000, data: testData(200_000, 3) }];
    const first = await writeFlash(s, parts);
    expect(first.map((x) => x.skipped)).toEqual([false, false]);
    const before = r.sent();
    const second = await writeFlash(s, parts);
    expect(second.map((x) => x.skipped)).toEqual([true, true]);
    expect(r.sent() - before).toBeLessThan(200);
    parts[1].data[5] ^= 1;
    const third = await writeFlash(s, parts);
    expect(third.map((x) => x.skipped)).toEqual([true, false]);
    const forced = await writeFlash(s, parts, { skipUnchanged: false });
    expect(forced.map((x) => x.skipped)).toEqual([false, false]);
    expect(md5(r.flash.data.subarray(0x10000, 0x10000 + 200_000))).toBe(md5(parts[1].data));
  });

  it('erase-all before writing clears everything else', async () => {
    const r = rig('esp32c3');
    r.flash.data.fill(0x11);
    const s = await connect(r);
    await writeFlash(s, [{ address: 0x1000, data: testData(8192) }], { eraseAll: true });
    expect(r.flash.data.subarray(0x1000, 0x3000)).toEqual(testData(8192));
    expect(r.flash.data[0]).toBe(0xff);
    expect(r.flash.data[4 * MiB - 1]).toBe(0xff);
  });

  it('erases a region and the whole chip through FLASH_BEGIN', async () => {
    const r = rig('esp32');
    r.flash.data.fill(0);
    const s = await connect(r);
    await eraseRegion(s, 0x2000, 0x3000);
    expect(r.flash.data[0x1fff]).toBe(0);
    expect(r.flash.data.subarray(0x2000, 0x5000).every((b) => b === 0xff)).toBe(true);
    expect(r.flash.data[0x5000]).toBe(0);
    await expect(eraseRegion(s, 0x2001, 0x1000)).rejects.toMatchObject({ code: 'USAGE' });
    await eraseAll(s);
    expect(r.flash.data.every((b) => b === 0xff)).toBe(true);
  });

  it('rejects overlapping, unaligned and oversized regions', async () => {
    const s = await connect(rig('esp32'));
    await expect(writeFlash(s, [{ address: 0x1000, data: testData(0x2000) }, { address: 0x2000, data: testData(16) }])).rejects.toMatchObject({ code: 'USAGE', message: /overlaps/ });
    await expect(writeFlash(s, [{ address: 0x1100, data: testData(16) }])).rejects.toMatchObject({ code: 'USAGE', message: /not a multiple/ });
    await expect(writeFlash(s, [{ address: 4 * MiB - 0x1000, data: testData(0x2000), name: 'big.bin' }])).rejects.toMatchObject({ message: /big\.bin .* will not fit in 4MB flash/ });
  });

  it('reports an MD5 mismatch when the flash does not keep what was written', async () => {
    // A flash chip with a stuck bit at one address.
    class StuckBit extends MemoryFlashStore {
      write(offset: number, data: Uint8Array): void {
        super.write(offset, data);
        if (offset <= 0x10010 && 0x10010 < offset + data.length) this.data[0x10010] &= 0xfe;
      }
    }
    const r = rig('esp32', { flash: new StuckBit(4 * MiB) });
    const s = await connect(r);
    const data = new Uint8Array(4096).fill(0x55);
    await expect(writeFlash(s, [{ address: 0x10000, data }])).rejects.toMatchObject({ code: 'VERIFY_FAILED', message: /MD5 of file does not match data in flash!/ });
    await expect(verifyFlash(s, [{ address: 0x10000, data, name: 'x.bin' }], { diff: true })).rejects.toMatchObject({
      code: 'VERIFY_FAILED',
      details: { results: [expect.objectContaining({ ok: false, differences: [0x10010] })] },
    });
  });

  it('answers a corrupted data checksum with the ROM error', async () => {
    const s = await connect(rig('esp32'));
    await s.loader.flashBegin(1024, 0x10000);
    const block = new Uint8Array(1024 + 16);
    block.set(u32le(1024, 0, 0, 0));
    await expect(s.loader.check('write', Op.FLASH_DATA, block, 0x12)).rejects.toMatchObject({ code: 'BOOTLOADER', message: /Invalid CRC in message/ });
  });
});

describe('virtual ROM details', () => {
  it.each([['esp32', 0x3ff42000 + 0x04, 8], ['esp32c3', 0x60002000 + 0x04, 0]] as const)('%s: SFDP reads through the SPI registers', async (profile, addrReg, shift) => {
    const s = await connect(rig(profile));
    await s.loader.writeReg(addrReg, 0x34 << shift);
    expect(await s.loader.spiFlashCommand(0x5a, 32)).toBe(4 * MiB * 8 - 1); // basic table density word
    await s.loader.writeReg(addrReg, 0);
    expect(await s.loader.spiFlashCommand(0x5a, 32)).toBe(0x50444653); // "SFDP"
  });

  it.each([[false, /Deflate error/], [true, /Inflate error/]] as const)('rejects a corrupt deflate stream (stub %s)', async (stub, message) => {
    const s = await connect(rig('esp32c3'), { stub: stub ? STUB : undefined });
    await s.loader.flashDeflBegin(4096, 100, 0x10000);
    await expect(s.loader.dataBlocks(Op.FLASH_DEFL_DATA, [new Uint8Array(100).fill(0x5a)], 2)).rejects.toMatchObject({ code: 'BOOTLOADER', message });
  });

  it('refuses stub-only commands in the ROM, as the silicon does', async () => {
    const s = await connect(rig('esp32'));
    await expect(s.loader.eraseFlash()).rejects.toMatchObject({ code: 'BOOTLOADER', details: { romError: 0x05 } });
  });
});

describe('bootloader images', () => {
  const boot = (chip: string) => encodeEspImage({ chip, entry: 0x40080000, flashMode: 'qio', flashSize: '1MB', flashFreq: '40m', segments: [{ loadAddress: 0x3ffe0000, data: testData(512) }] });

  it('patches flash mode and detected size in the bootloader header', async () => {
    const r = rig('esp32');
    const s = await connect(r);
    const [res] = await writeFlash(s, [{ address: 0x1000, data: boot('ESP32') }], { flashMode: 'dio', flashSize: 'detect', flashFreq: '80m' });
    expect(res.patched).toBe(true);
    const header = decodeEspImageHeader(r.flash.data.subarray(0x1000, 0x1100));
    expect(r.flash.data[0x1002]).toBe(2); // dio
    expect(header.flashSizeCode).toBe(2); // 4MB
    expect(header.flashFreqCode).toBe(0xf); // 80m
  });

  it('refuses an image built for another chip unless forced', async () => {
    const r = rig('esp32');
    const s = await connect(r);
    await expect(writeFlash(s, [{ address: 0x10000, data: boot('ESP32-C3'), name: 'fw.bin' }])).rejects.toMatchObject({
      code: 'BAD_IMAGE', message: 'fw.bin: This image is for ESP32-C3, not ESP32. Use --force to flash anyway.',
    });
    await writeFlash(s, [{ address: 0x10000, data: boot('ESP32-C3') }], { force: true });
  });
});

describe('flasher stub', () => {
  it('uploads the stub, gets OHAI, then writes, reads and erases in the stub dialect', async () => {
    const r = rig('esp32s3');
    const s = await connect(r, { stub: STUB });
    expect(s.loader.isStub).toBe(true);
    expect(r.rom.isStub).toBe(true);
    const image = testData(MiB, 7);
    const [res] = await writeFlash(s, [{ address: 0x10000, data: image }]);
    expect(res.skipped).toBe(false);
    expect(md5(r.flash.data.subarray(0x10000, 0x10000 + MiB))).toBe(md5(image));
    const back = await readFlash(s, 0x10000, MiB);
    expect(md5(back)).toBe(md5(image));
    // An odd size exercises the short final packet.
    expect(md5(await readFlash(s, 0x10000 + 5, 10_000))).toBe(md5(image.subarray(5, 10_005)));
    await writeFlash(s, [{ address: 0x200000, data: testData(70_000) }], { compress: false });
    expect(md5(r.flash.data.subarray(0x200000, 0x200000 + 70_000))).toBe(md5(testData(70_000)));
    await eraseRegion(s, 0x10000, 0x1000);
    expect(r.flash.data.subarray(0x10000, 0x11000).every((b) => b === 0xff)).toBe(true);
    expect(r.flash.data[0x11000]).toBe(image[0x1000]);
    await eraseAll(s);
    expect(r.flash.data.every((b) => b === 0xff)).toBe(true);
  });

  it('starts the stub when the ROM answers MEM_END after the 200 ms esptool waits for it (a loaded host)', async () => {
    // The late answer was read as the stub's hello: "Failed to start stub. Unexpected response: 010604…" (flash-cli's
    // fifty writes against a served pty failed so at load 18).
    const memEndAnswer = (frame: Uint8Array) => frame[1] === 0x01 && frame[2] === Op.MEM_END;
    const r = rig('esp32', { lagMs: (frame) => (memEndAnswer(frame) ? 400 : 0) });
    const s = await connect(r, { stub: STUB });
    expect(s.loader.isStub).toBe(true);
    expect(await readMac(s)).toBe('24:0a:c4:12:34:56');
  });

  it('leaves without reset lines as esptool would: FLASH_END(1) runs the app; the stub reboots to the ROM first', async () => {
    for (const stub of [STUB, undefined]) {
      const r = rig('esp32c3');
      const exits: string[] = [];
      r.rom.onExit((why) => exits.push(why));
      const s = await connect(r, { stub });
      await disconnectEsp(s, 'hard-reset');
      await r.rom.idle();
      expect(exits).toEqual(stub ? ['reboot', 'run-app'] : ['run-app']);
    }
  });
});

describe('link handling', () => {
  it('changes the baud rate after sync on both ends', async () => {
    const r = rig('esp32', { baud: 115200 });
    const bauds: number[] = [];
    r.rom.onBaudRate((b) => bauds.push(b));
    const s = await connect(r, { baud: 921600 });
    expect(bauds).toEqual([921600]);
    expect(r.host.baudRate).toBe(921600);
    expect(await readMac(s)).toBe('24:0a:c4:12:34:56');
  });

  it('plays the classic reset on links with control lines', async () => {
    const r = rig('esp32', { controlLines: true });
    await connect(r);
    expect(r.host.signals.slice(0, 3)).toEqual([{ dtr: false, rts: true }, { dtr: true, rts: false }, { dtr: false }]);
  });

  it('a silent peer: "No serial data received."', async () => {
    const { host } = rawLine();
    await expect(connectEsp(host, { chip: 'esp32', attempts: 2, syncTries: 2 })).rejects.toMatchObject({
      code: 'NO_SYNC', message: 'Failed to connect to ESP32: No serial data received.',
    });
  });

  it('a board running its app: "Wrong boot mode detected"', async () => {
    const { host, device } = rawLine();
    device.onData(() => void device.write(Buffer.from('ets Jun  8 2016 00:22:57\r\n\r\nrst:0x1 (POWERON_RESET),boot:0x13 (SPI_FAST_FLASH_BOOT)\r\n')));
    await expect(connectEsp(host, { attempts: 1, syncTries: 2 })).rejects.toMatchObject({
      code: 'BOOTLOADER', message: 'Failed to connect to Espressif device: Wrong boot mode detected (0x13)! The chip needs to be in download mode.',
    });
  });

  it('a peer answering with malformed frames', async () => {
    const { host, device } = rawLine();
    device.onData(() => void device.write(slipEncode(Uint8Array.from([0x02, 0x08, 0, 0, 0, 0, 0, 0]))));
    await expect(connectEsp(host, { attempts: 1, syncTries: 2 })).rejects.toMatchObject({ code: 'NO_SYNC', message: /Invalid head of packet \(0x02\)/ });
  });

  it('a peer that stops answering mid-command times out', async () => {
    const r = rig('esp32');
    const s = await connectEsp(r.host, { timeoutMs: 2000 }); // a loaded host may answer the connect late
    r.rom.receive = () => undefined; // the chip goes silent (e.g. brown-out)
    await expect(s.loader.readReg(0x40001000)).rejects.toMatchObject({ code: 'TIMEOUT' });
  });

  it('the ROM answers a SYNC eight times and survives noise before it', async () => {
    const r = rig('esp32');
    const replies: Uint8Array[] = [];
    r.rom.onSend((d) => void replies.push(d));
    r.rom.receive(Buffer.from('garbage\xc0\xc0', 'latin1'));
    r.rom.receive(SYNC_FRAME);
    await r.rom.idle();
    expect(replies).toHaveLength(8);
  });
});

describe('flash CLI commands', () => {
  async function run(args: string[], r: Rig): Promise<string> {
    const { Command } = await import('commander');
    const { registerFlashCommands } = await import('../cli/commands/flash.js');
    const program = new Command('boardctl').option('--json').exitOverride();
    registerFlashCommands(program, { openTransport: async () => r.host });
    const chunks: string[] = [];
    const spy = vi.spyOn(process.stdout, 'write').mockImplementation((c: string | Uint8Array) => (chunks.push(String(c)), true));
    try {
      await program.parseAsync(args, { from: 'user' });
    } finally {
      spy.mockRestore();
    }
    return chunks.join('');
  }

  it('write-flash, verify-flash, read-flash and chip-id --json through the commands', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'esp-cli-'));
    try {
      const data = testData(50_000, 9);
      await writeFile(join(dir, 'app.bin'), data);
      const rWrite = rig('esp32c3');
      const text = await run(['flash', '--after', 'no-reset', 'write-flash', '0x10000', join(dir, 'app.bin')], rWrite);
      expect(text).toMatch(/Wrote 50000 bytes \(\d+ compressed\) at 0x00010000/);
      expect(md5(rWrite.flash.data.subarray(0x10000, 0x10000 + 50_000))).toBe(md5(data));

      const rRead = rig('esp32c3', { flash: rWrite.flash });
      await run(['flash', 'read-flash', '0x10000', '50000', join(dir, 'back.bin')], rRead);
      expect(md5(await readFile(join(dir, 'back.bin')))).toBe(md5(data));

      const rVerify = rig('esp32c3', { flash: rWrite.flash });
      expect(await run(['flash', 'verify-flash', '0x10000', join(dir, 'app.bin')], rVerify)).toMatch(/verify OK/);

      const json = await run(['--json', 'flash', 'chip-id'], rig('esp32s3'));
      expect(JSON.parse(json)).toEqual({ command: 'flash chip-id', ok: true, chip: 'ESP32-S3', description: 'ESP32-S3 (revision v0.2)', chipId: null, mac: '24:0a:c4:12:34:56' });
      await expect(run(['flash', 'write-flash', '0x10000'], rig('esp32'))).rejects.toMatchObject({ code: 'USAGE' });
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
