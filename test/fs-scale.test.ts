// Projects as they come (issue 15): thousands of small files, many small files on a nearly full board, a set of
// large files replaced by same-size ones, and names at littlefs's 255-byte limit, on the virtual board.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { Board } from '../protocol/board.js';
import { copyPaths } from '../protocol/fs/copy.js';
import { diskUsage, walkBoard } from '../protocol/fs/operations.js';
import { syncFolder } from '../protocol/fs/sync.js';
import { uploadFiles } from '../protocol/fs/upload.js';
import { virtualClient } from './helpers/virtual-client.js';

let board: Board;
const { host } = virtualClient('fs-scale', (b) => (board = b));

describe('sync at scale', () => {
  it('2000 small files sync without exhausting the board (batched helpers), and a second sync changes nothing', { timeout: 180_000 }, async () => {
    const root = join(host, 'many');
    for (let d = 0; d < 20; d++) {
      mkdirSync(join(root, `pkg${d}`), { recursive: true });
      for (let f = 0; f < 100; f++) writeFileSync(join(root, `pkg${d}`, `m${f}.py`), `V = ${d * 100 + f}\n`);
    }
    const first = await syncFolder(board, root, '/many');
    expect(first.files.filter((f) => !f.ok)).toEqual([]);
    expect(first.files).toHaveLength(2000);
    const walk = await walkBoard(board, '/many');
    expect(walk.kind === 'dir' && walk.entries.filter((e) => e.kind === 'file').length).toBe(2000);
    const again = await syncFolder(board, root, '/many');
    expect(again.plan.uploads).toEqual([]);
    expect(again.plan.unchanged).toHaveLength(2000);
  });

  it('small files are counted as littlefs stores them (inline), and files are replaced one at a time', { timeout: 120_000 }, async () => {
    const { free } = await diskUsage(board, '/');
    // Fill the board until less than 200 KB is free.
    const filler = Math.floor((free - 200 * 1024) / 4096) * 4096;
    const [fill] = await uploadFiles(board, [{ dest: '/filler.bin', data: Buffer.alloc(filler, 1) }]);
    expect(fill!.ok).toBe(true);
    // 700 files of 8 bytes would be "2.7 MB" at a block each; inline they take a few KB.
    const tiny = Array.from({ length: 700 }, (_, i) => ({ dest: `/tiny/t${i}.txt`, data: Buffer.from(`tiny${String(i).padStart(4, '0')}`) }));
    const res = await uploadFiles(board, tiny, ['/tiny']);
    expect(res.filter((r) => !r.ok)).toEqual([]);
    // 3 files of 60 KB replaced by same-size ones: each needs only its own room while it is written.
    const big = (fill: number) => Array.from({ length: 3 }, (_, i) => ({ dest: `/big${i}.bin`, data: Buffer.alloc(60 * 1024, fill + i) }));
    await uploadFiles(board, [{ dest: '/filler.bin', data: Buffer.alloc(4096) }]);
    expect((await uploadFiles(board, big(1))).every((r) => r.ok)).toBe(true);
    const room = (await diskUsage(board, '/')).free;
    await uploadFiles(board, [{ dest: '/filler.bin', data: Buffer.alloc(Math.floor((room - 100 * 1024) / 4096) * 4096 + 4096, 2) }]);
    expect((await diskUsage(board, '/')).free).toBeLessThan(3 * 60 * 1024);
    expect((await uploadFiles(board, big(7))).every((r) => r.ok)).toBe(true);
  });
});

describe('long names', () => {
  it('a 255-byte name copies up and down (the temp name is short, whatever the target)', async () => {
    const name = `${'n'.repeat(252)}.py`;
    writeFileSync(join(host, name), 'LONG = 1\n');
    const up = await copyPaths(board, [join(host, name)], ':/');
    expect(up).toMatchObject([{ ok: true }]);
    const back = join(host, 'back');
    mkdirSync(back);
    const down = await copyPaths(board, [`:/${name}`], `${back}/`);
    expect(down).toMatchObject([{ ok: true }]);
  });
});
