// `boardctl test [PATHS…]`: MicroPython unittest files run on the board, one soft reset per file, results as
// they come in unittest's own words; --junit FILE for CI, --tap for TAP on stdout. Thin: collect files, call
// protocol/board-test, print.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { join, relative } from 'node:path';
import type { Command } from 'commander';
import type { CaseResult, SuiteResult, TestFile } from '../../protocol/board-test.js';
import { BoardError } from '../../protocol/errors.js';
import { fileError } from '../../protocol/host-error.js';
import type { CliContext } from '../context.js';

const TEST_FILE = /^test.*\.py$/;

/** Files as given, and under each folder its test*.py files (recursively, sorted), as unittest discovery does. */
export function collectTestFiles(paths: string[]): TestFile[] {
  const found: string[] = [];
  const walk = (dir: string) => {
    for (const entry of readdirSync(dir, { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : 1))) {
      if (entry.isDirectory() && !entry.name.startsWith('.')) walk(join(dir, entry.name));
      else if (entry.isFile() && TEST_FILE.test(entry.name)) found.push(join(dir, entry.name));
    }
  };
  for (const p of paths) {
    let isDir: boolean;
    try {
      isDir = statSync(p).isDirectory();
    } catch (err) {
      throw fileError(p, err);
    }
    if (isDir) walk(p);
    else found.push(p);
  }
  if (found.length === 0) throw new BoardError('USAGE', `no test files (test*.py) in ${paths.join(', ')}`);
  return found.map((path) => {
    try {
      return { path: relative('.', path) || path, source: readFileSync(path, 'utf8') };
    } catch (err) {
      throw fileError(path, err);
    }
  });
}

const VERDICT = { pass: 'ok', fail: 'FAIL', error: 'ERROR', skip: 'skipped' } as const;
const title = (c: CaseResult) => `${c.name} (${c.classname})`;
const RULE = '='.repeat(70);

/**
 * --scenario FILE on a virtual board: its set steps (and delays) drive the board's simulated inputs before each
 * file. Steps that talk over the serial line (wait-serial, expect-pin…) belong to `sim scenario`.
 */
async function scenarioInputs(file: string, port: string | undefined): Promise<() => Promise<void>> {
  const [{ parseScenario }, { parsePortSpec }, { readFile }] = await Promise.all([
    import('../../emulator/peripherals/scenario.js'),
    import('../../protocol/port-spec.js'),
    import('node:fs/promises'),
  ]);
  if (!port || parsePortSpec(port).kind !== 'virtual') throw new BoardError('USAGE', `--scenario sets a virtual board's inputs: use -p virtual[:NAME] (got ${port ?? 'no port'})`);
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    throw fileError(file, err);
  }
  let steps;
  try {
    steps = parseScenario(text).steps;
  } catch (err) {
    throw new BoardError('USAGE', `${file}: ${(err as Error).message}`);
  }
  const other = steps.find((st) => st.kind !== 'set' && st.kind !== 'delay');
  if (other) throw new BoardError('USAGE', `${file}: test --scenario takes set and delay steps (${other.kind} is for boardctl sim scenario)`);
  const { VirtualBoard, parseVirtualSpec } = await import('../../emulator/board.js');
  const board = await VirtualBoard.open(parseVirtualSpec(port).name);
  return async () => {
    for (const st of steps) {
      if (st.kind === 'set') await board.controlRequest({ plugin: 'hw', op: 'set', args: st.args });
      else if (st.kind === 'delay') await new Promise((r) => setTimeout(r, st.ms));
    }
  };
}

function parseTimeout(text: string): number {
  const s = Number(text);
  if (!(s > 0)) throw new BoardError('USAGE', `--timeout: '${text}' is not a number of seconds`);
  return s * 1000;
}

export function registerTestCommand(program: Command, ctx: () => CliContext): void {
  program
    .command('test')
    .description('run unittest files on the board (test*.py under each folder), one soft reset per file; exit 1 if any test fails')
    .argument('[paths...]', 'test files or folders (default: the current folder)')
    .option('--junit <file>', 'write a JUnit XML report (one testcase per test method, tracebacks in failures)')
    .option('--tap', 'print TAP version 13 instead of unittest-style lines')
    .option('--timeout <seconds>', 'give up on a file after this long (the board is interrupted, the file errors)', parseTimeout)
    .option('--no-reset', 'do not soft-reset the board before each file')
    .option('--scenario <file>', 'virtual board: set its simulated inputs from a scenario\'s set steps before each file')
    .action(async (paths: string[], opts: { junit?: string; tap?: boolean; timeout?: number; reset: boolean; scenario?: string }) => {
      const c = ctx();
      const files = collectTestFiles(paths.length ? paths : ['.']);
      const before = opts.scenario ? await scenarioInputs(opts.scenario, c.session.port) : undefined;
      const [{ runTestFile, countCases }, { junitXml, tapReport }] = await Promise.all([import('../../protocol/board-test.js'), import('../../protocol/test-report.js')]);
      const board = await c.session.connect();
      const plain = !c.out.json && !opts.tap;
      const started = Date.now();
      const suites: SuiteResult[] = [];
      for (const file of files) {
        const suite = await runTestFile(board, file, {
          reset: opts.reset,
          before,
          timeoutMs: opts.timeout,
          signal: c.signal,
          onOutput: (text) => plain && c.out.text(text),
          onCase: (k) => plain && c.out.text(`${title(k)} ... ${VERDICT[k.status]}${k.status === 'skip' && k.message ? ` '${k.message}'` : ''}\n`),
        });
        suites.push(suite);
        c.out.doc({ command: 'test', file: suite.file, ...countCases(suite.cases), timeMs: suite.timeMs, cases: suite.cases });
      }
      const cases = suites.flatMap((s) => s.cases);
      const n = countCases(cases);
      const runs = [{ board: c.session.port ?? board.transport.path, suites }];
      if (opts.junit) {
        await writeFile(opts.junit, junitXml(runs)).catch((err: unknown) => {
          throw fileError(opts.junit!, err);
        });
      }
      if (opts.tap) c.out.text(tapReport(runs));
      if (plain) {
        for (const k of cases.filter((x) => x.status === 'fail' || x.status === 'error')) {
          c.out.text(`${RULE}\n${VERDICT[k.status]}: ${title(k)}\n${'-'.repeat(70)}\n${k.traceback ?? k.message ?? ''}\n\n`);
        }
        const skipped = n.skipped ? `skipped=${n.skipped}` : '';
        const bad = [n.failures && `failures=${n.failures}`, n.errors && `errors=${n.errors}`, skipped].filter(Boolean).join(', ');
        c.out.text(`${'-'.repeat(70)}\nRan ${n.tests} test${n.tests === 1 ? '' : 's'} in ${((Date.now() - started) / 1000).toFixed(3)}s\n\n`);
        c.out.text(n.failures || n.errors ? `FAILED (${bad})\n` : `OK${skipped ? ` (${skipped})` : ''}\n`);
      }
      const ok = n.failures === 0 && n.errors === 0;
      c.out.doc({ command: 'test', ok, files: files.length, ...n });
      if (!ok) throw new BoardError('TESTS_FAILED', `${n.failures + n.errors} of ${n.tests} tests did not pass (${n.failures} failed, ${n.errors} errors)`);
    });
}
