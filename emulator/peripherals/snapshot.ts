// What outlives the MCU across a reset that restarts the board's worker (hard reset, WDT, deep sleep):
// the RTC and its memory, NVS and EEPROM contents, and the outside world (sensor values, held buttons).
// Structured-cloneable, so the host can carry it from the old worker to the new one.

import type { RtcState } from './rtc.js';

export interface HardwareSnapshot {
  rtc: RtcState;
  rtcMemory: number[];
  nvs: [string, string][];
  eeproms: [string, number[]][];
  temps: [string, number][];
  dhts: [number, { celsius: number; humidity: number }][];
  volts: [number, number][];
  /** External pin drives set from outside (`sim set pin`, pressed buttons). */
  drives: [number, 0 | 1][];
  bootsel: boolean;
}
