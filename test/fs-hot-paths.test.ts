// The session's hot paths (issue 20): an ls of a big folder is exact whatever the names, and the commands
// that move no file data take as few programs on the link as they should (counted on the link itself, so a
// regression that adds a round trip fails here; their speed is bench/cli's business).
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { openBoard } from '../cli/api.js';
import type { Board } from '../protocol/board.js';
import { listPaths, resolveOnBoard } from '../protocol/fs/operations.js';
import { syncFolder } from '../protocol/fs/sync.js';
import { virtualClient } from './helpers/virtual-client.js';

const NAME = 'fs-hot-paths';
let board: Board;
const { host } = virtualClient(NAME, (b) => (board = b));

/** Names a listing must survive: quotes, escapes, control bytes, non-ASCII, and text shaped like its own lines. */
const ODD = ["it's", 'say "hi"', 'both \'"', 'back\\slash', 'new\nline', 'cr\rtab\t', 'del\x7f', 'ünï cödé', '漢字.py', ' lead', 'trail ', "1'x'", 'd', "d'sub'", 'N 3', "F 0 0 'x'", '12', '.hidden'];

/** Programs the board started while `step` ran: each raw-paste program is accepted with `R\x01`. */
async function programsDuring<T>(b: Board, step: () => Promise<T>): Promise<{ programs: number; result: T }> {
  let seen = '';
  let programs = 0;
  const off = b.transport.onData((chunk) => {
    seen += Buffer.from(chunk).toString('latin1');
    programs += seen.split('R\x01').length - 1;
    seen = seen.slice(-1);
  });
  try {
    return { result: await step(), programs };
  } finally {
    off();
  }
}

describe('ls of a big folder', () => {
  it('lists 300 entries exactly: odd names, every size, empty files and directories', async () => {
    const files = new Map<string, number>();
    for (let i = 0; files.size < 290; i++) files.set(i < ODD.length ? ODD[i]! : `f${i}.txt`, (i * 37) % 700);
    const dirs = Array.from({ length: 10 }, (_, i) => (i === 0 ? "dir 'q'" : `sub${i}`));
    const spec = JSON.stringify([[...files], dirs]);
    await board.exec(
      `import os,json\nF,D=json.loads(${JSON.stringify(spec)})\nos.mkdir('/many')\nfor n,z in F:\n with open('/many/'+n,'wb') as f:f.write(b'x'*z)\nfor d in D:os.mkdir('/many/'+d)`,
    );
    const [listing] = await listPaths(board, ['/many']);
    expect(listing?.ok).toBe(true);
    const entries = listing!.ok ? listing!.value.entries : [];
    const expected = [...[...files].map(([name, size]) => ({ name, kind: 'file', size })), ...dirs.map((name) => ({ name, kind: 'dir', size: 0 }))];
    const byName = (a: { name: string }, b: { name: string }) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0);
    expect(entries).toEqual(expected.sort(byName));
    // -l: every entry has a time, and the same names and sizes.
    const [long] = await listPaths(board, ['/many'], { long: true });
    const longEntries = long!.ok ? long!.value.entries : [];
    expect(longEntries.map(({ name, size }) => ({ name, size }))).toEqual(entries.map(({ name, size }) => ({ name, size })));
    expect(longEntries.every((e) => Number.isInteger(e.mtime))).toBe(true);
  });
});

describe('programs on the link', () => {
  it('on a fresh connection ls takes one program (two for a relative path: the short probe first); an unchanged sync is one; one global stays', async () => {
    const tree = join(host, 'tree');
    for (let d = 0; d < 4; d++) {
      mkdirSync(join(tree, `pkg${d}`), { recursive: true });
      for (let f = 0; f < 10; f++) writeFileSync(join(tree, `pkg${d}`, `m${f}.py`), `V = ${d * 10 + f}\n`);
    }
    // A new client on the same board: nothing probed, no helper library defined yet.
    await board.close();
    const fresh = await openBoard(`virtual:${NAME}`);
    try {
      // As `boardctl ls` does it: the paths resolved, then listed. An absolute path needs no probe at all (one
      // program, which defines the listing library); a relative one needs the cwd: the short probe, then the
      // listing's call.
      const absolute = await programsDuring(fresh, async () => listPaths(fresh, await resolveOnBoard(fresh, ['/'])));
      expect(absolute.result[0]?.ok).toBe(true);
      expect(absolute.programs).toBe(1);
      const relative = await programsDuring(fresh, async () => listPaths(fresh, await resolveOnBoard(fresh, [''])));
      expect(relative.result[0]?.ok && relative.result[0].value.entries).toEqual(absolute.result[0]?.ok && absolute.result[0].value.entries);
      expect(relative.programs).toBe(2);
      const first = await syncFolder(fresh, tree, '/tree');
      expect(first.plan.uploads).toHaveLength(40);
      const again = await programsDuring(fresh, () => syncFolder(fresh, tree, '/tree'));
      expect(again.result.plan.unchanged).toHaveLength(40);
      expect(again.result.plan.uploads).toHaveLength(0);
      expect(again.programs).toBe(1);
      // A changed byte in a file of the same size is still seen (the walk's digests, not its sizes).
      writeFileSync(join(tree, 'pkg2', 'm3.py'), 'V = 24\n');
      const changed = await programsDuring(fresh, () => syncFolder(fresh, tree, '/tree'));
      expect(changed.result.plan.uploads).toEqual([{ rel: 'pkg2/m3.py', reason: 'changed' }]);
      // A program that clears its globals takes boardctl's helper libraries with it: the next ls notices
      // (one failed call) and sends its library again, and the listing is whole.
      await fresh.exec('for k in list(globals()):\n if k.startswith("_bc"):del globals()[k]');
      const lost = await programsDuring(fresh, () => listPaths(fresh, ['/tree']));
      expect(lost.result[0]!.ok && lost.result[0]!.value.entries.map((e) => e.name)).toEqual(['pkg0', 'pkg1', 'pkg2', 'pkg3']);
      expect(lost.programs).toBe(2);
      // Of boardctl's helpers one name stays in the user's globals, whatever ran: the holder of the
      // libraries (the long path list went through a temporary global, removed after the call).
      expect(await listPaths(fresh, Array.from({ length: 60 }, () => '/tree/pkg1'))).toHaveLength(60);
      const names = await fresh.exec('print(sorted(k for k in globals() if k.startswith("_bc")))');
      expect(names.stdout.trim()).toBe("['_bc']");
    } finally {
      await fresh.close();
    }
  });
});
