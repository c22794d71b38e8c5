// The virtual board factory handed to protocol/'s port resolver (protocol/ must not import emulator/).
// The emulator (MicroPython VM and all) is imported only when a virtual port is actually opened.
import type { VirtualFactory } from '../protocol/connect.js';
import { phase } from '../protocol/timing.js';

export const openVirtual: VirtualFactory = async (spec) => {
  const { openVirtualTransport } = await import('../emulator/board.js');
  phase('virtual board modules loaded');
  return openVirtualTransport(spec);
};
