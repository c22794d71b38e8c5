// Scenarios against the real VM with the hw plugin, through the runner core and the `sim` CLI commands.

import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Command } from 'commander';
import { afterEach, describe, expect, it } from 'vitest';
import { parseDuration, parseScenario, runScenario, ScenarioError } from '../emulator/peripherals/scenario.js';
import { parseSetArgs, registerSimHwCommands, type SimHwDeps } from '../cli/commands/sim-hw.js';
import type { ControlRequest } from '../emulator/vm/host-api.js';
import { BoardError } from '../protocol/errors.js';
import { TestBoard } from './helpers/test-board.js';

const fixture = (name: string) => join(import.meta.dirname, 'fixtures', 'scenarios', name);

let board: TestBoard | undefined;
let dir: string | undefined;
afterEach(async () => {
  await board?.close();
  board = undefined;
  if (dir) await rm(dir, { recursive: true, force: true });
  dir = undefined;
});

const control = (b: TestBoard) => (req: ControlRequest) => b.board.controlRequest(req);

describe('scenario runner', () => {
  it('passes the button/LED/sensor scenario on a virtual esp32', async () => {
    board = await TestBoard.open();
    const link = board.transport;
    const result = await runScenario(parseScenario(await readFile(fixture('button-led.yaml'), 'utf8')), { transport: link, control: control(board) });
    expect(result.failure).toBeUndefined();
    expect(result).toMatchObject({ ok: true, passed: 17 });
    expect(result.serial).toContain('T=31.50');
  });

  it('stops at the first failing step and says which', async () => {
    board = await TestBoard.open();
    const link = board.transport;
    const result = await runScenario(parseScenario(await readFile(fixture('wrong-led.yaml'), 'utf8')), { transport: link, control: control(board) });
    expect(result).toMatchObject({ ok: false, passed: 2, failure: { step: 3, kind: 'expect-pin', message: 'expected pin 2 to be 1, it is 0' } });
  });

  it('times out a wait-serial that never matches', async () => {
    board = await TestBoard.open();
    const link = board.transport;
    const scenario = parseScenario('steps:\n  - write-serial: "print(1)\\r"\n  - wait-serial: { text: "nope", timeout: 50ms }\n');
    const result = await runScenario(scenario, { transport: link, control: control(board) });
    expect(result.failure).toEqual({ step: 2, kind: 'wait-serial', message: 'timed out after 50 ms waiting for "nope"' });
  });

  it('rejects malformed scenarios with the step number', () => {
    expect(() => parseScenario('steps:\n  - delay: 1s\n  - blink: 3\n')).toThrow(/step 2: unknown action 'blink'/);
    expect(() => parseScenario('name: x\n')).toThrow(ScenarioError);
    expect(() => parseScenario('steps:\n  - expect-pin: { pin: 2, value: 7 }\n')).toThrow(/value must be 0 or 1/);
    expect([parseDuration('1.5s'), parseDuration('20ms'), parseDuration(7)]).toEqual([1500, 20, 7]);
    expect(() => parseDuration('soon')).toThrow(ScenarioError);
  });
});

describe('sim CLI commands', () => {
  async function cli(b: TestBoard, argv: string[]): Promise<void> {
    const deps: SimHwDeps = {
      control: async (name, req) => {
        expect(name).toBe('demo');
        return b.board.controlRequest(req);
      },
      openVirtual: async (name) => {
        expect(name).toBe('demo');
        return { transport: b.transport, control: control(b), close: async () => {} };
      },
    };
    const program = new Command().exitOverride();
    registerSimHwCommands(program.command('sim').exitOverride(), deps);
    await program.parseAsync(['sim', ...argv], { from: 'user' });
  }

  it('parses set arguments', () => {
    expect(parseSetArgs(['pin', '0', 'low'])).toEqual({ what: 'pin', pin: 0, level: 0 });
    expect(parseSetArgs(['pin', '4', 'release'])).toEqual({ what: 'pin', pin: 4, level: null });
    expect(parseSetArgs(['temp', '31.5'])).toEqual({ what: 'temp', value: 31.5 });
    expect(parseSetArgs(['temp', 'probe', '4.5'])).toEqual({ what: 'temp', id: 'probe', value: 4.5 });
    expect(parseSetArgs(['voltage', '34', '1.2'])).toEqual({ what: 'voltage', pin: 34, value: 1.2 });
    expect(parseSetArgs(['touch', '4', 'press'])).toEqual({ what: 'touch', pin: 4, value: 'press' });
    expect(parseSetArgs(['touch', '4', '612'])).toEqual({ what: 'touch', pin: 4, value: 612 });
    expect(() => parseSetArgs(['touch', '4'])).toThrow('usage: sim set NAME touch PIN press|release|READING');
    expect(() => parseSetArgs(['touch', '4', 'hard'])).toThrow("a touch reading must be a number, got 'hard'");
    expect(() => parseSetArgs(['pin', 'x', 'low'])).toThrow(BoardError);
    expect(() => parseSetArgs(['colour', 'red'])).toThrow(/cannot set 'colour'/);
  });

  it('sets a pin and a temperature, then writes the trace as VCD', async () => {
    board = await TestBoard.open();
    await cli(board, ['set', 'demo', 'pin', '0', 'low']);
    await cli(board, ['set', 'demo', 'temp', '31.5']);
    await cli(board, ['set', 'demo', 'touch', '4', 'press']);
    expect(await board.run('import machine\nd = machine.I2C(0, scl=machine.Pin(22), sda=machine.Pin(21)).readfrom(0x48, 2)\nprint(machine.Pin(0).value(), ((d[0] << 8 | d[1]) >> 4) * 0.0625)')).toBe('0 31.5\n');
    expect(await board.run('print(machine.TouchPad(machine.Pin(4)).read())')).toBe('40\n');
    await expect(cli(board, ['set', 'demo', 'touch', '5', 'press'])).rejects.toThrow('GPIO5 is no touch pad');
    dir = await mkdtemp(join(tmpdir(), 'boardctl-sim-'));
    const vcdFile = join(dir, 'run.vcd');
    await cli(board, ['trace', 'demo', '-o', vcdFile]);
    const vcd = await readFile(vcdFile, 'utf8');
    expect(vcd).toMatch(/\$var wire 1 (\S+) gpio0 \$end[\s\S]*\n0\1\n/);
  });

  it('exits 1 with the failing step for a failing scenario', async () => {
    board = await TestBoard.open();
    const err = await cli(board, ['scenario', fixture('wrong-led.yaml')]).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(BoardError);
    expect((err as BoardError).exitCode).toBe(1);
    expect((err as BoardError).details.traceback).toBe('expects a lit LED nobody lights: step 3 (expect-pin) failed: expected pin 2 to be 1, it is 0\n');
  });
});
