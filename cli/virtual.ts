// The virtual board factory handed to protocol/'s port resolver (protocol/ must not import emulator/).
// The emulator (MicroPython VM and all) is imported only when a virtual port is actually opened.
import type { VirtualFactory } from '../protocol/connect.js';
import { phase } from '../protocol/timing.js';

export const openVirtual: VirtualFactory = async (spec) => {
  const { openVirtualTransport } = await import('../emulator/board.js');
  phase('virtual board modules loaded');
  return openVirtualTransport(spec);
};

/** The port is a virtual board's: start its VM's thread now, while the board's modules load (worker-thread.ts). */
export function startVirtualEarly(port: string | undefined): void {
  if (port?.startsWith('virtual')) void import('../emulator/worker-thread.js').then((m) => m.startWorkerEarly());
}
