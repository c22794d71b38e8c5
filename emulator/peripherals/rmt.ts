// ESP32 RMT transmit channels, played on the host: each write_pulses train becomes pin edges stamped at the time
// its ticks fall on (resolution_hz), so the timeline shows the real durations however late a poll comes.
import type { PinBank } from './pins.js';

/** Items applied per run; past it a looping train falls behind real time until the next poll. */
const MAX_STEPS = 200_000;

export class RmtChannel {
  private train: [0 | 1, number][] = [];
  private pending: [0 | 1, number][] | null = null;
  private i = 0;
  /** Board time (µs) the current item started at. */
  private t = 0;
  busy = false;
  looping = false;

  constructor(private readonly pins: PinBank, readonly pin: number, private readonly idle: 0 | 1) {
    pins.configure(pin, 'out', null, idle);
  }

  /** `ticks` are [level, duration in ticks] at `resolutionHz`; a busy looping channel switches at its next wrap. */
  write(ticks: [number, number][], resolutionHz: number, loop: boolean, nowUs: number): void {
    this.run(nowUs);
    const train = ticks.map(([l, d]) => [l ? 1 : 0, (d * 1e6) / resolutionHz] as [0 | 1, number]);
    this.looping = loop;
    if (this.busy) {
      this.pending = train;
      return;
    }
    this.start(train, nowUs);
  }

  /** 0 idle, 1 transmitting, 2 a new train waits for the current loop iteration to end. */
  state(nowUs: number): number {
    this.run(nowUs);
    return this.pending ? 2 : this.busy ? 1 : 0;
  }

  stop(nowUs: number): void {
    this.run(nowUs);
    this.busy = false;
    this.pending = null;
    this.pins.write(this.pin, this.idle, nowUs);
  }

  private start(train: [0 | 1, number][], t: number): void {
    this.train = train;
    this.i = 0;
    this.t = t;
    this.busy = train.length > 0;
    if (this.busy) this.pins.write(this.pin, train[0]![0], t);
  }

  run(nowUs: number): void {
    for (let steps = 0; this.busy && steps < MAX_STEPS; steps++) {
      const end = this.t + this.train[this.i]![1];
      if (end > nowUs) return;
      this.t = end;
      if (++this.i < this.train.length) {
        this.pins.write(this.pin, this.train[this.i]![0], end);
      } else if (this.pending) {
        const next = this.pending;
        this.pending = null;
        this.start(next, end);
      } else if (this.looping) {
        this.start(this.train, end);
      } else {
        this.busy = false;
        this.pins.write(this.pin, this.idle, end);
      }
    }
  }
}
