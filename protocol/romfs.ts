// ROMFS (MicroPython 1.25+): read-only filesystem segments the firmware exposes through vfs.rom_ioctl.
// A port built without MICROPY_VFS_ROM (ESP32 and rp2 at v1.27.0) has no rom_ioctl at all.
import type { Board } from './board.js';
import { BoardError } from './errors.js';

/** The number of ROMFS segments (rom_ioctl(1)), or undefined where the firmware has no ROMFS. */
export async function romfsSegments(board: Board): Promise<number | undefined> {
  const reply = await board.eval("(lambda v: v.rom_ioctl(1) if hasattr(v, 'rom_ioctl') else None)(__import__('vfs'))");
  const n = Number(reply);
  return reply === 'None' || !Number.isInteger(n) || n < 0 ? undefined : n;
}

/** Resolves where the board has ROMFS segments; the one-line error where it has none. */
export async function requireRomfs(board: Board): Promise<number> {
  const n = await romfsSegments(board);
  if (n === undefined || n === 0) throw new BoardError('DEVICE_OSERROR', 'the board has no ROMFS (its firmware is built without MICROPY_VFS_ROM)', { lacking: 'ROMFS' });
  return n;
}
