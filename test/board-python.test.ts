// Board-side Python (emulator/py): every module of every port family compiles on the board's own VM, and each
// family gets common/ plus its own folder.
import { afterEach, describe, expect, it } from 'vitest';
import { frozenFiles } from '../emulator/vm/frozen.js';
import { TestBoard } from './helpers/test-board.js';

const BATCH_CHARS = 12_000;
let board: TestBoard | undefined;
afterEach(async () => {
  await board?.close();
  board = undefined;
});

describe('board-side Python', () => {
  it('lays out each family as common/ plus its own folder', () => {
    const esp32 = [...frozenFiles('esp32').keys()];
    const rp2 = [...frozenFiles('rp2').keys()];
    expect(esp32).toEqual(expect.arrayContaining(['_boardrt.py', '_boot.py', 'machine.py', 'esp32.py', 'esp.py']));
    expect(esp32).not.toContain('rp2.py');
    expect(rp2).toEqual(expect.arrayContaining(['_boardrt.py', 'machine.py', 'rp2.py']));
    expect(rp2).not.toContain('esp32.py');
  });

  it.each([['esp32', 'esp32'], ['rp2-pico', 'rp2']] as const)('compiles every module on the %s board', async (profile, family) => {
    board = await TestBoard.open({ profile });
    const files = [...frozenFiles(family)];
    // In batches of at most BATCH_CHARS of source (a big file alone): the sources travel as string literals, and
    // a batch must fit the board's heap beside the compiler's own use, as on a board's ~110 KB.
    const batches: (typeof files)[] = [];
    for (const file of files) {
      const last = batches.at(-1);
      if (last && last.reduce((n, [, src]) => n + src.length, 0) + file[1].length <= BATCH_CHARS) last.push(file);
      else batches.push([file]);
    }
    const printed: string[] = [];
    for (const batch of batches) {
      const out = await board.run(
        `import json\nfor path, src in json.loads(${JSON.stringify(JSON.stringify(batch))}):\n` +
          `    compile(src, path, 'exec')\n    print(path)\n    del src`,
      );
      printed.push(...out.trim().split('\n'));
    }
    expect(printed.sort()).toEqual(files.map(([p]) => p).sort());
    // A syntax error does fail the same way.
    await expect(board.run(`compile('def f(:\\n', 'bad.py', 'exec')`)).rejects.toThrow(/SyntaxError/);
  });
});
