// RP2040 PIO state machines, interpreted on the host from the 16-bit instruction words rp2.asm_pio assembles
// (RP2040 datasheet, chapter 3): JMP, WAIT, IN, OUT, PUSH/PULL, MOV, IRQ, SET, side-set and delays, wrap, 4-deep
// FIFOs. Each poll runs a machine up to the board's clock at its own frequency; pin edges get the time their cycle
// falls on. Past MAX_STEPS instructions per poll a machine falls behind real time (the difference table says so).
import type { PinBank } from './pins.js';

const MAX_STEPS = 200_000;
const FIFO_DEPTH = 4;

export interface PioProgram {
  code: number[];
  execctrl: number;
  shiftctrl: number;
  freq: number;
  inBase: number;
  outBase: number;
  outCount: number;
  setBase: number;
  setCount: number;
  sidesetBase: number;
  sidesetCount: number;
  jmpPin: number;
}

const u32 = (v: number) => v >>> 0;
const mask = (bits: number) => (bits >= 32 ? 0xffffffff : (1 << bits) - 1) >>> 0;
function reverse32(v: number): number {
  let r = 0;
  for (let i = 0; i < 32; i++) r = (r << 1) | ((v >>> i) & 1);
  return r >>> 0;
}

export class PioStateMachine {
  active = false;
  readonly tx: number[] = [];
  readonly rx: number[] = [];
  private pc = 0;
  private x = 0;
  private y = 0;
  private isr = 0;
  private isrCount = 0;
  private osr = 0;
  private osrCount = 32;
  /** Time (µs on the board's clock) up to which this machine has run. */
  private timeUs = 0;
  private pendingExec: number | undefined;

  constructor(private readonly pins: PinBank, private readonly irqFlags: { flags: number }, public prog: PioProgram) {}

  restart(nowUs: number): void {
    this.pc = this.wrapBottom();
    this.x = this.y = this.isr = this.osr = this.isrCount = 0;
    this.osrCount = 32;
    this.timeUs = nowUs;
  }

  setActive(on: boolean, nowUs: number): void {
    if (on && !this.active) this.timeUs = nowUs;
    this.active = on;
  }

  private wrapBottom() { return (this.prog.execctrl >> 7) & 0x1f; }
  private wrapTop() { return (this.prog.execctrl >> 12) & 0x1f; }
  private sideOpt() { return (this.prog.execctrl >> 30) & 1; }
  private pullThresh() { return ((this.prog.shiftctrl >> 25) & 0x1f) || 32; }
  private pushThresh() { return ((this.prog.shiftctrl >> 20) & 0x1f) || 32; }
  private outRight() { return (this.prog.shiftctrl >> 19) & 1; }
  private inRight() { return (this.prog.shiftctrl >> 18) & 1; }
  private autopull() { return (this.prog.shiftctrl >> 17) & 1; }
  private autopush() { return (this.prog.shiftctrl >> 16) & 1; }

  private writePins(base: number, count: number, value: number, t: number): void {
    for (let i = 0; i < count; i++) {
      const pin = (base + i) % 30;
      if (this.pins.state(pin).mode !== 'out') this.pins.configure(pin, 'out', null, null);
      this.pins.write(pin, ((value >>> i) & 1) as 0 | 1, t);
    }
  }

  private setDirs(base: number, count: number, value: number): void {
    for (let i = 0; i < count; i++) this.pins.configure((base + i) % 30, (value >>> i) & 1 ? 'out' : 'in', null, null);
  }

  private readPins(): number {
    let v = 0;
    for (let i = 0; i < 32; i++) v |= this.pins.read((this.prog.inBase + i) % 30) << i;
    return v >>> 0;
  }

  /** Run up to the board time `untilUs`. */
  run(untilUs: number): void {
    if (!this.active || this.prog.freq <= 0) return;
    const usPerCycle = 1e6 / this.prog.freq;
    for (let steps = 0; this.timeUs + usPerCycle <= untilUs; steps++) {
      if (steps >= MAX_STEPS) return; // behind real time; the next poll continues from here
      const cycles = this.step(this.timeUs);
      if (cycles === 0) {
        this.timeUs = untilUs; // stalled: nothing changes until the host side (FIFO, pins) does
        return;
      }
      this.timeUs += cycles * usPerCycle;
    }
  }

  /** One instruction (or one stalled cycle, returning 0 after applying its side-set). */
  private step(t: number): number {
    const p = this.prog;
    const instr = this.pendingExec ?? p.code[this.pc] ?? 0;
    const fromExec = this.pendingExec !== undefined;
    this.pendingExec = undefined;
    const sideBits = p.sidesetCount + this.sideOpt();
    const delay = (instr >> 8) & (0x1f >> sideBits);
    if (p.sidesetCount && (!this.sideOpt() || instr & 0x1000)) {
      this.writePins(p.sidesetBase, p.sidesetCount, (instr >> (13 - sideBits)) & mask(p.sidesetCount), t);
    }
    const op = instr >> 13;
    const a = (instr >> 5) & 7;
    const idx = instr & 0x1f;
    let jumped = false;
    let stalled = false;
    switch (op) {
      case 0: { // JMP
        let take: boolean;
        switch (a) {
          case 0: take = true; break;
          case 1: take = this.x === 0; break;
          case 2: take = this.x !== 0; this.x = u32(this.x - 1); break;
          case 3: take = this.y === 0; break;
          case 4: take = this.y !== 0; this.y = u32(this.y - 1); break;
          case 5: take = this.x !== this.y; break;
          case 6: take = this.pins.read(p.jmpPin) === 1; break;
          default: take = this.osrCount < this.pullThresh();
        }
        if (take) { this.pc = idx; jumped = true; }
        break;
      }
      case 1: { // WAIT
        const pol = (instr >> 7) & 1;
        const src = (instr >> 5) & 3;
        if (src === 0) stalled = this.pins.read(idx) !== pol;
        else if (src === 1) stalled = this.pins.read((p.inBase + idx) % 30) !== pol;
        else {
          const bit = 1 << (idx & 7);
          stalled = ((this.irqFlags.flags & bit) !== 0 ? 1 : 0) !== pol;
          if (!stalled && pol) this.irqFlags.flags &= ~bit;
        }
        break;
      }
      case 2: { // IN
        if (this.autopush() && this.isrCount >= this.pushThresh()) { stalled = !this.pushIsr(); break; }
        const bits = idx || 32;
        const srcs = [this.readPins(), this.x, this.y, 0, 0, 0, this.isr, this.osr];
        const v = srcs[a]! & mask(bits);
        if (this.inRight()) this.isr = u32((bits >= 32 ? 0 : this.isr >>> bits) | (v << (32 - bits)));
        else this.isr = u32((bits >= 32 ? 0 : this.isr << bits) | v);
        this.isrCount = Math.min(32, this.isrCount + bits);
        if (this.autopush() && this.isrCount >= this.pushThresh()) this.pushIsr();
        break;
      }
      case 3: { // OUT
        if (this.autopull() && this.osrCount >= this.pullThresh()) {
          if (!this.tx.length) { stalled = true; break; }
          this.osr = this.tx.shift()!;
          this.osrCount = 0;
        }
        const bits = idx || 32;
        let v: number;
        if (this.outRight()) { v = this.osr & mask(bits); this.osr = bits >= 32 ? 0 : this.osr >>> bits; }
        else { v = bits >= 32 ? this.osr : this.osr >>> (32 - bits); this.osr = bits >= 32 ? 0 : u32(this.osr << bits); }
        this.osrCount = Math.min(32, this.osrCount + bits);
        switch (a) {
          case 0: this.writePins(p.outBase, p.outCount, v, t); break;
          case 1: this.x = u32(v); break;
          case 2: this.y = u32(v); break;
          case 4: this.setDirs(p.outBase, p.outCount, v); break;
          case 5: this.pc = v & 0x1f; jumped = true; break;
          case 6: this.isr = u32(v); this.isrCount = bits; break;
          case 7: this.pendingExec = v & 0xffff; break;
        }
        break;
      }
      case 4: { // PUSH / PULL
        const ifBit = (instr >> 6) & 1;
        const block = (instr >> 5) & 1;
        if (!(instr & 0x80)) {
          if (ifBit && this.isrCount < this.pushThresh()) break;
          if (this.rx.length >= FIFO_DEPTH) { stalled = block === 1; break; }
          this.pushIsr();
        } else {
          if (ifBit && this.osrCount < this.pullThresh()) break;
          if (!this.tx.length) {
            if (block) stalled = true;
            else { this.osr = this.x; this.osrCount = 0; }
            break;
          }
          this.osr = this.tx.shift()!;
          this.osrCount = 0;
        }
        break;
      }
      case 5: { // MOV
        const srcs = [this.readPins(), this.x, this.y, 0, 0, this.tx.length < FIFO_DEPTH ? 0xffffffff : 0, this.isr, this.osr];
        let v = srcs[instr & 7]!;
        const mop = (instr >> 3) & 3;
        if (mop === 1) v = u32(~v);
        else if (mop === 2) v = reverse32(v);
        switch (a) {
          case 0: this.writePins(p.outBase, p.outCount, v, t); break;
          case 1: this.x = v; break;
          case 2: this.y = v; break;
          case 4: this.pendingExec = v & 0xffff; break;
          case 5: this.pc = v & 0x1f; jumped = true; break;
          case 6: this.isr = v; this.isrCount = 0; break;
          case 7: this.osr = v; this.osrCount = 0; break;
        }
        break;
      }
      case 6: { // IRQ
        const bit = 1 << (idx & 7);
        if ((instr >> 6) & 1) this.irqFlags.flags &= ~bit;
        else this.irqFlags.flags |= bit;
        break;
      }
      default: // SET
        switch (a) {
          case 0: this.writePins(p.setBase, p.setCount, idx, t); break;
          case 1: this.x = idx; break;
          case 2: this.y = idx; break;
          case 4: this.setDirs(p.setBase, p.setCount, idx); break;
        }
    }
    if (stalled) {
      if (!fromExec) this.pendingExec = undefined;
      else this.pendingExec = instr;
      return 0;
    }
    if (!jumped && !fromExec) this.pc = this.pc === this.wrapTop() ? this.wrapBottom() : (this.pc + 1) & 0x1f;
    return 1 + delay;
  }

  private pushIsr(): boolean {
    if (this.rx.length >= FIFO_DEPTH) return false;
    this.rx.push(this.isr);
    this.isr = 0;
    this.isrCount = 0;
    return true;
  }

  /** Run one instruction now, as StateMachine.exec() does. */
  exec(instr: number, nowUs: number): void {
    this.pendingExec = instr;
    this.step(nowUs);
  }
}
