// MicroPython's own tests (tests/ of the micropython repository) on the bare VM package, without our board: the
// baseline the conformance lane classifies the board's failures against. A test that fails here too is a limit
// of @micropython/micropython-webassembly-pyscript; one that passes here and fails on the board is the board's.
//
//   node dist/bench/micropython-tests-bare.js [--tests DIR] [--python PY] [--heapsize BYTES] [--json FILE]
//        basics/string_format.py extmod/ ...   (test files or directories, relative to DIR)
//
// Each test runs in a fresh VM in its own node process (a JS stack overflow or a hang stays contained), with the
// test's directory mirrored into the VM's RAM filesystem as its cwd (as run-tests.py runs the unix port in the
// test's directory). The output is compared as run-tests.py compares it: against TEST.exp, else against CPython
// running the test; "SKIP" on its own is a skip.
import { execFile, spawn } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export type Verdict = 'pass' | 'fail' | 'skip';

export interface TestRun {
  test: string;
  result: Verdict;
  /** The VM's output (newlines normalised), with CRASH or TIMEOUT appended as run-tests.py does. */
  output: string;
  expected: string;
}

export interface BareOptions {
  /** The tests/ folder of MicroPython's repository. */
  testsDir: string;
  /** A CPython 3, for tests that have no .exp file. */
  python: string;
  heapSize?: number;
  jobs?: number;
  /** Per test, as run-tests.py's MICROPY_TEST_TIMEOUT (30 s). */
  timeoutMs?: number;
  /** This runner compiled to JavaScript, when it is loaded from its TypeScript source (vitest). */
  script?: string;
  /** Called as each test ends (in the order they end). */
  onResult?: (run: TestRun) => void;
}

// The package's own command line (the one run-tests.py drives with -t webassembly) starts with this heap.
const DEFAULT_HEAP = 128 * 1024;
const SELF = fileURLToPath(import.meta.url);

/** Newlines as run-tests.py normalises them (CRLF and a pty's CRCRLF become LF). */
export function normalizeNewlines(s: string): string {
  return s.replaceAll('\r\r\n', '\n').replaceAll('\r\n', '\n');
}

/** Expected output of a test as run-tests.py takes it: TEST.exp, else what CPython prints running it. */
export async function expectedOutput(testsDir: string, test: string, python: string): Promise<string> {
  const file = join(testsDir, test);
  if (existsSync(`${file}.exp`)) return normalizeNewlines(readFileSync(`${file}.exp`, 'latin1'));
  return new Promise((resolveOut) => {
    execFile(
      python,
      ['-BS', file],
      { cwd: dirname(file), encoding: 'latin1', env: { ...process.env, PYTHONIOENCODING: 'utf-8' }, maxBuffer: 64 << 20 },
      (err, stdout, stderr) => {
        const out = normalizeNewlines(stdout + stderr);
        resolveOut(err ? `CPYTHON3 CRASH:\n${out}` : out);
      },
    );
  });
}

// Tests whose .exp lines are patterns (run-tests.py's tests_with_regex_output).
const REGEX_OUTPUT = new Set([
  'basics/builtin_help.py',
  'basics/bytes_compare3.py',
  'micropython/meminfo.py',
  'misc/sys_settrace_cov.py',
]);
const ANY_LINES = '########\n';

/** An .exp line as run-tests.py reads it: regex characters are literal unless escaped; CRs allowed before LF. */
function expLinePattern(line: string): RegExp {
  let re = '';
  for (let i = 0; i < line.length; i++) {
    const c = line[i]!;
    if (c === '\\' && i + 1 < line.length) re += line[++i];
    else re += '()[]{}.*+^$'.includes(c) ? `\\${c}` : c;
  }
  return new RegExp(`^${re.endsWith('\n') ? `${re.slice(0, -1)}\r*\n` : re}`, 's');
}

/**
 * The output as run-tests.py rewrites it for a pattern .exp: each line a pattern matches becomes that .exp line,
 * and the lines a "########" line stands for collapse into it; the result is then compared as usual.
 */
export function matchPatterns(expected: string, output: string): string {
  const exp = expected.split(/(?<=\n)/);
  const out = output.split(/(?<=\n)/).map((l) => (l.endsWith('\n') ? l : `${l}\n`));
  let j = 0;
  for (let i = 0; i < exp.length && j < out.length; i++) {
    if (exp[i] === ANY_LINES) {
      const next = expLinePattern(exp[i + 1] ?? '');
      let skip = 0;
      while (j + skip < out.length && !next.test(out[j + skip]!)) skip++;
      if (j + skip >= out.length) {
        out[j] = '######## FAIL\n';
        break;
      }
      out.splice(j, skip, ANY_LINES);
    } else if (expLinePattern(exp[i]!).test(out[j]!)) out[j] = exp[i]!;
    j++;
  }
  return out.join('');
}

/** The first lines where two outputs (bytes as latin1 strings) part, as "-expected" / "+actual" UTF-8 lines. */
export function firstDiff(expected: string, actual: string, context = 3): string[] {
  const lines = (s: string) => Buffer.from(s, 'latin1').toString('utf8').split('\n');
  const e = lines(expected);
  const a = lines(actual);
  let i = 0;
  while (i < e.length && i < a.length && e[i] === a[i]) i++;
  return [
    `@ line ${i + 1}`,
    ...e.slice(i, i + context).map((l) => `-${l}`),
    ...a.slice(i, i + context).map((l) => `+${l}`),
  ];
}

/** Test files named by paths relative to testsDir: files as given, directories as their *.py (sorted). */
export function listTests(testsDir: string, paths: string[]): string[] {
  const out: string[] = [];
  for (const p of paths) {
    const abs = join(testsDir, p);
    if (statSync(abs).isDirectory()) {
      for (const f of readdirSync(abs).sort()) if (f.endsWith('.py')) out.push(join(p, f).replaceAll('\\', '/'));
    } else out.push(p);
  }
  return out;
}

function runChild(script: string, testsDir: string, test: string, heapSize: number, timeoutMs: number): Promise<string> {
  return new Promise((resolveOut) => {
    const child = spawn(process.execPath, [script, '--child', testsDir, test, String(heapSize)], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const chunks: Buffer[] = [];
    child.stdout.on('data', (d: Buffer) => chunks.push(d));
    child.stderr.on('data', (d: Buffer) => chunks.push(d));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      const out = Buffer.concat(chunks).toString('latin1');
      resolveOut(signal === 'SIGKILL' ? `${out}TIMEOUT` : code === 0 ? out : `${out}CRASH`);
    });
  });
}

/** Run tests on the bare VM package; results in the order given. */
export async function runBare(tests: string[], opts: BareOptions): Promise<TestRun[]> {
  const results: TestRun[] = new Array(tests.length);
  let next = 0;
  const worker = async () => {
    while (next < tests.length) {
      const i = next++;
      const test = tests[i]!;
      const [raw, expected] = await Promise.all([
        runChild(opts.script ?? SELF, opts.testsDir, test, opts.heapSize ?? DEFAULT_HEAP, opts.timeoutMs ?? 30_000),
        expectedOutput(opts.testsDir, test, opts.python),
      ]);
      let output = normalizeNewlines(raw);
      if (REGEX_OUTPUT.has(test) && !/(CRASH|TIMEOUT)$/.test(output)) output = matchPatterns(expected, output);
      const result: Verdict = output === 'SKIP\n' ? 'skip' : output === expected ? 'pass' : 'fail';
      results[i] = { test, result, output, expected };
      opts.onResult?.(results[i]!);
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, opts.jobs ?? 2) }, worker));
  return results;
}

// ---- child: one test in one fresh VM ------------------------------------------------------------------------

interface ChildVm {
  runPython(code: string): unknown;
  FS: { mkdirTree(path: string): void; writeFile(path: string, data: Uint8Array): void; chdir(path: string): void };
}

function mirror(vm: ChildVm, hostDir: string, vmDir: string): void {
  vm.FS.mkdirTree(vmDir);
  for (const entry of readdirSync(hostDir, { withFileTypes: true })) {
    const host = join(hostDir, entry.name);
    if (entry.isDirectory()) mirror(vm, host, `${vmDir}/${entry.name}`);
    else if (entry.isFile() && !entry.name.endsWith('.exp')) vm.FS.writeFile(`${vmDir}/${entry.name}`, readFileSync(host));
  }
}

async function loadVm(heapSize: number, heard: () => boolean = () => true): Promise<ChildVm> {
  const out = (data: Uint8Array) => heard() && process.stdout.write(data);
  const { loadMicroPython } = await import('@micropython/micropython-webassembly-pyscript');
  return (await loadMicroPython({ stdout: out, stderr: out, linebuffer: false, heapsize: heapSize })) as ChildVm;
}

/** Run a program as the unix port runs one: its output, then the exit code says how it ended. */
function runProgram(vm: ChildVm, code: string): void {
  let failed = false;
  try {
    vm.runPython(code);
  } catch (err) {
    const e = err as { name?: string; type?: string; message?: string };
    if (e.name !== 'PythonError' || e.type !== 'SystemExit') {
      process.stdout.write(e.message ?? String(err));
      failed = true;
    }
  }
  // Let stdout drain before the exit code says how the test ended.
  process.stdout.write('', () => process.exit(failed ? 1 : 0));
}

async function child(testsDir: string, test: string, heapSize: number): Promise<void> {
  const vm = await loadVm(heapSize);
  const file = join(testsDir, test);
  const cwd = `/tests/${relative(testsDir, dirname(file)).replaceAll('\\', '/')}`;
  mirror(vm, dirname(file), cwd);
  // The C library's cwd, which the VM's filesystem uses; chdir from Python would import os before the test.
  vm.FS.chdir(cwd);
  runProgram(vm, readFileSync(file, 'utf8'));
}

/**
 * `--stdin HEAP`: the program on standard input, as run-perfbench.py feeds the unix port (MICROPY_MICROPYTHON).
 * It runs twice in one VM, first unheard, so the VM starts as a board's long-running one does: its code compiled
 * by V8 (WebAssembly functions are compiled when first called) and its heap areas grown. Between the runs the
 * garbage is collected and sys.path restored (the benchmark header removes '').
 */
async function stdinChild(heapSize: number): Promise<void> {
  const chunks: Buffer[] = [];
  for await (const c of process.stdin) chunks.push(c as Buffer);
  const code = Buffer.concat(chunks).toString('utf8');
  let heard = false;
  const vm = await loadVm(heapSize, () => heard);
  try {
    vm.runPython('import sys\n_before = set(sys.modules)');
    vm.runPython(code);
  } catch {
    // the heard run reports it
  }
  try {
    // Undo what the program left: its imports, its mounts (the import benchmarks mount a VFS), sys.path.
    vm.runPython(
      "import gc, os, sys, vfs\nif '' not in sys.path: sys.path.insert(0, '')\n" +
        "for _m in set(sys.modules) - _before: del sys.modules[_m]\nos.chdir('/')\n" +
        "for _fs, _p in vfs.mount():\n    if _p != '/': vfs.umount(_p)\ngc.collect()",
    );
  } catch {
    // the heard run reports it
  }
  heard = true;
  runProgram(vm, code);
}

// ---- command line -------------------------------------------------------------------------------------------

async function main(argv: string[]): Promise<number> {
  if (argv[0] === '--child') {
    await child(argv[1]!, argv[2]!, Number(argv[3]));
    return -1;
  }
  if (argv[0] === '--stdin') {
    await stdinChild(Number(argv[1] ?? DEFAULT_HEAP));
    return -1;
  }
  const opt = (name: string): string | undefined => {
    const i = argv.indexOf(name);
    if (i < 0) return undefined;
    const v = argv[i + 1];
    argv.splice(i, 2);
    return v;
  };
  const shared = process.env.BOARDCTL_SHARED ?? join(dirname(SELF), '../../../shared');
  const testsDir = resolve(opt('--tests') ?? join(shared, 'fixtures/micropython-tests/tests'));
  const python = opt('--python') ?? '/usr/bin/python3';
  const heap = opt('--heapsize');
  const json = opt('--json');
  if (argv.length === 0 || !existsSync(testsDir)) {
    console.error('usage: micropython-tests-bare [--tests DIR] [--python PY] [--heapsize BYTES] [--json FILE] TEST|DIR...');
    return 2;
  }
  const tests = listTests(testsDir, argv);
  const show = (r: TestRun) => {
    console.log(`${r.result.padEnd(5)} ${r.test}`);
    if (r.result === 'fail') for (const l of firstDiff(r.expected, r.output)) console.log(`      ${l}`);
  };
  const results = await runBare(tests, { testsDir, python, heapSize: heap ? Number(heap) : undefined, onResult: show });
  const count = (v: Verdict) => results.filter((r) => r.result === v).length;
  console.log(`${count('pass')} passed, ${count('fail')} failed, ${count('skip')} skipped (bare VM package)`);
  if (json) writeFileSync(json, JSON.stringify(results, null, 1));
  return count('fail') ? 1 : 0;
}

if (process.argv[1] && resolve(process.argv[1]) === SELF) {
  main(process.argv.slice(2)).then((code) => {
    if (code >= 0) process.exitCode = code;
  });
}
