// Requests from outside the board (CLI `sim set/get/trace`, the TUI, scenarios) against the virtual hardware.

import type { VirtualHardware } from './hardware.js';
import { eventsToVcd } from './vcd.js';
import { pinDrive } from './snapshot.js';
import { touchReading } from './touch.js';

export type SetArgs =
  | { what: 'pin'; pin: number; level: 0 | 1 | null }
  | { what: 'button'; id: string; pressed: boolean }
  | { what: 'bootsel'; pressed: boolean }
  | { what: 'temp'; value: number; id?: string }
  | { what: 'humidity'; value: number; pin?: number }
  | { what: 'voltage'; pin: number; value: number }
  | { what: 'touch'; pin: number; value: number | 'press' | 'release' }
  /** Bytes machine.I2S(id) in RX mode reads next, in its format (little-endian frames, left first). */
  | { what: 'i2s'; id: number; samples: number[] };

export type GetWhat = 'pins' | 'leds' | 'oled' | 'parts' | 'rtc' | 'eeprom' | 'i2s';

export class ControlError extends Error {}

function obj(args: unknown): Record<string, unknown> {
  if (typeof args !== 'object' || args === null) throw new ControlError('control arguments must be an object');
  return args as Record<string, unknown>;
}

function num(a: Record<string, unknown>, key: string): number {
  const v = a[key];
  if (typeof v !== 'number' || !Number.isFinite(v)) throw new ControlError(`'${key}' must be a number`);
  return v;
}

export function handleControl(hw: VirtualHardware, op: string, args: unknown): unknown {
  switch (op) {
    case 'set': return set(hw, obj(args));
    case 'get': return get(hw, String(obj(args ?? {}).what));
    case 'trace': {
      const a = obj(args ?? {});
      const out = { events: hw.timeline.events(), dropped: hw.timeline.dropped };
      if (a.clear) hw.timeline.clear();
      return out;
    }
    case 'vcd': return eventsToVcd(hw.timeline.events());
    case 'snapshot': return hw.snapshot();
    default: throw new ControlError(`unknown hw op '${op}' (set, get, trace, vcd, snapshot)`);
  }
}

function set(hw: VirtualHardware, a: Record<string, unknown>): { ok: true } {
  const drive = pinDrive(a, hw.config.parts);
  if (drive) {
    hw.pins.drive(drive.pin, drive.level);
    return { ok: true };
  }
  switch (a.what) {
    case 'button': // (pinDrive took the buttons on pins: this is BOOTSEL)
    case 'bootsel': hw.bootselPressed = Boolean(a.pressed); break;
    case 'temp': {
      // Without an id every thermometer follows (the room's temperature); with one, only that part.
      const all = [...hw.tmp102.values(), ...hw.ds18b20.values()];
      const sensors = a.id === undefined ? all : [hw.tmp102.get(String(a.id)) ?? hw.ds18b20.get(String(a.id))];
      if (sensors.length === 0 || !sensors[0]) throw new ControlError(`no temperature sensor${a.id === undefined ? '' : ` '${String(a.id)}'`}`);
      for (const s of sensors) s!.celsius = num(a, 'value');
      if (a.id === undefined) for (const d of hw.dhts.values()) d.celsius = num(a, 'value');
      break;
    }
    case 'humidity':
      for (const d of hw.dhts.values()) d.humidity = num(a, 'value');
      break;
    case 'voltage': hw.volts.set(num(a, 'pin'), num(a, 'value')); break;
    case 'touch': {
      const { pin, value } = touchReading(hw.facts, a);
      hw.touch.set(pin, value);
      break;
    }
    case 'i2s': {
      const samples = a.samples;
      if (!Array.isArray(samples) || !samples.every((b) => Number.isInteger(b) && b >= 0 && b <= 255)) {
        throw new ControlError("'samples' must be a list of bytes");
      }
      const { source } = hw.i2sPort(num(a, 'id'));
      for (const b of samples as number[]) source.push(b); // a spread of a long recording overflows the stack
      break;
    }
    default: throw new ControlError(`cannot set '${String(a.what)}' (pin, button, bootsel, temp, humidity, voltage, touch, i2s)`);
  }
  return { ok: true };
}

function get(hw: VirtualHardware, what: string): unknown {
  switch (what as GetWhat) {
    case 'pins':
      return hw.pins.all().map(([pin, s]) => ({ pin, mode: s.mode, pull: s.pull, level: s.level, pwm: s.pwm }));
    case 'leds':
      return {
        leds: hw.config.parts.flatMap((p) => (p.type !== 'led' ? [] : [{
          id: p.id, pin: p.pin, on: (hw.pins.read(p.pin) === 1) !== Boolean(p.activeLow),
          brightness: hw.pins.state(p.pin).pwm ? hw.pins.state(p.pin).pwm!.duty / 65535 : undefined,
        }])),
        neopixels: [...hw.neopixels.entries()].map(([pin, pixels]) => ({ pin, pixels })),
      };
    case 'oled':
      return [...hw.oleds.entries()].map(([id, d]) => ({
        id, width: d.width, height: d.height, on: d.on, inverted: d.inverted, contrast: d.contrast,
        framebuffer: d.framebuffer.slice(), rows: d.textRows(),
      }));
    case 'parts': return hw.config.parts;
    case 'rtc': return { ...hw.rtc };
    case 'eeprom': return [...hw.eeproms.entries()].map(([id, e]) => ({ id, memory: e.memory.slice() }));
    case 'i2s': return [...hw.i2s].map(([id, p]) => ({ id, played: p.playedHex(), dropped: p.dropped }));
    default: throw new ControlError(`cannot get '${what}' (pins, leds, oled, parts, rtc, eeprom, i2s)`);
  }
}
