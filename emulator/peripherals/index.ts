// The 'hw' plugin: machine & friends for the virtual board, with simulated parts and outside control.

import type { BoardProfile } from '../profiles.js';
import type { ControllablePlugin, VmHost } from '../vm/host-api.js';
import { handleControl } from './control.js';
import { VirtualHardware } from './hardware.js';
import { DHT_PY, ESP32_PY, ESP_PY, NEOPIXEL_PY, RP2_PY } from './py/drivers.js';
import { MACHINE_PY } from './py/machine.js';
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
  /** Parts wired to the board; defaults to defaultParts(profile). */
  parts?: PartSpec[];
  /**
   * What the previous worker's plugin.snapshot() returned, when a reset restarts the worker: RTC, RTC memory,
   * NVS, EEPROM, sensor values and held buttons carry over. A fresh board's RTC starts at 2000-01-01.
   */
  persisted?: HardwareSnapshot;
}

export interface HardwarePlugin extends ControllablePlugin {
  /** The live state, for in-process users (tests, bench); not structured-cloneable. */
  readonly hardware: VirtualHardware;
  /** State to hand to the next worker's createHardwarePlugin({ persisted }) across a worker-restarting reset. */
  snapshot(): HardwareSnapshot;
}

export function createHardwarePlugin(host: VmHost, config: HardwarePluginConfig): HardwarePlugin {
  const hardware = new VirtualHardware(host, {
    profile: config.profile, parts: config.parts ?? defaultParts(config.profile), persisted: config.persisted,
  });
  host.addPoller(() => hardware.poll());
  const portModules: Record<string, string> = config.profile.platform === 'rp2'
    ? { rp2: RP2_PY }
    : { esp32: ESP32_PY, esp: ESP_PY };
  return {
    name: 'hw',
    hardware,
    snapshot: () => hardware.snapshot(),
    // Frozen: the object outlives soft resets, so Python must not be able to patch it for the next program.
    jsModules: { _hw: Object.freeze(hardware.pyApi()) },
    pyModules: { machine: MACHINE_PY, neopixel: NEOPIXEL_PY, dht: DHT_PY, ...portModules },
    bootSource: "__import__('_hw').boot()\n",
    control: (op, args) => handleControl(hardware, op, args),
  };
}
