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

/** Which source wakes a sleeping chip whose watched pins read `level(pin)`, if any. */
export function wakingSource(wake: Omit<WakeSources, 'rest'> | undefined, level: (pin: number) => 0 | 1): 'ext0' | 'ext1' | undefined {
  if (!wake) return undefined;
  if (wake.ext0 && level(wake.ext0.pin) === wake.ext0.level) return 'ext0';
  const ext1 = wake.ext1;
  if (ext1 && ext1.pins.length && (ext1.level === 1 ? ext1.pins.some((p) => level(p) === 1) : ext1.pins.every((p) => level(p) === 0))) return 'ext1';
  return undefined;
}

/** A sleeping chip's pin levels: its drives from outside, else where each watched pin rests. */
export function sleepLevels(hw: HardwareSnapshot): (pin: number) => 0 | 1 {
  const driven = new Map(hw.drives);
  const rest = new Map(hw.wake?.rest ?? []);
  return (pin) => driven.get(pin) ?? rest.get(pin) ?? 0;
}

/**
 * The level a `sim set` of a pin, or of a button on a pin, drives that pin to (null: released), or undefined for
 * any other setting: the hardware's (control.ts) and a sleeping board's (board.ts) one rule.
 */
export function pinDrive(a: Record<string, unknown>, parts: readonly PartSpec[]): { pin: number; level: 0 | 1 | null } | undefined {
  if (a.what === 'pin') {
    if (typeof a.pin !== 'number' || !Number.isFinite(a.pin)) throw new BoardError('USAGE', "'pin' must be a number");
    if (a.level !== 0 && a.level !== 1 && a.level !== null) throw new BoardError('USAGE', "'level' must be 0, 1 or null");
    return { pin: a.pin, level: a.level };
  }
  if (a.what !== 'button') return undefined;
  const part = parts.find((p) => p.id === a.id);
  if (part?.type === 'button') return { pin: part.pin, level: a.pressed ? part.pressedLevel : null };
  if (part?.type !== 'bootsel') throw new BoardError('USAGE', `no button '${String(a.id)}'`);
  return undefined;
}

/**
 * The drives after `sim set` of a pin or a button while no VM runs (a deep sleep), as the hardware drives them
 * awake: a released button rests at its other level, a released pin is undriven.
 */
export function sleepDrive(drives: readonly [number, 0 | 1][], parts: readonly PartSpec[], args: unknown): [number, 0 | 1][] {
  const a = (typeof args === 'object' && args !== null ? args : {}) as Record<string, unknown>;
  const drive = pinDrive(a, parts);
  if (!drive) throw new BoardError('USAGE', 'the board is in deep sleep: only its pins and buttons can be set');
  const button = parts.find((p) => p.type === 'button' && p.pin === drive.pin);
  const rest = button?.type === 'button' ? (button.pressedLevel ? 0 : 1) : null;
  const next = new Map(drives);
  const now = drive.level ?? rest;
  if (now === null) next.delete(drive.pin);
  else next.set(drive.pin, now);
  return [...next];
}
