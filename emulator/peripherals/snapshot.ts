// What outlives the MCU across a reset that restarts the board's worker (hard reset, WDT, deep sleep):
// the RTC and its memory, NVS and EEPROM contents, and the outside world (sensor values, held buttons).
// Structured-cloneable, so the host can carry it from the old worker to the new one.

import { BoardError } from '../../protocol/errors.js';
import type { PartSpec } from './parts.js';
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
  /**
   * What may wake the chip from a deep sleep (esp32.wake_on_*), for the host that watches while no VM runs: each
   * pin with the level it rests at undriven (its pull-up, else low). RAM state: a new worker starts without it.
   */
  wake?: WakeSources;
}

export interface WakeSources {
  /** esp32.wake_on_ext0: this pin at this level. */
  ext0?: { pin: number; level: 0 | 1 };
  /** esp32.wake_on_ext1: any of the pins high (level 1), or all of them low (level 0). */
  ext1?: { pins: number[]; level: 0 | 1 };
  touch?: boolean;
  /** Each watched pin's level without an outside drive. */
  rest: [number, 0 | 1][];
}

/** Which source wakes a sleeping chip whose pins are driven so (`drives`), if any. */
export function wakingSource(wake: WakeSources | undefined, drives: readonly [number, 0 | 1][]): 'ext0' | 'ext1' | undefined {
  if (!wake) return undefined;
  const driven = new Map(drives);
  const rest = new Map(wake.rest);
  const level = (pin: number) => driven.get(pin) ?? rest.get(pin) ?? 0;
  if (wake.ext0 && level(wake.ext0.pin) === wake.ext0.level) return 'ext0';
  const ext1 = wake.ext1;
  if (ext1 && ext1.pins.length && (ext1.level === 1 ? ext1.pins.some((p) => level(p) === 1) : ext1.pins.every((p) => level(p) === 0))) return 'ext1';
  return undefined;
}

/**
 * The drives after `sim set` of a pin or a button while no VM runs (a deep sleep), as the hardware sets them
 * awake (control.ts): a released button rests at its other level, a released pin is undriven.
 */
export function sleepDrive(drives: readonly [number, 0 | 1][], parts: readonly PartSpec[], args: unknown): [number, 0 | 1][] {
  const a = (typeof args === 'object' && args !== null ? args : {}) as Record<string, unknown>;
  const button = (match: (p: Extract<PartSpec, { type: 'button' }>) => boolean) =>
    parts.find((p): p is Extract<PartSpec, { type: 'button' }> => p.type === 'button' && match(p));
  let pin: number;
  let level: unknown;
  if (a.what === 'pin' && typeof a.pin === 'number') {
    pin = a.pin;
    level = a.level;
    if (level !== 0 && level !== 1 && level !== null) throw new BoardError('USAGE', "'level' must be 0, 1 or null");
  } else if (a.what === 'button') {
    const b = button((p) => p.id === a.id);
    if (!b) throw new BoardError('USAGE', `no button '${String(a.id)}'`);
    pin = b.pin;
    level = a.pressed ? b.pressedLevel : null;
  } else {
    throw new BoardError('USAGE', 'the board is in deep sleep: only its pins and buttons can be set');
  }
  const rest = button((p) => p.pin === pin);
  const next = new Map(drives);
  const now = (level as 0 | 1 | null) ?? (rest ? (rest.pressedLevel ? 0 : 1) : null);
  if (now === null) next.delete(pin);
  else next.set(pin, now);
  return [...next];
}
