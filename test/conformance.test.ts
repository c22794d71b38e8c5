// The conformance lane: MicroPython's own test suite (v1.27.0, the VM's version, from ../shared/fixtures) run by
// its own runner, run-tests.py, against boards served by `boardctl sim serve`, as a user would run it against an
// ESP32. The result is held against test/conformance/expected-failures.json: a failure not listed there fails
// this test; a listed test that passes is reported, so the list shrinks. Each listed failure has a kind:
//   vm          the same test fails on the bare VM package (checked here, by bench/micropython-tests-bare.ts)
//   difference  a documented difference between the virtual board and silicon (README's difference table)
//   board       a board bug that is known and posted (findings), still to be fixed: this kind must go to zero
// An entry with "when" fails only then (a timing test the board meets only while the host gives it a core): its
// pass is no news, and is reported as such rather than as a stale entry.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { firstDiff, listTests, runBare } from '../bench/micropython-tests-bare.js';
import { findFixture, root, runTestsPy, ServedBoard, stopRunners, type Fixture, type Result } from './conformance/lane.js';

const DIRS = ['basics', 'float', 'micropython', 'extmod', 'unicode', 'stress', 'misc', 'import'];
// BOARDCTL_CONFORMANCE_RESULTS=FILE writes the board's verdict per test there (to re-check the list by hand with
// bench/micropython-tests-bare.ts).
// Two boards run halves of the suite side by side: a test mostly waits on the pty round trip and the soft
// reset before it, so two runners overlap well even on two cores.
const BOARDS = Number(process.env.BOARDCTL_CONFORMANCE_BOARDS ?? 2);
const LANE_DEADLINE_MS = 15 * 60_000; // the whole CI must stay under 30 min
const MAX_RETRIES = 20;
// Runs of an unlisted failure in all: a timing test (asyncio_fair's 50 ms, asyncio_lock's 50 to 100 ms margins)
// misses its margins on a loaded host, on the board and in CPython, whose output run-tests.py takes as expected
// at the same time (with 4 CPU hogs on 2 cores CPython's asyncio_fair differed 2 of 30 times, asyncio_lock 1
// of 30; the board's sleeps were 4 to 174 ms late, CPython's 1 to 76 ms, both on time idle).
const ATTEMPTS = 3;
const bareScript = join(root, 'dist/bench/micropython-tests-bare.js');
const onBare = { pass: 'passes on the bare VM', skip: 'is skipped on the bare VM', fail: 'fails on the bare VM too' };

type Kind = 'vm' | 'difference' | 'board';
interface Expected {
  kind: Kind;
  reason: string;
  /** When a test that passes otherwise fails. */
  when?: string;
}
const listFile = join(root, 'test/conformance/expected-failures.json');
const expectedFailures = JSON.parse(readFileSync(listFile, 'utf8')) as Record<string, Expected>;

const found = findFixture();
const fx: Fixture | undefined = 'missing' in found ? undefined : found;
if (!fx) console.log(`conformance lane skipped: ${'missing' in found ? found.missing : ''}`);

/** A failure as the runner left it: the first lines where its output parts from the expected one. */
function diffOf(resultDir: string, test: string): string {
  const base = join(resultDir, test.replaceAll('/', '_'));
  const read = (ext: string) => (existsSync(base + ext) ? readFileSync(base + ext, 'latin1') : '');
  return firstDiff(read('.exp'), read('.out')).map((l) => `    ${l}`).join('\n');
}

describe.skipIf(!fx)('conformance: MicroPython v1.27.0 tests on served virtual boards', () => {
  const home = mkdtempSync(join(tmpdir(), 'boardctl-conformance-'));
  const boards: ServedBoard[] = [];
  /** Board verdict per test, and the result folder holding its .exp/.out when it failed. */
  const verdicts = new Map<string, { verdict: Result[1]; dir: string }>();
  /** Unlisted failures that passed on a later run, and on which. */
  const retriedPass = new Map<string, number>();
  const bare = (tests: string[]) => runBare(tests, { testsDir: fx!.testsDir, python: fx!.python, script: bareScript });
  /** The bare VM on every entry listed as a VM limit, run while the boards run (they mostly wait on the pty). */
  let vmListedOnBare: ReturnType<typeof bare>;

  beforeAll(async () => {
    const t0 = performance.now();
    const testsDir = fx!.testsDir;
    vmListedOnBare = bare(Object.keys(expectedFailures).filter((t) => expectedFailures[t]!.kind === 'vm'));
    // run-tests.py stops the whole run at a test that needs micropython-lib's unittest where the board has none
    // (as an ESP32's firmware has none until `mip install unittest`): those tests count as skipped here.
    const needsUnittest = (t: string) => /^\s*import unittest/m.test(readFileSync(join(testsDir, t), 'utf8'));
    const all = listTests(testsDir, DIRS).sort();
    for (const t of all.filter(needsUnittest)) verdicts.set(t, { verdict: 'skip', dir: '' });
    const tests = all.filter((t) => !needsUnittest(t));
    // import/ tests import their neighbours from the board's filesystem: copy the folder there first, as a
    // user copies a project (`cp -r`); everything else runs from the pasted test alone.
    const importTree = readdirSync(join(testsDir, 'import'))
      .filter((f) => !f.endsWith('.exp'))
      .map((f) => join(testsDir, 'import', f));
    // Each board is kept as soon as it serves, so afterAll stops it even when another one failed to start.
    await Promise.all(
      Array.from({ length: BOARDS }, async (_, i) => (boards[i] = await ServedBoard.start(home, `conf${i}`, importTree))),
    );
    const wiring = join(root, 'test/conformance/target_wiring.py');
    const runOn = (i: number, files: string[], tag: string) => {
      const resultDir = join(home, `results-${tag}`);
      mkdirSync(resultDir);
      const log = join(home, `run-tests-${tag}.log`);
      return runTestsPy(fx!, { link: boards[i]!.link, resultDir, files, wiring, log, deadlineMs: LANE_DEADLINE_MS })
        .then((outcome) => ({ outcome, resultDir }));
    };
    const halves = Array.from({ length: BOARDS }, (_, i) => tests.filter((_, k) => k % BOARDS === i));
    const runs = await Promise.all(halves.map((files, i) => runOn(i, files, String(i))));
    for (const { outcome, resultDir } of runs) {
      if (!outcome.results) throw new Error(`run-tests.py ended (exit ${outcome.code}) without results:\n${outcome.tail}`);
      for (const [test, verdict] of outcome.results) verdicts.set(test, { verdict, dir: resultDir });
    }
    const firstRun = performance.now() - t0;
    // A failure that is not listed is run again, up to ATTEMPTS runs in all, so a timing test caught by a busy
    // machine, or the test after one that hung (the board resets and drops the runner's next Ctrl-A), is
    // reported as flaky rather than failing the lane. Many new failures are a regression, not flakiness: no
    // retry then.
    let unlisted = [...verdicts].filter(([t, v]) => v.verdict === 'fail' && !expectedFailures[t]).map(([t]) => t);
    const retried = unlisted.length;
    const retry = retried > 0 && retried <= MAX_RETRIES;
    for (let attempt = 2; retry && attempt <= ATTEMPTS && unlisted.length > 0; attempt++) {
      const { outcome, resultDir } = await runOn(0, unlisted, `retry${attempt}`);
      for (const [test, verdict] of outcome.results ?? []) {
        verdicts.set(test, { verdict, dir: resultDir });
        if (verdict === 'pass') retriedPass.set(test, attempt);
      }
      unlisted = unlisted.filter((t) => !retriedPass.has(t));
    }
    // For re-checking the list by hand: the board's verdict per test.
    const dump = process.env.BOARDCTL_CONFORMANCE_RESULTS;
    if (dump) writeFileSync(dump, JSON.stringify(Object.fromEntries([...verdicts].map(([t, v]) => [t, v.verdict])), null, 1));
    const count = (v: Result[1]) => [...verdicts.values()].filter((x) => x.verdict === v).length;
    const unittest = all.length - tests.length;
    const listed = [...verdicts].filter(([t, v]) => v.verdict === 'fail' && expectedFailures[t]).length;
    // Every test of the suite in exactly one count.
    console.log(
      `conformance lane: ${all.length} tests; run-tests.py ran ${tests.length} on ${BOARDS} served boards in ` +
        `${(firstRun / 1000).toFixed(0)} s` +
        (retry ? ` (+${((performance.now() - t0 - firstRun) / 1000).toFixed(0)} s retrying ${retried})` : '') +
        `: ${count('pass')} pass${retriedPass.size ? ` (${retriedPass.size} on a later run)` : ''}` +
        `, ${count('fail')} fail (${listed} of them listed as expected)` +
        `, ${count('skip') - unittest} skipped by run-tests.py (the board lacks a feature the test needs, or its lists skip the test on this target)` +
        `, ${unittest} not run (they import unittest, which the board lacks)`,
    );
  }, LANE_DEADLINE_MS + 5 * 60_000);

  afterAll(async () => {
    stopRunners();
    await vmListedOnBare; // its node processes end on their own (30 s timeout each)
    await Promise.all(boards.map((b) => b.stop()));
    rmSync(home, { recursive: true, force: true });
  });

  it('ran every test of the suite', () => {
    const tests = listTests(fx!.testsDir, DIRS);
    expect(tests.filter((t) => !verdicts.has(t))).toEqual([]);
    expect(verdicts.size).toBeGreaterThan(800);
  });

  it('fails no test that the expected-failure list does not name', async () => {
    for (const [t, n] of retriedPass) console.log(`conformance: ${t} failed, then passed on run ${n} (flaky under load?)`);
    const fresh = [...verdicts]
      .filter(([t, v]) => v.verdict === 'fail' && !expectedFailures[t])
      .map(([t]) => t);
    if (fresh.length === 0) return;
    // Say whose each failure is: the bare VM package's (list it as kind "vm") or the board's (a bug to fix).
    const onVm = await bare(fresh);
    const report = fresh.map((t, i) => `${t} (${onBare[onVm[i]!.result]})\n${diffOf(verdicts.get(t)!.dir, t)}`);
    expect.fail(`${fresh.length} new conformance failure(s), not in test/conformance/expected-failures.json:\n${report.join('\n')}`);
  }, 5 * 60_000);

  it('reports listed failures that now pass, so the list shrinks', () => {
    const stale = Object.keys(expectedFailures).filter((t) => verdicts.get(t)?.verdict !== 'fail');
    for (const t of stale) {
      const v = verdicts.get(t)?.verdict ?? 'not run';
      const { kind, when } = expectedFailures[t]!;
      if (v === 'pass' && when) console.log(`conformance: ${t} passed this time (it fails ${when})`);
      else console.log(`conformance: ${t} is listed as an expected failure (${kind}) but ${v === 'pass' ? 'passes' : v}: remove it from the list`);
    }
    const malformed = Object.entries(expectedFailures).filter(
      ([, e]) => !['vm', 'difference', 'board'].includes(e.kind) || !e.reason || (e.when !== undefined && !e.when),
    );
    expect(malformed.map(([t]) => t)).toEqual([]);
  });

  it('lists as VM limits only failures the bare VM package has too', async () => {
    // Only where the board still fails: a listed test the board passes is reported above instead.
    const notVm = (await vmListedOnBare)
      .filter((r) => r.result !== 'fail' && verdicts.get(r.test)?.verdict === 'fail')
      .map((r) => `${r.test} (${onBare[r.result]})`);
    expect(notVm, 'listed as kind "vm" but the bare VM package does not fail them: the failure is the board\'s').toEqual([]);
    const boardKind = Object.values(expectedFailures).filter((e) => e.kind === 'board').length;
    if (boardKind) console.log(`conformance: ${boardKind} listed failures are board bugs still to fix (kind "board")`);
  }, 5 * 60_000);
});
