// What the board takes from the app the bootloader started: the banner in its read-only data (so an OTA update
// that is another build says so at the prompt), which partition runs, and the vfs partition the firmware
// mounts (MicroPython finds it by label in the partition table that is flashed).
import type { BootResult } from './boot.js';

export interface AppFacts {
  banner?: string;
  runningApp?: number;
  vfs?: { offset: number; size: number };
}

const MARK = new TextEncoder().encode('MicroPython v');

function findBanner(data: Uint8Array): string | undefined {
  outer: for (let i = 0; i + MARK.length <= data.length; i++) {
    for (let j = 0; j < MARK.length; j++) if (data[i + j] !== MARK[j]) continue outer;
    const end = data.indexOf(0, i);
    const text = new TextDecoder('latin1').decode(data.subarray(i, end < 0 ? data.length : end));
    if (text.includes('; ')) return text;
  }
  return undefined;
}

export function appFacts(boot: BootResult): AppFacts {
  const vfs = boot.table?.entries.find((e) => e.label === 'vfs' && e.typeName === 'data');
  return {
    banner: boot.app ? findBanner(boot.app.image.segments[0]?.data ?? new Uint8Array(0)) : undefined,
    runningApp: boot.app?.offset,
    vfs: vfs ? { offset: vfs.offset, size: vfs.size } : undefined,
  };
}
