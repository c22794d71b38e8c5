// board.json read strictly: a field boardctl does not know, a misspelt part type or a pin the chip does not have
// is an error that names the field, never silently ignored (a board that quietly lacks a part hides the mistake).
import { BoardError } from '../protocol/errors.js';
import { boardFacts } from './peripherals/board-pins.js';
import type { PartSpec } from './peripherals/parts.js';
import { PROFILES, type BoardProfile, type ProfileName } from './profiles.js';
import { checkNetworkConfig, type NetworkConfig } from './net/config.js';

export interface BoardConfig {
  profile: ProfileName;
  flashSize: number;
  /** Station MAC, as esptool's read-mac prints it. */
  mac: string;
  /** machine.unique_id(), hex. */
  uniqueId: string;
  /** Simulated parts wired to the board (see emulator/peripherals); absent: the profile's dev-board kit. */
  parts?: PartSpec[];
  /** The network around the board (emulator/net/config.ts); absent: the default access point, no limits. */
  network?: NetworkConfig;
}

type FieldKind = 'string' | 'pin' | 'count' | 'number' | 'level' | 'bool' | 'bus' | 'address';

/** Each part type's fields: kind, and whether it must be there (`?` after the name: optional). */
const PART_FIELDS: Record<PartSpec['type'], Record<string, FieldKind>> = {
  led: { id: 'string', pin: 'pin', 'activeLow?': 'bool' },
  button: { id: 'string', pin: 'pin', pressedLevel: 'level' },
  bootsel: { id: 'string' },
  tmp102: { id: 'string', bus: 'bus', address: 'address', 'celsius?': 'number' },
  eeprom24c32: { id: 'string', bus: 'bus', address: 'address' },
  ssd1306: { id: 'string', bus: 'bus', address: 'address', 'width?': 'count', 'height?': 'count' },
  voltage: { id: 'string', pin: 'pin', volts: 'number' },
  neopixel: { id: 'string', pin: 'pin', count: 'count' },
  dht22: { id: 'string', pin: 'pin', 'celsius?': 'number', 'humidity?': 'number' },
  ds18b20: { id: 'string', pin: 'pin', 'celsius?': 'number' },
};

const TOP_FIELDS = ['profile', 'flashSize', 'mac', 'uniqueId', 'parts', 'network'];

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** The closest known name within two edits, for "did you mean". */
function closest(name: string, known: string[]): string | undefined {
  const distance = (a: string, b: string) => {
    let prev = Array.from({ length: b.length + 1 }, (_, i) => i);
    for (let i = 1; i <= a.length; i++) {
      const row = [i];
      for (let j = 1; j <= b.length; j++) row[j] = Math.min(prev[j]! + 1, row[j - 1]! + 1, prev[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
      prev = row;
    }
    return prev[b.length]!;
  };
  const best = known.map((k) => [k, distance(name.toLowerCase(), k.toLowerCase())] as const).sort((x, y) => x[1] - y[1])[0];
  return best && best[1] <= 2 ? best[0] : undefined;
}

const suggestion = (name: string, known: string[]) => {
  const near = closest(name, known);
  return near ? ` (did you mean '${near}'?)` : ` (known: ${known.join(', ')})`;
};

class Checker {
  constructor(private readonly source: string) {}

  fail(where: string, message: string): never {
    throw new BoardError('BAD_CONFIG', `${this.source}: ${where}${where ? ': ' : ''}${message}`, { file: this.source });
  }

  /** Unknown fields are errors: a misspelt optional field would otherwise be dropped without a word. */
  fields(where: string, value: Record<string, unknown>, known: string[]): void {
    for (const key of Object.keys(value)) if (!known.includes(key)) this.fail(where, `unknown field '${key}'${suggestion(key, known)}`);
  }

  field(where: string, name: string, value: unknown, kind: FieldKind, pins: number[]): void {
    const at = `${where}.${name}`;
    const bad = (what: string) => this.fail(at, `${what}, got ${JSON.stringify(value)}`);
    switch (kind) {
      case 'string':
        if (typeof value !== 'string' || value === '') bad('expected a non-empty string');
        return;
      case 'bool':
        if (typeof value !== 'boolean') bad('expected true or false');
        return;
      case 'number':
        if (typeof value !== 'number' || !Number.isFinite(value)) bad('expected a number');
        return;
      case 'count':
        if (!Number.isInteger(value) || (value as number) < 1) bad('expected a whole number above 0');
        return;
      case 'level':
        if (value !== 0 && value !== 1) bad('expected 0 or 1');
        return;
      case 'address':
        if (!Number.isInteger(value) || (value as number) < 0x08 || (value as number) > 0x77) bad('expected a 7-bit I2C address (8..119, e.g. 60 for 0x3c)');
        return;
      case 'pin':
        if (!Number.isInteger(value)) bad('expected a GPIO number');
        if (!pins.includes(value as number)) this.fail(at, `the chip has no GPIO ${value as number} (it has ${pins.join(', ')})`);
        return;
      case 'bus':
        if (!isObject(value)) bad('expected {"scl": PIN, "sda": PIN}');
        this.fields(at, value as Record<string, unknown>, ['scl', 'sda']);
        for (const line of ['scl', 'sda']) this.field(at, line, (value as Record<string, unknown>)[line], 'pin', pins);
        return;
    }
  }

  part(index: number, value: unknown, profile: BoardProfile, ids: Set<string>): PartSpec {
    const where = `parts[${index}]`;
    if (!isObject(value)) this.fail(where, `expected an object, got ${JSON.stringify(value)}`);
    const types = Object.keys(PART_FIELDS);
    if (typeof value.type !== 'string' || !types.includes(value.type)) {
      this.fail(where, `unknown part type ${JSON.stringify(value.type)}${typeof value.type === 'string' ? suggestion(value.type, types) : ` (known: ${types.join(', ')})`}`);
    }
    const spec = PART_FIELDS[value.type as PartSpec['type']];
    const named = `${where} (${value.type}${typeof value.id === 'string' ? ` '${value.id}'` : ''})`;
    const names = Object.keys(spec).map((k) => k.replace('?', ''));
    this.fields(named, value, ['type', ...names]);
    const pins = boardFacts(profile).pins;
    for (const [key, kind] of Object.entries(spec)) {
      const name = key.replace('?', '');
      if (value[name] === undefined) {
        if (!key.endsWith('?')) this.fail(named, `missing field '${name}'`);
        continue;
      }
      this.field(named, name, value[name], kind, pins);
    }
    if (ids.has(value.id as string)) this.fail(named, `a second part with id '${value.id as string}'`);
    ids.add(value.id as string);
    return value as unknown as PartSpec;
  }
}

/** Parse and check board.json's text; `source` names the file in messages. */
export function parseBoardConfig(text: string, source: string): BoardConfig {
  const check: Checker = new Checker(source); // typed, so its never-returning fail() narrows
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    check.fail('', `not valid JSON (${(err as Error).message})`);
  }
  if (!isObject(raw)) check.fail('', 'expected a JSON object');
  check.fields('', raw, TOP_FIELDS);
  const profiles = Object.keys(PROFILES);
  if (typeof raw.profile !== 'string' || !profiles.includes(raw.profile)) {
    check.fail('profile', `unknown profile ${JSON.stringify(raw.profile)}${typeof raw.profile === 'string' ? suggestion(raw.profile, profiles) : ` (known: ${profiles.join(', ')})`}`);
  }
  const profile = PROFILES[raw.profile as ProfileName];
  const size = raw.flashSize;
  if (!Number.isInteger(size) || (size as number) <= 0 || (size as number) % 4096 !== 0) check.fail('flashSize', `expected a whole number of 4 KiB sectors, got ${JSON.stringify(size)}`);
  const region = profile.fsRegion(size as number);
  if (region.offset + region.size > (size as number)) check.fail('flashSize', `${size as number} bytes is too small for the ${profile.name} layout`);
  if (typeof raw.mac !== 'string' || !/^[0-9a-f]{2}(:[0-9a-f]{2}){5}$/i.test(raw.mac)) check.fail('mac', `expected six hex bytes like 24:0a:c4:12:34:56, got ${JSON.stringify(raw.mac)}`);
  if (typeof raw.uniqueId !== 'string' || !/^([0-9a-f]{2})+$/i.test(raw.uniqueId)) check.fail('uniqueId', `expected hex bytes, got ${JSON.stringify(raw.uniqueId)}`);
  const config: BoardConfig = { profile: profile.name, flashSize: size as number, mac: raw.mac as string, uniqueId: raw.uniqueId as string };
  if (raw.parts !== undefined) {
    if (!Array.isArray(raw.parts)) check.fail('parts', 'expected a list of parts');
    const ids = new Set<string>();
    config.parts = (raw.parts as unknown[]).map((p, i) => check.part(i, p, profile, ids));
  }
  if (raw.network !== undefined) config.network = checkNetworkConfig(raw.network, (w, m) => check.fail(w, m), (w, v, k) => check.fields(w, v, k));
  return config;
}
