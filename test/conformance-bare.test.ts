// The bare-VM runner the conformance lane classifies failures with (bench/micropython-tests-bare.ts), on a small
// tests/ folder of our own: verdicts as run-tests.py gives them, on the real VM package, without ../shared.
import { afterAll, describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { firstDiff, listTests, matchPatterns, runBare } from '../bench/micropython-tests-bare.js';
import { root } from './conformance/lane.js';

const testsDir = mkdtempSync(join(tmpdir(), 'boardctl-bare-'));
const script = join(root, 'dist/bench/micropython-tests-bare.js');
const python = ['/usr/bin/python3', 'python3'].find((p) => spawnSync(p, ['-c', 'pass']).status === 0);

function put(path: string, text: string): void {
  mkdirSync(dirname(join(testsDir, path)), { recursive: true });
  writeFileSync(join(testsDir, path), text);
}

put('basics/ok.py', 'print(1 + 1)\n');
put('basics/ok.py.exp', '2\n');
put('basics/wrong.py', 'print(3)\n');
put('basics/wrong.py.exp', '4\n');
put('basics/skipped.py', 'print("SKIP")\nraise SystemExit\n');
put('basics/raises.py', 'print("before")\nraise ValueError("boom")\n');
put('basics/raises.py.exp', 'before\n');
put('basics/spins.py', 'while True:\n    pass\n');
put('basics/spins.py.exp', '');
put('basics/cpython.py', 'print("%d-%s" % (7, "x"))\nprint(sorted({3, 1, 2}))\n');
// A test importing its neighbours, from a nested package too: the test's folder is the VM's cwd.
put('import/uses_pkg.py', 'import helper\nfrom pkg import sub\nprint(helper.X, sub.Y)\n');
put('import/uses_pkg.py.exp', '5 6\n');
put('import/helper.py', 'X = 5\n');
put('import/pkg/__init__.py', '');
put('import/pkg/sub.py', 'Y = 6\n');

afterAll(() => rmSync(testsDir, { recursive: true, force: true }));

describe('bare-VM test runner', () => {
  it('lists a folder\'s tests sorted, files as given', () => {
    expect(listTests(testsDir, ['basics', 'import/uses_pkg.py'])).toEqual([
      'basics/cpython.py', 'basics/ok.py', 'basics/raises.py', 'basics/skipped.py', 'basics/spins.py', 'basics/wrong.py',
      'import/uses_pkg.py',
    ]);
  });

  it('gives run-tests.py\'s verdicts on the VM package: .exp match, SKIP, traceback + CRASH, TIMEOUT, imports', async () => {
    const tests = ['basics/ok.py', 'basics/wrong.py', 'basics/skipped.py', 'basics/raises.py', 'import/uses_pkg.py'];
    const [runs, [spins]] = await Promise.all([
      runBare(tests, { testsDir, python: python ?? 'python3', script }),
      runBare(['basics/spins.py'], { testsDir, python: python ?? 'python3', script, timeoutMs: 5000 }),
    ]);
    expect(runs.map((r) => [r.test, r.result, r.output])).toEqual([
      ['basics/ok.py', 'pass', '2\n'],
      ['basics/wrong.py', 'fail', '3\n'],
      ['basics/skipped.py', 'skip', 'SKIP\n'],
      ['basics/raises.py', 'fail', expect.stringMatching(/^before\nTraceback \(most recent call last\):\n.*ValueError: boom\n?CRASH$/s)],
      ['import/uses_pkg.py', 'pass', '5 6\n'],
    ]);
    expect([spins!.result, spins!.output]).toEqual(['fail', 'TIMEOUT']);
  }, 60_000);

  it.skipIf(!python)('takes the expected output from CPython where a test has no .exp', async () => {
    const [run] = await runBare(['basics/cpython.py'], { testsDir, python: python!, script });
    expect(run!.expected).toBe('7-x\n[1, 2, 3]\n');
    expect(run!.result).toBe('pass');
  }, 30_000);

  it('runs a program from stdin as run-perfbench.py runs the unix port: output once (after an unheard warm-up run)', () => {
    const run = (code: string) => spawnSync(process.execPath, [script, '--stdin', String(144 * 1024)], { input: code, encoding: 'latin1' });
    const ok = run("import sys\nsys.path.remove('')\nprint('once', len(sys.path) >= 0)\n");
    expect([ok.status, ok.stdout]).toEqual([0, 'once True\n']);
    const bad = run('print(1)\nraise ValueError("x")\n');
    expect(bad.status).toBe(1);
    expect(bad.stdout).toMatch(/^1\nTraceback .*ValueError: x/s);
  }, 30_000);

  it('matches pattern .exp files as run-tests.py does (escaped regex, "########" for any lines)', () => {
    const exp = 'start\n########\nid \\.\\+ (x)\nend\n';
    expect(matchPatterns(exp, 'start\nnoise\nmore\nid 42 (x)\nend\n')).toBe(exp);
    expect(matchPatterns(exp, 'start\nid (x)\nend\n')).toBe('start\n######## FAIL\nend\n');
    expect(matchPatterns('a.c\n', 'abc\n')).toBe('abc\n'); // an unescaped "." is literal
  });

  it('shows where two outputs part', () => {
    expect(firstDiff('a\nb\nc\n', 'a\nB\nc\n', 1)).toEqual(['@ line 2', '-b', '+B']);
    // Bytes come as latin1 strings; the diff shows them as UTF-8 text.
    expect(firstDiff(Buffer.from('·\n').toString('latin1'), 'x\n', 1)).toEqual(['@ line 1', '-·', '+x']);
  });
});
