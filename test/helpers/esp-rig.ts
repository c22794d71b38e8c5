// A virtual ROM on the device end of an in-process serial line, for flasher and ROM tests, with the data and
// stand-in stub they share. closeRigs() (in afterEach) closes every line opened since.
import { createHash } from 'node:crypto';
import { MemoryFlashStore, type FlashStore } from '../../emulator/flash-store.js';
import { PROFILES, type ProfileName } from '../../emulator/profiles.js';
import type { EspRom } from '../../emulator/rom/esp-rom.js';
import { parseStubJson } from '../../protocol/esp/stub.js';
import type { Transport } from '../../protocol/transport.js';
import { BoardConsole } from './board-console.js';
import { attachRom, createDuplexPair, type DuplexEnd, type DuplexOptions } from './esp-duplex.js';

export const MiB = 1024 * 1024;
export const MAC = Uint8Array.from([0x24, 0x0a, 0xc4, 0x12, 0x34, 0x56]);
export const md5 = (d: Uint8Array) => createHash('md5').update(d).digest('hex');

/** Deterministic, partly compressible data (so deflate has work but does not collapse it). */
export function testData(size: number, seed = 1): Uint8Array {
  const out = new Uint8Array(size);
  let x = seed;
  for (let i = 0; i < size; i++) {
    x = (Math.imul(x, 1103515245) + 12345) >>> 0;
    out[i] = i % 3 === 0 ? (x >>> 24) & 0xff : i & 0x3f;
  }
  out[0] = 0x42; // not an image header
  return out;
}

/** Only MEM_END's entry point matters to the virtual ROM; the bytes stand in for esptool's stub. */
export const STUB = parseStubJson(JSON.stringify({
  entry: 0x4009_0000,
  text: Buffer.from(testData(9000)).toString('base64'), text_start: 0x4009_0000,
  data: Buffer.from('stub data').toString('base64'), data_start: 0x3ffe_0000,
}));

export interface Rig {
  host: DuplexEnd;
  device: DuplexEnd;
  flash: FlashStore & { data: Uint8Array };
  rom: EspRom;
  /** Bytes the host has sent so far. */
  sent(): number;
}

export interface RigOptions {
  flash?: FlashStore & { data: Uint8Array };
  controlLines?: boolean;
  /** Pace the line at this rate (follows setBaudRate on the host end). */
  baud?: number;
  /** Hold each of the ROM's frames this long before it goes on the line (see attachRom). */
  lagMs?: (frame: Uint8Array) => number;
}

const open: DuplexEnd[] = [];

/** A line with nothing on the device end yet (scripted peers), closed by closeRigs(). */
export function rawLine(opts: DuplexOptions = {}): { host: DuplexEnd; device: DuplexEnd } {
  const pair = createDuplexPair(opts);
  open.push(pair.host);
  return pair;
}

export function rig(profile: ProfileName = 'esp32', opts: RigOptions = {}): Rig {
  const { host, device } = rawLine({ hasControlLines: opts.controlLines, baud: opts.baud });
  const flash = opts.flash ?? new MemoryFlashStore(PROFILES[profile].defaultFlashSize);
  const rom = attachRom(device, { flash, profile: PROFILES[profile], mac: MAC }, opts.lagMs);
  let sent = 0;
  device.onData((d) => void (sent += d.length));
  return { host, device, flash, rom, sent: () => sent };
}

export async function closeRigs(): Promise<void> {
  for (const t of open.splice(0)) await t.close();
}

/** MicroPython answers on the link (its banner may already have gone by): the app is running. */
export async function micropythonAnswers(t: Transport): Promise<void> {
  const con = new BoardConsole({ write: (d) => t.write(d), onData: (l) => void t.onData(l), close: () => t.close() });
  await con.friendlyPrompt();
  await con.send('import sys; print(sys.implementation.name)\r');
  await con.expect('micropython\r\n>>> ', 10_000);
}
