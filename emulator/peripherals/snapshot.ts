// What outlives the MCU across a reset that restarts the board's worker (hard reset, WDT, deep sleep):
// the RTC and its memory, NVS and EEPROM contents, and the outside world (sensor values, held buttons).
// Structured-cloneable, so the host can carry it from the old worker to the new one.

import { BoardError } from '../../protocol/errors.js';
import type { BoardFacts } from './board-pins.js';
import type { PartSpec } from './parts.js';
import type { RtcState } from './rtc.js';
import { touchReading, touchWakes } from './touch.js';

export interface HardwareSnapshot {
  rtc: RtcState;
  rtcMemory: number[];
  nvs: [string, string][];
  eeproms: [string, number[]][];
  temps: [string, number][];
  dhts: [number, { celsius: number; humidity: number }][];
  volts: [number, number][];
  /** What each touch pad reads (machine.TouchPad): untouched, or as `sim set` touched it. */
  touch: [number, number][];
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
  /**
   * esp32.wake_on_ext0 or Pin.irq(wake=): this pin at this level, in the sleeps `modes` names (machine.SLEEP 2,
   * machine.DEEPSLEEP 4; wake_on_ext0 names both).
   */
  ext0?: { pin: number; level: 0 | 1; modes: number };
  /** esp32.wake_on_ext1: any of the pins high (level 1), or all of them low (level 0). */
  ext1?: { pins: number[]; level: 0 | 1 };
  /** esp32.wake_on_touch: a pad below its threshold (touch.ts). */
  touch?: boolean;
  /** Each TouchPad's threshold, as its config() set it (0: never triggers). */
  pads?: [number, number][];
  /** Each watched pin's level without an outside drive. */
  rest: [number, 0 | 1][];
}

/** What the wake sources watch: each pin's level and each touch pad's reading. */
export interface WakeInputs {
  level(pin: number): 0 | 1;
  touch(pin: number): number;
}

/** machine.SLEEP and machine.DEEPSLEEP, the sleeps a wake source may end. */
export const SLEEP_MODE = { light: 2, deep: 4 } as const;

/** ext0 where it ends this sleep (ext1 and touch end both). */
function ext0For(wake: Omit<WakeSources, 'rest'>, sleep: keyof typeof SLEEP_MODE): WakeSources['ext0'] {
  return wake.ext0 && wake.ext0.modes & SLEEP_MODE[sleep] ? wake.ext0 : undefined;
}

/** Whether a source is armed for this sleep. */
export function armedFor(wake: Omit<WakeSources, 'rest'>, sleep: keyof typeof SLEEP_MODE): boolean {
  return Boolean(ext0For(wake, sleep) || wake.ext1?.pins.length || wake.touch);
}

/** Which source ends this sleep of a chip whose inputs read as `inputs` says, if any. */
export function wakingSource(wake: Omit<WakeSources, 'rest'> | undefined, inputs: WakeInputs, sleep: keyof typeof SLEEP_MODE): 'ext0' | 'ext1' | 'touch' | undefined {
  if (!wake) return undefined;
  const { level } = inputs;
  const ext0 = ext0For(wake, sleep);
  if (ext0 && level(ext0.pin) === ext0.level) return 'ext0';
  const ext1 = wake.ext1;
  if (ext1 && ext1.pins.length && (ext1.level === 1 ? ext1.pins.some((p) => level(p) === 1) : ext1.pins.every((p) => level(p) === 0))) return 'ext1';
  if (wake.touch && touchWakes(wake.pads ?? [], inputs.touch)) return 'touch';
  return undefined;
}

/** A sleeping chip's inputs: its drives from outside, else where each watched pin rests; its pads' readings. */
export function sleepInputs(hw: HardwareSnapshot): WakeInputs {
  const driven = new Map(hw.drives);
  const rest = new Map(hw.wake?.rest ?? []);
  const touch = new Map(hw.touch);
  return { level: (pin) => driven.get(pin) ?? rest.get(pin) ?? 0, touch: (pin) => touch.get(pin) ?? Infinity };
}

/** A `sim set` while no VM runs (a deep sleep): pins and buttons drive as awake (sleepDrive), touch pads read. */
export function sleepSet(hw: HardwareSnapshot, parts: readonly PartSpec[], facts: Pick<BoardFacts, 'chip' | 'touchPins'>, args: unknown): void {
  const a = (typeof args === 'object' && args !== null ? args : {}) as Record<string, unknown>;
  if (a.what !== 'touch') {
    hw.drives = sleepDrive(hw.drives, parts, a);
    return;
  }
  const { pin, value } = touchReading(facts, a);
  hw.touch = [...new Map(hw.touch).set(pin, value)];
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
function sleepDrive(drives: readonly [number, 0 | 1][], parts: readonly PartSpec[], a: Record<string, unknown>): [number, 0 | 1][] {
  const drive = pinDrive(a, parts);
  if (!drive) throw new BoardError('USAGE', 'the board is in deep sleep: only its pins, buttons and touch pads can be set');
  const button = parts.find((p) => p.type === 'button' && p.pin === drive.pin);
  const rest = button?.type === 'button' ? (button.pressedLevel ? 0 : 1) : null;
  const next = new Map(drives);
  const now = drive.level ?? rest;
  if (now === null) next.delete(drive.pin);
  else next.set(drive.pin, now);
  return [...next];
}
