// DS18B20 1-Wire thermometer, slot by slot as its datasheet describes: ROM commands (search, read, match, skip),
// then CONVERT T, READ/WRITE/COPY SCRATCHPAD, RECALL E2 and READ POWER SUPPLY. A conversion takes 93.75 ms at
// 9 bits up to 750 ms at 12; read slots answer 0 until it is done, and the temperature register keeps its
// power-on value of +85 degC until the first conversion, as on the part.
import { crc8, type OneWireDevice } from '../onewire-bus.js';

const FAMILY = 0x28;
const CONVERT_MS = [93.75, 187.5, 375, 750];

type State =
  | { kind: 'idle' }
  | { kind: 'rom' }
  | { kind: 'search'; bit: number; phase: 0 | 1 | 2 }
  | { kind: 'match'; bit: number; ok: boolean }
  | { kind: 'function' }
  | { kind: 'send'; bits: number[] }
  | { kind: 'receive'; bits: number[]; want: number; done: (bytes: number[]) => void }
  | { kind: 'busy'; until: number };

export class Ds18b20 implements OneWireDevice {
  readonly rom: number[];
  /** Scratchpad bytes 0..8: temperature LSB/MSB, TH, TL, configuration, reserved, CRC. */
  private readonly pad = [0x50, 0x05, 0x4b, 0x46, 0x7f, 0xff, 0x0c, 0x10, 0];
  private eeprom = [0x4b, 0x46, 0x7f];
  private state: State = { kind: 'idle' };
  private cmd: number[] = [];

  constructor(serial: number[], public celsius: number, private readonly now: () => number) {
    const body = [FAMILY, ...serial.slice(0, 6)];
    this.rom = [...body, crc8(body)];
    this.pad[8] = crc8(this.pad.slice(0, 8));
  }

  reset(): boolean {
    this.state = { kind: 'rom' };
    this.cmd = [];
    return true;
  }

  slot(bit: 0 | 1): 0 | 1 {
    const s = this.state;
    switch (s.kind) {
      case 'idle':
        return 1;
      case 'rom':
      case 'function':
        this.cmd.push(bit);
        if (this.cmd.length === 8) {
          const op = this.cmd.reduce((acc, b, i) => acc | (b << i), 0);
          this.cmd = [];
          if (s.kind === 'rom') this.romCommand(op);
          else this.functionCommand(op);
        }
        return 1;
      case 'search': {
        const mine = this.romBit(s.bit);
        if (s.phase === 0) { s.phase = 1; return mine; }
        if (s.phase === 1) { s.phase = 2; return (mine ^ 1) as 0 | 1; }
        // The master's direction bit: a device whose bit differs leaves the search until the next reset.
        if (bit !== mine) this.state = { kind: 'idle' };
        else if (++s.bit === 64) this.state = { kind: 'function' };
        else s.phase = 0;
        return 1;
      }
      case 'match':
        if (bit !== this.romBit(s.bit)) s.ok = false;
        if (++s.bit === 64) this.state = s.ok ? { kind: 'function' } : { kind: 'idle' };
        return 1;
      case 'send': {
        const out = s.bits.shift() ?? 1;
        if (s.bits.length === 0) this.state = { kind: 'idle' };
        return out as 0 | 1;
      }
      case 'receive':
        s.bits.push(bit);
        if (s.bits.length === s.want * 8) {
          const bytes = Array.from({ length: s.want }, (_, i) => s.bits.slice(i * 8, i * 8 + 8).reduce((a, b, j) => a | (b << j), 0));
          this.state = { kind: 'idle' };
          s.done(bytes);
        }
        return 1;
      case 'busy':
        return this.now() >= s.until ? 1 : 0;
    }
  }

  private romBit(i: number): 0 | 1 {
    return ((this.rom[i >> 3]! >> (i & 7)) & 1) as 0 | 1;
  }

  private sendBytes(bytes: number[]): void {
    this.state = { kind: 'send', bits: bytes.flatMap((b) => Array.from({ length: 8 }, (_, i) => (b >> i) & 1)) };
  }

  private romCommand(op: number): void {
    switch (op) {
      case 0x33: this.sendBytes(this.rom); break; // READ ROM
      case 0x55: this.state = { kind: 'match', bit: 0, ok: true }; break; // MATCH ROM
      case 0xcc: this.state = { kind: 'function' }; break; // SKIP ROM
      case 0xf0: this.state = { kind: 'search', bit: 0, phase: 0 }; break; // SEARCH ROM
      default: this.state = { kind: 'idle' }; // ALARM SEARCH (no alarm) and unknown commands
    }
  }

  private resolution(): number {
    return (this.pad[4]! >> 5) & 3;
  }

  private functionCommand(op: number): void {
    switch (op) {
      case 0x44: { // CONVERT T
        const r = this.resolution();
        const counts = Math.max(-880, Math.min(2000, Math.round(this.celsius * 16))) & ~((1 << (3 - r)) - 1);
        const word = counts & 0xffff;
        this.pad[0] = word & 0xff;
        this.pad[1] = word >> 8;
        this.pad[8] = crc8(this.pad.slice(0, 8));
        this.state = { kind: 'busy', until: this.now() + CONVERT_MS[r]! };
        break;
      }
      case 0xbe: this.sendBytes(this.pad); break; // READ SCRATCHPAD
      case 0x4e: // WRITE SCRATCHPAD: TH, TL, configuration
        this.state = {
          kind: 'receive', bits: [], want: 3, done: ([th, tl, cfg]) => {
            this.pad[2] = th!;
            this.pad[3] = tl!;
            this.pad[4] = (cfg! & 0x60) | 0x1f;
            this.pad[8] = crc8(this.pad.slice(0, 8));
          },
        };
        break;
      case 0x48: this.eeprom = this.pad.slice(2, 5); this.state = { kind: 'busy', until: this.now() + 10 }; break;
      case 0xb8: // RECALL E2
        [this.pad[2], this.pad[3], this.pad[4]] = this.eeprom;
        this.pad[8] = crc8(this.pad.slice(0, 8));
        this.state = { kind: 'idle' };
        break;
      case 0xb4: this.sendBytes([0xff]); break; // READ POWER SUPPLY: externally powered
      default: this.state = { kind: 'idle' };
    }
  }
}

/** A stable 48-bit serial number for a part id (board.json may give its own `rom`). */
export function serialFor(id: string): number[] {
  let h = 0x811c9dc5;
  const out: number[] = [];
  for (let i = 0; i < 6; i++) {
    for (const c of `${id}:${i}`) h = Math.imul(h ^ c.charCodeAt(0), 0x01000193) >>> 0;
    out.push(h & 0xff);
  }
  return out;
}
