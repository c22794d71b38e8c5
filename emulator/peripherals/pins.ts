// GPIO levels: what the MCU drives, what the outside world (buttons, `sim set pin`) drives, and the pulls that
// decide a level nobody drives. Edges are recorded on the timeline and matched against configured IRQs.

import type { Timeline } from './timeline.js';

export type PinMode = 'unset' | 'in' | 'out' | 'od';
export type Pull = 'none' | 'up' | 'down';

/** Trigger bits as the Python side hands them over (port constants are mapped in machine.py). */
export const EDGE_RISING = 1;
export const EDGE_FALLING = 2;

export interface PinIrq {
  trigger: number;
  handler: unknown;
  arg: unknown;
  hard: boolean;
  flags: number;
}

export interface PinState {
  mode: PinMode;
  pull: Pull;
  out: 0 | 1;
  /** Level forced from outside; null when nothing external drives the pin. */
  ext: 0 | 1 | null;
  level: 0 | 1;
  irq: PinIrq | null;
  pwm: { freq: number; duty: number } | null;
}

export class PinBank {
  private readonly states = new Map<number, PinState>();
  /** Level an external part settles a pin at when released (e.g. a button's pull-up resistor). */
  private readonly restLevels = new Map<number, 0 | 1>();
  /** IRQs whose edge fired and that wait for the next poll to reach Python. */
  readonly pendingIrqs: PinIrq[] = [];
  /** Edges that matched a configured IRQ, ever: lightsleep() without a timeout waits for this to move. */
  irqEdges = 0;

  constructor(private readonly timeline: Timeline) {}

  state(pin: number): PinState {
    let s = this.states.get(pin);
    if (!s) {
      const rest = this.restLevels.get(pin) ?? null;
      s = { mode: 'unset', pull: 'none', out: 0, ext: rest, level: rest ?? 0, irq: null, pwm: null };
      this.states.set(pin, s);
    }
    return s;
  }

  all(): [number, PinState][] {
    return [...this.states.entries()].sort((a, b) => a[0] - b[0]);
  }

  setRestLevel(pin: number, level: 0 | 1): void {
    this.restLevels.set(pin, level);
    this.drive(pin, level);
  }

  configure(pin: number, mode: PinMode | null, pull: Pull | null, value: 0 | 1 | null): void {
    const s = this.state(pin);
    if (value !== null) s.out = value;
    if (mode !== null) s.mode = mode;
    if (pull !== null) s.pull = pull;
    this.update(pin, s);
  }

  write(pin: number, value: 0 | 1, atUs?: number): void {
    const s = this.state(pin);
    s.out = value;
    this.update(pin, s, atUs);
  }

  read(pin: number): 0 | 1 {
    return this.state(pin).level;
  }

  /** Drive a pin from outside the MCU; null releases it to its rest level (or floating). */
  drive(pin: number, level: 0 | 1 | null): void {
    const s = this.state(pin);
    s.ext = level ?? this.restLevels.get(pin) ?? null;
    this.update(pin, s);
  }

  /** Forget MCU-side configuration, as a hard reset does; external drives stay. */
  resetMcuSide(): void {
    for (const [pin, s] of this.states) {
      s.mode = 'unset';
      s.pull = 'none';
      s.out = 0;
      s.irq = null;
      s.pwm = null;
      this.update(pin, s);
    }
    this.pendingIrqs.length = 0;
  }

  /**
   * A soft reset (the esp32 port's machine_pins_deinit and machine_pwm_deinit_all): IRQ handlers go and PWM
   * outputs stop, releasing their pins; GPIO modes and levels stay as the program left them.
   */
  softReset(): void {
    for (const [pin, s] of this.states) {
      s.irq = null;
      if (!s.pwm) continue;
      s.pwm = null;
      s.mode = 'unset';
      s.out = 0;
      this.timeline.record({ kind: 'pwm', pin, freq: 0, duty: 0 });
      this.update(pin, s);
    }
    this.pendingIrqs.length = 0;
  }

  private update(pin: number, s: PinState, atUs?: number): void {
    const level = this.resolve(s);
    if (level === s.level) return;
    s.level = level;
    this.timeline.record({ kind: 'pin', pin, level }, atUs);
    const irq = s.irq;
    if (irq && irq.trigger & (level ? EDGE_RISING : EDGE_FALLING)) {
      irq.flags |= level ? EDGE_RISING : EDGE_FALLING;
      this.irqEdges++;
      if (!this.pendingIrqs.includes(irq)) this.pendingIrqs.push(irq);
    }
  }

  private resolve(s: PinState): 0 | 1 {
    const floating: 0 | 1 = s.pull === 'up' ? 1 : 0;
    switch (s.mode) {
      case 'out':
        return s.out;
      case 'od':
        return s.out === 0 ? 0 : (s.ext ?? (s.pull === 'down' ? 0 : 1));
      default:
        return s.ext ?? floating;
    }
  }
}
