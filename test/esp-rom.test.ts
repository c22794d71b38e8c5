// The virtual ROM and flasher stub behave as Espressif's do where esptool notices (issue 14): eight SYNC answers
// from the stub too, OHAI from a re-uploaded stub, FLASH_END's two meanings, the ESP32 baud-rate correction
// registers, the SPI flash only after SPI_ATTACH. And our flasher picking up a stub left running.
import { afterEach, describe, expect, it, vi } from 'vitest';
import { Op, SYNC_PAYLOAD } from '../protocol/esp/commands.js';
import { ESP32_RTCCALICFG1, esp32RomBaudValue, esp32RomCrystalHz } from '../protocol/esp/chips.js';
import { EspLoader } from '../protocol/esp/loader.js';
import { decodeResponse, encodeRequest, u32le } from '../protocol/esp/packet.js';
import { SlipDecoder, slipEncode } from '../protocol/esp/slip.js';
import { connectEsp, disconnectEsp } from '../flash/esp-connect.js';
import { readMac } from '../flash/esp-info.js';
import { writeFlash } from '../flash/write-flash.js';
import { verifyFlash } from '../flash/read-flash.js';
import { STUB, closeRigs, md5, rig, testData, type Rig } from './helpers/esp-rig.js';

afterEach(closeRigs);

/**
 * Send one raw request and collect the response frames: at least `atLeast` (waited for, however loaded the host),
 * then whatever else the ROM sends before it is idle and the line has carried it.
 */
async function exchange(r: Rig, op: number, data: Uint8Array, atLeast: number): Promise<{ op: number; value: number; data: Uint8Array }[]> {
  const decoder = new SlipDecoder();
  const frames: Uint8Array[] = [];
  const off = r.host.onData((d) => void frames.push(...decoder.push(d).frames));
  await r.host.write(slipEncode(encodeRequest({ op, checksum: 0, data })));
  await vi.waitFor(() => expect(frames.length).toBeGreaterThanOrEqual(atLeast), { timeout: 20_000, interval: 5 });
  await r.rom.idle();
  await new Promise((res) => setTimeout(res, 20));
  off();
  return frames.map((f) => {
    const d = decodeResponse(f);
    if (!d.ok) throw new Error(d.reason);
    return d.packet;
  });
}

describe('SYNC, ROM and stub', () => {
  it('the ROM answers eight times with a non-zero value and 4 status bytes; the stub eight times with 0 and 2', async () => {
    const r = rig('esp32');
    const rom = await exchange(r, Op.SYNC, SYNC_PAYLOAD, 8);
    expect(rom).toHaveLength(8);
    expect(rom.every((p) => p.op === Op.SYNC && p.value !== 0 && p.data.length === 4)).toBe(true);
    const s = await connectEsp(r.host, { stub: STUB });
    s.loader.dispose();
    const stub = await exchange(r, Op.SYNC, SYNC_PAYLOAD, 8);
    expect(stub).toHaveLength(8);
    expect(stub.every((p) => p.op === Op.SYNC && p.value === 0 && p.data.length === 2)).toBe(true);
  });

  it('a stub uploaded over a running stub says OHAI again (esptool --before no-reset-no-sync)', async () => {
    const r = rig('esp32s3');
    const first = await connectEsp(r.host, { stub: STUB });
    first.loader.dispose();
    // A new esptool that did not sync believes it talks to the ROM and uploads its stub again.
    const again = new EspLoader(r.host);
    again.chip = first.chip;
    await again.runStub(STUB);
    expect(again.isStub).toBe(true);
    expect(await again.readReg(0x40001000)).toBe(0x9);
    again.dispose();
  });
});

describe('our flasher and a stub left running', () => {
  it('finds the stub by its SYNC answers, uses it without uploading, and --after no-reset takes it back to the ROM', async () => {
    const r = rig('esp32');
    const s1 = await connectEsp(r.host, { stub: STUB });
    await disconnectEsp(s1, 'no-reset-stub');
    expect(r.rom.isStub).toBe(true);

    const before = r.sent();
    const s2 = await connectEsp(r.host, { stub: STUB });
    expect(s2.stubWasRunning).toBe(true);
    expect(s2.loader.isStub).toBe(true);
    expect(r.sent() - before).toBeLessThan(2000); // no 9 KB stub upload
    expect(await readMac(s2)).toBe('24:0a:c4:12:34:56');
    const data = testData(100_000, 5);
    await writeFlash(s2, [{ address: 0x40000, data }]);
    const exits: string[] = [];
    r.rom.onExit((why) => exits.push(why));
    await disconnectEsp(s2, 'no-reset');
    expect(exits).toEqual(['reboot']);
    expect(r.rom.isStub).toBe(false);

    // Back in the ROM (this one needs SPI_ATTACH again, which connect sends).
    const s3 = await connectEsp(r.host);
    expect(s3.stubWasRunning).toBe(false);
    expect(s3.loader.isStub).toBe(false);
    expect(await verifyFlash(s3, [{ address: 0x40000, data }])).toMatchObject([{ ok: true }]);
    await disconnectEsp(s3, 'no-reset');
  });
});

describe('leaving the loader', () => {
  it('ROM FLASH_END(1) runs the app; FLASH_END(0) reboots into download mode, where the ROM answers again', async () => {
    const r = rig('esp32');
    const exits: string[] = [];
    r.rom.onExit((why) => exits.push(why));
    const s = await connectEsp(r.host);
    await s.loader.flashBegin(0, 0);
    await s.loader.flashEnd(true);
    expect(exits).toEqual(['reboot']);
    expect(await s.loader.sync()).toBe(true);
    expect(s.loader.isStub).toBe(false);
    await s.loader.runApp();
    expect(exits).toEqual(['reboot', 'run-app']);
    s.loader.dispose();
  });
});

describe('SPI flash', () => {
  it('answers only after SPI_ATTACH in the ROM: before it, reads see 0xFF and the flash id is 0xFFFFFF', async () => {
    const r = rig('esp32');
    r.flash.write(0x10000, testData(4096));
    const loader = new EspLoader(r.host);
    expect(await loader.sync()).toBe(true);
    await loader.detectChip();
    expect(await loader.flashId()).toBe(0xffffff);
    expect(await loader.flashMd5(0x10000, 4096)).toBe(md5(new Uint8Array(4096).fill(0xff)));
    await loader.spiAttach();
    expect(await loader.flashId()).toBe(0x1640c8);
    expect(await loader.flashMd5(0x10000, 4096)).toBe(md5(testData(4096)));
    loader.dispose();
  });
});

describe('ESP32 ROM CHANGE_BAUDRATE', () => {
  it('has the calibration registers of a 40 MHz chip whose ROM estimates 40.8 MHz, and esptool\'s correction lands on the rate', async () => {
    const r = rig('esp32');
    const s = await connectEsp(r.host);
    const estimate = esp32RomCrystalHz(await s.loader.readReg(ESP32_RTCCALICFG1), await s.loader.readReg(0x3ff5a010));
    expect(estimate).toBe(40_800_000);
    const lines: number[] = [];
    r.rom.onBaudRate((b) => lines.push(b));
    // Uncorrected, the ROM would run 2 % slow; corrected (our changeBaud, as esptool's) it runs at the rate.
    await s.loader.check('change baud rate', Op.CHANGE_BAUDRATE, u32le(921_600, 0));
    await s.loader.changeBaud(460_800);
    expect(lines).toEqual([903_529, 460_800]);
    expect(esp32RomBaudValue(921_600, estimate)).toBe(940_032);
  });

  it('refuses a zero rate and keeps the line; answers at the old rate before it switches', async () => {
    const r = rig('esp32');
    const s = await connectEsp(r.host);
    const events: string[] = [];
    r.rom.onBaudRate((b) => events.push(`switch ${b}`));
    await expect(s.loader.check('change baud rate', Op.CHANGE_BAUDRATE, u32le(0, 0))).rejects.toMatchObject({ code: 'BOOTLOADER', details: { romError: 0x05 } });
    expect(events).toEqual([]);
    // A UART that takes 30 ms to send each reply: the switch comes only after CHANGE_BAUDRATE's has gone.
    r.rom.onSend(() => new Promise((res) => setTimeout(() => (events.push('reply sent'), res()), 30)));
    await s.loader.changeBaud(115_200 * 2);
    await r.rom.idle();
    expect(events.slice(-2)).toEqual(['reply sent', 'switch 230400']);
    expect(await readMac(s)).toBe('24:0a:c4:12:34:56');
  });

  it('the stub takes the rate as it is', async () => {
    const r = rig('esp32');
    const s = await connectEsp(r.host, { stub: STUB });
    const lines: number[] = [];
    r.rom.onBaudRate((b) => lines.push(b));
    await s.loader.changeBaud(921_600);
    expect(lines).toEqual([921_600]);
  });
});
