// The flash view's actions: the same connect / write / leave sequence as `boardctl flash write-flash`,
// on the TUI's link (the REPL pane pauses while the chip is in its bootloader).
import { connectEsp, disconnectEsp, type EspSession } from '../../flash/esp-connect.js';
import { imageInfo, type ImageInfo } from '../../flash/image-info.js';
import { writeFlash, type RegionResult } from '../../flash/write-flash.js';
import { DEFAULT_BAUD } from '../../protocol/connect.js';
import type { Transport } from '../../protocol/transport.js';
import type { BoardLink } from './board-link.js';

export interface FlashImage {
  name: string;
  data: Uint8Array;
  info: ImageInfo;
}

export function loadImage(name: string, data: Uint8Array): FlashImage {
  return { name, data, info: imageInfo(data, name) };
}

/** Where an image goes on a chip whose bootloader lives at `bootloaderOffset` (0x1000 ESP32, 0x0 C3/S3). */
export function suggestedOffset(info: ImageInfo, bootloaderOffset: number): number {
  switch (info.kind) {
    // A merged image says where it starts: 0x0 with a gap before its bootloader, or the bootloader's offset.
    case 'merged': return info.flashOffset;
    case 'esp-bootloader': return bootloaderOffset;
    case 'esp-app': return 0x10000;
    case 'partition-table': return 0x8000;
    default: return 0;
  }
}

async function withChip<T>(link: BoardLink, activity: string, fn: (s: EspSession) => Promise<T>): Promise<T> {
  return link.withTransport(activity, async (t: Transport) => {
    if (t.baudRate !== DEFAULT_BAUD) await t.setBaudRate(DEFAULT_BAUD);
    const session = await connectEsp(t);
    try {
      return await fn(session);
    } finally {
      await disconnectEsp(session, 'hard-reset');
    }
  });
}

export interface ChipFacts {
  chip: string;
  bootloaderOffset: number;
}

export function detectChip(link: BoardLink): Promise<ChipFacts> {
  return withChip(link, 'detecting the chip', async (s) => ({ chip: s.chip.name, bootloaderOffset: s.chip.bootloaderOffset }));
}

export interface FlashOutcome extends ChipFacts {
  offset: number;
  results: RegionResult[];
}

/**
 * Write the image (at `offset`, or where the detected chip wants it); writeFlash checks each region's MD5 and,
 * as `flash write-flash` does by default, skips regions the flash already holds (`skipUnchanged: false` writes).
 */
export function flashImage(link: BoardLink, image: FlashImage, opts: { offset?: number; erase?: boolean; skipUnchanged?: boolean }): Promise<FlashOutcome> {
  return withChip(link, `flashing ${image.name}`, async (s) => {
    const offset = opts.offset ?? suggestedOffset(image.info, s.chip.bootloaderOffset);
    const results = await writeFlash(s, [{ address: offset, data: image.data, name: image.name }], {
      eraseAll: opts.erase,
      skipUnchanged: opts.skipUnchanged,
      onProgress: (p) => link.progress(p.done, p.total),
    });
    return { chip: s.chip.name, bootloaderOffset: s.chip.bootloaderOffset, offset, results };
  });
}

/** The virtual board's own firmware image (what `boardctl sim firmware` writes). */
export async function generatedImage(port: string): Promise<FlashImage> {
  const [{ VirtualBoard, parseVirtualSpec }, { generateFirmware }] = await Promise.all([
    import('../../emulator/board.js'),
    import('../../emulator/rom/firmware.js'),
  ]);
  const board = await VirtualBoard.open(parseVirtualSpec(port).name);
  return loadImage(`micropython-${board.profile.name}.bin`, generateFirmware(board.profile));
}
