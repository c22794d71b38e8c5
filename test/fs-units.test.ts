// Pure parts of file transfer: escaping, board-path rules, repr parsing, errno parsing, ignore rules,
// the sync planner and host-path safety.
import { describe, expect, it } from 'vitest';
import { boardBasename, boardDirname, joinBoardPath, resolveBoardPath } from '../protocol/fs/board-path.js';
import { boardFsError, mapBoardException, parseOSError } from '../protocol/fs/errno.js';
import { BoardError } from '../protocol/errors.js';
import { safeHostJoin, unsafeNameReason } from '../protocol/fs/host-names.js';
import { IgnoreRules, DEFAULT_IGNORES } from '../protocol/fs/ignore.js';
import { parsePyStr, splitReprLine } from '../protocol/fs/py-repr.js';
import { planSync } from '../protocol/fs/sync-plan.js';
import {
  escapeBytes,
  escapedLength,
  escapeReplacements,
  FROM_BOARD,
  pyBytesLiteral,
  pyEscapeExpr,
  StdoutLines,
  unescapeBytes,
} from '../protocol/fs/wire.js';
import { formatTree } from '../cli/fs/format.js';

describe('wire escaping', () => {
  it('never lets Ctrl-C or Ctrl-D through and round-trips every byte value', () => {
    const all = Uint8Array.from({ length: 1024 }, (_, i) => (i * 7) % 256);
    const wire = escapeBytes(all);
    expect(wire.includes(0x03)).toBe(false);
    expect(wire.includes(0x04)).toBe(false);
    expect(wire.length).toBe(escapedLength(all));
    expect(wire.length).toBe(1024 + 3 * 4);
    expect(unescapeBytes(wire)).toEqual(all);
  });

  const ALL = Uint8Array.from({ length: 256 }, (_, i) => i);
  /** What the board's chain of bytes.replace calls does, step by step. */
  const boardEscape = (data: Uint8Array) =>
    escapeReplacements(FROM_BOARD).reduce((buf, [from, to]) => {
      const parts: Buffer[] = [];
      let at = 0;
      for (let hit = buf.indexOf(from); hit >= 0; hit = buf.indexOf(from, at)) {
        parts.push(buf.subarray(at, hit), Buffer.from(to));
        at = hit + from.length;
      }
      return Buffer.concat([...parts, buf.subarray(at)]);
    }, Buffer.from(data));

  it('escapes downloads so no Ctrl-D, LF or CR travels raw, and round-trips all 256 byte values', () => {
    const wire = escapeBytes(ALL, FROM_BOARD);
    for (const b of [0x04, 0x0a, 0x0d]) expect(wire.includes(b)).toBe(false);
    expect(wire.length).toBe(256 + 4);
    expect(escapedLength(ALL, FROM_BOARD)).toBe(wire.length);
    expect(unescapeBytes(wire)).toEqual(ALL);
    // the board's replace chain (ESC first) gives exactly the host's escaping, also for runs of escapes
    const nasty = Uint8Array.from([0x1b, 0x1b, 0x04, 0x1b, 0x0a, 0x0d, 0x0a, 0x1b, ...ALL, 0x44, 0x1b]);
    expect(new Uint8Array(boardEscape(nasty))).toEqual(escapeBytes(nasty, FROM_BOARD));
    expect(new Uint8Array(boardEscape(ALL))).toEqual(wire);
    expect(pyEscapeExpr(FROM_BOARD, 'x')).toBe(
      "bytes(x).replace(b'\\x1b',b'\\x1b[').replace(b'\\x04',b'\\x1bD').replace(b'\\x0a',b'\\x1bJ').replace(b'\\x0d',b'\\x1bM')",
    );
  });

  it('reassembles escaped data lines from the raw link whatever the chunking, skipping what is not ours', () => {
    // Every raw chunk ends on a byte that needs escaping, so escapes sit at the line ends.
    const raw = [Uint8Array.from([1, 2, 0x1b]), Uint8Array.from([0x0d]), Uint8Array.from([0x0a]), Uint8Array.from([0x04]), ALL, Uint8Array.from([0x0a, 0x0d])];
    const stdout = Buffer.concat([
      Buffer.from('@m1\r\nB 0 9 0\r\n'),
      ...raw.flatMap((c) => [Buffer.from('D'), Buffer.from(escapeBytes(c, FROM_BOARD)), Buffer.from('\r\n')]),
      Buffer.from('E 0 -\r\n'),
    ]);
    const link = Buffer.concat([Buffer.from('OK\x01\x01@m\r\nearlier output\n'), stdout, Buffer.from('\x04Traceback\r\nD\r\n\x04>')]);
    const expected = ['', 'B 0 9 0', ...raw.map((c) => `D${Buffer.from(escapeBytes(c, FROM_BOARD)).toString('latin1')}`), 'E 0 -'];
    const parse = (chunks: Uint8Array[]) => {
      const lines: string[] = [];
      const parser = new StdoutLines(Buffer.from('@m1'), (l) => lines.push(l.toString('latin1')));
      for (const c of chunks) parser.push(c);
      expect(parser.ended).toBe(true);
      return lines;
    };
    for (let cut = 0; cut <= link.length; cut++) {
      expect(parse([link.subarray(0, cut), link.subarray(cut)])).toEqual(expected);
    }
    expect(parse([...link].map((b) => Uint8Array.of(b)))).toEqual(expected);
    const data = parse([link]).filter((l) => l.startsWith('D')).map((l) => unescapeBytes(Buffer.from(l.slice(1), 'latin1')));
    expect(Buffer.concat(data)).toEqual(Buffer.concat(raw));
  });

  it('writes bytes literals MicroPython can parse', () => {
    expect(pyBytesLiteral(Uint8Array.from([0x41, 0x27, 0x5c, 0x00, 0xff]))).toBe("b'A\\x27\\x5c\\x00\\xff'");
  });
});

describe('board paths', () => {
  it('resolves against the cwd and never climbs above the root', () => {
    expect(resolveBoardPath('/', 'lib/x.py')).toBe('/lib/x.py');
    expect(resolveBoardPath('/app', '../lib//./x.py')).toBe('/lib/x.py');
    expect(resolveBoardPath('/', '../../..')).toBe('/');
    expect(resolveBoardPath('/app', '')).toBe('/app');
    expect(resolveBoardPath('/app', '/abs/')).toBe('/abs');
    expect(joinBoardPath('/', 'a', 'b')).toBe('/a/b');
    expect(boardDirname('/a/b')).toBe('/a');
    expect(boardDirname('/a')).toBe('/');
    expect(boardBasename('/a/b.py')).toBe('b.py');
  });
});

describe('board output parsing', () => {
  it('parses repr() strings with escapes and non-ASCII', () => {
    expect(parsePyStr("'a b'").value).toBe('a b');
    expect(parsePyStr("'caf\\xe9 \\u263a\\n\\\\'").value).toBe('café ☺\n\\');
    expect(parsePyStr('"it\'s"').value).toBe("it's");
    expect(parsePyStr("'日本'").value).toBe('日本');
    expect(splitReprLine("f 12 0 'x y.py'", 3)).toEqual({ fields: ['f', '12', '0'], name: 'x y.py' });
  });

  it('reads errno from both OSError spellings', () => {
    expect(parseOSError('Traceback (most recent call last):\r\n  File "<stdin>", line 1\r\nOSError: [Errno 2] ENOENT\r\n')).toBe(2);
    expect(parseOSError('OSError: 39\r\n')).toBe(39);
    expect(parseOSError('ValueError: nope')).toBeUndefined();
    const err = boardFsError('lib/x.py', 2);
    expect(err.message).toBe(':lib/x.py: No such file or directory');
    expect(err.code).toBe('DEVICE_OSERROR');
    expect(boardFsError('big', 28).code).toBe('NO_SPACE');
  });

  it('turns an uncaught board OSError into the path error and leaves other errors alone', () => {
    const died = new BoardError('DEVICE_EXCEPTION', 'OSError: [Errno 5] EIO', { traceback: 'Traceback (most recent call last):\r\nOSError: [Errno 5] EIO\r\n' });
    expect((mapBoardException(died, '/a.bin') as BoardError).message).toBe(':/a.bin: Input/output error');
    const other = new BoardError('DEVICE_EXCEPTION', 'MemoryError: ', { traceback: 'MemoryError: \r\n' });
    expect(mapBoardException(other, '/a.bin')).toBe(other);
  });
});

describe('host path safety', () => {
  it('refuses names that would escape the destination', () => {
    for (const bad of ['..', '.', 'a/b', '..\\..\\x', 'x\0y', 'C:evil', '']) expect(unsafeNameReason(bad)).toBeDefined();
    expect(unsafeNameReason('...')).toBeUndefined();
    expect(unsafeNameReason('naïve.py')).toBeUndefined();
    expect(() => safeHostJoin('/tmp/d', ['sub', '..'], '/x')).toThrow(/refusing/);
    expect(safeHostJoin('/tmp/d', ['sub', 'a.py'], '/x')).toBe('/tmp/d/sub/a.py');
  });
});

describe('ignore rules', () => {
  const rules = new IgnoreRules(DEFAULT_IGNORES).addFile('# comment\n*.log\n/build/\ndocs/**/*.md\n!keep.log\nsecret?.txt\n');
  it.each([
    ['.git', true, true],
    ['a/__pycache__', true, true],
    ['x.log', false, true],
    ['deep/x.log', false, true],
    ['keep.log', false, false],
    ['build', true, true],
    ['src/build', true, false],
    ['build', false, false],
    ['docs/a/b/c.md', false, true],
    ['docs/c.md', false, true],
    ['secret1.txt', false, true],
    ['secret10.txt', false, false],
    ['main.py', false, false],
  ])('%s (dir %s) ignored: %s', (rel, dir, expected) => {
    expect(rules.ignores(rel, dir)).toBe(expected);
  });
});

describe('sync planner', () => {
  const local = [
    { rel: 'lib', kind: 'dir' as const, size: 0 },
    { rel: 'lib/a.py', kind: 'file' as const, size: 3, sha256: 'aa' },
    { rel: 'main.py', kind: 'file' as const, size: 5, sha256: 'bb' },
    { rel: 'new.py', kind: 'file' as const, size: 1, sha256: 'cc' },
  ];
  const remote = [
    { rel: 'lib', kind: 'dir' as const, size: 0 },
    { rel: 'lib/a.py', kind: 'file' as const, size: 3, sha256: 'aa' },
    { rel: 'main.py', kind: 'file' as const, size: 5, sha256: 'zz' },
    { rel: 'old', kind: 'dir' as const, size: 0 },
    { rel: 'old/x.py', kind: 'file' as const, size: 1 },
    { rel: 'data.log', kind: 'file' as const, size: 1 },
  ];
  it('uploads only what differs and deletes only with --delete, children first, sparing ignored files', () => {
    const ignore = new IgnoreRules(['*.log']);
    const keep = planSync(local, remote, { ignore });
    expect(keep.uploads).toEqual([
      { rel: 'main.py', reason: 'changed' },
      { rel: 'new.py', reason: 'new' },
    ]);
    expect(keep.unchanged).toEqual(['lib/a.py']);
    expect(keep.deletes).toEqual([]);
    const del = planSync(local, remote, { delete: true, ignore });
    expect(del.deletes).toEqual([
      { rel: 'old/x.py', kind: 'file' },
      { rel: 'old', kind: 'dir' },
    ]);
  });

  it('--delete spares what `deletable` protects, and the directories that hold it, and lists them as kept', () => {
    const extra = [...remote, { rel: 'old/keep.txt', kind: 'file' as const, size: 1 }];
    const plan = planSync(local, extra, { delete: true, deletable: (rel) => rel !== 'old/keep.txt' && rel !== 'data.log' });
    expect(plan.deletes).toEqual([{ rel: 'old/x.py', kind: 'file' }]);
    expect(plan.kept).toEqual(['data.log', 'old/keep.txt']);
  });
});

describe('tree layout', () => {
  it('draws connectors and sizes as mpremote does', () => {
    const tree = {
      name: '/',
      kind: 'dir' as const,
      size: 0,
      children: [
        { name: 'lib', kind: 'dir' as const, size: 0, children: [{ name: 'a.py', kind: 'file' as const, size: 2048, children: [] }] },
        { name: 'main.py', kind: 'file' as const, size: 10, children: [] },
      ],
    };
    expect(formatTree(tree, 'none')).toBe(':/\n├── lib\n│   └── a.py\n└── main.py\n');
    expect(formatTree(tree, 'human')).toBe(':/\n├── lib\n│   └── [  2.0K]  a.py\n└── [    10]  main.py\n');
  });
});

describe('progress line', () => {
  const fakeStream = (isTTY: boolean) => {
    const writes: string[] = [];
    return { writes, stream: { isTTY, columns: 100, write: (s: string) => writes.push(s) } as unknown as NodeJS.WriteStream };
  };

  it('stays quiet for the first second, then draws throttled bytes, rate and ETA, and erases itself', async () => {
    const { progressLine } = await import('../cli/fs/progress.js');
    let t = 0;
    const { writes, stream } = fakeStream(true);
    const p = progressLine(stream, () => t);
    p.update({ file: '/a.bin', bytesDone: 5000, bytesTotal: 100_000 });
    expect(writes).toEqual([]);
    t = 2000;
    p.update({ file: '/a.bin', bytesDone: 20_000, bytesTotal: 100_000 });
    t = 2050;
    p.update({ file: '/a.bin', bytesDone: 21_000, bytesTotal: 100_000 });
    expect(writes).toHaveLength(1);
    expect(writes[0]).toContain('/a.bin  19.5K/97.7K 20%  9.8K/s  ETA 8s');
    p.done();
    expect(writes.at(-1)).toBe('\r\x1b[K');
  });

  it('prints nothing when stderr is not a terminal', async () => {
    const { progressLine } = await import('../cli/fs/progress.js');
    const { writes, stream } = fakeStream(false);
    const p = progressLine(stream, () => 5000);
    p.update({ file: '/a.bin', bytesDone: 1, bytesTotal: 2 });
    p.done();
    expect(writes).toEqual([]);
  });
});
