// `sim set/get/trace/scenario`: drive a virtual board's simulated parts from outside (the hw plugin's control).
import { readFile, writeFile } from 'node:fs/promises';
import type { Command } from 'commander';
import type { TimelineEvent } from '../../emulator/peripherals/timeline.js';
import type { ControlRequest } from '../../emulator/vm/host-api.js';
import { BoardError } from '../../protocol/errors.js';
import type { Transport } from '../../protocol/transport.js';
import { Output } from '../output.js';

export interface SimHwDeps {
  control(board: string, req: ControlRequest): Promise<unknown>;
  openVirtual(name: string): Promise<{ transport: Transport; control(req: ControlRequest): Promise<unknown>; close(): Promise<void> }>;
}

const LEVELS: Record<string, 0 | 1 | null> = { low: 0, '0': 0, high: 1, '1': 1, release: null, float: null, z: null };

function usage(message: string): BoardError {
  return new BoardError('USAGE', message);
}

function number(text: string, what: string): number {
  const n = Number(text);
  if (text.trim() === '' || !Number.isFinite(n)) throw usage(`${what} must be a number, got '${text}'`);
  return n;
}

/** `pin 0 low`, `temp 31.5`, `voltage 34 1.2`, `touch 4 press`, `button boot press`, `bootsel press`, `humidity 55` -> set args. */
export function parseSetArgs(words: string[]): Record<string, unknown> {
  const [what, a, b] = words;
  const pressed = (w: string | undefined) => {
    if (w === 'press' || w === 'down' || w === '1') return true;
    if (w === 'release' || w === 'up' || w === '0') return false;
    throw usage(`expected press or release, got '${w ?? ''}'`);
  };
  switch (what) {
    case 'pin': {
      if (a === undefined || b === undefined || !(b in LEVELS)) throw usage('usage: sim set NAME pin N low|high|release');
      return { what, pin: number(a, 'pin'), level: LEVELS[b] };
    }
    case 'temp':
      // `temp 31.5` sets every thermometer, `temp probe 31.5` the part with that id.
      if (a === undefined) throw usage('usage: sim set NAME temp [PART-ID] VALUE');
      return b === undefined ? { what, value: number(a, what) } : { what, id: a, value: number(b, what) };
    case 'humidity':
      if (a === undefined) throw usage(`usage: sim set NAME ${what} VALUE`);
      return { what, value: number(a, what) };
    case 'voltage':
      if (a === undefined || b === undefined) throw usage('usage: sim set NAME voltage PIN VOLTS');
      return { what, pin: number(a, 'pin'), value: number(b, 'voltage') };
    case 'touch':
      if (a === undefined || b === undefined) throw usage('usage: sim set NAME touch PIN press|release|READING');
      return { what, pin: number(a, 'pin'), value: b === 'press' || b === 'release' ? b : number(b, 'a touch reading') };
    case 'button':
      if (a === undefined) throw usage('usage: sim set NAME button ID press|release');
      return { what, id: a, pressed: pressed(b) };
    case 'bootsel':
      return { what, pressed: pressed(a) };
    default:
      throw usage(`cannot set '${what ?? ''}' (pin, temp, humidity, voltage, touch, button, bootsel)`);
  }
}

function formatGet(what: string, value: unknown): string {
  switch (what) {
    case 'pins':
      return (value as { pin: number; mode: string; pull: string; level: number; pwm: { freq: number; duty: number } | null }[])
        .map((p) => `${String(p.pin).padStart(2)} ${p.mode.padEnd(5)} pull=${p.pull.padEnd(4)} level=${p.level}` +
          (p.pwm ? ` pwm=${p.pwm.freq}Hz/${((p.pwm.duty / 65535) * 100).toFixed(1)}%` : '') + '\n').join('');
    case 'leds': {
      const v = value as { leds: { id: string; pin: number; on: boolean }[]; neopixels: { pin: number; pixels: number[][] }[] };
      return v.leds.map((l) => `${l.id} (pin ${l.pin}): ${l.on ? 'on' : 'off'}\n`).join('') +
        v.neopixels.map((n) => `neopixel pin ${n.pin}: ${n.pixels.map((p) => `#${p.map((c) => c.toString(16).padStart(2, '0')).join('')}`).join(' ')}\n`).join('');
    }
    case 'oled':
      return (value as { id: string; on: boolean; rows: string[] }[])
        .map((o) => `${o.id}: ${o.on ? 'on' : 'off'}\n${o.rows.join('\n')}\n`).join('');
    default:
      return `${JSON.stringify(value, null, 2)}\n`;
  }
}

function formatEvent(e: TimelineEvent): string {
  const t = (e.t / 1000).toFixed(3).padStart(10);
  const hex = (bytes: number[]) => bytes.map((b) => b.toString(16).padStart(2, '0')).join(' ');
  switch (e.kind) {
    case 'pin': return `${t} ms  pin ${e.pin} -> ${e.level}`;
    case 'pwm': return `${t} ms  pwm ${e.pin} ${e.freq} Hz duty ${e.duty}`;
    case 'i2c': return `${t} ms  i2c ${e.bus} 0x${e.addr.toString(16)} ${e.ack ? 'ack' : 'NACK'} w[${hex(e.write)}] r[${hex(e.read)}]`;
    case 'spi': return `${t} ms  spi ${e.bus} w[${hex(e.write)}]`;
    case 'uart': return `${t} ms  uart${e.id} [${hex(e.data)}]`;
    case 'reset': return `${t} ms  reset (${e.cause})`;
  }
}

export function registerSimHwCommands(sim: Command, deps: SimHwDeps): void {
  const output = (cmd: Command) => new Output(cmd.optsWithGlobals<{ json?: boolean }>().json === true);

  sim
    .command('set')
    .description('drive a simulated part: ap up|down [SSID], uplink up|down, pin N low|high|release, temp [ID] C, humidity %, voltage PIN V, touch PIN press|release|READING, button ID press|release, bootsel press|release')
    .argument('<name>', 'virtual board name')
    .argument('<what...>', 'what to set and its value')
    .action(async (name: string, words: string[], _opts: unknown, cmd: Command) => {
      if (words[0] === 'ap' || words[0] === 'uplink') {
        const [what, state, ssid] = words as ['ap' | 'uplink', string, string | undefined];
        if (state !== 'up' && state !== 'down') throw new BoardError('USAGE', `sim set ${what}: expected up or down, got '${state ?? ''}'`);
        await deps.control(name, { plugin: 'net', op: 'set', args: { what, up: state === 'up', ssid } });
        output(cmd).doc({ command: 'set', ok: true, board: name, what, up: state === 'up', ssid });
        return;
      }
      const args = parseSetArgs(words);
      await deps.control(name, { plugin: 'hw', op: 'set', args });
      output(cmd).doc({ command: 'set', ok: true, board: name, ...args });
    });

  sim
    .command('get')
    .description('show simulated hardware state: pins, leds, oled, parts, rtc, i2s (the bytes each I2S TX played, as hex)')
    .argument('<name>', 'virtual board name')
    .argument('<what>', 'pins | leds | oled | parts | rtc | i2s')
    .action(async (name: string, what: string, _opts: unknown, cmd: Command) => {
      const value = await deps.control(name, { plugin: 'hw', op: 'get', args: { what } });
      const out = output(cmd);
      out.doc({ command: 'get', ok: true, board: name, what, value });
      out.text(formatGet(what, value));
    });

  sim
    .command('trace')
    .description('the recorded pin/PWM/bus timeline; -o FILE.vcd writes it for GTKWave or PulseView')
    .argument('<name>', 'virtual board name')
    .option('-o, --output <file>', 'write a VCD file')
    .option('--clear', 'empty the timeline after reading it')
    .action(async (name: string, opts: { output?: string; clear?: boolean }, cmd: Command) => {
      const { events, dropped } = (await deps.control(name, { plugin: 'hw', op: 'trace', args: { clear: opts.clear === true } })) as
        { events: TimelineEvent[]; dropped: number };
      const out = output(cmd);
      if (opts.output) {
        const { eventsToVcd } = await import('../../emulator/peripherals/vcd.js');
        await writeFile(opts.output, eventsToVcd(events));
        out.doc({ command: 'trace', ok: true, board: name, file: opts.output, events: events.length, dropped });
        out.note(`${events.length} events written to ${opts.output}${dropped ? ` (${dropped} older events were dropped)` : ''}`);
      } else {
        out.doc({ command: 'trace', ok: true, board: name, events, dropped });
        out.text(events.map((e) => `${formatEvent(e)}\n`).join(''));
      }
    });

  sim
    .command('scenario')
    .description('run a YAML scenario (wait-serial, write-serial, set, expect-pin, delay) against a virtual board')
    .argument('<file>', 'scenario file (.yaml)')
    .option('-b, --board <name>', 'virtual board (default: the scenario\'s board field)')
    .action(async (file: string, opts: { board?: string }, cmd: Command) => {
      // The YAML parser and the scenario runner load only for this command (boardctl --help stays fast).
      const { parseScenario, runScenario, ScenarioError } = await import('../../emulator/peripherals/scenario.js');
      let scenario;
      try {
        scenario = parseScenario(await readFile(file, 'utf8'));
      } catch (e) {
        if (e instanceof ScenarioError || (e as Error).name === 'YAMLParseError') throw usage(`${file}: ${(e as Error).message}`);
        throw new BoardError('LOCAL_IO', `${file}: ${(e as Error).message}`);
      }
      const board = opts.board ?? scenario.board;
      if (!board) throw usage('name the board with --board or a board: field in the scenario');
      const link = await deps.openVirtual(board);
      let result;
      try {
        result = await runScenario(scenario, link);
      } finally {
        await link.close();
      }
      const out = output(cmd);
      if (result.ok) {
        out.doc({ command: 'scenario', ok: true, scenario: scenario.name, steps: result.passed });
        out.text(`${scenario.name}: passed (${result.passed} steps)\n`);
        return;
      }
      const f = result.failure!;
      // Exit status 1 with the failing step on stderr, like wokwi-cli.
      throw new BoardError('DEVICE_EXCEPTION', `scenario failed at step ${f.step} (${f.kind}): ${f.message}`, {
        traceback: `${scenario.name}: step ${f.step} (${f.kind}) failed: ${f.message}\n`, step: f.step, kind: f.kind,
      });
    });
}
