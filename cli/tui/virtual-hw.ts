// The virtual board's simulated hardware as the panel sees it: the same control requests `boardctl sim
// get/set/trace` send, against this process's instance of the board (the one the REPL link is attached to).
import type { ControlRequest } from '../../emulator/vm/host-api.js';
import type { PartSpec } from '../../emulator/peripherals/parts.js';
import type { TimelineEvent } from '../../emulator/peripherals/timeline.js';

export interface LedState {
  id: string;
  pin: number;
  on: boolean;
  brightness?: number;
}

export interface OledState {
  id: string;
  width: number;
  height: number;
  on: boolean;
  inverted: boolean;
  framebuffer: Uint8Array;
}

export interface PinState {
  pin: number;
  mode: string;
  level: 0 | 1 | null;
}

export type PinEvent = Extract<TimelineEvent, { kind: 'pin' }>;

export interface HwSnapshot {
  parts: PartSpec[];
  leds: LedState[];
  oleds: OledState[];
  pins: PinState[];
  /** Pin changes since the previous snapshot. */
  pinEvents: PinEvent[];
}

export class VirtualHw {
  constructor(private readonly control: (req: ControlRequest) => Promise<unknown>) {}

  async snapshot(): Promise<HwSnapshot> {
    const get = (what: string) => this.control({ plugin: 'hw', op: 'get', args: { what } });
    const [parts, leds, oleds, pins, trace] = await Promise.all([
      get('parts') as Promise<PartSpec[]>,
      get('leds') as Promise<{ leds: LedState[] }>,
      get('oled') as Promise<OledState[]>,
      get('pins') as Promise<PinState[]>,
      // Cleared as read: the panel keeps its own bounded history, the board's ring stays small.
      this.control({ plugin: 'hw', op: 'trace', args: { clear: true } }) as Promise<{ events: TimelineEvent[] }>,
    ]);
    return {
      parts,
      leds: leds.leds,
      oleds,
      pins,
      pinEvents: trace.events.filter((e): e is PinEvent => e.kind === 'pin'),
    };
  }

  async pressButton(id: string, pressed: boolean): Promise<void> {
    await this.control({ plugin: 'hw', op: 'set', args: { what: 'button', id, pressed } });
  }

  async setTemperature(value: number): Promise<void> {
    await this.control({ plugin: 'hw', op: 'set', args: { what: 'temp', value } });
  }

  async setVoltage(pin: number, value: number): Promise<void> {
    await this.control({ plugin: 'hw', op: 'set', args: { what: 'voltage', pin, value } });
  }
}

/** The hardware behind a `virtual[:NAME]` port; undefined for physical boards. */
export async function openVirtualHw(port: string): Promise<VirtualHw | undefined> {
  if (!port.startsWith('virtual')) return undefined;
  const { VirtualBoard, parseVirtualSpec } = await import('../../emulator/board.js');
  const board = await VirtualBoard.open(parseVirtualSpec(port).name);
  return new VirtualHw((req) => board.controlRequest(req));
}
