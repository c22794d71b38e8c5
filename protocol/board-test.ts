// `boardctl test`'s core: run one unittest file on a board and return what each test did. The file's text
// travels with a driver (py/bt_driver.py) that runs its TestCase classes and prints one event line per test;
// firmware without unittest gets ours (py/unittest_mini.py) for the run. Nothing is written to the board.
import { readFileSync } from 'node:fs';
import { basename } from 'node:path';
import type { Board } from './board.js';
import { isBoardError } from './errors.js';
import { pyStr } from './fs/wire.js';

export type CaseStatus = 'pass' | 'fail' | 'error' | 'skip';

export interface CaseResult {
  /** The TestCase class (the file's module name when the file itself failed to load). */
  classname: string;
  name: string;
  status: CaseStatus;
  timeMs: number;
  message?: string;
  /** The board's traceback, for failures and errors. */
  traceback?: string;
  /** What the test printed. */
  output: string;
}

export interface SuiteResult {
  /** The test file as given. */
  file: string;
  cases: CaseResult[];
  timeMs: number;
}

export interface TestFile {
  path: string;
  source: string;
}

export interface RunTestOptions {
  /** Soft reset before the file (default true), so each file starts with a fresh heap. */
  reset?: boolean;
  /** Run after the soft reset, before the file (virtual inputs from a scenario). */
  before?: () => Promise<void>;
  /** Give up on the file after this long: the board is interrupted and the file gets an error. */
  timeoutMs?: number;
  signal?: AbortSignal;
  onCase?: (c: CaseResult) => void;
  /** What the tests print, as it comes. */
  onOutput?: (text: string) => void;
}

const MARK = '\x1eBT';
// '../protocol/py/': the same folder from dist/protocol and from the bundled CLI's dist/chunks.
const pySource = (name: string) => readFileSync(new URL(`../protocol/py/${name}`, import.meta.url), 'utf8');
let sources: { driver: string; mini: string } | undefined;

/** The program that runs one test file: the driver, then its call with the file's text. */
export function testProgram(file: TestFile): string {
  sources ??= { driver: pySource('bt_driver.py'), mini: pySource('unittest_mini.py') };
  const module = basename(file.path).replace(/\.py$/, '');
  return `${sources.driver}\nbt_run(${pyStr(sources.mini)}, ${pyStr(file.source)}, ${pyStr(file.path)}, ${pyStr(module)})\n`;
}

interface DriverEvent {
  e: 'case' | 'load' | 'end';
  cls?: string;
  name?: string;
  status?: CaseStatus;
  ms?: number;
  message?: string | null;
  traceback?: string | null;
}

/** Splits the driver's stdout into the tests' own output and its event lines, as it streams. */
export class DriverOutput {
  private partial = '';
  private printed = '';
  readonly events: DriverEvent[] = [];

  constructor(
    private readonly onEvent: (e: DriverEvent, printed: string) => void,
    private readonly onOutput?: (text: string) => void,
  ) {}

  push(text: string): void {
    this.partial += text;
    for (let nl = this.partial.indexOf('\n'); nl >= 0; nl = this.partial.indexOf('\n')) {
      const line = this.partial.slice(0, nl + 1);
      this.partial = this.partial.slice(nl + 1);
      const at = line.indexOf(MARK);
      if (at < 0) {
        this.print(line);
        continue;
      }
      this.print(line.slice(0, at));
      const event = JSON.parse(line.slice(at + MARK.length)) as DriverEvent;
      this.events.push(event);
      this.onEvent(event, this.printed);
      this.printed = '';
    }
  }

  /** Output since the last event (a test cut short by a timeout keeps what it printed). */
  rest(): string {
    const rest = this.printed + this.partial;
    if (this.partial) this.onOutput?.(this.partial);
    this.printed = this.partial = '';
    return rest;
  }

  private print(text: string): void {
    if (!text) return;
    this.printed += text;
    this.onOutput?.(text);
  }
}

const optional = (s: string | null | undefined) => (s == null ? {} : { message: s });

/** Run one test file; a file that does not load, raises outside a test or times out gets an error case. */
export async function runTestFile(board: Board, file: TestFile, opts: RunTestOptions = {}): Promise<SuiteResult> {
  const started = Date.now();
  const module = basename(file.path).replace(/\.py$/, '');
  const cases: CaseResult[] = [];
  const add = (c: CaseResult) => {
    cases.push(c);
    opts.onCase?.(c);
  };
  const fileError = (message: string, traceback: string | undefined, output: string) =>
    add({ classname: module, name: module, status: 'error', timeMs: Date.now() - started, message, ...(traceback ? { traceback } : {}), output });
  const out = new DriverOutput((e, printed) => {
    if (e.e === 'case') {
      add({ classname: `${module}.${e.cls}`, name: e.name!, status: e.status!, timeMs: e.ms ?? 0, ...optional(e.message), ...(e.traceback ? { traceback: e.traceback } : {}), output: printed });
    } else if (e.e === 'load') {
      fileError(e.message ?? 'the file did not load', e.traceback ?? undefined, printed);
    }
  }, opts.onOutput);
  if (opts.reset !== false) await board.softReset();
  await opts.before?.();
  try {
    const result = await board.exec(testProgram(file), { onStdout: (t) => out.push(t), timeoutMs: opts.timeoutMs, signal: opts.signal, allowError: true });
    const rest = out.rest();
    if (result.stderr) fileError(result.stderr.trim().split('\n').at(-1)!, result.stderr.trim(), rest);
    else if (!out.events.some((e) => e.e === 'end' || e.e === 'load')) fileError('the run ended before its last test', undefined, rest);
  } catch (err) {
    if (!isBoardError(err, 'TIMEOUT')) throw err;
    fileError(`timed out after ${(opts.timeoutMs ?? 0) / 1000} s`, undefined, out.rest());
  }
  return { file: file.path, cases, timeMs: Date.now() - started };
}

export interface TestCounts {
  tests: number;
  failures: number;
  errors: number;
  skipped: number;
}

export function countCases(cases: CaseResult[]): TestCounts {
  const n = (s: CaseStatus) => cases.filter((c) => c.status === s).length;
  return { tests: cases.length, failures: n('fail'), errors: n('error'), skipped: n('skip') };
}
