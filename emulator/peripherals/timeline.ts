// Every pin, PWM, bus and reset event with a timestamp, in a bounded ring so a long run cannot exhaust memory.

export type TimelineEvent =
  | { t: number; kind: 'pin'; pin: number; level: 0 | 1 }
  | { t: number; kind: 'pwm'; pin: number; freq: number; duty: number }
  | { t: number; kind: 'i2c'; bus: string; addr: number; write: number[]; read: number[]; ack: boolean }
  | { t: number; kind: 'spi'; bus: string; write: number[] }
  | { t: number; kind: 'uart'; id: number; data: number[] }
  | { t: number; kind: 'reset'; cause: string };

type Omit_t<E> = E extends TimelineEvent ? Omit<E, 't'> : never;

export class Timeline {
  private ring: TimelineEvent[] = [];
  private head = 0;
  /** Events overwritten since the last clear. */
  dropped = 0;

  constructor(private readonly capacity: number, private readonly clockUs: () => number) {}

  /** `atUs` stamps an event the host computed the time of (a PIO state machine's edges between two polls). */
  record(e: Omit_t<TimelineEvent>, atUs?: number): void {
    const ev = { t: atUs ?? this.clockUs(), ...e } as TimelineEvent;
    if (this.ring.length < this.capacity) {
      this.ring.push(ev);
    } else {
      this.ring[this.head] = ev;
      this.head = (this.head + 1) % this.capacity;
      this.dropped++;
    }
  }

  /** Oldest first. */
  events(): TimelineEvent[] {
    return this.ring.length < this.capacity ? this.ring.slice() : [...this.ring.slice(this.head), ...this.ring.slice(0, this.head)];
  }

  clear(): void {
    this.ring = [];
    this.head = 0;
    this.dropped = 0;
  }
}
