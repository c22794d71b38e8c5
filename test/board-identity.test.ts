// The board is its port, exactly (issue 11 items 4, 5, 8, 9): the real sys, os and time modules with the port's
// identity; a pollable stdin of the port's type; the port's module set and no more; a microsecond clock; and no
// trace of the runtime that does it (no frames in tracebacks, no VfsPosix, nothing in sys.modules).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PROFILES, type ProfileName } from '../emulator/profiles.js';
import { absentModules, INTERACTIVE_MODULES, presentModules } from '../emulator/port-modules.js';
import { TestBoard } from './helpers/test-board.js';

/** The VM package's own extras (C and frozen) that no port's firmware has. */
const VM_EXTRAS = ['js', 'jsffi', 'asyncio', 'logging', 'unittest', 'pathlib', 'html', 'functools', 'copy', 'tarfile', 'zlib'];

describe.each(Object.keys(PROFILES) as ProfileName[])('the %s board', (profile) => {
  let board: TestBoard;
  beforeAll(async () => {
    board = await TestBoard.open({ profile });
  });
  afterAll(() => board.close());
  const table = PROFILES[profile].modules;

  it("lists the port's modules in help('modules'), imports each, and nothing else", async () => {
    const listed = (await board.run("help('modules')")).trim().split('\n');
    expect(listed.pop()).toBe('Plus any modules on the filesystem');
    expect(listed.join(' ').split(/\s+/).sort()).toEqual(presentModules(table));
    // Importing webrepl_setup starts its dialog, as on the firmware (test/webrepl.test.ts runs it).
    const present = [...new Set(presentModules(table).map((m) => m.split('/')[0]))].filter((m) => !INTERACTIVE_MODULES.has(m));
    const absent = Object.keys(absentModules(table));
    const out = await board.run(`
def imports(name):
    try:
        __import__(name)
        return 'ok'
    except ImportError as e:
        return str(e)
for n in ${JSON.stringify([...present, ...absent, ...VM_EXTRAS])}:
    print(n, imports(n))
`);
    const result = Object.fromEntries(out.trim().split('\n').map((l) => [l.split(' ')[0], l.slice(l.indexOf(' ') + 1)]));
    for (const n of present) expect(result[n], n).toBe('ok');
    for (const n of absent) expect(result[n], n).toBe(`no module named '${n}' (${absentModules(table)[n]})`);
    for (const n of VM_EXTRAS.filter((x) => !present.includes(x) && !absent.includes(x))) {
      expect(result[n], n).toBe(`no module named '${n}'`);
    }
  });

  it('has the real sys, os and time, with the port identity', async () => {
    const p = PROFILES[profile];
    const out = await board.run(`
import sys, os, time
print(sys.platform, sys.implementation._machine, sys.implementation._build)
print(os.uname())
print("%s " * 5 % os.uname())
print(type(sys).__name__, type(os).__name__, type(time).__name__, 'sys' in sys.modules)
for stmt in ('from os import missing_name', 'from time import missing_name', 'sys.x = 1', 'from sys import nothing'):
    try:
        exec(stmt)
        print('allowed', stmt)
    except (ImportError, AttributeError) as e:
        print(type(e).__name__)
r = os.urandom(16)
print(type(r).__name__, len(r), r != os.urandom(16))
`);
    const machine = `${p.boardName} with ${p.mcuName}`;
    expect(out).toBe(
      `${p.platform} ${machine} ${p.buildName}\n` +
        `(sysname='${p.sysname}', nodename='${p.sysname}', release='1.27.0', version='v1.27.0 on 2025-12-10', machine='${machine}')\n` +
        `${p.sysname} ${p.sysname} 1.27.0 v1.27.0 on 2025-12-10 ${machine} \n` +
        'module module module False\nImportError\nImportError\nAttributeError\nImportError\nbytes 16 True\n',
    );
  });

  it("shows no modules of ours inside the firmware's C modules (`from machine import *` and the REPL's completion get the port's names only), and names files as the firmware: none for C modules, 'asyncio/core.py' for frozen ones", async () => {
    const cModules = ['machine', 'esp32', 'network', 'socket', 'tls', 'rp2'].filter((m) => presentModules(table).includes(m));
    const out = await board.run(`
for name in ${JSON.stringify(cModules)}:
    m = __import__(name)
    print(name, [n for n in dir(m) if n[0] != '_' and type(getattr(m, n)) is type(m)], repr(m), hasattr(m, '__file__'))
`);
    // rp2 is frozen Python on the firmware (ports/rp2/modules/rp2.py over the C _rp2): a frozen module's file, as there.
    expect(out).toBe(cModules.map((m) => (m === 'rp2' ? "rp2 [] <module 'rp2' from 'rp2.py'> True\n" : `${m} [] <module '${m}'> False\n`)).join(''));
    const frozen = await board.run('import asyncio, asyncio.core\nprint(repr(asyncio), asyncio.core.__file__)');
    expect(frozen).toBe("<module 'asyncio' from 'asyncio/__init__.py'> asyncio/core.py\n");
  });

  it('hides the worker: no VfsPosix, no runtime modules, no runtime frames in tracebacks', async () => {
    const out = await board.run(`
import sys, os, vfs
print('VfsPosix' in dir(vfs), 'VfsPosix' in dir(os), [m[1] for m in vfs.mount()])
# Nothing of the runtime, nothing of the VM package's own frozen modules.
print([m for m in sys.modules if m.startswith('_') or getattr(sys.modules[m], '__file__', '').startswith('.frozen')])
for name in ('_boardrt', '_patch', '_board', '_hw', '_bfs'):
    try:
        __import__(name)
        print('imported', name)
    except ImportError:
        pass
`);
    expect(out).toBe("False False ['/']\n[]\n");
    for (const code of ['import no_such_module', "open('/missing.txt')", 'import os\nos.listdir("/nope")']) {
      const err = await board.run(code).then(() => '', (e: Error) => e.message);
      expect(err, code).toMatch(/^Traceback \(most recent call last\):\n {2}File "<stdin>", line \d+, in <module>\n(ImportError|OSError)/);
      expect(err, code).not.toContain('/rom/');
    }
  });
});

describe('stdin, the clock and interrupts on the esp32 board', () => {
  let board: TestBoard;
  beforeAll(async () => {
    board = await TestBoard.open();
  });
  afterAll(() => board.close());

  it("stdin is a pollable stream of the port's type", async () => {
    expect(await board.run('import sys\nprint(str(sys.stdin), str(sys.stdin.buffer), type(sys.stdin).__name__)'))
      .toBe('<io.TextIOWrapper 0> <io.FileIO 0> TextIOWrapper\n');
    await board.con.send(
      'import select, sys\np = select.poll()\np.register(sys.stdin, select.POLLIN)\nprint(p.poll(0))\nprint("ready")\n' +
        'r = p.poll(5000)\nprint(len(r), r[0][1] & select.POLLIN, sys.stdin.read(1))\x04',
    );
    await board.con.expect('ready\r\n');
    await board.con.send('x');
    expect(await board.con.expect('\x04')).toBe('1 1 x\r\n\x04');
    await board.con.expect('\x04>');
  });

  it('counts microseconds in ticks_us and a running ticks_cpu', async () => {
    const out = await board.run(`
import time
us = [time.ticks_us() for _ in range(200)]
steps = [time.ticks_diff(b, a) for a, b in zip(us, us[1:])]
c = [time.ticks_cpu() for _ in range(3)]
t0, m0 = time.ticks_us(), time.ticks_ms()
time.sleep_ms(50)
print(min(steps) >= 0, any(0 < s < 1000 for s in steps), c[0] != 0 and c[0] != c[1] != c[2])
print(45 <= time.ticks_diff(time.ticks_us(), t0) // 1000 <= 1000, 45 <= time.ticks_diff(time.ticks_ms(), m0) <= 1000)
`);
    expect(out).toBe('True True True\nTrue True\n');
  });

  it('reports Ctrl-C in time.sleep at the caller, as the firmware does', async () => {
    await board.con.send('import time\nprint("sleeping")\ntime.sleep(10)\x04');
    await board.con.expect('sleeping\r\n');
    await board.con.send('\x03');
    const err = await board.con.expect('\x04>');
    expect(err).toBe('\x04Traceback (most recent call last):\r\n  File "<stdin>", line 3, in <module>\r\nKeyboardInterrupt: \r\n\x04>');
  });
});
