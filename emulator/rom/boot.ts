// What an ESP chip does on reset, checked against the virtual board's flash: the ROM loads the second-stage
// bootloader (magic, checksum, and on C3/S3 the appended SHA-256), the bootloader reads the partition
// table at 0x8000 and verifies the app it boots. The lines are the boot log as the ROM and the IDF
// bootloader print it. MicroPython builds its bootloader with warning-level logging, so a good boot shows
// only the ROM's lines; errors show the bootloader's "E (…)" lines.
import { BoardError } from '../../protocol/errors.js';
import { decodeEspImage, ESP_IMAGE_MAGIC, findChip, IMAGE_HEADER_LEN, type EspImage } from '../../protocol/esp/image.js';
import {
  decodePartitionTable,
  type DecodedPartition,
  PARTITION_TABLE_MAX_LEN,
  PARTITION_TABLE_OFFSET,
  type PartitionTable,
} from '../../protocol/esp/partition-table.js';
import type { FlashStore } from '../flash-store.js';
import { bootCandidates } from './ota.js';
import type { BoardProfile } from '../profiles.js';

/** 'software': a software system reset (the loader's FLASH_END(0)); the boot mode latched at power-on stays. */
export type BootCause = 'power-on' | 'hard' | 'wdt' | 'deepsleep' | 'bootloader-exit' | 'software' | 'rtc-wdt';

export type BootOutcome =
  /** The app's esp_app_desc_t names project "micropython": the REPL banner follows. */
  | 'micropython'
  /** A valid app that is not MicroPython: the boot log, then silence. */
  | 'other-app'
  /** The ROM found no image magic at the bootloader offset (erased or garbage): it prints repeatLine forever. */
  | 'invalid-header'
  /** Bootloader or app fails its checksum/SHA-256: the error is printed and the chip resets. */
  | 'checksum-error'
  /** Bootloader ran but found no usable partition table or app (erased, wrong chip): it prints why and resets. */
  | 'boot-error';

export interface BootResult {
  outcome: BootOutcome;
  lines: string[];
  /** For 'invalid-header': the line the ROM repeats until the next reset. */
  repeatLine?: string;
  /** The chip resets itself after printing `lines` (watchdog or bootloader reset), printing the log again. */
  restarts: boolean;
  /** The app that was started, for 'micropython' and 'other-app'. */
  app?: { offset: number; image: EspImage };
  /** The partition table the bootloader read, when it booted an app. */
  table?: PartitionTable;
}

type EspChipName = NonNullable<BoardProfile['espChip']>;

interface RomInfo {
  banner: string[];
  /** Reset reason code and name per cause. */
  reset: Record<BootCause, [number, string]>;
  flashBoot: number;
  download: string;
  /** ESP32's ROM prints the eFuse SPI config and pin drive lines; the newer ROMs print only SPIWP. */
  classic: boolean;
}

// 'hard' and 'wdt': esp_restart() (machine.reset()) and the panic that MicroPython's machine.WDT (the task
// watchdog) raises both end in IDF's esp_restart_noos, which resets the CPUs (esp_rom_software_reset_cpu): the
// ROM reports a CPU software reset, 0xc, and esp_reset_reason() tells the two apart by the hint IDF left.
// The C3 and S3 ROMs name reset causes alike.
const NEWER_ROM_RESETS: RomInfo['reset'] = {
  'power-on': [0x1, 'POWERON'],
  hard: [0xc, 'RTC_SW_CPU_RST'],
  'bootloader-exit': [0x1, 'POWERON'],
  wdt: [0xc, 'RTC_SW_CPU_RST'],
  deepsleep: [0x5, 'DSLEEP'],
  software: [0x3, 'RTC_SW_SYS_RST'],
  'rtc-wdt': [0x10, 'RTCWDT_RTC_RST'],
};

const ROMS: Record<EspChipName, RomInfo> = {
  ESP32: {
    banner: ['ets Jun  8 2016 00:22:57', ''],
    reset: {
      'power-on': [0x1, 'POWERON_RESET'],
      hard: [0xc, 'SW_CPU_RESET'],
      'bootloader-exit': [0x1, 'POWERON_RESET'],
      wdt: [0xc, 'SW_CPU_RESET'],
      deepsleep: [0x5, 'DEEPSLEEP_RESET'],
      software: [0x3, 'SW_RESET'],
      'rtc-wdt': [0x10, 'RTCWDT_RTC_RESET'],
    },
    flashBoot: 0x13,
    download: 'boot:0x3 (DOWNLOAD_BOOT(UART0/UART1/SDIO_REI_REO_V2))',
    classic: true,
  },
  'ESP32-C3': {
    banner: ['ESP-ROM:esp32c3-api1-20210207', 'Build:Feb  7 2021'],
    reset: NEWER_ROM_RESETS,
    flashBoot: 0xc,
    download: 'boot:0x5 (DOWNLOAD(USB/UART0/1))',
    classic: false,
  },
  'ESP32-S3': {
    banner: ['ESP-ROM:esp32s3-20210327', 'Build:Mar 27 2021'],
    reset: NEWER_ROM_RESETS,
    flashBoot: 0x8,
    download: 'boot:0x0 (DOWNLOAD(USB/UART0))',
    classic: false,
  },
};

const hex = (n: number, width = 0) => '0x' + n.toString(16).padStart(width, '0');

function romOf(profile: BoardProfile): RomInfo {
  if (!profile.espChip) throw new BoardError('USAGE', `${profile.name} is not an ESP board: it has no ESP boot ROM`);
  return ROMS[profile.espChip];
}

function resetLine(rom: RomInfo, cause: BootCause, boot: string): string {
  const [code, name] = rom.reset[cause];
  return `rst:${hex(code)} (${name}),${boot}`;
}

/** The ROM's lines when the chip starts in download (serial bootloader) mode. */
export function downloadModeLines(profile: BoardProfile, cause: BootCause = 'power-on'): string[] {
  const rom = romOf(profile);
  return [...rom.banner, resetLine(rom, cause, rom.download), 'waiting for download'];
}

// ROM clock divider for the SPI flash frequency in the bootloader header (80 MHz source).
const CLOCK_DIV: Record<string, number> = { '80m': 1, '40m': 2, '26m': 3, '20m': 4 };

/** Check the flash as the chip would on reset; returns the boot log and what the board does next. */
export function checkBoot(flash: FlashStore, profile: BoardProfile, cause: BootCause): BootResult {
  const rom = romOf(profile);
  const chip = findChip(profile.espChip!)!;
  const blOffset = profile.bootloaderOffset ?? chip.bootloaderOffset;
  const lines = [...rom.banner, resetLine(rom, cause, `boot:${hex(rom.flashBoot)} (SPI_FAST_FLASH_BOOT)`)];
  if (rom.classic) lines.push('configsip: 0, SPIWP:0xee', 'clk_drv:0x00,q_drv:0x00,d_drv:0x00,cs0_drv:0x00,hd_drv:0x00,wp_drv:0x00');
  else lines.push('SPIWP:0xee');

  const head = flash.read(blOffset, 4);
  if (head[0] !== ESP_IMAGE_MAGIC) {
    const word = new DataView(head.buffer, head.byteOffset, 4).getUint32(0, true);
    return { outcome: 'invalid-header', lines, repeatLine: `invalid header: ${hex(word, 8)}`, restarts: false };
  }

  // The ROM: the bootloader must fit below the partition table.
  let bootloader: EspImage;
  try {
    bootloader = decodeEspImage(flash.read(blOffset, PARTITION_TABLE_OFFSET - blOffset), { verify: false });
  } catch (err) {
    return { outcome: 'checksum-error', lines: [...lines, (err as Error).message], restarts: true };
  }
  lines.push(`mode:${bootloader.flashMode?.toUpperCase() ?? 'QIO'}, clock div:${CLOCK_DIV[bootloader.flashFreq ?? ''] ?? 1}`);
  for (const s of bootloader.segments) {
    // The ESP32 ROM prints lengths in decimal, the newer ROMs in hex.
    lines.push(`load:${hex(s.loadAddress, 8)},len:${rom.classic ? s.data.length : hex(s.data.length)}`);
  }
  if (!bootloader.checksum.valid) {
    lines.push(`Checksum failure. Calculated ${hex(bootloader.checksum.calculated, 2)} stored ${hex(bootloader.checksum.stored, 2)}`);
    if (rom.classic) lines.push('ets_main.c 371 ');
    return { outcome: 'checksum-error', lines, restarts: true };
  }
  if (bootloader.sha256 && !bootloader.sha256.valid && !rom.classic) {
    // The C3/S3 ROM reports a digest mismatch but still jumps to the bootloader.
    lines.push('SHA-256 comparison failed:', `Calculated: ${bootloader.sha256.calculated}`, `Expected: ${bootloader.sha256.stored}`, 'Attempting to boot anyway...');
  }
  lines.push(`entry ${hex(bootloader.entry, 8)}`);
  // Milliseconds the IDF bootloader stamps on its log lines: plausible fixed values keep logs reproducible.
  let ms = 20;
  const logE = (tag: string, message: string) => `E (${(ms += 5)}) ${tag}: ${message}`;

  // The second-stage bootloader.
  const bootError = (outcome: BootOutcome, ...messages: string[]): BootResult => ({
    outcome,
    lines: [...lines, ...messages],
    restarts: true,
  });
  if (bootloader.chipId !== chip.id) {
    return bootError('boot-error', logE('boot_comm', `mismatch chip ID, expected ${chip.id}, found ${bootloader.chipId}`));
  }
  let table;
  try {
    table = decodePartitionTable(flash.read(PARTITION_TABLE_OFFSET, PARTITION_TABLE_MAX_LEN));
  } catch (err) {
    return bootError('boot-error', logE('flash_parts', (err as Error).message), logE('boot', 'Failed to verify partition table'), logE('boot', 'load partition table error!'));
  }
  // With OTA data the bootloader picks a slot (and runs the rollback states); an app that fails to verify
  // makes it try the next candidate, as bootloader_utility_load_boot_image does.
  const candidates = bootCandidates(flash, table);
  if (candidates.length === 0) return bootError('boot-error', logE('boot', 'No bootable app partitions in the partition table'));
  const failures: string[] = [];
  let failure: BootOutcome = 'boot-error';
  let booted: { part: DecodedPartition; app: EspImage } | undefined;
  for (const part of candidates) {
    const checked = checkApp(flash, part, chip.id, logE);
    if ('app' in checked) {
      booted = { part, app: checked.app };
      break;
    }
    failure = checked.outcome;
    failures.push(...checked.lines, logE('boot', `${part.label === 'factory' ? 'Factory' : 'OTA'} app partition is not bootable`));
  }
  if (!booted) return bootError(failure, ...failures, logE('boot', 'No bootable app partitions in the partition table'));
  const { part, app } = booted;
  const outcome = app.appDesc?.projectName === 'micropython' ? 'micropython' : 'other-app';
  return { outcome, lines: [...lines, ...failures], restarts: false, app: { offset: part.offset, image: app }, table };
}

/** The bootloader's checks of one app partition: magic, chip, checksum and hash. */
function checkApp(
  flash: FlashStore, part: DecodedPartition, chipId: number, logE: (tag: string, message: string) => string,
): { app: EspImage } | { outcome: BootOutcome; lines: string[] } {
  const fail = (outcome: BootOutcome, line: string) => ({ outcome, lines: [line] });
  const size = Math.min(part.size, flash.size - part.offset);
  const first = flash.read(part.offset, Math.min(size, IMAGE_HEADER_LEN));
  if (first[0] !== ESP_IMAGE_MAGIC) {
    return fail('boot-error', logE('esp_image', `image at ${hex(part.offset)} has invalid magic byte (nothing flashed here?)`));
  }
  let app: EspImage;
  try {
    app = decodeEspImage(flash.read(part.offset, size), { verify: false });
  } catch (err) {
    return fail('checksum-error', logE('esp_image', (err as Error).message));
  }
  if (app.chipId !== chipId) return fail('boot-error', logE('boot_comm', `mismatch chip ID, expected ${chipId}, found ${app.chipId}`));
  if (!app.checksum.valid) {
    return fail('checksum-error', logE('esp_image', `Checksum failed. Calculated ${hex(app.checksum.calculated)} read ${hex(app.checksum.stored)}`));
  }
  if (app.sha256 && !app.sha256.valid) return fail('checksum-error', logE('esp_image', 'Image hash failed - image is corrupt'));
  return { app };
}
