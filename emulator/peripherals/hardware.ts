// The virtual board's peripheral state and the `_hw` functions machine.py calls. Everything here runs on the VM's
// thread; functions called from Python must never throw (a JS exception would unwind through the VM), so
// errors come back as negative errno values that machine.py turns into OSError/ValueError.

import { performance } from 'node:perf_hooks';
import type { BoardProfile } from '../profiles.js';
import type { ResetKind, VmHost } from '../vm/host-api.js';
import { boardFacts, type BoardFacts } from './board-pins.js';
import { fromHex, toHex } from './hex.js';
import { ENODEV, I2cBuses } from './i2c-bus.js';
import { I2sPort } from './i2s.js';
import { OneWireBuses } from './onewire-bus.js';
import { PioStateMachine, type PioProgram } from './pio.js';
import { Ds18b20, serialFor } from './parts/ds18b20.js';
import { Eeprom24c32 } from './parts/eeprom24c32.js';
import { Ssd1306 } from './parts/ssd1306.js';
import { Tmp102 } from './parts/tmp102.js';
import type { PartSpec } from './parts.js';
import { PinBank, type PinMode, type Pull } from './pins.js';
import { RegisterModel } from './registers.js';
import { RmtChannel } from './rmt.js';
import { powerOnRtc, rtcDatetime, rtcNow, setRtcDatetime, type RtcState } from './rtc.js';
import { armedFor, wakingSource, type HardwareSnapshot, type WakeSources } from './snapshot.js';
import { touchLevels } from './touch.js';
import { Timeline } from './timeline.js';
import { waitUntilTicksUs } from './wire-wait.js';

const TIMELINE_CAPACITY = 100_000;
const MODES: (PinMode | null)[] = ['in', 'out', 'od'];
const PULLS: Pull[] = ['none', 'up', 'down'];

type PyCallable = (...args: unknown[]) => unknown;

interface SoftTimer {
  periodMs: number;
  oneShot: boolean;
  due: number;
  callback: unknown;
  arg: unknown;
  hard: boolean;
}

export interface HardwareConfig {
  profile: BoardProfile;
  uniqueId?: string;
  /** The station MAC (board.json's mac), whose eFuse words machine.mem32 reads. */
  mac?: string;
  parts: PartSpec[];
  /** State carried over from the previous worker of this board (see snapshot()). */
  persisted?: HardwareSnapshot;
}

/** The esp32 port's UART IRQ flags (ports/esp32/machine_uart.c: 1 << UART_DATA, its RXIDLE bit). */
const UART_IRQ_RX = 1;
const UART_IRQ_RXIDLE = 0x1000;

interface UartIrq {
  handler: unknown;
  /** The UART object the handler is called with. */
  arg: unknown;
  trigger: number;
  /** The flag of the event that called the handler last (irq().flags()). */
  flags: number;
  /** Events to come: flag -> when (ticks_ms). */
  due: Map<number, number>;
}

export class VirtualHardware {
  readonly facts: BoardFacts;
  readonly timeline: Timeline;
  readonly pins: PinBank;
  readonly registers: RegisterModel;
  readonly i2c: I2cBuses;
  readonly rtc: RtcState;
  readonly oneWire = new OneWireBuses();
  readonly tmp102 = new Map<string, Tmp102>();
  readonly ds18b20 = new Map<string, Ds18b20>();
  readonly eeproms = new Map<string, Eeprom24c32>();
  readonly oleds = new Map<string, Ssd1306>();
  /** ADC source voltages by pin. */
  readonly volts = new Map<number, number>();
  /** What each touch pad reads (machine.TouchPad.read()), set from outside; untouched until then. */
  readonly touch = new Map<number, number>();
  /** Each TouchPad's threshold (its config() on the ESP32), which esp32.wake_on_touch compares with. */
  private readonly touchThresholds = new Map<number, number>();
  /** Last colours written to each NeoPixel strip, by pin, as [r, g, b] triples. */
  readonly neopixels = new Map<number, number[][]>();
  readonly dhts = new Map<number, { celsius: number; humidity: number }>();
  bootselPressed = false;
  /** Survives deep sleep like the ESP32's RTC slow memory. */
  rtcMemory: number[] = [];
  /** esp32.wake_on_*: kept until the chip resets (a soft reset keeps it, as the port's machine_rtc_config). */
  private readonly wake: Omit<WakeSources, 'rest'> = {};
  /** What ended the last lightsleep() ('' for a pin IRQ), which machine.wake_reason() reports from then on. */
  private lightWake: string | undefined;
  /** machine.freq(): the CPU clock set, kept over a soft reset; a reset starts at the port's default. */
  private cpuHz: number;
  /** esp32.NVS contents ("namespace/key" -> "i:<int>" or "b:<hex>"); kept across resets like flash. */
  readonly nvs = new Map<string, string>();

  /** rp2 PIO state machines 0-7 (PIO0: 0-3, PIO1: 4-7) and each block's IRQ flags. */
  readonly pio = new Map<number, PioStateMachine>();
  private readonly pioIrq = [{ flags: 0 }, { flags: 0 }];
  /** esp32.RMT transmit channels by channel number. */
  readonly rmt = new Map<number, RmtChannel>();
  /** machine.I2S by id. */
  readonly i2s = new Map<number, I2sPort>();

  private dispatch: PyCallable | null = null;
  private readonly timers = new Map<number, SoftTimer>();
  private wdt: { timeoutMs: number; fedAt: number } | null = null;
  private irqsEnabled = true;
  private polling = false;
  private readonly uartRx = new Map<number, number[]>();
  /** machine.UART.irq by port: its handler, triggers, the flags of its last event and the events to come. */
  private readonly uartIrqs = new Map<number, UartIrq>();
  private readonly clockOrigin: number;

  constructor(private readonly host: VmHost, readonly config: HardwareConfig) {
    this.facts = boardFacts(config.profile, config.uniqueId);
    this.cpuHz = this.facts.freq;
    this.clockOrigin = performance.now() - host.ticksMs();
    this.timeline = new Timeline(TIMELINE_CAPACITY, () => Math.round((performance.now() - this.clockOrigin) * 1000));
    this.pins = new PinBank(this.timeline);
    this.registers = new RegisterModel(this.pins, this.facts.pins, config.profile,
      // Without a board.json MAC an ESP's unique_id() is its base MAC.
      Uint8Array.from(config.mac ? config.mac.split(':').map((h) => parseInt(h, 16)) : this.facts.uniqueId));
    this.i2c = new I2cBuses(this.timeline);
    this.rtc = powerOnRtc();
    host.setWallClock(() => rtcNow(this.rtc));
    for (const pin of this.facts.touchPins) this.touch.set(pin, touchLevels(this.facts.chip).released);
    for (const part of config.parts) this.wire(part);
    if (config.persisted) this.restore(config.persisted);
  }

  snapshot(): HardwareSnapshot {
    return {
      rtc: { ...this.rtc },
      rtcMemory: this.rtcMemory.slice(),
      nvs: [...this.nvs],
      eeproms: [...this.eeproms].map(([id, e]) => [id, [...e.memory]]),
      temps: [...this.tmp102, ...this.ds18b20].map(([id, t]) => [id, t.celsius]),
      dhts: [...this.dhts].map(([pin, d]) => [pin, { ...d }]),
      volts: [...this.volts],
      touch: [...this.touch],
      drives: this.pins.all().flatMap(([pin, s]) => (s.ext === null ? [] : [[pin, s.ext] as [number, 0 | 1]])),
      bootsel: this.bootselPressed,
      wake: { ...this.wakeSources(), rest: this.wakePins().map((pin) => [pin, this.pins.state(pin).pull === 'up' ? 1 : 0]) },
    };
  }

  /** What may end a sleep: the armed sources the chip has (board-pins.ts extWake), the pads' thresholds. */
  private wakeSources(): Omit<WakeSources, 'rest'> {
    const { ext0, ext1, touch } = this.wake;
    return { ...(this.facts.extWake ? { ext0, ext1 } : {}), touch, pads: [...this.touchThresholds] };
  }

  private wakePins(): number[] {
    return [...new Set([...(this.wake.ext0 ? [this.wake.ext0.pin] : []), ...(this.wake.ext1?.pins ?? [])])];
  }

  private restore(s: HardwareSnapshot): void {
    Object.assign(this.rtc, s.rtc);
    this.rtcMemory = s.rtcMemory.slice();
    for (const [k, v] of s.nvs) this.nvs.set(k, v);
    for (const [id, mem] of s.eeproms) this.eeproms.get(id)?.memory.set(mem);
    for (const [id, c] of s.temps) { const t = this.tmp102.get(id) ?? this.ds18b20.get(id); if (t) t.celsius = c; }
    for (const [pin, d] of s.dhts) this.dhts.set(pin, { ...d });
    for (const [pin, v] of s.volts) this.volts.set(pin, v);
    for (const [pin, v] of s.touch) this.touch.set(pin, v);
    for (const [pin, level] of s.drives) this.pins.drive(pin, level);
    this.bootselPressed = s.bootsel;
  }

  private wire(part: PartSpec): void {
    switch (part.type) {
      case 'button': this.pins.setRestLevel(part.pin, part.pressedLevel ? 0 : 1); break;
      case 'tmp102': this.addI2c(part.bus, this.tmp102, part.id, new Tmp102(part.address, part.celsius ?? 22.5)); break;
      case 'eeprom24c32': this.addI2c(part.bus, this.eeproms, part.id, new Eeprom24c32(part.address)); break;
      case 'ssd1306':
        this.addI2c(part.bus, this.oleds, part.id, new Ssd1306(part.address, part.width, part.height));
        break;
      case 'voltage': this.volts.set(part.pin, part.volts); break;
      case 'dht22': this.dhts.set(part.pin, { celsius: part.celsius ?? 21, humidity: part.humidity ?? 45 }); break;
      case 'ds18b20': {
        const probe = new Ds18b20(serialFor(part.id), part.celsius ?? 21.5, () => performance.now() - this.clockOrigin);
        this.ds18b20.set(part.id, probe);
        this.oneWire.attach(part.pin, probe);
        break;
      }
      case 'neopixel': this.neopixels.set(part.pin, Array.from({ length: part.count }, () => [0, 0, 0])); break;
      case 'led':
      case 'bootsel':
        break; // passive: read from pin state
    }
  }

  private addI2c<D extends Tmp102 | Eeprom24c32 | Ssd1306>(
    bus: { scl: number; sda: number }, registry: Map<string, D>, id: string, dev: D,
  ): void {
    registry.set(id, dev);
    this.i2c.attach(bus.scl, bus.sda, dev);
  }

  private nowUs(): number {
    return (performance.now() - this.clockOrigin) * 1000;
  }

  /** Runs from the host's clock hook and idle loop: watchdog, timers, pin IRQs. */
  poll(): void {
    if (this.polling) return; // a callback that sleeps re-enters through the clock hook
    this.polling = true;
    try {
      if (this.pio.size) {
        const us = this.nowUs();
        for (const sm of this.pio.values()) sm.run(us);
      }
      if (this.rmt.size) {
        const us = this.nowUs();
        for (const ch of this.rmt.values()) ch.run(us);
      }
      const now = this.host.ticksMs();
      if (this.wdt && now - this.wdt.fedAt > this.wdt.timeoutMs) {
        this.wdt = null;
        this.timeline.record({ kind: 'reset', cause: 'wdt' });
        this.host.requestReset({ kind: 'wdt' });
        return;
      }
      if (!this.dispatch || !this.irqsEnabled) return;
      for (const [key, t] of this.timers) {
        if (now < t.due) continue;
        if (t.oneShot) this.timers.delete(key);
        else t.due = Math.max(t.due + t.periodMs, now + 1);
        this.call(t.callback, t.arg, t.hard);
      }
      for (const irq of this.pins.pendingIrqs.splice(0)) this.call(irq.handler, irq.arg, irq.hard);
      for (const irq of this.uartIrqs.values()) {
        for (const [flag, at] of irq.due) {
          if (now < at) continue;
          irq.due.delete(flag);
          irq.flags = flag;
          this.call(irq.handler, irq.arg, false);
        }
      }
    } finally {
      this.polling = false;
    }
  }

  private call(handler: unknown, arg: unknown, hard: boolean): void {
    try {
      this.dispatch?.(handler, arg, hard);
    } catch {
      // The Python side already printed the traceback, as the firmware does for IRQ handlers.
    }
  }

  /** A fresh VM booted: Python objects of the previous one are gone. */
  boot(): void {
    this.dispatch = null;
    this.timers.clear();
    this.wdt = null;
    this.irqsEnabled = true;
    this.uartRx.clear();
    this.uartIrqs.clear();
    this.pio.clear();
    this.rmt.clear();
    if (this.host.resetCause === 'soft') this.pins.softReset();
    else this.pins.resetMcuSide();
  }

  private reset(kind: ResetKind, sleepMs?: number): void {
    this.timeline.record({ kind: 'reset', cause: kind });
    this.host.requestReset(sleepMs === undefined ? { kind } : { kind, sleepMs });
  }

  /** The `_hw` module as Python sees it. */
  pyApi(): Record<string, (...args: never[]) => unknown> {
    const pins = this.pins;
    return {
      board: () => JSON.stringify(this.facts),
      set_dispatch: (fn: PyCallable) => { this.dispatch = fn; },
      pin_init: (pin: number, mode: number, pull: number, value: number) =>
        pins.configure(pin, mode < 0 ? null : MODES[mode], pull < 0 ? null : PULLS[pull],
          value < 0 ? null : (value ? 1 : 0)),
      pin_cfg: (pin: number) => {
        const s = pins.state(pin);
        return `${s.mode},${s.pull}`;
      },
      pin_get: (pin: number) => pins.read(pin),
      // machine.mem*: the aligned word (null: not modelled), and a write of the lanes in mask (false: not modelled).
      // Ints reach here as int32 (0xd0000000 is negative): >>> 0 makes them the unsigned words they are.
      mem_read: (addr: number) => this.registers.read(addr >>> 0),
      mem_write: (addr: number, value: number, mask: number) => this.registers.write(addr >>> 0, value >>> 0, mask >>> 0),
      pin_set: (pin: number, v: number) => pins.write(pin, v ? 1 : 0),
      pin_irq: (pin: number, handler: unknown, trigger: number, hard: boolean, arg: unknown) => {
        pins.state(pin).irq = handler === null ? null : { handler, trigger, hard, arg, flags: 0 };
      },
      pin_irq_flags: (pin: number) => {
        const irq = pins.state(pin).irq;
        const flags = irq?.flags ?? 0;
        if (irq) irq.flags = 0;
        return flags;
      },
      irq_state: (enable: number) => {
        const was = this.irqsEnabled ? 1 : 0;
        if (enable >= 0) this.irqsEnabled = enable === 1;
        return was;
      },
      cpu_freq: (hz: number) => {
        if (hz > 0) this.cpuHz = hz;
        return this.cpuHz;
      },
      touch_read: (pin: number) => this.touch.get(pin) ?? 0,
      touch_config: (pin: number, threshold: number) => void this.touchThresholds.set(pin, threshold),
      // machine.DAC: the ESP32's 8-bit DAC puts out value/255 of VDD, which an ADC on the pin reads back.
      dac: (pin: number, value: number) => void this.volts.set(pin, (value * 3.3) / 255),
      adc_uv: (pin: number) => Math.round((this.volts.get(pin) ?? (pins.read(pin) ? 3.3 : 0)) * 1e6),
      pwm: (pin: number, freq: number, duty: number) => {
        const s = pins.state(pin);
        s.pwm = freq > 0 ? { freq, duty } : null;
        this.timeline.record({ kind: 'pwm', pin, freq, duty });
      },
      i2c: (scl: number, sda: number, addr: number, whex: string, rlen: number) => {
        const read = this.i2c.transfer(scl, sda, addr, fromHex(whex), rlen);
        return read === null ? -ENODEV : toHex(read);
      },
      i2c_scan: (scl: number, sda: number) => toHex(this.i2c.scan(scl, sda)),
      spi: (bus: string, whex: string) => {
        this.timeline.record({ kind: 'spi', bus, write: fromHex(whex) });
        return whex; // MOSI looped back to MISO
      },
      wire_wait: waitUntilTicksUs,
      uart_write: (id: number, hex: string, idleInMs: number) => {
        const data = fromHex(hex);
        this.timeline.record({ kind: 'uart', id, data });
        const rx = this.uartRx.get(id) ?? [];
        rx.push(...data); // TX looped back to RX
        this.uartRx.set(id, rx);
        // The bytes are readable at once; the line is idle idleInMs later (a later write moves that on).
        const irq = this.uartIrqs.get(id);
        if (!irq) return;
        const now = this.host.ticksMs();
        if (irq.trigger & UART_IRQ_RX) irq.due.set(UART_IRQ_RX, now);
        if (irq.trigger & UART_IRQ_RXIDLE) irq.due.set(UART_IRQ_RXIDLE, now + idleInMs);
      },
      uart_irq: (id: number, handler: unknown, arg: unknown, trigger: number) => {
        if (handler === null) this.uartIrqs.delete(id);
        else this.uartIrqs.set(id, { handler, arg, trigger, flags: 0, due: new Map() });
      },
      uart_irq_flags: (id: number) => this.uartIrqs.get(id)?.flags ?? 0,
      uart_read: (id: number, n: number) => toHex((this.uartRx.get(id) ?? []).splice(0, n < 0 ? Infinity : n)),
      uart_any: (id: number) => this.uartRx.get(id)?.length ?? 0,
      timer_start: (key: number, periodMs: number, oneShot: boolean, callback: unknown, arg: unknown, hard: boolean) => {
        this.timers.set(key, { periodMs, oneShot, due: this.host.ticksMs() + periodMs, callback, arg, hard });
      },
      timer_stop: (key: number) => { this.timers.delete(key); },
      rtc_get: () => rtcDatetime(this.rtc).join(','),
      rtc_set: (y: number, mo: number, d: number, h: number, mi: number, s: number, us: number) =>
        setRtcDatetime(this.rtc, [y, mo, d, h, mi, s, us]),
      rtc_mem: (hex: string | null) => {
        if (hex !== null) this.rtcMemory = fromHex(hex);
        return toHex(this.rtcMemory);
      },
      wdt_start: (timeoutMs: number) => { this.wdt = { timeoutMs, fedAt: this.host.ticksMs() }; },
      wdt_feed: () => { if (this.wdt) this.wdt.fedAt = this.host.ticksMs(); },
      reset: (kind: ResetKind, sleepMs: number) => this.reset(kind, sleepMs < 0 ? undefined : sleepMs),
      reset_cause: () => this.host.resetCause,
      chip_reset: () => this.host.chipReset,
      wake_reason: () => this.lightWake ?? this.host.wakeCause ?? '',
      light_woke: (cause: string) => void (this.lightWake = cause),
      wake_sources: () => JSON.stringify({
        ext0: this.wake.ext0 && [this.wake.ext0.pin, this.wake.ext0.level, this.wake.ext0.modes],
        ext1: this.wake.ext1 && [this.wake.ext1.pins, this.wake.ext1.level],
        touch: this.wake.touch,
      }),
      // ext0: pin (-1: off), level and the sleeps it ends; ext1: JSON list of pins (empty: off) and level; touch: on (1) or off.
      wake_on: (kind: string, pins: number | string, level: number, modes = 0) => {
        const lvl: 0 | 1 = level ? 1 : 0;
        if (kind === 'ext0') this.wake.ext0 = pins === -1 ? undefined : { pin: Number(pins), level: lvl, modes };
        else if (kind === 'ext1') {
          const list = JSON.parse(String(pins)) as number[];
          this.wake.ext1 = list.length ? { pins: list, level: lvl } : undefined;
        } else this.wake.touch = Boolean(pins) || undefined;
      },
      bitstream: (pin: number, hex: string) => this.neopixelWrite(pin, fromHex(hex)),
      bootsel: () => (this.bootselPressed ? 1 : 0),
      irq_edges: () => pins.irqEdges,
      // For lightsleep(): '-' with no source armed for it, else the source that wakes it now, or ''.
      wake_pin: () => {
        const wake = this.wakeSources();
        if (!armedFor(wake, 'light')) return '-';
        return wakingSource(wake, { level: (p) => pins.read(p), touch: (p) => this.touch.get(p) ?? Infinity }, 'light') ?? '';
      },
      nvs_get: (key: string) => this.nvs.get(key) ?? '',
      nvs_set: (key: string, value: string | null) => {
        if (value === null) return this.nvs.delete(key) ? 0 : -1;
        this.nvs.set(key, value);
        return 0;
      },
      pio_init: (id: number, json: string) => {
        const prog = JSON.parse(json) as PioProgram & { initPins: [number, number, number][] };
        for (const [pin, dir, level] of prog.initPins) pins.configure(pin, dir ? 'out' : 'in', null, level ? 1 : 0);
        const old = this.pio.get(id);
        const sm = new PioStateMachine(pins, this.pioIrq[id >> 2]!, prog);
        sm.restart(this.nowUs());
        if (old?.active) sm.setActive(true, this.nowUs());
        this.pio.set(id, sm);
      },
      pio_active: (id: number, on: number) => {
        const sm = this.pio.get(id);
        if (!sm) return 0;
        if (on >= 0) { sm.run(this.nowUs()); sm.setActive(on === 1, this.nowUs()); }
        return sm.active ? 1 : 0;
      },
      pio_put: (id: number, value: number) => {
        const sm = this.pio.get(id);
        if (!sm) return -1;
        sm.run(this.nowUs());
        if (sm.tx.length >= 4) return 0;
        sm.tx.push(value >>> 0);
        return 1;
      },
      pio_get: (id: number) => {
        const sm = this.pio.get(id);
        sm?.run(this.nowUs());
        return sm && sm.rx.length ? sm.rx.shift()! : null;
      },
      pio_levels: (id: number) => {
        const sm = this.pio.get(id);
        sm?.run(this.nowUs());
        return sm ? `${sm.tx.length},${sm.rx.length}` : '0,0';
      },
      pio_exec: (id: number, instr: number) => this.pio.get(id)?.exec(instr & 0xffff, this.nowUs()),
      pio_restart: (id: number) => this.pio.get(id)?.restart(this.nowUs()),
      rmt_init: (ch: number, pin: number, idle: number) => {
        this.rmt.get(ch)?.stop(this.nowUs());
        this.rmt.set(ch, new RmtChannel(pins, pin, idle ? 1 : 0));
      },
      rmt_write: (ch: number, json: string, resolutionHz: number, loop: boolean) =>
        this.rmt.get(ch)?.write(JSON.parse(json) as [number, number][], resolutionHz, loop, this.nowUs()),
      rmt_state: (ch: number) => this.rmt.get(ch)?.state(this.nowUs()) ?? 0,
      rmt_loop: (ch: number, on: boolean) => { const c = this.rmt.get(ch); if (c) c.looping = on; },
      rmt_deinit: (ch: number) => { this.rmt.get(ch)?.stop(this.nowUs()); this.rmt.delete(ch); },
      i2s_write: (id: number, hex: string) => this.i2sPort(id).play(fromHex(hex)),
      i2s_read: (id: number, n: number) => toHex(this.i2sPort(id).record(n)),
      ow_reset: (pin: number) => this.oneWire.reset(pin),
      ow_bit: (pin: number, bit: number) => this.oneWire.slot(pin, bit ? 1 : 0),
      ow_byte: (pin: number, value: number) => this.oneWire.byte(pin, value & 0xff),
      dht: (pin: number) => {
        const d = this.dhts.get(pin);
        return d ? `${d.celsius},${d.humidity}` : '';
      },
    };
  }

  i2sPort(id: number): I2sPort {
    let port = this.i2s.get(id);
    if (!port) this.i2s.set(id, (port = new I2sPort()));
    return port;
  }

  private neopixelWrite(pin: number, bytes: number[]): void {
    const pixels: number[][] = [];
    for (let i = 0; i + 2 < bytes.length; i += 3) pixels.push([bytes[i + 1], bytes[i], bytes[i + 2]]); // GRB order
    this.neopixels.set(pin, pixels);
  }
}
