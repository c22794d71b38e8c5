// Issue 14 acceptance: the ESP32 ROM's CHANGE_BAUDRATE (esptool's correction from RTCCALICFG1 and eFuse word 4)
// on a paced pty and over RFC 2217 without --baud opened at 9600 as pyserial/esptool do; the documented MicroPython
// flashing (`write-flash -z 0x1000 <release>.bin`) over RFC 2217, where --after hard-reset boots it.
import { afterAll, describe, expect, it } from 'vitest';
import { execFile, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { createBoard } from '../emulator/board-store.js';
import { serveBoard, type Serving } from '../emulator/link/serve.js';
import { getProfile } from '../emulator/profiles.js';
import { generateApp, generateFirmware } from '../emulator/rom/firmware.js';
import { openTransport } from '../protocol/connect.js';
import type { Transport } from '../protocol/transport.js';
import { mergeBin } from '../flash/merge-bin.js';
import { connectEsp, disconnectEsp } from '../flash/esp-connect.js';
import { writeFlash } from '../flash/write-flash.js';
import { esptool } from './helpers/esptool-like.js';
import { STUB, micropythonAnswers, testData } from './helpers/esp-rig.js';
import { cliPath } from './helpers/serve-cli.js';
import { sharedFixture } from './helpers/shared-dir.js';

const home = mkdtempSync(join(tmpdir(), 'boardctl-baud-'));
const servings: Serving[] = [];
const run = promisify(execFile);

afterAll(async () => {
  for (const s of servings) await s.close();
  rmSync(home, { recursive: true, force: true });
});

async function served(name: string, opts: { baud?: number; rfc2217?: boolean } = {}): Promise<Serving> {
  createBoard(name, { home });
  const s = await serveBoard({ name, home, baud: opts.baud, rfc2217: opts.rfc2217 ? '127.0.0.1:0' : undefined });
  servings.push(s);
  await s.board.whenReady();
  return s;
}

async function withLink<T>(port: string, baud: number, fn: (t: Transport) => Promise<T>): Promise<T> {
  const t = await openTransport(port, { baudRate: baud });
  try {
    return await fn(t);
  } finally {
    await t.close();
  }
}

/** Bytes at 115200 8N1 go no faster than this: a shorter transfer proves the line ran faster. */
const at115200 = (bytes: number) => (bytes * 10 * 1000) / 115_200;

describe('ESP32 ROM baud change on a paced pty (sim serve --baud 115200)', () => {
  it.each([460_800, 921_600])('esptool --no-stub -b %i: the ROM switches after its answer, and the line runs at the rate', async (rate) => {
    const s = await served(`paced-${rate}`, { baud: 115_200 });
    const data = new Uint8Array(Buffer.from(testData(96 * 1024, rate).map((b, i) => (b * 131 + i) & 0xff)));
    await withLink(s.ptyPath!, 115_200, async (t) => {
      const { result } = await esptool(t, { stub: STUB, noStub: true, baud: rate, after: 'no-reset' }, async (esp) => {
        const started = performance.now();
        await esp.writeFlash(0x180000, data);
        return performance.now() - started;
      });
      expect(result).toBeLessThan(at115200(data.length));
    });
    // Our flasher changes the rate the same way; the board's line follows.
    await withLink(s.ptyPath!, 115_200, async (t) => {
      const session = await connectEsp(t, { baud: 921_600 });
      const started = performance.now();
      await writeFlash(session, [{ address: 0x1c0000, data }], { skipUnchanged: false });
      expect(performance.now() - started).toBeLessThan(at115200(data.length));
      await disconnectEsp(session, 'no-reset');
    });
  }, 120_000);
});

describe('RFC 2217 without --baud, opened at 9600', () => {
  it.skipIf(!pyserial())('(needs /usr/bin/python3 with pyserial) pyserial sets 115200 and 921600 and the server agrees (no "remote rejected value")', async () => {
    const s = await served('pyserial', { rfc2217: true });
    const script = [
      'import serial, sys',
      `p = serial.serial_for_url('rfc2217://127.0.0.1:${s.tcp!.port}', baudrate=9600, timeout=1)`,
      'p.baudrate = 115200',
      'p.baudrate = 921600',
      'print("ok", p.baudrate)',
      'p.close()',
    ].join('\n');
    const { stdout } = await run('/usr/bin/python3', ['-c', script], { timeout: 30_000 });
    expect(stdout.trim()).toBe('ok 921600');
  }, 60_000);

  it('esptool -b 921600 write-flash -z 0x1000 <MicroPython release>.bin, then --after hard-reset boots it', async () => {
    const s = await served('rfc-esptool', { rfc2217: true });
    const release = generateFirmware(getProfile('esp32'));
    await withLink(`rfc2217://127.0.0.1:${s.tcp!.port}`, 9600, async (t) => {
      await t.setBaudRate(115_200); // esptool opens the port, then sets its rate
      const { log } = await esptool(t, { stub: STUB, noStub: true, baud: 921_600 }, async (esp) => {
        expect(t.baudRate).toBe(921_600); // the server took the rate pyserial asked for
        await esp.writeFlash(0x1000, release);
      });
      expect(log).toContain('Hard resetting via RTS pin...');
      await micropythonAnswers(t);
    });
  }, 120_000);
});

const espImages = sharedFixture('esp-images');
if (!existsSync(espImages)) console.warn(`flash-baud: ${espImages} is absent, skipping the release image built from ESP-IDF's bootloader`);

describe('flashing a MicroPython release the documented way', () => {
  const realBootloader = join(espImages, 'bootloader_esp32.bin');
  const realTable = join(espImages, 'partitions_singleapp.bin');

  it('boardctl flash -b 921600 write-flash 0x1000 over RFC 2217 (--after hard-reset) boots MicroPython', async () => {
    const s = await served('rfc-ours', { rfc2217: true });
    const file = join(home, 'ESP32_GENERIC-v1.27.0.bin');
    writeFileSync(file, generateFirmware(getProfile('esp32')));
    const port = `rfc2217://127.0.0.1:${s.tcp!.port}`;
    await run(process.execPath, [cliPath, '-p', port, 'flash', 'erase-flash'], { env: { ...process.env, BOARDCTL_HOME: home }, timeout: 60_000 });
    const { stdout } = await run(process.execPath, [cliPath, '-p', port, 'flash', '-b', '921600', 'write-flash', '-z', '0x1000', file], {
      env: { ...process.env, BOARDCTL_HOME: home }, timeout: 60_000,
    });
    expect(stdout).toContain('Hash of data verified.');
    await withLink(port, 115_200, micropythonAnswers);
  }, 120_000);

  it.skipIf(!existsSync(realBootloader))('(needs ../shared/fixtures/esp-images) an image of ESP-IDF\'s real bootloader and partition table with a MicroPython app boots when written at 0x1000', async () => {
    const s = await served('real-parts');
    const profile = getProfile('esp32');
    // Built as MicroPython's makeimg does: bootloader, table at 0x8000, app at 0x10000, one file from 0x1000.
    const release = mergeBin([
      { offset: 0x1000, data: new Uint8Array(readFileSync(realBootloader)) },
      { offset: 0x8000, data: new Uint8Array(readFileSync(realTable)) },
      { offset: 0x10000, data: generateApp(profile) },
    ], { targetOffset: 0x1000 });
    await withLink(s.ptyPath!, 115_200, async (t) => {
      const session = await connectEsp(t, { stub: STUB });
      await writeFlash(session, [{ address: 0x1000, data: release }], { eraseAll: true });
      await disconnectEsp(session, 'hard-reset');
      await micropythonAnswers(t);
    });
  }, 120_000);
});

/** Debian's python3-serial (installed by .ci/run) on the system Python. */
function pyserial(): boolean {
  return spawnSync('/usr/bin/python3', ['-c', 'import serial.rfc2217'], { stdio: 'ignore' }).status === 0;
}
