import { describe, expect, it } from 'vitest';
import { firmwareOffset, generateApp, generateBootloader, generateFirmware, micropythonPartitions } from '../emulator/rom/firmware.js';
import { imageInfo } from '../flash/image-info.js';
import { checkBoot, downloadModeLines } from '../emulator/rom/boot.js';
import { PROFILES, type BoardProfile } from '../emulator/profiles.js';
import { MemoryFlashStore } from '../emulator/flash-store.js';
import { decodeEspImage, encodeEspImage } from '../protocol/esp/image.js';
import { decodePartitionTable, encodePartitionTable } from '../protocol/esp/partition-table.js';

const ESP_PROFILES = [PROFILES.esp32, PROFILES.esp32c3, PROFILES.esp32s3];

function flashed(profile: BoardProfile): MemoryFlashStore {
  const flash = new MemoryFlashStore(profile.defaultFlashSize);
  flash.write(firmwareOffset(profile), generateFirmware(profile));
  return flash;
}

describe.each(ESP_PROFILES)('generated firmware for $name', (profile) => {
  // As MicroPython releases it: the file starts at the bootloader (ESP32: flashed at 0x1000; C3/S3: at 0x0).
  const base = firmwareOffset(profile);
  const fw = new Uint8Array(base + generateFirmware(profile).length).fill(0xff);
  fw.set(generateFirmware(profile), base);

  it('is laid out as the port\'s release file: bootloader first, flashed at the chip\'s bootloader offset', () => {
    expect(base).toBe(profile.espChip === 'ESP32' ? 0x1000 : 0);
    const release = generateFirmware(profile);
    expect(release[0]).toBe(0xe9);
    expect(release.length).toBeLessThan(0x10000 - base + 8 * 1024);
    const info = imageInfo(release);
    if (info.kind !== 'merged') throw new Error(`detected ${info.kind}`);
    expect([info.flashOffset, info.bootloader.offset, info.warnings]).toEqual([base, base, []]);
    expect(info.apps[0]?.image?.appDesc?.projectName).toBe('micropython');
  });

  it('has a valid bootloader at the chip offset', () => {
    const bl = decodeEspImage(fw.subarray(base, 0x8000));
    expect(bl.chipName).toBe(profile.espChip);
    expect(bl.checksum.valid).toBe(true);
    expect(bl.sha256?.valid).toBe(true);
    expect(bl.flashSize).toBe(`${profile.defaultFlashSize / 0x100000}MB`);
    expect(bl.segments.length).toBeGreaterThanOrEqual(2);
    expect(bl.appDesc).toBeUndefined();
    expect(bl.bootloaderDesc?.idfVer).toBe('v5.4.2');
  });

  it("has MicroPython's partition table with an MD5 row", () => {
    const table = decodePartitionTable(fw.subarray(0x8000, 0x8c00));
    expect(table.md5?.valid).toBe(true);
    const vfsSize = profile.defaultFlashSize - 0x200000;
    expect(table.entries.map((e) => [e.label, e.typeName, e.subtypeName, e.offset, e.size])).toEqual([
      ['nvs', 'data', 'nvs', 0x9000, 0x6000],
      ['phy_init', 'data', 'phy', 0xf000, 0x1000],
      ['factory', 'app', 'factory', 0x10000, 0x1f0000],
      ['vfs', 'data', 'fat', 0x200000, vfsSize],
    ]);
    const fs = profile.fsRegion(profile.defaultFlashSize);
    expect([fs.offset, fs.size]).toEqual([0x200000, vfsSize]);
  });

  it('has an app at 0x10000 describing MicroPython v1.27.0', () => {
    const app = decodeEspImage(fw.subarray(0x10000));
    expect(app.chipName).toBe(profile.espChip);
    expect(app.appDesc).toMatchObject({ projectName: 'micropython', version: 'v1.27.0', idfVer: 'v5.4.2' });
    expect(app.checksum.valid && app.sha256?.valid).toBe(true);
    expect(app.length).toBe(fw.length - 0x10000);
    // The DROM segment's data sits at file offset 0x20, matching its address modulo the 64 KiB MMU page.
    expect(app.segments[0]!.loadAddress % 0x10000).toBe(0x20);
  });

  it('boots to MicroPython, printing the ROM log for its bootloader', () => {
    const res = checkBoot(flashed(profile), profile, 'power-on');
    expect(res.outcome).toBe('micropython');
    expect(res.restarts).toBe(false);
    expect(res.app?.offset).toBe(0x10000);
    const bl = decodeEspImage(fw.subarray(profile.bootloaderOffset!, 0x8000));
    const loads = res.lines.filter((l) => l.startsWith('load:'));
    expect(loads).toHaveLength(bl.segments.length);
    expect(loads[0]).toContain(`load:0x${bl.segments[0]!.loadAddress.toString(16).padStart(8, '0')},len:`);
    expect(res.lines[res.lines.length - 1]).toBe(`entry 0x${bl.entry.toString(16).padStart(8, '0')}`);
  });

  it('prints "invalid header: 0xffffffff" forever after an erase', () => {
    const flash = flashed(profile);
    flash.erase(0, flash.size);
    const res = checkBoot(flash, profile, 'hard');
    expect(res.outcome).toBe('invalid-header');
    expect(res.repeatLine).toBe('invalid header: 0xffffffff');
    expect(res.lines.some((l) => l.startsWith('load:'))).toBe(false);
  });

  it('reports the first word of garbage written over the bootloader', () => {
    const flash = flashed(profile);
    flash.write(profile.bootloaderOffset!, new Uint8Array([0x12, 0x34, 0x56, 0x78, 0x9a]));
    const res = checkBoot(flash, profile, 'power-on');
    expect(res.outcome).toBe('invalid-header');
    expect(res.repeatLine).toBe('invalid header: 0x78563412');
  });

  it('fails the checksum when a bootloader segment byte is corrupted', () => {
    const flash = flashed(profile);
    const at = profile.bootloaderOffset! + 0x100;
    flash.write(at, new Uint8Array([flash.read(at, 1)[0]! ^ 0x40]));
    const res = checkBoot(flash, profile, 'power-on');
    expect(res.outcome).toBe('checksum-error');
    expect(res.restarts).toBe(true);
    expect(res.lines.join('\n')).toMatch(/Checksum failure\. Calculated 0x[0-9a-f]{2} stored 0x[0-9a-f]{2}/);
  });

  it('fails the checksum when the app is corrupted, and reports an erased app', () => {
    const flash = flashed(profile);
    flash.write(0x10000 + 0x200, new Uint8Array([0x00, 0x00, 0x00]));
    const corrupt = checkBoot(flash, profile, 'power-on');
    expect(corrupt.outcome).toBe('checksum-error');
    expect(corrupt.lines.join('\n')).toMatch(/E \(\d+\) esp_image: Checksum failed\. Calculated 0x[0-9a-f]+ read 0x[0-9a-f]+/);
    flash.erase(0x10000, 0x10000);
    const erased = checkBoot(flash, profile, 'power-on');
    expect(erased.outcome).toBe('boot-error');
    expect(erased.lines).toContain('E (25) esp_image: image at 0x10000 has invalid magic byte (nothing flashed here?)');
    expect(erased.lines[erased.lines.length - 1]).toMatch(/No bootable app partitions/);
  });

  it('boots another app without the MicroPython banner', () => {
    const flash = flashed(profile);
    flash.write(0x10000, generateApp(profile, { projectName: 'blink', version: '1.0' }));
    const res = checkBoot(flash, profile, 'power-on');
    expect(res.outcome).toBe('other-app');
    expect(res.app?.image.appDesc?.projectName).toBe('blink');
  });

  it('refuses an erased partition table', () => {
    const flash = flashed(profile);
    flash.erase(0x8000, 0x1000);
    const res = checkBoot(flash, profile, 'power-on');
    expect(res.outcome).toBe('boot-error');
    expect(res.lines.join('\n')).toMatch(/load partition table error!/);
  });
});

describe('boot log details', () => {
  it('uses the reset reason of each cause', () => {
    const p = PROFILES.esp32;
    const rst = (cause: Parameters<typeof checkBoot>[2]) => checkBoot(flashed(p), p, cause).lines[2];
    expect(rst('power-on')).toBe('rst:0x1 (POWERON_RESET),boot:0x13 (SPI_FAST_FLASH_BOOT)');
    expect(rst('deepsleep')).toBe('rst:0x5 (DEEPSLEEP_RESET),boot:0x13 (SPI_FAST_FLASH_BOOT)');
    // machine.reset() and the task watchdog's panic both reset the CPUs (IDF's esp_restart_noos).
    expect(rst('hard')).toBe('rst:0xc (SW_CPU_RESET),boot:0x13 (SPI_FAST_FLASH_BOOT)');
    expect(rst('wdt')).toBe('rst:0xc (SW_CPU_RESET),boot:0x13 (SPI_FAST_FLASH_BOOT)');
    expect(rst('bootloader-exit')).toBe('rst:0x1 (POWERON_RESET),boot:0x13 (SPI_FAST_FLASH_BOOT)');
    const c3 = PROFILES.esp32c3;
    expect(checkBoot(flashed(c3), c3, 'deepsleep').lines[2]).toBe('rst:0x5 (DSLEEP),boot:0xc (SPI_FAST_FLASH_BOOT)');
    expect(checkBoot(flashed(c3), c3, 'hard').lines[2]).toBe('rst:0xc (RTC_SW_CPU_RST),boot:0xc (SPI_FAST_FLASH_BOOT)');
  });

  it('prints the ESP32 ROM log as the chip does', () => {
    const lines = checkBoot(flashed(PROFILES.esp32), PROFILES.esp32, 'power-on').lines;
    expect(lines.slice(0, 6)).toEqual([
      'ets Jun  8 2016 00:22:57',
      '',
      'rst:0x1 (POWERON_RESET),boot:0x13 (SPI_FAST_FLASH_BOOT)',
      'configsip: 0, SPIWP:0xee',
      'clk_drv:0x00,q_drv:0x00,d_drv:0x00,cs0_drv:0x00,hd_drv:0x00,wp_drv:0x00',
      'mode:DIO, clock div:2',
    ]);
    // The ESP32 ROM prints decimal lengths, the C3 ROM hex ones.
    expect(lines[6]).toMatch(/^load:0x3fff0030,len:\d+$/);
    const c3 = checkBoot(flashed(PROFILES.esp32c3), PROFILES.esp32c3, 'power-on').lines;
    expect(c3.slice(0, 2)).toEqual(['ESP-ROM:esp32c3-api1-20210207', 'Build:Feb  7 2021']);
    expect(c3).toContain('load:0x3fcd5820,len:0x300');
  });

  it('lets the C3/S3 ROM boot on after a SHA-256 mismatch in the bootloader', () => {
    const p = PROFILES.esp32s3;
    const flash = flashed(p);
    const bl = decodeEspImage(flash.read(0, 0x8000));
    flash.write(bl.length - 1, new Uint8Array([0x00]));
    const res = checkBoot(flash, p, 'power-on');
    expect(res.lines).toContain('SHA-256 comparison failed:');
    expect(res.lines).toContain('Attempting to boot anyway...');
    expect(res.outcome).toBe('micropython');
  });

  it('refuses an app built for another chip', () => {
    const p = PROFILES.esp32c3;
    const flash = flashed(p);
    flash.write(0x10000, generateApp(PROFILES.esp32s3));
    const res = checkBoot(flash, p, 'power-on');
    expect(res.outcome).toBe('boot-error');
    expect(res.lines).toContain('E (25) boot_comm: mismatch chip ID, expected 5, found 9');
  });

  it('boots the lowest OTA slot when there is no factory app', () => {
    const p = PROFILES.esp32;
    const flash = flashed(p);
    const parts = micropythonPartitions(p).map((e) => (e.label === 'factory' ? { ...e, label: 'ota_0', subtype: 0x10 } : e));
    flash.write(0x8000, encodePartitionTable(parts));
    expect(checkBoot(flash, p, 'power-on').outcome).toBe('micropython');
  });

  it('has download-mode lines per chip', () => {
    expect(downloadModeLines(PROFILES.esp32)).toEqual([
      'ets Jun  8 2016 00:22:57',
      '',
      'rst:0x1 (POWERON_RESET),boot:0x3 (DOWNLOAD_BOOT(UART0/UART1/SDIO_REI_REO_V2))',
      'waiting for download',
    ]);
    expect(downloadModeLines(PROFILES.esp32s3).slice(-1)).toEqual(['waiting for download']);
  });

  it('rejects profiles without an ESP chip', () => {
    expect(() => generateFirmware(PROFILES['rp2-pico'])).toThrow(/not an ESP board/);
    expect(() => checkBoot(new MemoryFlashStore(0x1000), PROFILES['rp2-pico'], 'power-on')).toThrow(/not an ESP board/);
  });

  it('generates the same bytes each time', () => {
    expect(generateBootloader(PROFILES.esp32c3)).toEqual(generateBootloader(PROFILES.esp32c3));
    expect(generateFirmware(PROFILES.esp32)).toEqual(generateFirmware(PROFILES.esp32));
  });

  it('detects a bootloader truncated by the partition table', () => {
    const p = PROFILES.esp32;
    const flash = new MemoryFlashStore(p.defaultFlashSize);
    // A bootloader whose segment runs into 0x8000: the ROM cannot load it whole.
    flash.write(0x1000, encodeEspImage({ chip: 'esp32', entry: 0x40080400, segments: [{ loadAddress: 0x40080400, data: new Uint8Array(0x7000) }] }));
    const res = checkBoot(flash, p, 'power-on');
    expect(res.outcome).toBe('checksum-error');
    expect(res.lines[res.lines.length - 1]).toMatch(/truncated/);
  });
});
