// The virtual board panel's state: the board's hardware polled while the panel is shown, and keys that press
// buttons and turn the sensors. Each key reads the state left by the key before it (1 1 presses and releases).
import type { PartSpec } from '../../emulator/peripherals/parts.js';
import { typed, type Key } from './keys.js';
import { Store } from './store.js';
import type { HwSnapshot, PinEvent, VirtualHw } from './virtual-hw.js';

const POLL_MS = 100;
const HISTORY = 400;

export interface PanelState {
  hw?: VirtualHw;
  snapshot?: HwSnapshot;
  /** Pin changes seen, oldest first, bounded. */
  history: PinEvent[];
  pressed: ReadonlySet<string>;
  /** Set here (else the sensor's configured value). */
  temperature?: number;
  volts?: number;
  error?: string;
}

type Button = Extract<PartSpec, { type: 'button' | 'bootsel' }>;

export const buttonsOf = (parts: PartSpec[]): Button[] => parts.filter((p): p is Button => p.type === 'button' || p.type === 'bootsel');

export class PanelModel extends Store<PanelState> {
  private timer: NodeJS.Timeout | undefined;
  private active = false;
  private generation = 0;

  constructor() {
    super({ history: [], pressed: new Set() });
  }

  readonly modal = false;

  /** The hardware of the board now connected (undefined: not a virtual board). */
  setHw(hw: VirtualHw | undefined): void {
    this.generation++;
    this.update({ hw, snapshot: undefined, history: [], pressed: new Set(), temperature: undefined, volts: undefined, error: undefined });
    this.schedule(0);
  }

  activate(): void {
    this.active = true;
    this.schedule(0);
  }

  deactivate(): void {
    this.active = false;
    clearTimeout(this.timer);
    this.timer = undefined;
  }

  /** The temperature shown and adjusted: the one set here, else the sensor's configured one. */
  get temperature(): number | undefined {
    const sensor = this.state.snapshot?.parts.find((p) => p.type === 'tmp102');
    return this.state.temperature ?? (sensor?.type === 'tmp102' ? (sensor.celsius ?? 22.5) : undefined);
  }

  key(k: Key): void {
    const { hw, snapshot, pressed, volts } = this.state;
    if (!hw || !snapshot || !typed(k)) return;
    const n = Number.parseInt(k.text, 10);
    const button = n >= 1 ? buttonsOf(snapshot.parts)[n - 1] : undefined;
    const act = (p: Promise<void>) => void p.catch((err: Error) => this.update({ error: err.message }));
    if (button) {
      const down = !pressed.has(button.id);
      const next = new Set(pressed);
      if (down) next.add(button.id);
      else next.delete(button.id);
      this.update({ pressed: next });
      act(hw.pressButton(button.id, down));
    } else if ((k.text === '+' || k.text === '-') && this.temperature !== undefined) {
      const value = this.temperature + (k.text === '+' ? 0.5 : -0.5);
      this.update({ temperature: value });
      act(hw.setTemperature(value));
    } else if (k.text === '<' || k.text === '>') {
      const v = snapshot.parts.find((p) => p.type === 'voltage');
      if (v?.type !== 'voltage') return;
      const value = Math.round(Math.max(0, Math.min(3.3, (volts ?? v.volts) + (k.text === '>' ? 0.1 : -0.1))) * 100) / 100;
      this.update({ volts: value });
      act(hw.setVoltage(v.pin, value));
    }
  }

  private schedule(ms: number): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    if (this.active && this.state.hw) this.timer = setTimeout(() => void this.poll(), ms);
  }

  private async poll(): Promise<void> {
    const { hw } = this.state;
    const generation = this.generation;
    if (!hw) return;
    try {
      const s = await hw.snapshot();
      if (generation !== this.generation) return;
      this.update({ snapshot: s, history: [...this.state.history, ...s.pinEvents].slice(-HISTORY), error: undefined });
    } catch (err) {
      if (generation !== this.generation) return;
      this.update({ error: (err as Error).message });
    }
    this.schedule(POLL_MS);
  }
}
