// `boardctl test` (issue 19.4): unittest files run on the virtual board (which, like ESP32 firmware, has no
// unittest: boardctl's own runs), JUnit XML that a real XML parser finds valid against the common JUnit schema
// with the right counts and the board's tracebacks, TAP, per-file timeouts, and one suite per board on a fleet.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { cliPath } from './helpers/serve-cli.js';
import { DriverOutput } from '../protocol/board-test.js';
import { junitXml } from '../protocol/test-report.js';

const run = promisify(execFile);
const home = mkdtempSync(join(tmpdir(), 'boardctl-test-cmd-'));
const env = { ...process.env, BOARDCTL_HOME: home };
const fixtures = new URL('./fixtures/', import.meta.url).pathname;
const PYTHON = '/usr/bin/python3';
if (!existsSync(PYTHON)) console.warn('JUnit schema checks skipped: /usr/bin/python3 (its XML parser reads the reports) is not installed');

beforeAll(async () => {
  for (const b of ['bt', 'bt2']) await run(process.execPath, [cliPath, 'sim', 'create', b], { env });
}, 60_000);
afterAll(() => rmSync(home, { recursive: true, force: true }));

async function boardctl(args: string[], cwd = fixtures): Promise<{ code: number; stdout: string; stderr: string }> {
  return run(process.execPath, [cliPath, ...args], { env, cwd, maxBuffer: 1 << 24 }).then(
    ({ stdout, stderr }) => ({ code: 0, stdout, stderr }),
    (err: { code: number; stdout: string; stderr: string }) => ({ code: err.code, stdout: err.stdout, stderr: err.stderr }),
  );
}

interface Checked {
  problems: string[];
  suites: Array<{
    name: string;
    hostname: string;
    counts: Record<'tests' | 'failures' | 'errors' | 'skipped', number>;
    cases: Array<{ name: string; classname: string; kind: string; message: string | null; type: string | null; text: string; out: string }>;
  }>;
}

async function checkJunit(file: string): Promise<Checked> {
  const { stdout } = await run(PYTHON, [new URL('./helpers/junit_check.py', import.meta.url).pathname, file]);
  return JSON.parse(stdout) as Checked;
}

const total = (c: Checked, k: 'tests' | 'failures' | 'errors' | 'skipped') => c.suites.reduce((t, s) => t + s.counts[k], 0);

describe('boardctl test', () => {
  it.skipIf(!existsSync(PYTHON))('runs a folder of passing, failing and erroring files: valid JUnit with counts and tracebacks, exit 1', async () => {
    const report = join(home, 'report.xml');
    const r = await boardctl(['-p', 'virtual:bt', 'test', 'board-tests', '--junit', report]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^boardctl: test: 3 of 8 tests did not pass \(1 failed, 2 errors\)$/m);
    // unittest's own words, as they come, then the failures and the tally.
    expect(r.stdout).toMatch(/^test_mul \(test_pass\.TestArith\) \.\.\. ok$/m);
    expect(r.stdout).toMatch(/^test_off_by_one \(test_fail\.TestParse\) \.\.\. FAIL$/m);
    expect(r.stdout).toMatch(/^test_sensor \(test_pass\.TestArith\) \.\.\. skipped 'needs a sensor'$/m);
    expect(r.stdout).toMatch(/^Ran 8 tests in [\d.]+s\n\nFAILED \(failures=1, errors=2, skipped=1\)$/m);
    expect(r.stdout).not.toMatch(/helper\.py must not run/);

    const junit = await checkJunit(report);
    expect(junit.problems).toEqual([]);
    expect(junit.suites.map((s) => s.name)).toEqual(['board-tests/sub/test_broken.py', 'board-tests/sub/test_error.py', 'board-tests/test_fail.py', 'board-tests/test_pass.py']);
    expect(junit.suites.every((s) => s.hostname === 'virtual:bt')).toBe(true);
    expect([total(junit, 'tests'), total(junit, 'failures'), total(junit, 'errors'), total(junit, 'skipped')]).toEqual([8, 1, 2, 1]);
    const cases = Object.fromEntries(junit.suites.flatMap((s) => s.cases).map((c) => [`${c.classname}.${c.name}`, c]));
    expect(cases['test_fail.TestParse.test_off_by_one']).toMatchObject({ kind: 'failure', type: 'AssertionError', message: 'parse is off by one' });
    expect(cases['test_fail.TestParse.test_off_by_one']!.text).toMatch(/^Traceback \(most recent call last\):\n {2}File "board-tests\/test_fail\.py", line 14, in test_off_by_one\nAssertionError: parse is off by one$/);
    expect(cases['test_error.TestBoard.test_missing']).toMatchObject({ kind: 'error', type: 'KeyError' });
    expect(cases['test_error.TestBoard.test_missing']!.text).toMatch(/File "board-tests\/sub\/test_error\.py", line 10, in test_missing/);
    expect(cases['test_error.TestBoard.test_pin']!.kind).toBe('pass');
    // A file that does not import is one error, with the board's ImportError.
    expect(cases['test_broken.test_broken']).toMatchObject({ kind: 'error', type: 'ImportError' });
    expect(cases['test_broken.test_broken']!.text).toMatch(/no_such_module_here/);
    expect(cases['test_fail.TestParse.test_ok']!.out).toBe('parsing 41\n');
    expect(cases['test_pass.TestArith.test_sensor']).toMatchObject({ kind: 'skipped', message: 'needs a sensor' });
  }, 120_000);

  it('exits 0 when every test passes, and --tap prints TAP', async () => {
    const r = await boardctl(['-p', 'virtual:bt', 'test', '--tap', 'board-tests/test_pass.py']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toBe(['TAP version 13', '1..3', 'ok 1 - test_pass.TestArith.test_mul', 'ok 2 - test_pass.TestArith.test_raises', 'ok 3 - test_pass.TestArith.test_sensor # SKIP needs a sensor', ''].join('\n'));
  }, 60_000);

  it('--timeout interrupts a file that hangs, keeps what it reported, and the next file runs', async () => {
    const r = await boardctl(['--json', '-p', 'virtual:bt', 'test', '--timeout', '5', 'board-tests-timeout']);
    expect(r.code).toBe(1);
    const docs = r.stdout.trim().split('\n').map((l) => JSON.parse(l));
    const [hang, after, summary] = docs;
    expect(hang.cases.map((c: { name: string; status: string }) => [c.name, c.status])).toEqual([['test_first', 'pass'], ['test_a_hangs', 'error']]);
    expect(hang.cases[1].message).toBe('timed out after 5 s');
    expect(after).toMatchObject({ file: 'board-tests-timeout/test_b_after.py', tests: 1, failures: 0, errors: 0 });
    expect(summary).toMatchObject({ command: 'test', ok: false, files: 2, tests: 3, errors: 1 });
  }, 90_000);

  it.skipIf(!existsSync(PYTHON))('on a fleet, one JUnit file with one suite per board and file', async () => {
    const report = join(home, 'fleet.xml');
    const r = await boardctl(['-p', 'virtual:bt,virtual:bt2', 'test', 'board-tests/test_pass.py', 'board-tests/test_fail.py', '--junit', report]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^boardctl: 2 of 2 boards failed: virtual:bt \(exit 1\), virtual:bt2 \(exit 1\)$/m);
    const junit = await checkJunit(report);
    expect(junit.problems).toEqual([]);
    expect(junit.suites.map((s) => `${s.hostname} ${s.name}`).sort()).toEqual([
      'virtual:bt board-tests/test_fail.py', 'virtual:bt board-tests/test_pass.py', 'virtual:bt2 board-tests/test_fail.py', 'virtual:bt2 board-tests/test_pass.py',
    ]);
    expect([total(junit, 'tests'), total(junit, 'failures')]).toEqual([10, 2]);
  }, 120_000);

  it('--scenario sets the virtual board\'s inputs before each file', async () => {
    const without = await boardctl(['-p', 'virtual:bt', 'test', 'board-tests-scenario']);
    expect(without.code).toBe(1);
    expect(without.stdout).toMatch(/AssertionError: 0 != 1/);
    const withInputs = await boardctl(['-p', 'virtual:bt', 'test', 'board-tests-scenario', '--scenario', 'board-tests-scenario/inputs.yaml']);
    expect(withInputs.code, withInputs.stdout).toBe(0);
    const notVirtual = await boardctl(['-p', 'socket://127.0.0.1:9', 'test', 'board-tests-scenario', '--scenario', 'board-tests-scenario/inputs.yaml']);
    expect(notVirtual.code).toBe(2);
    expect(notVirtual.stderr).toMatch(/--scenario sets a virtual board's inputs: use -p virtual/);
  }, 60_000);

  it('uses the firmware\'s own unittest where the board has one', async () => {
    const ours = new URL('../protocol/py/unittest_mini.py', import.meta.url).pathname;
    const r = await boardctl(['-p', 'virtual:bt2', 'cp', ours, ':unittest.py', '+', 'test', 'board-tests-firmware', '+', 'rm', ':unittest.py']);
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^test_the_boards_own_unittest \(test_which\.TestWhich\) \.\.\. ok$/m);
    // Without it, the same file finds the run's unittest, which is not on the board.
    const without = await boardctl(['-p', 'virtual:bt2', 'test', 'board-tests-firmware']);
    expect(without.code).toBe(1);
  }, 60_000);

  it('says so when there is nothing to run', async () => {
    const empty = mkdtempSync(join(home, 'empty-'));
    const r = await boardctl(['-p', 'virtual:bt', 'test', empty]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/no test files \(test\*\.py\) in/);
    const missing = await boardctl(['-p', 'virtual:bt', 'test', 'no/such/dir']);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/^boardctl: test: no\/such\/dir: /m);
  }, 30_000);
});

describe('test reports', () => {
  it('the driver\'s events are found mid-line, after what a test printed without a newline', () => {
    const events: Array<[string, string]> = [];
    const printed: string[] = [];
    const out = new DriverOutput((e, text) => events.push([e.e, text]), (t) => printed.push(t));
    out.push('no newline');
    out.push('\x1eBT{"e": "case", "cls": "T", "name": "test_x", "status": "pass"}\nlate\n');
    out.push('\x1eBT{"e": "end"}\n');
    expect(events).toEqual([['case', 'no newline'], ['end', 'late\n']]);
    expect(printed.join('')).toBe('no newlinelate\n');
  });

  it.skipIf(!existsSync(PYTHON))('JUnit text with markup and control characters stays well-formed', async () => {
    const file = join(home, 'odd.xml');
    const odd = 'a <b> & "c" \x1b[31m\x00';
    writeFileSync(file, junitXml([{ board: 'u0', suites: [{ file: 't.py', timeMs: 5, cases: [{ classname: 't.T', name: 'test_odd', status: 'fail', timeMs: 1, message: odd, traceback: `Traceback\nAssertionError: ${odd}`, output: odd }] }] }]));
    const junit = await checkJunit(file);
    expect(junit.problems).toEqual([]);
    expect(junit.suites[0]!.cases[0]).toMatchObject({ kind: 'failure', message: 'a <b> & "c" \ufffd[31m\ufffd', out: 'a <b> & "c" \ufffd[31m\ufffd' });
  });
});
