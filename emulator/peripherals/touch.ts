// The capacitive touch pads of the ESP32 and ESP32-S3 (machine.TouchPad): what a pad reads, set from outside
// (`sim set NAME touch PIN press|release|READING`), and when touching one ends a sleep (esp32.wake_on_touch).

import { BoardError } from '../../protocol/errors.js';
import type { BoardFacts } from './board-pins.js';

/**
 * A pad's reading untouched and touched. The chip's numbers are relative (pad size, wiring, the air): the
 * ESP32's count of charge cycles drops when a finger adds capacitance, typically from above a thousand to the
 * tens (MicroPython's quickref); the S2/S3's raw count rises instead. These are typical values of each.
 */
export function touchLevels(chip: string): { released: number; touched: number } {
  return chip === 'ESP32' ? { released: 1100, touched: 40 } : { released: 25_000, touched: 40_000 };
}

/** The reading a `sim set` of a pad gives it: press, release, or a number the port's read can return. */
export function touchReading(facts: Pick<BoardFacts, 'chip' | 'touchPins'>, a: Record<string, unknown>): { pin: number; value: number } {
  const pin = a.pin;
  if (typeof pin !== 'number' || !facts.touchPins.includes(pin)) {
    throw new BoardError('USAGE', facts.touchPins.length
      ? `GPIO${String(pin)} is no touch pad (${facts.chip}: ${facts.touchPins.join(', ')})`
      : `the ${facts.chip} has no touch pads`);
  }
  const levels = touchLevels(facts.chip);
  const max = facts.chip === 'ESP32' ? 0xffff : 0xffffffff; // (the port reads a uint16_t, on the S2/S3 a uint32_t)
  if (a.value === 'press') return { pin, value: levels.touched };
  if (a.value === 'release') return { pin, value: levels.released };
  if (typeof a.value !== 'number' || !Number.isInteger(a.value) || a.value < 0 || a.value > max) {
    throw new BoardError('USAGE', `a touch reading is press, release or a whole number 0-${max}`);
  }
  return { pin, value: a.value };
}

/**
 * Whether a touch ends a sleep: on the ESP32, a pad whose reading is below the threshold its config() set (a pad
 * left at 0 never triggers, as the IDF's touch interrupt). The S2/S3 port's config() sets no threshold.
 */
export function touchWakes(thresholds: readonly [number, number][], reading: (pin: number) => number): boolean {
  return thresholds.some(([pin, threshold]) => threshold > 0 && reading(pin) < threshold);
}
