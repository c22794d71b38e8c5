// `boardctl flash` as a user runs it, a process per command against a served board (issues 14.8 and 15): fifty
// stub writes in a row under one deadline, Ctrl-C in the middle of a write, Intel HEX and UF2 files, chip-id, and
// the memory, security-info and watchdog-reset commands.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFile, spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { createBoard } from '../emulator/board-store.js';
import type { ProfileName } from '../emulator/profiles.js';
import { serveBoard, type Serving } from '../emulator/link/serve.js';
import { writeIhex } from '../flash/ihex.js';
import { encodeUf2, UF2_FAMILIES } from '../flash/uf2.js';
import { decodeEspImageHeader, encodeEspImage } from '../protocol/esp/image.js';
import { cliPath } from './helpers/serve-cli.js';
import { STUB, md5, testData } from './helpers/esp-rig.js';

const home = mkdtempSync(join(tmpdir(), 'boardctl-flash-cli-'));
const env = { ...process.env, BOARDCTL_HOME: home };
const execRun = promisify(execFile);
const stubFile = join(home, 'stub.json');
const servings: Serving[] = [];

interface Ran {
  code: number;
  stdout: string;
  stderr: string;
}

async function boardctl(args: string[], timeoutMs = 60_000, cwd?: string): Promise<Ran> {
  try {
    const { stdout, stderr } = await execRun(process.execPath, [cliPath, ...args], { env, timeout: timeoutMs, killSignal: 'SIGKILL', cwd });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code?: number | string; killed?: boolean; stdout: string; stderr: string };
    if (e.killed) throw new Error(`boardctl ${args.join(' ')} did not finish within ${timeoutMs} ms; stderr: ${e.stderr}`);
    return { code: Number(e.code), stdout: e.stdout, stderr: e.stderr };
  }
}

async function served(name: string, baud?: number, profile?: ProfileName): Promise<string> {
  createBoard(name, { home, profile });
  const s = await serveBoard({ name, home, baud });
  servings.push(s);
  await s.board.whenReady();
  return s.ptyPath!;
}

beforeAll(() => {
  const segments = STUB.segments;
  writeFileSync(stubFile, JSON.stringify({
    entry: STUB.entry,
    text: Buffer.from(segments[0]!.data).toString('base64'), text_start: segments[0]!.address,
    data: Buffer.from(segments[1]!.data).toString('base64'), data_start: segments[1]!.address,
  }));
});

afterAll(async () => {
  for (const s of servings) await s.close();
  rmSync(home, { recursive: true, force: true });
});

describe('flash --stub write-flash, fifty times in a row against a served pty', () => {
  it('every run ends, all within one deadline', async () => {
    const pty = await served('loop');
    const file = join(home, 'loop.bin');
    const deadline = Date.now() + 15 * 60_000;
    for (let i = 0; i < 50; i++) {
      writeFileSync(file, testData(20_000, i + 1));
      const left = deadline - Date.now();
      expect(left, `run ${i}: the overall deadline passed`).toBeGreaterThan(0);
      const r = await boardctl(['-p', pty, 'flash', '--stub', stubFile, 'write-flash', '0x180000', file], Math.min(left, 60_000));
      expect(r.code, `run ${i}: ${r.stderr}${r.stdout}`).toBe(0);
      expect(r.stdout).toContain('Hash of data verified.');
    }
  }, 16 * 60_000);
});

describe('Ctrl-C during write-flash', () => {
  it('stops between two commands with INTERRUPTED (exit 130); the board answers the next command and flashes again', async () => {
    // A paced link, so the write takes long enough to interrupt.
    const pty = await served('ctrlc', 115_200);
    const file = join(home, 'big.bin');
    const data = testData(192 * 1024, 3);
    writeFileSync(file, data);
    const child = spawn(process.execPath, [cliPath, '-p', pty, 'flash', 'write-flash', '0x100000', file], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    const connected = new Promise<void>((resolve) => child.stderr.on('data', (d) => {
      stderr += d;
      if (stderr.includes('Connected to')) resolve();
    }));
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    await connected;
    await new Promise((r) => setTimeout(r, 1500));
    child.kill('SIGINT');
    expect(await exited).toBe(130);
    expect(stderr).toMatch(/boardctl: flash write-flash: interrupted by Ctrl-C\n$/);

    expect((await boardctl(['-p', pty, 'flash', 'read-mac'])).stdout).toMatch(/^MAC: ([0-9a-f]{2}:){5}[0-9a-f]{2}\n$/);
    const small = join(home, 'small.bin');
    writeFileSync(small, testData(8192, 99));
    const again = await boardctl(['-p', pty, 'flash', 'write-flash', '0x100000', small]);
    expect(again).toMatchObject({ code: 0 });
    expect(again.stdout).toContain('Hash of data verified.');
  }, 120_000);
});

describe('file formats and identification', () => {
  let pty: string;
  beforeAll(async () => {
    pty = await served('formats');
  });

  it('writes Intel HEX as the binary it describes (from the address, gaps erased), as esptool v5', async () => {
    const a = testData(5000, 8);
    const b = testData(3000, 9);
    const hexFile = join(home, 'fw.hex');
    writeFileSync(hexFile, writeIhex([{ offset: 0x181000, data: a }, { offset: 0x183000, data: b }]));
    const w = await boardctl(['-p', pty, 'flash', 'write-flash', '0x180000', hexFile]);
    expect(w).toMatchObject({ code: 0 });
    expect(w.stdout).toContain(`Wrote ${0x3000 + 3000} bytes`);
    const back = join(home, 'back.bin');
    expect((await boardctl(['-p', pty, 'flash', 'read-flash', '0x180000', String(0x3000 + 3000), back])).code).toBe(0);
    const expected = new Uint8Array(0x3000 + 3000).fill(0xff);
    expected.set(a, 0x1000);
    expected.set(b, 0x3000);
    expect(md5(readFileSync(back))).toBe(md5(expected));

    const below = await boardctl(['-p', pty, 'flash', 'write-flash', '0x182000', hexFile]);
    expect(below.code).toBe(2);
    expect(below.stderr).toMatch(/Intel HEX data at 0x181000 lies below the address 0x182000/);
  }, 120_000);

  it("takes esptool v4's spellings as esptool v5 does, warning for each (a download page's command line)", async () => {
    const data = testData(6000, 11);
    const file = join(home, 'esp32_fw_v4.bin');
    writeFileSync(file, data);
    const w = await boardctl(['flash', '--chip', 'esp32', '--port', pty, '--baud', '460800', '--before', 'default_reset', '--no-stub',
      'write_flash', '-z', '--flash_mode', 'keep', '0x190000', file]);
    expect(w).toMatchObject({ code: 0 });
    expect(w.stderr).toContain(
      "boardctl: warning: Deprecated: Choice 'default_reset' for option '--before' is deprecated. Use 'default-reset' instead.\n" +
        "boardctl: warning: Deprecated: Command 'write_flash' is deprecated. Use 'write-flash' instead.\n" +
        "boardctl: warning: Deprecated: Option '--flash_mode' is deprecated. Use '--flash-mode' instead.\n",
    );
    const back = join(home, 'back_v4.bin');
    expect((await boardctl(['flash', '-p', pty, 'read_flash', '0x190000', '6000', back])).code).toBe(0);
    expect(md5(readFileSync(back))).toBe(md5(data));
  }, 120_000);

  it("writes what an argument file names (ESP-IDF's build/flash_args with v4 spellings and a quoted name), setting the bootloader's header", async () => {
    const build = join(home, 'build');
    mkdirSync(join(build, 'bootloader'), { recursive: true });
    const bootloader = encodeEspImage({ chip: 'esp32', entry: 0x40080400, segments: [{ loadAddress: 0x3fff0000, data: testData(200, 12) }] });
    const app = testData(5000, 13);
    writeFileSync(join(build, 'bootloader', 'bootloader.bin'), bootloader);
    writeFileSync(join(build, 'my app.bin'), app);
    writeFileSync(join(build, 'flash_args'), '--flash_mode qio --flash_freq 80m --flash_size 2MB\n0x1000 bootloader/bootloader.bin\n0x1a0000 "my app.bin"\n');
    const w = await boardctl(['-p', pty, 'flash', 'write-flash', '@flash_args'], 60_000, build);
    expect(w).toMatchObject({ code: 0 });
    expect(w.stdout).toContain('Flash parameters set in the bootloader header at 0x00001000.');
    expect(w.stderr).toContain("Option '--flash_size' is deprecated. Use '--flash-size' instead.");
    const back = join(build, 'back.bin');
    expect((await boardctl(['-p', pty, 'flash', 'read-flash', '0x1000', String(bootloader.length), back])).code).toBe(0);
    const header = decodeEspImageHeader(readFileSync(back));
    expect([header.flashMode, header.flashFreq, header.flashSize]).toEqual(['qio', '80m', '2MB']);
    expect((await boardctl(['-p', pty, 'flash', 'verify-flash', '0x1a0000', join(build, 'my app.bin')])).code).toBe(0);

    const missing = await boardctl(['-p', pty, 'flash', 'write-flash', '@no_such_args'], 60_000, build);
    expect([missing.code, missing.stderr]).toEqual([1, 'boardctl: argument file no_such_args: no such file or directory\n']);
    writeFileSync(join(build, 'bad_args'), '0x1000 "unclosed\n');
    const bad = await boardctl(['-p', pty, 'flash', 'write-flash', '@bad_args'], 60_000, build);
    expect([bad.code, bad.stderr]).toEqual([2, 'boardctl: argument file bad_args: no closing quotation\n']);
  }, 120_000);

  it("merge-bin takes esptool's -fm/-ff/-fs and v4's --fill-flash-size (warning: v5's --pad-to-size)", async () => {
    const bootloader = encodeEspImage({ chip: 'esp32', entry: 0x40080400, segments: [{ loadAddress: 0x3fff0000, data: testData(300, 14) }] });
    const file = join(home, 'bl.bin');
    writeFileSync(file, bootloader);
    const merged = join(home, 'merged.bin');
    const r = await boardctl(['flash', '--chip', 'esp32', 'merge-bin', '-o', merged, '-fm', 'dout', '-ff', '20m', '-fs', '8MB', '--fill-flash-size', '1MB', '0x1000', file]);
    expect(r).toMatchObject({ code: 0, stderr: "boardctl: warning: Deprecated: Option '--fill-flash-size' is deprecated. Use '--pad-to-size' instead.\n" });
    const out = readFileSync(merged);
    expect(out.length).toBe(0x100000);
    const header = decodeEspImageHeader(out.subarray(0x1000));
    expect([header.flashMode, header.flashFreq, header.flashSize]).toEqual(['dout', '20m', '8MB']);
    const auto = await boardctl(['flash', 'merge-bin', '-o', merged, '--flash-mode', 'dio', '0x1000', file]);
    expect([auto.code, auto.stderr]).toEqual([2, 'boardctl: flash merge-bin: setting --flash-mode, --flash-freq or --flash-size needs --chip (where its bootloader sits)\n']);
  });

  it('writes a UF2 for the chip at its block addresses and refuses one for another chip', async () => {
    const data = testData(10_000, 10);
    const uf2 = join(home, 'fw.uf2');
    writeFileSync(uf2, encodeUf2([{ offset: 0x190000, data }], { familyId: UF2_FAMILIES.ESP32! }));
    expect((await boardctl(['-p', pty, 'flash', 'write-flash', '0x190000', uf2])).code).toBe(0);
    const bin = join(home, 'fw.bin');
    writeFileSync(bin, data);
    expect((await boardctl(['-p', pty, 'flash', 'verify-flash', '0x190000', bin])).stdout).toMatch(/verify OK/);

    writeFileSync(uf2, encodeUf2([{ offset: 0x190000, data }], { familyId: UF2_FAMILIES.RP2040! }));
    const wrong = await boardctl(['-p', pty, 'flash', 'write-flash', '0x190000', uf2]);
    expect(wrong.code).toBe(10);
    expect(wrong.stderr).toMatch(/This image is for RP2040, not ESP32/);
  }, 120_000);

  it('chip-id: the chip has no ID, so the MAC (esptool v5); the revision is v3.0', async () => {
    const r = await boardctl(['-p', pty, 'flash', 'chip-id']);
    expect(r.stderr).toContain('Connected to ESP32: ESP32-D0WD-V3 (revision v3.0)');
    expect(r.stderr).toContain('warning: ESP32 has no chip ID. Reading MAC address instead.');
    expect(r.stdout).toMatch(/^MAC: 24:0a:c4:([0-9a-f]{2}:){2}[0-9a-f]{2}\n$/);
    // esptool's place for the port, after the tool's name: `esptool -p PORT chip-id`.
    const esptoolForm = await boardctl(['flash', '-p', pty, 'chip-id']);
    expect(esptoolForm).toMatchObject({ code: 0, stdout: r.stdout });
  }, 60_000);
});

describe("esptool v5's memory and security commands, and --after watchdog-reset", () => {
  // resume: no soft reset first, which would make reset_cause() SOFT_RESET.
  const exec = (pty: string, code: string) => boardctl(['-p', pty, 'resume', 'exec', code]);

  it('ESP32: read-mem, write-mem with a mask, dump-mem; an unaligned address and get-security-info are one-line errors; watchdog-reset falls back to a hard reset', async () => {
    const pty = await served('mem-esp32');
    // --after no-reset keeps the ROM loader (and what was written to its memory) for the next command.
    const stay = ['-p', pty, 'flash', '--after', 'no-reset'];
    expect(await boardctl([...stay, 'read-mem', '0x40001000'])).toMatchObject({ code: 0, stdout: '0x40001000 = 0x00f01d83\n' });
    expect(await boardctl([...stay, 'write-mem', '0x3ffe0000', '0x12345678'])).toMatchObject({
      code: 0, stdout: 'Wrote 0x12345678 with mask 0xffffffff to 0x3ffe0000.\n',
    });
    expect((await boardctl([...stay, 'write-mem', '0x3ffe0000', '0xabcd0000', '0xffff0000'])).code).toBe(0);
    expect(await boardctl([...stay, 'read-mem', '0x3ffe0000'])).toMatchObject({ code: 0, stdout: '0x3ffe0000 = 0xabcd5678\n' });
    const file = join(home, 'dump.bin');
    const dump = await boardctl([...stay, 'dump-mem', '0x3ffe0000', '8', file]);
    expect(dump.code, dump.stderr).toBe(0);
    expect(dump.stderr).toContain(`Dumping 8 bytes from 0x3ffe0000 to file '${file}'...`);
    expect(dump.stdout).toMatch(new RegExp(`^Dumped 8 bytes from 0x3ffe0000 in [\\d.]+ seconds \\([\\d.]+ kbit/s\\) to '${file}'\\.\\n$`));
    expect([...readFileSync(file)]).toEqual([0x78, 0x56, 0xcd, 0xab, 0, 0, 0, 0]);

    const odd = await boardctl([...stay, 'read-mem', '0x3ffe0002']);
    expect(odd.code).toBe(2);
    expect(odd.stderr).toMatch(/address 0x3ffe0002 is not a word address/);
    expect((await boardctl([...stay, 'dump-mem', '0x3ffe0000', '6', file])).stderr).toMatch(/size 6 is not a whole number of 4-byte words/);
    const security = await boardctl([...stay, 'get-security-info']);
    expect(security.code).toBe(8);
    expect(security.stderr).toMatch(/ESP32 ROM does not support the GET_SECURITY_INFO command/);

    const wdt = await boardctl(['-p', pty, 'flash', '--after', 'watchdog-reset', 'read-mac']);
    expect(wdt.code, wdt.stderr).toBe(0);
    expect(wdt.stderr).toContain('warning: Watchdog hard reset is not supported on ESP32, attempting classic hard reset instead.');
    expect(await exec(pty, 'print(1 + 1)')).toMatchObject({ code: 0, stdout: '2\n' });
  }, 180_000);

  it("ESP32-C3: get-security-info as esptool prints it; the RTC watchdog ignores writes while locked, and esptool's watchdog reset boots the app with reset_cause() WDT_RESET", async () => {
    const pty = await served('mem-c3', undefined, 'esp32c3');
    const security = await boardctl(['-p', pty, 'flash', '--after', 'no-reset', 'get-security-info']);
    expect(security.code, security.stderr).toBe(0);
    expect(security.stdout).toBe([
      'Security Information:', '=====================', 'Flags: 0x00000000 (0b0)', 'Key Purposes: (0, 0, 0, 0, 0, 0, 0)',
      ...[0, 1, 2, 3, 4, 5].map((n) => `  BLOCK_KEY${n} - USER/EMPTY`), 'Chip ID: 5', 'API Version: 0', 'Secure Boot: Disabled',
      'Flash Encryption: Disabled', 'SPI Boot Crypt Count (SPI_BOOT_CRYPT_CNT): 0x0', '',
    ].join('\n'));
    // Arming the watchdog without its key changes nothing (the chip stays in its loader).
    const stay = ['-p', pty, 'flash', '--after', 'no-reset'];
    expect((await boardctl([...stay, 'write-mem', '0x60008090', '0xd0000102'])).code).toBe(0);
    expect(await boardctl([...stay, 'read-mem', '0x60008090'])).toMatchObject({ code: 0, stdout: '0x60008090 = 0x00000000\n' });
    // eFuse read registers ignore writes: the MAC reads as before.
    const mac = await boardctl([...stay, 'read-mac']);
    expect((await boardctl([...stay, 'write-mem', '0x60008844', '0x12345678'])).code).toBe(0);
    expect(await boardctl([...stay, 'read-mac'])).toMatchObject({ code: 0, stdout: mac.stdout });

    const wdt = await boardctl(['-p', pty, 'flash', '--after', 'watchdog-reset', 'read-mac']);
    expect(wdt.code, wdt.stderr).toBe(0);
    expect(wdt.stderr).toContain('Hard resetting with a watchdog...');
    const cause = await exec(pty, 'import machine\nprint(machine.reset_cause() == machine.WDT_RESET)');
    expect(cause).toMatchObject({ code: 0, stdout: 'True\n' });
  }, 180_000);
});
