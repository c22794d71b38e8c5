// The virtual board factory handed to protocol/'s port resolver (protocol/ must not import emulator/).
// The emulator (MicroPython VM and all) is imported only when a virtual port is actually opened.
import type { VirtualFactory } from '../protocol/connect.js';
import { phase } from '../protocol/timing.js';

let boards: Promise<typeof import('../emulator/board.js')> | undefined;

export const openVirtual: VirtualFactory = async (spec) => {
  const { openVirtualTransport } = await (boards ??= import('../emulator/board.js'));
  phase('virtual board modules loaded');
  return openVirtualTransport(spec);
};

/**
 * Power off the virtual boards this process opened, as the command line ends: their VM threads stopped, the last
 * flash writes fsynced, the boards' locks released (a process that just exits leaves its lock to be found stale).
 */
export async function closeVirtualBoards(): Promise<void> {
  if (!boards) return;
  await (await boards).closeAllVirtualBoards();
  phase('virtual boards closed');
}
