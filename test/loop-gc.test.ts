// A program's top-level while loops are stepped by the host, so that the VM collects their garbage while they
// run (issue 11 item 7, emulator/vm/loop-rewrite.ts): on the real board runtime (worker, rings, resets), through
// boardctl's own checksum-guarded exec, a bare raw-paste exec as mpremote sends it, and main.py at boot. Each
// memory case allocates more than the host's memory ceiling for the VM: without collections during the loop the
// board would be reset by its memory watchdog.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openBoard } from '../cli/api.js';
import { openVirtualTransport } from '../emulator/board.js';
import { createBoard } from '../emulator/board-store.js';
import { VM_MEMORY_CEILING } from '../emulator/vm/memory.js';
import type { Board } from '../protocol/board.js';
import { BoardError } from '../protocol/errors.js';
import { RawReplClient } from '../protocol/raw-repl.js';
import { TestBoard } from './helpers/test-board.js';

const home = mkdtempSync(join(tmpdir(), 'boardctl-loops-'));
const MiB = 1024 * 1024;
let board: Board;

beforeAll(async () => {
  process.env.BOARDCTL_HOME = home;
  createBoard('loops', { home });
  board = await openBoard('virtual:loops', { checkPrograms: true }); // (the in-process link is lossless: no guard by default)
}, 60_000);
afterAll(async () => {
  await board?.close().catch(() => undefined);
  rmSync(home, { recursive: true, force: true });
});

// Every way a loop can end or go on, loops nested in other top-level statements, and one in a function (not
// rewritten), with the output CPython would print.
const SEMANTICS = `
import gc
n = 0
while True:
    n += 1
    if n == 3:
        continue
    if n > 5:
        break
else:
    print('not reached')
print('break', n)
k = 3
while k: k -= 1
else: print('else', k)
seen = []
for i in range(2):
    if i >= 0:
        try:
            j = 0
            while (j := j + 1) < 3 and (lambda v: v)({'a': 1}['a']):
                seen.append((i, j))
        finally:
            seen.append('f')
print(seen)
def inner():
    m = 0
    while m < 4:
        m += 1
    return m
print('inner', inner())
while n < 10000:
    junk = bytearray(100)
    n += 1
print('globals', n, 'junk' in globals())
t = 0
while t < 3:
    t += 1
    if t == 2:
        raise ValueError('at two')
`;
const SEMANTICS_OUT =
  "break 6\r\nelse 0\r\n[(0, 1), (0, 2), 'f', (1, 1), (1, 2), 'f']\r\ninner 4\r\nglobals 10000 True\r\n";

async function failure(b: Board, code: string, timeoutMs?: number): Promise<BoardError> {
  const err = await b.exec(code, { timeoutMs }).then(() => undefined, (e: unknown) => e);
  expect(err).toBeInstanceOf(BoardError);
  return err as BoardError;
}

/** A loop that allocates `total` bytes in 8 KB pieces, sleeping 1 ms every 16 of them, then reports the heap. */
const allocating = (total: number) =>
  `import gc, time\nmade = 0\nwhile made < ${total}:\n    x = bytearray(8192)\n    made += len(x)\n` +
  '    if made % (16 * 8192) == 0:\n        time.sleep_ms(1)\nprint(made, gc.mem_free() > 50_000)\n';

describe('top-level while loops stepped by the host', () => {
  it('keep break, continue, else, globals, exceptions and their line numbers', async () => {
    const err = await failure(board, SEMANTICS);
    expect(err.details.stdout).toBe(SEMANTICS_OUT);
    expect(err.message).toBe('ValueError: at two');
    expect(String(err.details.traceback)).toMatch(/^Traceback \(most recent call last\):\r?\n {2}File "<stdin>", line 40, in <module>\r?\nValueError: at two/);
    expect(String(err.details.traceback)).not.toContain('/rom/');
    // The loop's globals are the REPL's, as after any program.
    expect((await board.exec('print(n, t)')).stdout).toBe('10000 2\r\n');
    // Top-level await stays a SyntaxError, as on the board.
    expect((await failure(board, 'x = 1\nwhile await x:\n    pass')).message).toMatch(/SyntaxError/);
  });

  it('collect the garbage of a loop that allocates twice the memory ceiling; the host stays flat', async () => {
    const rss0 = process.memoryUsage().rss;
    const r = await board.exec(allocating(2 * VM_MEMORY_CEILING), { timeoutMs: 120_000 });
    expect(r.stdout).toBe(`${2 * VM_MEMORY_CEILING} True\r\n`);
    expect(process.memoryUsage().rss - rss0).toBeLessThan(48 * MiB);
  }, 150_000);

  it('stop at Ctrl-C with the loop line in the traceback, and the board answers the next command', async () => {
    const t0 = Date.now();
    const err = await failure(board, 'import time\nwhile True:\n    x = bytearray(1000)\n', 1500);
    expect(err.code).toBe('TIMEOUT');
    expect(Date.now() - t0).toBeLessThan(10_000);
    expect(String(err.details.stderr)).toMatch(/line [23], in <module>\r?\nKeyboardInterrupt/);
    expect((await board.exec('print(6 * 7)')).stdout).toBe('42\r\n');
  });

  it('step programs sent bare over raw-paste, as mpremote sends them', async () => {
    await board.close();
    const bare = new RawReplClient(await openVirtualTransport('virtual:loops', { home }), { checkPrograms: false, resume: true });
    board = bare;
    const err = await failure(bare, SEMANTICS);
    expect(err.details.stdout).toBe(SEMANTICS_OUT);
    expect(String(err.details.traceback)).toMatch(/line 40, in <module>/);
    expect((await bare.exec(allocating(2 * VM_MEMORY_CEILING), { timeoutMs: 120_000 })).stdout).toBe(`${2 * VM_MEMORY_CEILING} True\r\n`);
  }, 150_000);
});

// A board's main.py as it is usually written: the loops live in functions. Calls of them from the module (and
// from each other) are stepped; calls from anywhere else run them at once, with the same results.
const FUNCTIONS = `
def fact(n):
    r = 1
    while n > 1:
        r *= n
        n -= 1
    return r

def depth(n):
    for _ in range(1):
        if n == 0:
            return 0
    return depth(n - 1) + 1

def boom(n):
    k = 0
    while True:
        k += 1
        if k == n:
            raise ValueError('boom %d' % k)

class Acc:
    def __init__(self):
        self.items = []
    def run(self, n):
        for i in range(n):
            self.items.append(fact(i))
        return self

def main():
    seen = []
    def note(v):
        seen.append(v)
    for i in range(1, 4):
        note(fact(i))
    try:
        boom(2)
    except ValueError as e:
        note(str(e))
    note(depth(20))
    note(Acc().run(4).items)
    note([fact(k) for k in range(4)])
    note((lambda: fact(4))())
    return seen

print(main())
print(fact(5) + 1, -fact(3) ** 2, str(fact(4)) * 2)

def show(v):
    for c in str(v):
        pass
    print(v)
for k in (1, 2): show(fact(k + 2))
boom(3)
`;
const FUNCTIONS_OUT = "[1, 2, 6, 'boom 2', 20, [1, 1, 2, 6], [1, 1, 2, 6], 24]\r\n121 -36 2424\r\n6\r\n24\r\n";

/** A board's main loop in a function: `while True:` that allocates `total` bytes of garbage, then stops. */
const mainLoop = (total: number) =>
  `import gc\ndef work(n):\n    return bytearray(n)\n\ndef main():\n    made = 0\n    while True:\n` +
  `        made += len(work(8192))\n        if made >= ${total}:\n            return made\n\nprint(main(), gc.mem_free() > 10_000)\n`;

describe('loops in functions and for loops, stepped by the host', () => {
  it('keep the results of nested calls, recursion, closures, methods, exceptions and their tracebacks', async () => {
    const err = await failure(board, FUNCTIONS);
    expect(err.details.stdout).toBe(FUNCTIONS_OUT);
    expect(String(err.details.traceback)).toMatch(
      /^Traceback \(most recent call last\):\r?\n {2}File "<stdin>", line 54, in <module>\r?\n {2}File "<stdin>", line 20, in boom\r?\nValueError: boom 3/,
    );
    expect(String(err.details.traceback)).not.toContain('/rom/');
    // The functions outlive the program: called later, from the REPL, they run as any function does.
    expect((await board.exec('print(fact(6), main()[-1])')).stdout).toBe('720 24\r\n');
  });

  it("collect the garbage of a function's while True loop (200 MB), the host's memory growing under 64 MB", async () => {
    const total = 200 * MiB;
    const rss0 = process.memoryUsage().rss;
    const r = await board.exec(mainLoop(total), { timeoutMs: 120_000 });
    expect(r.stdout).toBe(`${total} True\r\n`);
    expect(process.memoryUsage().rss - rss0).toBeLessThan(64 * MiB);
  }, 150_000);

  it('collect the garbage of a top-level for loop over big ints', async () => {
    // Each `x += i` leaves a ~270-byte int behind: 200,000 of them are more than the memory ceiling.
    const r = await board.exec('x = 1 << 2000\nfor i in range(200_000):\n    x += i\nprint(x - (1 << 2000))', { timeoutMs: 120_000 });
    expect(r.stdout).toBe(`${(200_000 * 199_999) / 2}\r\n`);
  }, 150_000);
});

/** A program run on the bare VM package (nothing stepped): its output (LF line ends) and its traceback, if any. */
async function onBareVm(code: string): Promise<{ stdout: string; traceback?: string }> {
  let stdout = '';
  const { loadMicroPython } = await import('@micropython/micropython-webassembly-pyscript');
  const vm = await loadMicroPython({ stdout: (d: Uint8Array) => (stdout += Buffer.from(d).toString()), linebuffer: false });
  try {
    vm.runPython(code);
    return { stdout };
  } catch (err) {
    return { stdout, traceback: (err as Error).message };
  }
}

/**
 * A function whose loop asks for a collection (gc.collect() in a program only asks) after dropping n bytes:
 * stepped, its next iteration goes to the host, which collects, and it sees the heap free again.
 */
const probe = (name: string) =>
  `def ${name}(n):\n    for i in range(2):\n        if i == 0:\n            junk = bytearray(n)\n            junk = None\n` +
  '            gc.collect()\n    return gc.mem_free() > 90_000\n';

// The rewritten code reaches the runtime through constants of its own compiled code (loop-rewrite.ts, hooks),
// not through names: builtins stay the VM's own, a program's globals cannot get in the way, and a stepped
// function is a plain function of the program.
describe('what a program sees of its stepping', () => {
  const OLD_NAMES = ['__boardctl_gc__', '__boardctl_yield__', '__boardctl_exec__', '__boardctl_twin__', '__boardctl_call__'];

  it("leaves builtins as the VM package has them, and binds no name of its own", async () => {
    const code = `import builtins\nfor n in ${JSON.stringify(OLD_NAMES)}:\n    try:\n        eval(n)\n        print('bound', n)\n` +
      '    except NameError:\n        pass\nprint(sorted(dir(builtins)))\n';
    expect((await board.exec(code)).stdout.trim()).toBe((await onBareVm('import builtins\nprint(sorted(dir(builtins)))')).stdout.trim());
  });

  it('steps a program whose globals have the names the stepping once used', async () => {
    const shadow = `${OLD_NAMES.join(' = ')} = BaseException = None\n`;
    const rss0 = process.memoryUsage().rss;
    const total = VM_MEMORY_CEILING + 8 * MiB;
    const r = await board.exec(`${shadow}${mainLoop(total)}del ${OLD_NAMES.join(', ')}, BaseException\n`, { timeoutMs: 120_000 });
    expect(r.stdout).toBe(`${total} True\r\n`);
    expect(process.memoryUsage().rss - rss0).toBeLessThan(64 * MiB);
  }, 150_000);

  it("drives a program's asyncio.run() the same way: no name while it runs, and its globals cannot get in the way", async () => {
    const main = "import asyncio\nasync def main():\n    await asyncio.sleep_ms(1)\n    try:\n        eval('__boardctl_run__')\n" +
      "    except NameError:\n        return 'unbound'\nprint(asyncio.run(main()))\n";
    expect((await board.exec(main)).stdout).toBe('unbound\r\n');
    expect((await board.exec(`__boardctl_run__ = None\n${main.replace("return 'unbound'", "pass")}del __boardctl_run__\n`)).stdout).toBe('None\r\n');
  });

  it('wraps a function on the blank or comment line after it, its next statement, or a line at the end', async () => {
    const places = `import gc\n${probe('p1')}\n${probe('p2')}# a comment\n${probe('p3')}print(p1(60_000), p2(60_000), p3(60_000))\n`;
    expect((await board.exec(places)).stdout).toBe('True True True\r\n');
    // A program whose module code awaits nothing (its functions' loops only), with no newline at its end.
    const r = await board.exec(`def boom(n):\n    while True:\n        n -= 1\n        if n == 0:\n            raise ValueError('boom')\n\n${probe('p4').trimEnd()}`);
    expect(r.stdout).toBe('');
  });

  it('makes a stepped function a plain function: type, repr, name, and tracebacks of its own frames', async () => {
    const err = await failure(board, "print([type(f) is type(lambda: 0) and repr(f).startswith('<function %s at 0x' % f.__name__) for f in (p1, p2, p3, p4, boom)])\nboom(2)");
    expect(err.details.stdout).toBe('[True, True, True, True, True]\r\n');
    expect(err.details.traceback).toBe('Traceback (most recent call last):\r\n  File "<stdin>", line 2, in <module>\r\n  File "<stdin>", line 5, in boom\r\nValueError: boom\r\n');
  });
});

// Methods of top-level classes are stepped as top-level functions are; calls `x.m(...)` of a stepped method's
// name await it when x.m is one, else run what x.m is at once.
const METHODS = `
class Counter:
    def __init__(self):
        self.n = 0

    def count(self, k):
        while k:
            self.n += 1
            k -= 1
            if self.n == 7:
                continue
        else:
            self.done = True
        return self

    def total(self, *parts, scale=1):
        s = 0
        for p in parts:
            s += p * scale
        return s

class Loud(Counter):
    def count(self, k):
        for _ in range(1):
            super().count(k)
        return self

    def fail(self, at):
        i = 0
        while True:
            i += 1
            if i == at:
                raise KeyError(i)

c = Loud().count(10)
print(c.n, c.done, c.total(1, 2, 3, scale=2), Counter.total(c, 4), [Counter().count(2).n for _ in range(2)])
m = c.count
print(m(1).n, type(Loud.fail).__name__, Loud.fail.__name__, [].count(1))
try:
    c.fail(3)
except KeyError as e:
    print('caught', e)
c.fail(4)
`;

/** A board's main loop as a method: `while True:` that allocates `total` bytes of garbage, then stops. */
const methodLoop = (total: number) =>
  'import gc\nclass App:\n    def __init__(self):\n        self.made = 0\n\n    def main(self, total):\n        while True:\n' +
  `            self.made += len(bytearray(8192))\n            if self.made >= total:\n                return self.made\n\nprint(App().main(${total}), gc.mem_free() > 10_000)\n`;

describe('loops in methods of top-level classes, stepped by the host', () => {
  it('keep the output and the exception of an unstepped run (the bare VM package)', async () => {
    const err = await failure(board, METHODS);
    const bare = await onBareVm(METHODS);
    expect(err.details.stdout).toBe(bare.stdout.replaceAll('\n', '\r\n'));
    expect(String(err.details.traceback).replaceAll('\r\n', '\n')).toBe(bare.traceback);
    expect(bare.stdout).toContain('caught 3');
  });

  it("collect the garbage of a method's while True loop (200 MB), the host's memory growing under 64 MB", async () => {
    const total = 200 * MiB;
    const rss0 = process.memoryUsage().rss;
    expect((await board.exec(methodLoop(total), { timeoutMs: 120_000 })).stdout).toBe(`${total} True\r\n`);
    expect(process.memoryUsage().rss - rss0).toBeLessThan(64 * MiB);
  }, 150_000);

  it('pass their collection points by when their wrapper runs them (a filesystem calling a device), allocating nothing', async () => {
    // gc.collect() in a program only asks for a collection: it stays pending through the whole call, where a
    // collection point that went on asking would allocate at each of the million iterations (the ceiling's reset).
    await board.exec('class Dev:\n    def fill(self, buf, times):\n        for k in range(times):\n            for i in range(len(buf)):\n' +
      '                buf[i] = (i + k) & 255\n\nd = Dev()\n');
    const r = await board.exec('import gc\nb = bytearray(4096)\ngc.collect()\nd.fill(b, 250)\nprint(b[1000], sum(b[:256]))', { timeoutMs: 60_000 });
    expect(r.stdout).toBe('225 32640\r\n');
  }, 90_000);

  it('stop at Ctrl-C with the method in the traceback, and the board answers the next command', async () => {
    const err = await failure(board, 'class W:\n    def spin(self):\n        while True:\n            x = bytearray(1000)\n\nW().spin()\n', 1500);
    expect(err.code).toBe('TIMEOUT');
    expect(String(err.details.stderr)).toMatch(/line [34], in spin\r?\nKeyboardInterrupt/);
    expect((await board.exec('print(6 * 7)')).stdout).toBe('42\r\n');
  });
});

describe('a runaway allocation', () => {
  // Silicon fails these at once on its ~144 KiB heap; here each must end in MemoryError within seconds, not grow
  // the host toward the memory ceiling (34-80 s and a watchdog reset before).
  const RUNAWAY: Array<[string, string, string]> = [
    ['one list past the heap', '[].extend(range(10**9))', 'line 1, in <module>'],
    ['a top-level loop of live lists', 'lst = []\nwhile 1:\n    lst = [lst]', 'line 3, in <module>'],
    ['a loop of live lists in a function', 'def grow():\n    lst = []\n    while 1:\n        lst = [lst]\n\ngrow()', 'line 4, in grow'],
  ];
  it.each(RUNAWAY)('raises MemoryError within seconds: %s', async (_name, code, where) => {
    const rss0 = process.memoryUsage().rss;
    const t0 = Date.now();
    const err = await failure(board, code, 20_000);
    expect(err.message).toMatch(/^MemoryError/);
    expect(String(err.details.traceback)).toContain(where);
    expect(Date.now() - t0).toBeLessThan(10_000);
    expect(process.memoryUsage().rss - rss0).toBeLessThan(64 * MiB);
  });

  it('is MemoryError where the program catches it, and the program goes on', async () => {
    const code = 'lst = []\nwhile True:\n    try:\n        lst = [lst]\n    except MemoryError:\n        break\nn = 0\nwhile lst:\n    lst = lst[0]\n    n += 1\nprint(n > 5000)';
    expect((await board.exec(code, { timeoutMs: 20_000 })).stdout).toBe('True\r\n');
  });
});

describe('a main.py whose loop allocates past the memory ceiling', () => {
  it('runs at boot to its end with its garbage collected', async () => {
    await board.close();
    const tb = await TestBoard.open({ home, name: 'loops' });
    try {
      const total = VM_MEMORY_CEILING + 8 * MiB;
      await tb.run(`with open('main.py', 'w') as f:\n    f.write(${JSON.stringify(allocating(total))})`);
      const log = await tb.reset();
      expect(log).toContain(`${total} True\n`);
      expect(log).not.toContain('watchdog');
    } finally {
      await tb.close();
    }
  }, 60_000);
});
