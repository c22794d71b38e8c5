// Board profiles: what a virtual board claims to be, and where its firmware puts things in flash.
import { ESP32_MODULES, RP2_MODULES, type ModuleTable } from './port-modules.js';

export type ProfileName = 'esp32' | 'esp32c3' | 'esp32s3' | 'rp2-pico';

export interface BoardProfile {
  readonly name: ProfileName;
  /** MICROPY_HW_BOARD_NAME as the real firmware prints it in the banner. */
  readonly boardName: string;
  /** MICROPY_HW_MCU_NAME. */
  readonly mcuName: string;
  /** sys.platform on the real port. */
  readonly platform: 'esp32' | 'rp2';
  /** os.uname().sysname / nodename. */
  readonly sysname: string;
  /** MICROPY_BOARD_BUILD_NAME: sys.implementation._build. */
  readonly buildName: string;
  /** The firmware's module set, and which of it the board has (port-modules.ts). */
  readonly modules: ModuleTable;
  /** ESP chip family name as esptool prints it (undefined for RP2). */
  readonly espChip?: 'ESP32' | 'ESP32-C3' | 'ESP32-S3';
  /** Offset of the second-stage bootloader in flash (ESP only). */
  readonly bootloaderOffset?: number;
  readonly defaultFlashSize: number;
  /** Filesystem region for a given flash size: MicroPython's vfs partition (ESP) or its fixed region (RP2). */
  fsRegion(flashSize: number): { offset: number; size: number };
}

const MiB = 1024 * 1024;

// On ESP32 MicroPython's default partition table ends the app partition at 0x200000 on 4 MiB parts;
// the vfs partition takes the rest of the flash.
const espFsRegion = (flashSize: number) => {
  const offset = flashSize >= 4 * MiB ? 0x200000 : Math.floor(flashSize / 2);
  return { offset, size: flashSize - offset };
};

export const PROFILES: Record<ProfileName, BoardProfile> = {
  esp32: {
    name: 'esp32', boardName: 'Generic ESP32 module', mcuName: 'ESP32', platform: 'esp32', sysname: 'esp32',
    buildName: 'ESP32_GENERIC', modules: ESP32_MODULES,
    espChip: 'ESP32', bootloaderOffset: 0x1000, defaultFlashSize: 4 * MiB, fsRegion: espFsRegion,
  },
  esp32c3: {
    name: 'esp32c3', boardName: 'ESP32C3 module', mcuName: 'ESP32C3', platform: 'esp32', sysname: 'esp32',
    buildName: 'ESP32_GENERIC_C3', modules: ESP32_MODULES,
    espChip: 'ESP32-C3', bootloaderOffset: 0x0, defaultFlashSize: 4 * MiB, fsRegion: espFsRegion,
  },
  esp32s3: {
    name: 'esp32s3', boardName: 'Generic ESP32S3 module', mcuName: 'ESP32S3', platform: 'esp32', sysname: 'esp32',
    buildName: 'ESP32_GENERIC_S3', modules: ESP32_MODULES,
    espChip: 'ESP32-S3', bootloaderOffset: 0x0, defaultFlashSize: 8 * MiB, fsRegion: espFsRegion,
  },
  'rp2-pico': {
    name: 'rp2-pico', boardName: 'Raspberry Pi Pico', mcuName: 'RP2040', platform: 'rp2', sysname: 'rp2',
    buildName: 'RPI_PICO', modules: RP2_MODULES,
    defaultFlashSize: 2 * MiB,
    // MicroPython's rp2 port: 1408 KiB filesystem at 0xA0000 on the 2 MiB Pico.
    fsRegion: () => ({ offset: 0xa0000, size: 1408 * 1024 }),
  },
};

export function getProfile(name: string): BoardProfile {
  const p = (PROFILES as Record<string, BoardProfile>)[name];
  if (!p) throw new Error(`unknown board profile '${name}' (choose one of: ${Object.keys(PROFILES).join(', ')})`);
  return p;
}

/** The banner line without the trailing CRLF, as pyexec prints it (a build's version and board name may differ). */
export function bannerLine(p: BoardProfile, build: { version?: string; boardName?: string } = {}): string {
  return `MicroPython ${build.version ?? 'v1.27.0'} on 2025-12-10; ${build.boardName ?? p.boardName} with ${p.mcuName}`;
}
