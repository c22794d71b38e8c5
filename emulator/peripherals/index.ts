// The 'hw' plugin: machine & friends for the virtual board, with simulated parts and outside control.

import type { BoardProfile } from '../profiles.js';
import type { ControllablePlugin, VmHost } from '../vm/host-api.js';
import { handleControl } from './control.js';
import { VirtualHardware } from './hardware.js';
import { defaultParts, type PartSpec } from './parts.js';
import type { HardwareSnapshot } from './snapshot.js';

export { defaultParts, defaultI2cPins, type PartSpec, type I2cBusPins } from './parts.js';
export { eventsToVcd } from './vcd.js';
export type { TimelineEvent } from './timeline.js';
export type { RtcState } from './rtc.js';
export type { HardwareSnapshot } from './snapshot.js';
export type { SetArgs, GetWhat } from './control.js';

export interface HardwarePluginConfig {
  profile: BoardProfile;
  /** machine.unique_id() as hex (board.json's uniqueId); the profile's fixed id without it. */
  uniqueId?: string;
  /** The station MAC as board.json has it; the profile's default without it. */
  mac?: string;
  /** Parts wired to the board; defaults to defaultParts(profile). */
  parts?: PartSpec[];
  /**
   * What the previous worker's plugin.snapshot() returned, when a reset restarts the worker: RTC, RTC memory,
   * NVS, EEPROM, sensor values and held buttons carry over. A fresh board's RTC starts at 2000-01-01.
   */
  persisted?: HardwareSnapshot;
}

export interface HardwarePlugin extends ControllablePlugin {
  /** State to hand to the next worker's createHardwarePlugin({ persisted }) across a worker-restarting reset. */
  snapshot(): HardwareSnapshot;
}

export function createHardwarePlugin(host: VmHost, config: HardwarePluginConfig): HardwarePlugin {
  const hardware = new VirtualHardware(host, {
    profile: config.profile, uniqueId: config.uniqueId, mac: config.mac, parts: config.parts ?? defaultParts(config.profile), persisted: config.persisted,
  });
  host.addPoller(() => hardware.poll());
  // The Python side: machine, neopixel, dht (emulator/py/common) and the port modules (esp32/, rp2/).
  return {
    name: 'hw',
    snapshot: () => hardware.snapshot(),
    // Frozen: the object outlives soft resets, so Python must not be able to patch it for the next program.
    jsModules: { _hw: Object.freeze(hardware.pyApi()) },
    onBoot: () => hardware.boot(),
    control: (op, args) => handleControl(hardware, op, args),
  };
}
