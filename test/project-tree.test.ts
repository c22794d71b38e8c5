// A multi-file project as users move one onto a board (issue 11 item 1): a 30-file package tree with nested
// packages, relative imports and modules over 16 KB, copied with `boardctl cp -r` and with `boardctl sync`,
// imported and run, and a main.py that imports it at boot. Imports read modules through the board's file objects,
// whose reads must fill the VM's buffer (a short read is end of file to the VM's reader).
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { boardctl } from './helpers/boardctl.js';
import { TestBoard } from './helpers/test-board.js';

const tmp = mkdtempSync(join(tmpdir(), 'boardctl-proj-'));
const home = join(tmp, 'home');
const proj = join(tmp, 'proj');
const env = { BOARDCTL_HOME: home };

/** The project's files and the total its registry adds up to. */
function writeProject(): { files: number; total: number; names: number } {
  const files = new Map<string, string>();
  let total = 0;
  const reg = (name: string, value: number, extra = '') => {
    total += value;
    return `${extra}registry.add(${JSON.stringify(name)}, ${value})\n`;
  };
  files.set('main.py', "import app\nprint('app total', app.total(), app.count())\n");
  files.set('app/__init__.py',
    'from .core import registry\nfrom . import util, big_logic\nfrom .drivers import sensors, actuators\n\n' +
    'def total():\n    return registry.total()\n\n\ndef count():\n    return len(registry.names())\n');
  files.set('app/util.py', 'from .core import registry\n\n\ndef double(x):\n    return 2 * x\n\n\n' + reg('util', 3));
  // Over 16 KB of code: 500 functions, summed at import.
  const fns = Array.from({ length: 500 }, (_, k) => `def f${k}():\n    # function number ${k} of the generated logic module\n    return ${k}\n`);
  files.set('app/big_logic.py', `from .core import registry\n\n${fns.join('\n')}\n` +
    `registry.add('big_logic', sum(globals()['f%d' % k]() for k in range(500)))\n`);
  total += (499 * 500) / 2;
  files.set('app/core/__init__.py', '');
  files.set('app/core/registry.py',
    '_items = {}\n\n\ndef add(name, value):\n    _items[name] = value\n\n\n' +
    'def total():\n    return sum(_items.values())\n\n\ndef names():\n    return sorted(_items)\n');
  // Over 16 KB of data.
  const data = Array.from({ length: 3000 }, (_, i) => (i * 37) % 1000);
  files.set('app/core/big_table.py', `from . import registry\n\nDATA = [\n${data.map((d) => `    ${d},`).join('\n')}\n]\n` +
    "registry.add('big_table', sum(DATA))\n");
  total += data.reduce((a, b) => a + b, 0);
  files.set('app/drivers/__init__.py', 'from ..core import big_table\n');
  for (const kind of ['sensors', 'actuators']) {
    const mods = Array.from({ length: 10 }, (_, i) => `${kind[0]}${i}`);
    files.set(`app/drivers/${kind}/__init__.py`, `from . import ${mods.join(', ')}\n`);
    mods.forEach((m, i) => {
      const sibling = i > 0 ? `from .${mods[i - 1]} import VALUE as PREV\n` : 'PREV = 0\n';
      files.set(`app/drivers/${kind}/${m}.py`,
        `from ...core import registry\nfrom ... import util\n${sibling}VALUE = util.double(${i + 1})\n` +
        reg(`${kind}.${m}`, 2 * (i + 1)));
    });
  }
  for (const [path, src] of files) {
    mkdirSync(dirname(join(proj, path)), { recursive: true });
    writeFileSync(join(proj, path), src);
  }
  return { files: files.size, total, names: 23 };
}

let expected: ReturnType<typeof writeProject>;
beforeAll(() => {
  expected = writeProject();
});
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe('a 30-file project on the board', () => {
  it('has the shape the issue asks for', () => {
    expect(expected.files).toBe(30);
  });

  it.each([
    ['cp -r', 'cp-board', (name: string) => [['-p', `virtual:${name}`, 'cp', '-r', join(proj, 'app'), join(proj, 'main.py'), ':']]],
    ['sync', 'sync-board', (name: string) => [['-p', `virtual:${name}`, 'sync', proj, ':']]],
  ] as const)('copied with %s, imports and runs, and main.py runs it at boot', async (_how, name, commands) => {
    expect((await boardctl(['sim', 'create', name], env)).code).toBe(0);
    for (const args of commands(name)) {
      const r = await boardctl([...args], env, [], 60_000);
      expect(r.stderr).toBe('');
      expect(r.code).toBe(0);
    }
    const run = await boardctl(['-p', `virtual:${name}`, 'exec', 'import app\nprint(app.total(), app.count())'], env);
    expect(run.stderr).toBe('');
    expect(run.stdout.trim()).toBe(`${expected.total} ${expected.names}`);
    const board = await TestBoard.open({ home, name });
    try {
      const log = await board.reset();
      expect(log).toContain(`app total ${expected.total} ${expected.names}\n`);
      expect(log).not.toContain('Traceback');
    } finally {
      await board.close();
    }
  }, 180_000);
});
