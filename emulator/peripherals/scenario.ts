// Scenario runner (after Wokwi's wokwi-cli scenarios): a YAML list of steps driving a board through its serial
// link and the hw plugin's control channel. Pure logic and timing; the caller supplies the link and control.
//
//   name: button lights the LED
//   board: demo                       # used when the command line names no board
//   steps:
//     - write-serial: "import main\r"
//     - wait-serial: "ready"           # or { text: ready, timeout: 5s } (default 10 s)
//     - set: { what: button, id: boot, pressed: true }    # any hw `set` request
//     - set-control: { part-id: boot, control: pressed, value: 1 }   # Wokwi's spelling
//     - expect-pin: { pin: 2, value: 1 }                  # or part-id: led; optional timeout polls
//     - delay: 500ms

import { parse as parseYaml } from 'yaml';
import type { Transport } from '../../protocol/transport.js';
import type { ControlRequest } from '../vm/host-api.js';

export type ScenarioStep =
  | { kind: 'wait-serial'; text: string; timeoutMs: number }
  | { kind: 'write-serial'; text: string }
  | { kind: 'set'; args: Record<string, unknown> }
  | { kind: 'expect-pin'; pin?: number; part?: string; value: 0 | 1; timeoutMs: number }
  | { kind: 'delay'; ms: number };

export interface Scenario {
  name: string;
  /** Board to run against when the command line names none. */
  board?: string;
  steps: ScenarioStep[];
}

export interface ScenarioIo {
  transport: Pick<Transport, 'write' | 'onData'>;
  control(req: ControlRequest): Promise<unknown>;
}

export interface ScenarioFailure {
  /** 1-based, as a person counts the steps in the file. */
  step: number;
  kind: ScenarioStep['kind'];
  message: string;
}

export interface ScenarioResult {
  ok: boolean;
  passed: number;
  failure?: ScenarioFailure;
  /** Everything the board printed during the run. */
  serial: string;
}

export class ScenarioError extends Error {}

const DEFAULT_WAIT_MS = 10_000;

/** "500ms", "2s", "1.5s" or a plain number of milliseconds. */
export function parseDuration(v: unknown): number {
  if (typeof v === 'number' && v >= 0) return v;
  const m = typeof v === 'string' ? /^\s*(\d+(?:\.\d+)?)\s*(ms|s)?\s*$/.exec(v) : null;
  if (!m) throw new ScenarioError(`invalid duration '${String(v)}' (use e.g. 500ms or 2s)`);
  return Number(m[1]) * (m[2] === 's' ? 1000 : 1);
}

function record(v: unknown, what: string): Record<string, unknown> {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new ScenarioError(`${what} must be a mapping`);
  return v as Record<string, unknown>;
}

function parseStep(raw: unknown, index: number): ScenarioStep {
  const entry = record(raw, `step ${index}`);
  const keys = Object.keys(entry);
  if (keys.length !== 1) throw new ScenarioError(`step ${index}: expected one action, got ${keys.join(', ') || 'none'}`);
  const [kind] = keys;
  const v = entry[kind];
  switch (kind) {
    case 'wait-serial': {
      if (typeof v === 'string') return { kind, text: v, timeoutMs: DEFAULT_WAIT_MS };
      const o = record(v, `step ${index} wait-serial`);
      return { kind, text: String(o.text), timeoutMs: o.timeout === undefined ? DEFAULT_WAIT_MS : parseDuration(o.timeout) };
    }
    case 'write-serial':
      return { kind, text: String(v) };
    case 'set':
      return { kind, args: record(v, `step ${index} set`) };
    case 'set-control': {
      // Wokwi's form: { part-id, control: pressed, value }.
      const o = record(v, `step ${index} set-control`);
      return { kind: 'set', args: { what: 'button', id: o['part-id'], pressed: Boolean(Number(o.value)) } };
    }
    case 'expect-pin': {
      const o = record(v, `step ${index} expect-pin`);
      const value = Number(o.value);
      if (value !== 0 && value !== 1) throw new ScenarioError(`step ${index}: expect-pin value must be 0 or 1`);
      if (o.pin === undefined && o['part-id'] === undefined) throw new ScenarioError(`step ${index}: expect-pin needs pin or part-id`);
      return {
        kind, value, pin: o.pin === undefined ? undefined : Number(o.pin),
        part: o['part-id'] === undefined ? undefined : String(o['part-id']),
        timeoutMs: o.timeout === undefined ? 0 : parseDuration(o.timeout),
      };
    }
    case 'delay':
      return { kind, ms: parseDuration(v) };
    default:
      throw new ScenarioError(`step ${index}: unknown action '${kind}' (wait-serial, write-serial, set, set-control, expect-pin, delay)`);
  }
}

export function parseScenario(yamlText: string): Scenario {
  const doc = record(parseYaml(yamlText), 'scenario');
  if (!Array.isArray(doc.steps)) throw new ScenarioError('scenario needs a steps list');
  return {
    name: typeof doc.name === 'string' ? doc.name : 'scenario',
    board: typeof doc.board === 'string' ? doc.board : undefined,
    steps: doc.steps.map((s, i) => parseStep(s, i + 1)),
  };
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
const POLL_MS = 20;

export async function runScenario(scenario: Scenario, io: ScenarioIo): Promise<ScenarioResult> {
  let serial = '';
  let cursor = 0; // wait-serial matches only text that arrived after the previous match
  const decoder = new TextDecoder();
  let wake: (() => void) | null = null;
  const unsubscribe = io.transport.onData((chunk) => {
    serial += decoder.decode(chunk, { stream: true });
    wake?.();
  });

  const pinLevel = async (step: Extract<ScenarioStep, { kind: 'expect-pin' }>): Promise<number | undefined> => {
    let pin = step.pin;
    if (step.part !== undefined) {
      const parts = (await io.control({ plugin: 'hw', op: 'get', args: { what: 'parts' } })) as { id: string; pin?: number }[];
      pin = parts.find((p) => p.id === step.part)?.pin;
      if (pin === undefined) throw new ScenarioError(`no part '${step.part}' with a pin`);
    }
    const pins = (await io.control({ plugin: 'hw', op: 'get', args: { what: 'pins' } })) as { pin: number; level: number }[];
    return pins.find((p) => p.pin === pin)?.level;
  };

  const runStep = async (step: ScenarioStep): Promise<void> => {
    switch (step.kind) {
      case 'wait-serial': {
        const deadline = Date.now() + step.timeoutMs;
        for (;;) {
          const at = serial.indexOf(step.text, cursor);
          if (at >= 0) {
            cursor = at + step.text.length;
            return;
          }
          const left = deadline - Date.now();
          if (left <= 0) throw new ScenarioError(`timed out after ${step.timeoutMs} ms waiting for ${JSON.stringify(step.text)}`);
          await new Promise<void>((r) => {
            const timer = setTimeout(r, left);
            wake = () => { clearTimeout(timer); r(); };
          });
          wake = null;
        }
      }
      case 'write-serial':
        await io.transport.write(new TextEncoder().encode(step.text));
        return;
      case 'set':
        await io.control({ plugin: 'hw', op: 'set', args: step.args });
        return;
      case 'expect-pin': {
        const deadline = Date.now() + step.timeoutMs;
        for (;;) {
          const level = await pinLevel(step);
          if (level === step.value) return;
          if (Date.now() >= deadline) {
            const where = step.part ?? `pin ${step.pin}`;
            throw new ScenarioError(`expected ${where} to be ${step.value}, it is ${level ?? 'not driven'}`);
          }
          await sleep(POLL_MS);
        }
      }
      case 'delay':
        await sleep(step.ms);
    }
  };

  try {
    for (const [i, step] of scenario.steps.entries()) {
      try {
        await runStep(step);
      } catch (e) {
        const message = e instanceof Error ? e.message : String(e);
        return { ok: false, passed: i, failure: { step: i + 1, kind: step.kind, message }, serial };
      }
    }
    return { ok: true, passed: scenario.steps.length, serial };
  } finally {
    unsubscribe();
  }
}
