// The firmware a new virtual ESP board comes flashed with: a merged flash image in the real formats
// (second-stage bootloader, MicroPython's default partition table, an app whose esp_app_desc_t says
// "micropython"), so esptool-style tools and the boot check see what they would on a real board.
// The segments hold filler, not code: nothing executes them, and the image stays a few KB.
import { BoardError } from '../../protocol/errors.js';
import { encodeAppDesc, encodeBootloaderDesc, encodeEspImage, type FlashMode } from '../../protocol/esp/image.js';
import { encodePartitionTable, PARTITION_TABLE_OFFSET, partitionTypeCodes, type PartitionEntry } from '../../protocol/esp/partition-table.js';
import { bannerLine, type BoardProfile } from '../profiles.js';

export const MICROPYTHON_VERSION = 'v1.27.0';
export const IDF_VERSION = 'v5.4.2';
const BUILD_DATE = 'Dec 10 2025';
const BUILD_TIME = '12:00:00';
export const APP_OFFSET = 0x10000;
const APP_PARTITION_SIZE = 0x1f0000;
const MiB = 1024 * 1024;

interface Segment {
  loadAddress: number;
  size: number;
}

interface ChipLayout {
  flashFreq: string;
  minChipRevFull: number;
  maxChipRevFull: number;
  /** Bootloader: DRAM (starts with esp_bootloader_desc_t), then IRAM-ish segments; entry inside the code. */
  bootloader: { segments: Segment[]; entry: number };
  /** App: first segment is DROM (esp_app_desc_t at its start), then DRAM and IRAM. */
  app: { drom: number; segments: Segment[]; entry: number };
}

// Load addresses in the ranges the real IDF bootloader and app use on each chip.
const LAYOUTS: Record<NonNullable<BoardProfile['espChip']>, ChipLayout> = {
  ESP32: {
    flashFreq: '40m',
    minChipRevFull: 0,
    maxChipRevFull: 399,
    bootloader: {
      segments: [{ loadAddress: 0x3fff0030, size: 0x300 }, { loadAddress: 0x40078000, size: 0x600 }, { loadAddress: 0x40080400, size: 0x400 }],
      entry: 0x400805c8,
    },
    app: { drom: 0x3f400020, segments: [{ loadAddress: 0x3ffbdb60, size: 0x200 }, { loadAddress: 0x40080000, size: 0x600 }], entry: 0x40081c9c },
  },
  'ESP32-C3': {
    flashFreq: '80m',
    minChipRevFull: 3,
    maxChipRevFull: 199,
    bootloader: {
      segments: [{ loadAddress: 0x3fcd5820, size: 0x300 }, { loadAddress: 0x403cc710, size: 0x400 }, { loadAddress: 0x403ce710, size: 0x600 }],
      entry: 0x403cc71a,
    },
    app: { drom: 0x3c000020, segments: [{ loadAddress: 0x3fc8f000, size: 0x200 }, { loadAddress: 0x40380000, size: 0x600 }], entry: 0x4038041a },
  },
  'ESP32-S3': {
    flashFreq: '80m',
    minChipRevFull: 0,
    maxChipRevFull: 99,
    bootloader: {
      segments: [{ loadAddress: 0x3fce2810, size: 0x300 }, { loadAddress: 0x403c9700, size: 0x400 }, { loadAddress: 0x403cc700, size: 0x600 }],
      entry: 0x403c98d4,
    },
    app: { drom: 0x3c000020, segments: [{ loadAddress: 0x3fc91000, size: 0x200 }, { loadAddress: 0x40374000, size: 0x600 }], entry: 0x40375a1c },
  },
};

function espLayout(profile: BoardProfile): ChipLayout {
  if (!profile.espChip) throw new BoardError('USAGE', `${profile.name} is not an ESP board: it has no ESP flash image`);
  return LAYOUTS[profile.espChip];
}

/** Deterministic filler bytes (xorshift32), so every generated image is identical for the same inputs. */
function filler(size: number, seed: number): Uint8Array {
  const out = new Uint8Array(size);
  let x = seed >>> 0 || 1;
  for (let i = 0; i < size; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    out[i] = x & 0xff;
  }
  return out;
}

const flashSizeName = (bytes: number) => `${bytes / MiB}MB`;

export interface GenerateFirmwareOptions {
  /** Flash size the header and partition table describe (default: the profile's). */
  flashSize?: number;
  flashMode?: FlashMode;
  /**
   * MicroPython's OTA variant (ESP32_GENERIC-OTA): partitions-4MiB-ota.csv (otadata and two 0x180000 app slots,
   * the app in ota_0, vfs for the rest of the flash) and "<board> with OTA" as the board name.
   */
  ota?: boolean;
}

export function generateBootloader(profile: BoardProfile, opts: GenerateFirmwareOptions = {}): Uint8Array {
  const layout = espLayout(profile);
  const [first, ...rest] = layout.bootloader.segments;
  const desc = encodeBootloaderDesc({ version: 1, idfVer: IDF_VERSION, dateTime: `${BUILD_DATE} ${BUILD_TIME}` });
  const dram = filler(first!.size, first!.loadAddress);
  dram.set(desc);
  return encodeEspImage({
    chip: profile.espChip!,
    entry: layout.bootloader.entry,
    segments: [{ loadAddress: first!.loadAddress, data: dram }, ...rest.map((s) => ({ loadAddress: s.loadAddress, data: filler(s.size, s.loadAddress) }))],
    flashMode: opts.flashMode ?? 'dio',
    flashSize: flashSizeName(opts.flashSize ?? profile.defaultFlashSize),
    flashFreq: layout.flashFreq,
    minChipRevFull: layout.minChipRevFull,
    maxChipRevFull: layout.maxChipRevFull,
  });
}

export interface GenerateAppOptions extends GenerateFirmwareOptions {
  projectName?: string;
  version?: string;
}

export function generateApp(profile: BoardProfile, opts: GenerateAppOptions = {}): Uint8Array {
  const layout = espLayout(profile);
  const desc = encodeAppDesc({
    projectName: opts.projectName ?? 'micropython',
    version: opts.version ?? MICROPYTHON_VERSION,
    idfVer: IDF_VERSION,
    date: BUILD_DATE,
    time: BUILD_TIME,
  });
  // Read-only data after the descriptor: the banner the firmware prints, as in a real image's .rodata.
  const boardName = opts.ota ? `${profile.boardName} with OTA` : profile.boardName;
  const rodata = new TextEncoder().encode(`${bannerLine(profile, { version: opts.version, boardName })}\0`);
  const drom = new Uint8Array(desc.length + rodata.length + ((4 - (rodata.length % 4)) % 4));
  drom.set(desc);
  drom.set(rodata, desc.length);
  return encodeEspImage({
    chip: profile.espChip!,
    entry: layout.app.entry,
    segments: [{ loadAddress: layout.app.drom, data: drom }, ...layout.app.segments.map((s) => ({ loadAddress: s.loadAddress, data: filler(s.size, s.loadAddress ^ 0x5a5a) }))],
    flashMode: opts.flashMode ?? 'dio',
    flashSize: flashSizeName(opts.flashSize ?? profile.defaultFlashSize),
    flashFreq: layout.flashFreq,
    minChipRevFull: layout.minChipRevFull,
    maxChipRevFull: layout.maxChipRevFull,
  });
}

/** Where MicroPython's OTA layout puts the vfs partition: after two 0x180000 slots from 0x10000. */
export const OTA_VFS_OFFSET = APP_OFFSET + 2 * 0x180000;

/** MicroPython's default ESP32 partitions.csv: nvs, phy_init, a 0x1F0000 factory app, and vfs (FAT) for the rest. */
export function micropythonPartitions(profile: BoardProfile, flashSize = profile.defaultFlashSize, ota = false): PartitionEntry[] {
  const fs = profile.fsRegion(flashSize);
  const entry = (label: string, type: string, subtype: string, offset: number, size: number): PartitionEntry => ({
    label, ...partitionTypeCodes(type, subtype), offset, size, flags: 0,
  });
  if (ota) {
    return [
      entry('nvs', 'data', 'nvs', 0x9000, 0x4000),
      entry('otadata', 'data', 'ota', 0xd000, 0x2000),
      entry('phy_init', 'data', 'phy', 0xf000, 0x1000),
      entry('ota_0', 'app', 'ota_0', APP_OFFSET, 0x180000),
      entry('ota_1', 'app', 'ota_1', APP_OFFSET + 0x180000, 0x180000),
      entry('vfs', 'data', 'fat', OTA_VFS_OFFSET, flashSize - OTA_VFS_OFFSET),
    ];
  }
  return [
    entry('nvs', 'data', 'nvs', 0x9000, 0x6000),
    entry('phy_init', 'data', 'phy', 0xf000, 0x1000),
    entry('factory', 'app', 'factory', APP_OFFSET, Math.min(APP_PARTITION_SIZE, fs.offset - APP_OFFSET)),
    entry('vfs', 'data', 'fat', fs.offset, fs.size),
  ];
}

/**
 * The firmware as MicroPython releases it for the profile's port: one file that starts at the chip's bootloader
 * offset (ESP32: 0x1000, the documented `esptool --chip esp32 write-flash -z 0x1000 ESP32_GENERIC-….bin`; C3/S3:
 * 0x0), holding the bootloader, the partition table at flash 0x8000 and the app at 0x10000. It ends after the app;
 * the rest of the flash stays erased. Flash it at firmwareOffset(profile).
 */
export function generateFirmware(profile: BoardProfile, opts: GenerateFirmwareOptions = {}): Uint8Array {
  espLayout(profile);
  const flashSize = opts.flashSize ?? profile.defaultFlashSize;
  const base = firmwareOffset(profile);
  const app = generateApp(profile, opts);
  // Gaps are 0xFF, the erased state. (emulator/ may not use flash/merge-bin; the layout is fixed and cannot overlap.)
  const out = new Uint8Array(APP_OFFSET - base + app.length).fill(0xff);
  out.set(generateBootloader(profile, opts), 0);
  out.set(encodePartitionTable(micropythonPartitions(profile, flashSize, opts.ota)), PARTITION_TABLE_OFFSET - base);
  out.set(app, APP_OFFSET - base);
  return out;
}

/** Where the release firmware file goes: the chip's bootloader offset. */
export function firmwareOffset(profile: BoardProfile): number {
  return profile.bootloaderOffset ?? 0;
}
