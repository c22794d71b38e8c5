// What ends a deep sleep while no VM runs (emulator/peripherals/snapshot.ts): the pins esp32.wake_on_ext0/ext1
// watch, as `sim set` drives pins and buttons meanwhile. (The whole path on the real board: peripherals-board.)
import { describe, expect, it } from 'vitest';
import { sleepDrive, sleepLevels, wakingSource, type WakeSources } from '../emulator/peripherals/snapshot.js';

/** As a sleeping board reads its pins: these drives, else each watched pin's rest level. */
const waking = (wake: WakeSources | undefined, drives: [number, 0 | 1][]) => wakingSource(wake, sleepLevels({ drives, wake } as Parameters<typeof sleepLevels>[0]));
import type { PartSpec } from '../emulator/peripherals/parts.js';

const parts: PartSpec[] = [{ type: 'button', id: 'boot', pin: 0, pressedLevel: 0 }];

describe('deep sleep wake sources', () => {
  it('ext0: the pin at its level, from a drive or where the pin rests undriven', () => {
    const high: WakeSources = { ext0: { pin: 4, level: 1 }, rest: [[4, 0]] };
    expect(waking(high, [])).toBeUndefined();
    expect(waking(high, [[4, 1]])).toBe('ext0');
    expect(waking({ ext0: { pin: 4, level: 1 }, rest: [[4, 1]] }, [])).toBe('ext0'); // a pull-up: at once
    expect(waking(undefined, [[4, 1]])).toBeUndefined();
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
    let drives = sleepDrive([[0, 1]], parts, { what: 'button', id: 'boot', pressed: true });
    expect(drives).toEqual([[0, 0]]);
    drives = sleepDrive(drives, parts, { what: 'button', id: 'boot', pressed: false });
    expect(drives).toEqual([[0, 1]]);
    drives = sleepDrive(drives, parts, { what: 'pin', pin: 4, level: 1 });
    expect(drives).toEqual([[0, 1], [4, 1]]);
    expect(sleepDrive(drives, parts, { what: 'pin', pin: 4, level: null })).toEqual([[0, 1]]);
    expect(waking({ ext0: { pin: 0, level: 0 }, rest: [[0, 0]] }, sleepDrive([[0, 1]], parts, { what: 'button', id: 'boot', pressed: true }))).toBe('ext0');
  });

  it('refuses what needs the board awake, and bad levels or parts, in one line', () => {
    expect(() => sleepDrive([], parts, { what: 'temp', value: 30 })).toThrow('the board is in deep sleep: only its pins and buttons can be set');
    expect(() => sleepDrive([], parts, { what: 'pin', pin: 4, level: 2 })).toThrow("'level' must be 0, 1 or null");
    expect(() => sleepDrive([], parts, { what: 'button', id: 'nope', pressed: true })).toThrow("no button 'nope'");
  });
});
