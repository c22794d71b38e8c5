// Timeline events -> Value Change Dump (IEEE 1364) for GTKWave / PulseView. Pure function, 1 us timescale.

import type { TimelineEvent } from './timeline.js';

interface Signal {
  id: string;
  decl: string;
}

// VCD identifiers are short strings of printable ASCII 33..126.
function vcdId(n: number): string {
  let s = '';
  do {
    s += String.fromCharCode(33 + (n % 94));
    n = Math.floor(n / 94);
  } while (n > 0);
  return s;
}

const bin = (v: number, width: number) => v.toString(2).padStart(width, '0');

export function eventsToVcd(events: TimelineEvent[], opts: { date?: Date } = {}): string {
  const signals = new Map<string, Signal>();
  const signal = (name: string, kind: 'wire' | 'real', width: number): string => {
    let s = signals.get(name);
    if (!s) {
      const id = vcdId(signals.size);
      s = { id, decl: `$var ${kind} ${width} ${id} ${name} $end` };
      signals.set(name, s);
    }
    return s.id;
  };

  const changes: { t: number; text: string }[] = [];
  const at = (t: number, text: string) => changes.push({ t, text });
  for (const e of events) {
    switch (e.kind) {
      case 'pin': at(e.t, `${e.level}${signal(`gpio${e.pin}`, 'wire', 1)}`); break;
      case 'pwm':
        at(e.t, `r${e.duty / 65535} ${signal(`pwm${e.pin}_duty`, 'real', 64)}`);
        at(e.t, `r${e.freq} ${signal(`pwm${e.pin}_freq`, 'real', 64)}`);
        break;
      case 'i2c': {
        // One microsecond per byte so each byte is its own visible value.
        const bus = e.bus.replace('/', '_');
        at(e.t, `b${bin(e.addr, 7)} ${signal(`i2c_${bus}_addr`, 'wire', 7)}`);
        at(e.t, `${e.ack ? 1 : 0}${signal(`i2c_${bus}_ack`, 'wire', 1)}`);
        [...e.write, ...e.read].forEach((b, i) => at(e.t + i, `b${bin(b, 8)} ${signal(`i2c_${bus}_data`, 'wire', 8)}`));
        break;
      }
      case 'spi':
        e.write.forEach((b, i) => at(e.t + i, `b${bin(b, 8)} ${signal(`${e.bus}_mosi`, 'wire', 8)}`));
        break;
      case 'uart':
        e.data.forEach((b, i) => at(e.t + i, `b${bin(b, 8)} ${signal(`uart${e.id}_data`, 'wire', 8)}`));
        break;
      case 'reset': at(e.t, `1${signal('reset', 'wire', 1)}`); at(e.t + 1, `0${signal('reset', 'wire', 1)}`); break;
    }
  }
  changes.sort((a, b) => a.t - b.t); // stable: same-time changes keep event order

  const out = [
    `$date ${(opts.date ?? new Date()).toISOString()} $end`,
    '$version boardctl virtual board $end',
    '$timescale 1us $end',
    '$scope module board $end',
    ...[...signals.values()].map((s) => s.decl),
    '$upscope $end',
    '$enddefinitions $end',
  ];
  let last = -1;
  for (const c of changes) {
    if (c.t !== last) {
      out.push(`#${c.t}`);
      last = c.t;
    }
    out.push(c.text);
  }
  return out.join('\n') + '\n';
}
