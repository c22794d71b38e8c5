// The checksum guard every program travels in (protocol/checked-program.ts): its sums catch every single
// byte fault and every pair of faults that cancel in the byte sum from different blocks, and on the real
// virtual board it runs the code exactly as sent, with the user's globals as a bare program leaves them:
// after a program that ends well, one that raises, and a damaged copy the guard refused. It goes only on links
// that can damage bytes: not on the in-process virtual board's own (lossless) link.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { programChecksum } from '../protocol/checked-program.js';
import type { BoardError } from '../protocol/errors.js';
import { RawReplClient } from '../protocol/raw-repl.js';
import { TargetedFaults } from './helpers/targeted-faults.js';

const sample = new TextEncoder().encode(
  "import os\nfor name in os.listdir('/'):\n    print(name, os.stat(name)[6])\nos.rename('a.py', 'b.py')\n",
);
const same = (a: Uint8Array, b: Uint8Array) => programChecksum(a).join() === programChecksum(b).join();
const edited = (fn: (b: number[]) => void) => {
  const b = [...sample];
  fn(b);
  return Uint8Array.from(b);
};

describe('the program checksum', () => {
  it('changes for every dropped, duplicated or flipped byte', () => {
    for (let i = 0; i < sample.length; i++) {
      expect(same(sample, edited((b) => b.splice(i, 1)))).toBe(false);
      expect(same(sample, edited((b) => b.splice(i, 0, b[i]!)))).toBe(false);
      for (let bit = 0; bit < 8; bit++) expect(same(sample, edited((b) => (b[i]! ^= 1 << bit)))).toBe(false);
    }
  });

  it('changes for two flips in different blocks that cancel in the byte sum', () => {
    let pairs = 0;
    for (let i = 0; i < sample.length; i++) {
      for (let j = (i & ~7) + 8; j < sample.length; j++) {
        for (let bit = 0; bit < 8; bit++) {
          const m = 1 << bit;
          // One flip adds m, the other takes m away: the length and the byte sum stay as they were.
          if ((sample[i]! & m) === (sample[j]! & m)) continue;
          pairs++;
          expect(same(sample, edited((b) => ((b[i]! ^= m), (b[j]! ^= m))))).toBe(false);
        }
      }
    }
    expect(pairs).toBeGreaterThan(1000);
  });
});

describe('the guard on the virtual board', () => {
  const home = mkdtempSync(join(tmpdir(), 'boardctl-guard-'));
  let link: TargetedFaults;
  let board: RawReplClient;

  beforeAll(async () => {
    process.env.BOARDCTL_HOME = home;
    const { createBoard } = await import('../emulator/board-store.js');
    const { openVirtualTransport } = await import('../emulator/board.js');
    createBoard('guard');
    link = new TargetedFaults(await openVirtualTransport('virtual:guard'));
    board = new RawReplClient(link);
  }, 60_000);

  afterAll(async () => {
    await board?.close();
    const { closeAllVirtualBoards } = await import('../emulator/board.js');
    await closeAllVirtualBoards();
    rmSync(home, { recursive: true, force: true });
  });

  const names = () => board.eval('sorted(dir())');

  it('leaves the globals as the code leaves them: after a clean run, an error, and a refused damaged copy', async () => {
    expect(await names()).toBe("['__name__']");
    await board.exec('x = 1');
    expect(await names()).toBe("['__name__', 'x']");
    const err = await board.exec('def f():\n    raise ValueError("bad")\nf()', { allowError: true });
    expect(err.stderr).toBe('Traceback (most recent call last):\r\n  File "<stdin>", line 3, in <module>\r\n  File "<stdin>", line 2, in f\r\nValueError: bad\r\n');
    expect(await names()).toBe("['__name__', 'f', 'x']");
    link.arm('to-board', 'y = 2', 1, 'flip');
    await board.exec('y = 2');
    expect(link.hits).toBe(1);
    expect(await names()).toBe("['__name__', 'f', 'x', 'y']");
  }, 30_000);

  it('reports a copy damaged in the code and in the refusal too as the link\'s fault, not as the user\'s error', async () => {
    link.arm('to-board', 'z = 3', 1, 'flip');
    link.arm('to-board', 'damaged command', 2, 'flip');
    const hits = link.hits;
    const err = await board.exec('z = 3').then(() => undefined, (e: unknown) => e as BoardError);
    expect(link.hits - hits).toBe(2);
    expect(err).toMatchObject({ code: 'LINK_DAMAGED', details: { refused: false } });
    expect(await names()).not.toContain("'z'");
  }, 30_000);

  it('runs code with quotes, backslashes and non-ASCII text, and code ending in a quote or a backslash, as sent', async () => {
    const code = [String.raw`s = 'a\\' + "'''" + '"""'`, String.raw`print(s == 'a' + chr(92) + chr(39) * 3 + chr(34) * 3, 'é€', end='\\')`].join('\n');
    expect((await board.exec(code)).stdout).toBe('True é€\\');
    expect((await board.exec("print('quote')  # '")).stdout).toBe('quote\r\n');
    expect((await board.exec('print("backslash")  # \\')).stdout).toBe('backslash\r\n');
  }, 30_000);
  it('guards only where bytes can be damaged: not on the in-process link itself, on any link wrapped around it', async () => {
    const { openVirtualTransport } = await import('../emulator/board.js');
    const { DelegatingTransport } = await import('../protocol/transports/delegating.js');
    await board.close(); // one client at a time
    for (const [wrapped, guarded] of [[false, false], [true, true]] as const) {
      const inner = await openVirtualTransport('virtual:guard');
      const sent: string[] = [];
      const write = inner.write.bind(inner);
      Object.assign(inner, { write: (d: Uint8Array) => (sent.push(Buffer.from(d).toString('latin1')), write(d)) });
      const client = new RawReplClient(wrapped ? new DelegatingTransport(inner) : inner, { resume: true });
      try {
        expect((await client.exec('print(6 * 7)')).stdout).toBe('42\r\n');
        expect(sent.join('').includes('exec((lambda b:'), `wrapped: ${wrapped}`).toBe(guarded);
      } finally {
        await client.close();
      }
    }
  }, 30_000);
});
