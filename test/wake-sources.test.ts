// What ends a deep sleep while no VM runs (emulator/peripherals/snapshot.ts): the pins esp32.wake_on_ext0/ext1
// watch and the pads esp32.wake_on_touch watches, as `sim set` drives pins and buttons and touches pads
// meanwhile. (The whole path on the real board: peripherals-board.)
import { describe, expect, it } from 'vitest';
import { armedFor, sleepInputs, sleepSet, wakingSource, type HardwareSnapshot, type WakeSources } from '../emulator/peripherals/snapshot.js';
import { boardFacts } from '../emulator/peripherals/board-pins.js';
import { getProfile } from '../emulator/profiles.js';
import type { PartSpec } from '../emulator/peripherals/parts.js';

/** The part of a sleeping board's snapshot the wake sources read. */
type Sleeping = Pick<HardwareSnapshot, 'drives' | 'touch' | 'wake'>;
const asleep = (s: Sleeping) => s as HardwareSnapshot;

/** As a board in deep sleep reads its inputs: these drives, else each watched pin's rest level; these pad readings. */
const waking = (wake: WakeSources | undefined, drives: [number, 0 | 1][], touch: [number, number][] = [], sleep: 'light' | 'deep' = 'deep') =>
  wakingSource(wake, sleepInputs(asleep({ drives, wake, touch })), sleep);

const parts: PartSpec[] = [{ type: 'button', id: 'boot', pin: 0, pressedLevel: 0 }];
const esp32 = boardFacts(getProfile('esp32'));

/** The drives after these `sim set`s while asleep, from `drives`. */
function drivesAfter(drives: [number, 0 | 1][], ...sets: Record<string, unknown>[]): [number, 0 | 1][] {
  const hw = asleep({ drives, touch: [] });
  for (const args of sets) sleepSet(hw, parts, esp32, args);
  return hw.drives;
}

describe('deep sleep wake sources', () => {
  it('ext0: the pin at its level, from a drive or where the pin rests undriven', () => {
    const high: WakeSources = { ext0: { pin: 4, level: 1, modes: 6 }, rest: [[4, 0]] };
    expect(waking(high, [])).toBeUndefined();
    expect(waking(high, [[4, 1]])).toBe('ext0');
    expect(waking({ ext0: { pin: 4, level: 1, modes: 6 }, rest: [[4, 1]] }, [])).toBe('ext0'); // a pull-up: at once
    expect(waking(undefined, [[4, 1]])).toBeUndefined();
  });

  it('ext0 from Pin.irq(wake=): only in the sleeps it names (machine.SLEEP 2, machine.DEEPSLEEP 4)', () => {
    const deepOnly: WakeSources = { ext0: { pin: 4, level: 1, modes: 4 }, rest: [[4, 0]] };
    expect(waking(deepOnly, [[4, 1]], [], 'deep')).toBe('ext0');
    expect(waking(deepOnly, [[4, 1]], [], 'light')).toBeUndefined();
    expect(armedFor(deepOnly, 'light')).toBe(false);
    expect(armedFor({ ext0: { pin: 4, level: 1, modes: 2 } }, 'light')).toBe(true);
    expect(armedFor({ ext1: { pins: [12], level: 1 } }, 'light')).toBe(true);
    expect(armedFor({ touch: true }, 'light')).toBe(true);
  });

  it('ext1: any pin high (ANY_HIGH) or every pin low (ALL_LOW)', () => {
    const any: WakeSources = { ext1: { pins: [12, 13], level: 1 }, rest: [[12, 0], [13, 0]] };
    expect(waking(any, [])).toBeUndefined();
    expect(waking(any, [[13, 1]])).toBe('ext1');
    const all: WakeSources = { ext1: { pins: [12, 13], level: 0 }, rest: [[12, 1], [13, 1]] };
    expect(waking(all, [[12, 0]])).toBeUndefined();
    expect(waking(all, [[12, 0], [13, 0]])).toBe('ext1');
  });

  it('sim set while asleep: a pressed button drives its level, a released one its other; a released pin is undriven', () => {
    let drives = drivesAfter([[0, 1]], { what: 'button', id: 'boot', pressed: true });
    expect(drives).toEqual([[0, 0]]);
    drives = drivesAfter(drives, { what: 'button', id: 'boot', pressed: false });
    expect(drives).toEqual([[0, 1]]);
    drives = drivesAfter(drives, { what: 'pin', pin: 4, level: 1 });
    expect(drives).toEqual([[0, 1], [4, 1]]);
    expect(drivesAfter(drives, { what: 'pin', pin: 4, level: null })).toEqual([[0, 1]]);
    expect(waking({ ext0: { pin: 0, level: 0, modes: 6 }, rest: [[0, 0]] }, drivesAfter([[0, 1]], { what: 'button', id: 'boot', pressed: true }))).toBe('ext0');
  });

  it('touch: a pad whose reading falls below the threshold its config() set, with wake_on_touch on', () => {
    const pads: [number, number][] = [[4, 500], [13, 0]];
    expect(waking({ touch: true, pads, rest: [] }, [], [[4, 1100], [13, 40]])).toBeUndefined(); // 13's threshold is 0
    expect(waking({ touch: true, pads, rest: [] }, [], [[4, 499], [13, 40]])).toBe('touch');
    expect(waking({ pads, rest: [] }, [], [[4, 40]])).toBeUndefined(); // wake_on_touch(False)
    // A touch set while asleep: press gives the chip's touched reading, release its untouched one.
    const hw = asleep({ drives: [], touch: [[4, 1100]], wake: { touch: true, pads, rest: [] } });
    sleepSet(hw, parts, esp32, { what: 'touch', pin: 4, value: 'press' });
    expect(hw.touch).toEqual([[4, 40]]);
    expect(wakingSource(hw.wake, sleepInputs(hw), 'deep')).toBe('touch');
    sleepSet(hw, parts, esp32, { what: 'touch', pin: 4, value: 'release' });
    expect(wakingSource(hw.wake, sleepInputs(hw), 'deep')).toBeUndefined();
    sleepSet(hw, parts, esp32, { what: 'touch', pin: 4, value: 300 });
    expect(wakingSource(hw.wake, sleepInputs(hw), 'deep')).toBe('touch');
  });

  it('refuses what needs the board awake, bad levels, parts, pads and readings, in one line', () => {
    const set = (args: Record<string, unknown>, facts = esp32) => () => sleepSet(asleep({ drives: [], touch: [] }), parts, facts, args);
    expect(set({ what: 'temp', value: 30 })).toThrow('the board is in deep sleep: only its pins, buttons and touch pads can be set');
    expect(set({ what: 'pin', pin: 4, level: 2 })).toThrow("'level' must be 0, 1 or null");
    expect(set({ what: 'button', id: 'nope', pressed: true })).toThrow("no button 'nope'");
    expect(set({ what: 'touch', pin: 5, value: 'press' })).toThrow('GPIO5 is no touch pad (ESP32: 0, 2, 4, 12, 13, 14, 15, 27, 32, 33)');
    expect(set({ what: 'touch', pin: 4, value: 65536 })).toThrow('a touch reading is press, release or a whole number 0-65535');
    expect(set({ what: 'touch', pin: 4, value: 1.5 })).toThrow('a touch reading is press, release or a whole number 0-65535');
    expect(set({ what: 'touch', pin: 1, value: 'press' }, boardFacts(getProfile('esp32c3')))).toThrow('the ESP32C3 has no touch pads');
  });
});
