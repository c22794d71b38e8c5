// The file commands end to end against the virtual board (a MicroPython VM with littlefs on a flash
// image), through the same commander wiring the CLI uses, with real temp folders on the host.
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Command } from 'commander';
import { beforeAll, describe, expect, it } from 'vitest';
import type { Board } from '../protocol/board.js';
import { BoardError } from '../protocol/errors.js';
import { registerFsCommands } from '../cli/commands/fs.js';
import { uploadFiles } from '../protocol/fs/upload.js';
import { downloadFiles, readBoardFiles } from '../protocol/fs/download.js';
import { boardCapabilities } from '../protocol/fs/capabilities.js';
import { diskUsage } from '../protocol/fs/operations.js';
import { virtualClient } from './helpers/virtual-client.js';

let board: Board;
const { host } = virtualClient('fs-commands', (b) => (board = b));

interface CliRun {
  stdout: string;
  stderr: string;
  error?: BoardError;
  json: Record<string, unknown>[];
}

/** Run one boardctl fs command line; stdout/stderr captured, the thrown error (what main reports) returned. */
async function cli(...args: string[]): Promise<CliRun> {
  const program = new Command('boardctl').option('--json').exitOverride().configureOutput({ writeErr: () => {}, writeOut: () => {} });
  registerFsCommands(program, { openBoard: async () => board });
  let stdout = '';
  let stderr = '';
  const outWrite = process.stdout.write.bind(process.stdout);
  const errWrite = process.stderr.write.bind(process.stderr);
  process.stdout.write = ((chunk: string | Uint8Array) => ((stdout += Buffer.from(chunk).toString('utf8')), true)) as typeof process.stdout.write;
  process.stderr.write = ((chunk: string | Uint8Array) => ((stderr += Buffer.from(chunk).toString('utf8')), true)) as typeof process.stderr.write;
  let error: BoardError | undefined;
  try {
    await program.parseAsync(args, { from: 'user' });
  } catch (err) {
    if (!(err instanceof BoardError)) throw err;
    error = err;
  } finally {
    process.stdout.write = outWrite;
    process.stderr.write = errWrite;
  }
  const json = args.includes('--json') ? stdout.trim().split('\n').filter(Boolean).map((l) => JSON.parse(l) as Record<string, unknown>) : [];
  return { stdout, stderr, error, json };
}

/** Run Python on the board; W(path, data) writes a file and closes it (littlefs commits data on close). */
const py = async (code: string) =>
  (await board.exec(`def W(p,d):\n with open(p,'w' if isinstance(d,str) else 'wb') as f:f.write(d)\n${code}`)).stdout.replace(/\r\n/g, '\n');
const boardRead = async (path: string) => Buffer.from((await py(`import binascii;print(binascii.hexlify(open(${JSON.stringify(path)},'rb').read()).decode())`)).trim(), 'hex');
const boardExists = async (path: string) => (await py(`import os\ntry:\n os.stat(${JSON.stringify(path)});print(1)\nexcept OSError:print(0)`)).trim() === '1';
const boardNames = async (dir: string) => (await py(`import os;print(sorted(os.listdir(${JSON.stringify(dir)})))`)).trim();
const sha = (data: Uint8Array) => createHash('sha256').update(data).digest('hex');

function hostTree(root: string, files: Record<string, string | Uint8Array>): void {
  for (const [rel, content] of Object.entries(files)) {
    mkdirSync(join(root, rel, '..'), { recursive: true });
    writeFileSync(join(root, rel), content);
  }
}

describe('listing and reading', () => {
  beforeAll(async () => {
    await py("import os\nos.mkdir('/ls1')\nos.mkdir('/ls1/sub')\nW('/ls1/a.py','print(1)\\n')\nW('/ls1/b.bin',bytes(range(256)))");
  });

  it('ls prints sizes and marks directories; ls -l adds times; a missing path is an error', async () => {
    const r = await cli('fs', 'ls', ':/ls1');
    expect(r.error).toBeUndefined();
    expect(r.stdout).toBe(`${'9'.padStart(12)} a.py\n${'256'.padStart(12)} b.bin\n${'0'.padStart(12)} sub/\n`);
    const l = await cli('ls', '-l', '/ls1');
    expect(l.stdout).toMatch(/^ +9 \d{4}-\d\d-\d\d \d\d:\d\d a\.py$/m);
    const bad = await cli('ls', '/nope');
    expect(bad.error?.message).toBe(':/nope: No such file or directory');
    expect(bad.error?.exitCode).toBe(1);
  });

  it('cat prints files byte for byte and names the missing one', async () => {
    const r = await cli('cat', 'ls1/a.py');
    expect(r.stdout).toBe('print(1)\n');
    const miss = await cli('fs', 'cat', ':lib/x.py');
    expect(miss.error?.message).toBe(':lib/x.py: No such file or directory');
  });

  it('tree draws the hierarchy with sizes', async () => {
    const r = await cli('tree', '-s', '/ls1');
    expect(r.stdout).toBe(`:/ls1\n├── [        9]  a.py\n├── [      256]  b.bin\n└── sub\n`);
  });

  it('sha256sum hashes on the board', async () => {
    const r = await cli('sha256sum', '/ls1/b.bin', '/ls1/a.py');
    expect(r.stdout).toBe(`${sha(Uint8Array.from({ length: 256 }, (_, i) => i))}  /ls1/b.bin\n${sha(Buffer.from('print(1)\n'))}  /ls1/a.py\n`);
  });

  it('df reports the filesystem', async () => {
    const r = await cli('df', '--json');
    const doc = r.json[0]!;
    expect(doc.total).toBeGreaterThan(100_000);
    expect(Number(doc.free)).toBeLessThanOrEqual(Number(doc.total));
    expect((await cli('df')).stdout).toMatch(/Size +Used +Avail +Use% +Mounted on\n.* \/\n/);
    // A directory's filesystem is its mount's: "Mounted on" names the mount point.
    const dir = await cli('df', '--json', ':/ls1');
    expect(dir.json[0]).toMatchObject({ path: '/ls1', mount: '/', total: doc.total });
    expect((await cli('df', ':/ls1')).stdout).toMatch(/% +\/\n$/);
    // A filesystem mounted on a RAM block device: df of a directory in it names that mount.
    await py(
      "import vfs\nclass R:\n def __init__(s):s.d=bytearray(512*64)\n def readblocks(s,n,b,o=0):b[:]=s.d[n*512+o:n*512+o+len(b)]\n" +
        " def writeblocks(s,n,b,o=0):s.d[n*512+o:n*512+o+len(b)]=b\n def ioctl(s,op,a):return {4:64,5:512}.get(op,0)\n" +
        "r=R()\nvfs.VfsLfs2.mkfs(r)\nvfs.mount(vfs.VfsLfs2(r),'/ram')\nimport os\nos.mkdir('/ram/sub')",
    );
    const ram = await cli('df', '--json', ':/ram/sub');
    await py("import vfs\nvfs.umount('/ram')");
    expect(ram.json[0]).toMatchObject({ path: '/ram/sub', mount: '/ram', total: 32768 });
    // The VFS answers statvfs of any path under a mount, one that does not exist too.
    const miss = await cli('df', ':/nope');
    expect([miss.stdout, miss.error?.message, miss.error?.exitCode]).toEqual(['', ':/nope: No such file or directory', 1]);
  });
});

describe('cp', () => {
  it('uploads a file, to a directory with a trailing slash, and downloads it back', async () => {
    const data = randomBytes(5000);
    writeFileSync(join(host, 'up.bin'), data);
    expect((await cli('cp', join(host, 'up.bin'), ':/cp1.bin')).error).toBeUndefined();
    expect(sha(await boardRead('/cp1.bin'))).toBe(sha(data));
    // trailing slash: a directory, created if missing
    expect((await cli('fs', 'cp', join(host, 'up.bin'), ':/cpdir/')).error).toBeUndefined();
    expect(await boardNames('/cpdir')).toBe("['up.bin']");
    const out = join(host, 'down');
    mkdirSync(out);
    expect((await cli('cp', ':/cpdir/up.bin', out)).error).toBeUndefined();
    expect(sha(readFileSync(join(out, 'up.bin')))).toBe(sha(data));
    expect((await cli('cp', ':/cp1.bin', join(out, 'renamed.bin'))).error).toBeUndefined();
    expect(readFileSync(join(out, 'renamed.bin'))).toEqual(data);
    expect(readdirSync(out).sort()).toEqual(['renamed.bin', 'up.bin']); // no host temp files left
  });

  it('replaces an existing file and copies board to board', async () => {
    await py("W('/cp2.txt','old')");
    writeFileSync(join(host, 'new.txt'), 'new content');
    await cli('cp', join(host, 'new.txt'), ':/cp2.txt');
    expect((await boardRead('/cp2.txt')).toString()).toBe('new content');
    expect((await cli('cp', ':/cp2.txt', ':/cp2-copy.txt')).error).toBeUndefined();
    expect((await boardRead('/cp2-copy.txt')).toString()).toBe('new content');
  });

  it('cp leaves a file the board holds byte for byte alone (mpremote\'s "Up to date"), sends a changed one of the same size, and -f sends it anyway', async () => {
    const proj = join(host, 'same');
    hostTree(proj, { 'a.py': 'A = 1\n', 'lib/b.py': 'B = 2\n' });
    expect((await cli('cp', '-r', proj, ':/same')).stdout).toBe(''); // a new folder: nothing to compare
    const again = await cli('cp', '-r', proj, ':/');
    expect(again.error).toBeUndefined();
    expect(again.stdout).toBe('Up to date: :/same/a.py\nUp to date: :/same/lib/b.py\n');
    await py("W('/same/a.py','A = 9\\n')"); // same size, other bytes on the board
    const json = await cli('--json', 'cp', '-r', proj, ':/');
    expect(json.json[0]!.files).toEqual([
      { path: '/same/lib/b.py', board: true, size: 6, ok: true, unchanged: true },
      expect.objectContaining({ path: '/same/a.py', ok: true, size: 6 }),
    ]);
    expect((await boardRead('/same/a.py')).toString()).toBe('A = 1\n');
    const forced = await cli('--json', 'cp', '-f', join(proj, 'a.py'), ':/same/');
    expect(forced.json[0]!.files).toEqual([expect.not.objectContaining({ unchanged: true })]);
    // Two sources for one target: the last one wins, also where it is what the board held before.
    hostTree(host, { 'seven/a.py': 'A = 7\n', 'one/a.py': 'A = 1\n' });
    expect((await cli('cp', join(host, 'seven', 'a.py'), join(host, 'one', 'a.py'), ':/same/')).stdout).toBe('');
    expect((await boardRead('/same/a.py')).toString()).toBe('A = 1\n');
  });

  it('cp -r makes DEST the copy when it is new and copies into it when it exists, with or without subdirectories', async () => {
    const flat = join(host, 'flat');
    hostTree(flat, { 'a.py': 'a', 'b.py': 'b' });
    expect((await cli('cp', '-r', flat, ':/r1')).error).toBeUndefined();
    expect(await boardNames('/r1')).toBe("['a.py', 'b.py']");
    const deep = join(host, 'deep');
    hostTree(deep, { 'x.py': 'x', 'lib/y.py': 'y', 'lib/sub/z.py': 'z' });
    mkdirSync(join(deep, 'empty'));
    expect((await cli('cp', '-r', deep, ':/r2')).error).toBeUndefined();
    expect(await boardNames('/r2')).toBe("['empty', 'lib', 'x.py']");
    expect((await boardRead('/r2/lib/sub/z.py')).toString()).toBe('z');
    // the destination exists now: the source goes inside it
    expect((await cli('cp', '-r', flat, ':/r2')).error).toBeUndefined();
    expect(await boardNames('/r2/flat')).toBe("['a.py', 'b.py']");
    // and back to the host
    const back = join(host, 'back');
    expect((await cli('cp', '-r', ':/r2', back)).error).toBeUndefined();
    expect(readFileSync(join(back, 'lib/sub/z.py'), 'utf8')).toBe('z');
    expect(existsSync(join(back, 'empty'))).toBe(true);
    expect(readFileSync(join(back, 'flat/b.py'), 'utf8')).toBe('b');
  });

  it('refuses directories without -r and several sources into a file', async () => {
    const r = await cli('cp', join(host, 'flat'), ':/nr');
    expect(r.error?.message).toMatch(/is a directory.*-r/);
    expect(await boardExists('/nr')).toBe(false);
    await py("W('/afile','x')");
    const many = await cli('cp', join(host, 'flat', 'a.py'), join(host, 'flat', 'b.py'), ':/afile');
    expect(many.error?.message).toMatch(/Not a directory/);
  });

  it('reports each failure with the errno text, and --json gives per-file results', async () => {
    writeFileSync(join(host, 'ok.py'), 'ok');
    const r = await cli('--json', 'cp', join(host, 'ok.py'), ':/nodir/sub/ok.py');
    expect(r.error?.message).toBe(':/nodir/sub/ok.py: No such file or directory');
    expect(r.error?.exitCode).toBe(1);
    const good = await cli('--json', 'cp', join(host, 'ok.py'), ':/ok.py');
    expect(good.json[0]).toMatchObject({ command: 'cp', ok: true, files: [{ path: '/ok.py', board: true, size: 2, ok: true }] });
  });

  it('handles non-ASCII names both ways', async () => {
    const name = 'héllo_日本.py';
    writeFileSync(join(host, name), 'print("ü")\n');
    expect((await cli('cp', join(host, name), ':/')).error).toBeUndefined();
    expect((await cli('ls', '/')).stdout).toContain(name);
    const out = join(host, 'uni');
    mkdirSync(out);
    expect((await cli('cp', `:/${name}`, `${out}/`)).error).toBeUndefined();
    expect(readFileSync(join(out, name), 'utf8')).toBe('print("ü")\n');
  });

  it('cp -r src/ :lib/ to a new lib makes lib/a.py (as mpremote and POSIX cp), :/ copies the whole board, and ..bak is a name, not a traversal', async () => {
    const src = join(host, 'slash');
    hostTree(src, { 'a.py': 'A', '..bak': 'dots', 'sub/a..b.py': 'ab' });
    expect((await cli('cp', '-r', `${src}/`, ':slashlib/')).error).toBeUndefined();
    expect(await boardNames('/slashlib')).toBe("['..bak', 'a.py', 'sub']");
    const back = join(host, 'slash-back');
    expect((await cli('cp', '-r', ':/slashlib', back)).error).toBeUndefined();
    expect(readFileSync(join(back, '..bak'), 'utf8')).toBe('dots');
    expect(readFileSync(join(back, 'sub', 'a..b.py'), 'utf8')).toBe('ab');
    const whole = join(host, 'whole');
    expect((await cli('cp', '-r', ':/', `${whole}/`)).error).toBeUndefined();
    expect(readdirSync(whole)).toEqual(expect.arrayContaining(['boot.py', 'slashlib', 'r1', 'r2']));
    expect(readFileSync(join(whole, 'slashlib', '..bak'), 'utf8')).toBe('dots');
  });

  it('refuses board names that would escape the host destination', async () => {
    await py("import os\nos.mkdir('/evil')\nW('/evil/..\\\\..\\\\escaped.txt','pwned')\nW('/evil/fine.txt','ok')");
    const dest = join(host, 'evil-dest');
    const r = await cli('cp', '-r', ':/evil', dest);
    expect(r.error?.code).toBe('UNSAFE_PATH');
    expect(r.error?.message).toMatch(/refusing board name/);
    const single = await cli('cp', ':/evil/..\\..\\escaped.txt', `${host}/`);
    expect(single.error?.message).toMatch(/refusing/);
    expect(existsSync(join(host, '..', 'escaped.txt'))).toBe(false);
    expect(readdirSync(host).some((n) => n.includes('escaped'))).toBe(false);
  });
});

describe('rm, mkdir, rmdir, touch', () => {
  it('mkdir -p creates parents, mkdir reports existing dirs, touch leaves content alone', async () => {
    expect((await cli('mkdir', '-p', '/m1/a/b')).error).toBeUndefined();
    expect((await cli('mkdir', '-p', '/m1/a/b')).error).toBeUndefined();
    expect((await cli('mkdir', '/m1/a')).error?.message).toBe(':/m1/a: File exists');
    expect((await cli('mkdir', '/m1/x/y')).error?.message).toBe(':/m1/x/y: No such file or directory');
    await py("W('/m1/t.txt','keep')");
    expect((await cli('touch', '/m1/t.txt', '/m1/new.txt')).error).toBeUndefined();
    expect((await boardRead('/m1/t.txt')).toString()).toBe('keep');
    expect((await boardRead('/m1/new.txt')).length).toBe(0);
  });

  it('rmdir refuses non-empty directories; rm refuses directories; rm -r removes trees', async () => {
    expect((await cli('rmdir', '/m1/a')).error?.message).toBe(':/m1/a: Directory not empty');
    expect((await cli('rm', '/m1/a')).error?.message).toBe(':/m1/a: Is a directory');
    expect((await cli('rmdir', '/m1/a/b')).error).toBeUndefined();
    const both = await cli('rm', '/m1/t.txt', '/m1/missing');
    expect(both.error?.message).toBe(':/m1/missing: No such file or directory');
    expect(await boardExists('/m1/t.txt')).toBe(false);
    expect((await cli('rm', '-r', '/m1')).error).toBeUndefined();
    expect(await boardExists('/m1')).toBe(false);
  });
});

describe('transfer safety', () => {
  it('an aborted upload leaves the old file intact, no temp file behind, and the board at a prompt', async () => {
    await py("W('/keep.bin',b'old contents')");
    const stop = new AbortController();
    const big = randomBytes(400_000);
    const err = await uploadFiles(board, [{ dest: '/keep.bin', data: big }], [], {
      signal: stop.signal,
      onProgress: (p) => {
        if (p.bytesDone > 0) stop.abort();
      },
    }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(BoardError);
    expect((err as BoardError).code).toBe('INTERRUPTED');
    expect((await boardRead('/keep.bin')).toString()).toBe('old contents');
    expect(await boardNames('/')).not.toContain('.~bctmp.');
    expect((await board.exec('print(6*7)')).stdout.trim()).toBe('42');
  });

  it('on a 115200-baud link, aborted uploads and downloads stop within a moment and leave everything as it was', async () => {
    const { openBoard } = await import('../cli/api.js');
    const { createBoard } = await import('../emulator/board-store.js');
    createBoard('fs-paced');
    const paced = await openBoard('virtual:fs-paced?baud=115200');
    try {
      await paced.exec("f=open('/bigdown.bin','wb')\nfor i in range(100):f.write(bytes(range(256))*4)\nf.close()");
      const dir = join(host, 'abort-down');
      mkdirSync(dir);
      const stop = new AbortController();
      const err = await downloadFiles(paced, [{ src: '/bigdown.bin', dest: join(dir, 'bigdown.bin') }], {
        signal: stop.signal,
        onProgress: (p) => p.bytesDone > 10_000 && stop.abort(),
      }).catch((e: unknown) => e);
      expect((err as BoardError).code).toBe('INTERRUPTED');
      expect(readdirSync(dir)).toEqual([]);
      expect((await paced.exec('print(6*7)')).stdout.trim()).toBe('42');

      const upStop = new AbortController();
      const started = Date.now();
      const upErr = await uploadFiles(paced, [{ dest: '/bigdown.bin', data: randomBytes(200_000) }], [], {
        signal: upStop.signal,
        onProgress: (p) => p.bytesDone > 10_000 && upStop.abort(),
      }).catch((e: unknown) => e);
      expect((upErr as BoardError).code).toBe('INTERRUPTED');
      expect(Date.now() - started).toBeLessThan(10_000); // 200 KB would take 18 s at this speed
      const still = (await paced.exec("import hashlib,binascii\nprint(binascii.hexlify(hashlib.sha256(open('/bigdown.bin','rb').read()).digest()).decode())")).stdout.trim();
      expect(still).toBe(sha(Buffer.concat(Array.from({ length: 100 }, () => Buffer.from(Array.from({ length: 1024 }, (_, i) => i % 256))))));
      expect((await paced.exec('import os;print(os.listdir("/"))')).stdout).not.toContain('.~bctmp.');
    } finally {
      await paced.close();
    }
  });

  it('clears upload debris in the target directory on the next upload', async () => {
    await py("import os\nos.mkdir('/deb')\nW('/deb/.~bctmp.x.py','half')");
    writeFileSync(join(host, 'y.py'), 'y');
    await cli('cp', join(host, 'y.py'), ':/deb/');
    expect(await boardNames('/deb')).toBe("['y.py']");
  });

  it('refuses a file larger than the free space before writing anything', async () => {
    const before = await diskUsage(board, '/');
    expect(before.total).toBeLessThan(64 * 1024 * 1024); // the board's own littlefs partition, not the host's disk
    const path = join(host, 'huge.bin');
    writeFileSync(path, Buffer.alloc(before.free + 64 * 1024, 7));
    const r = await cli('cp', path, ':/huge.bin');
    expect(r.error?.code).toBe('NO_SPACE');
    expect(r.error?.message).toMatch(/not enough space/);
    expect(await boardExists('/huge.bin')).toBe(false);
    expect((await diskUsage(board, '/')).free).toBe(before.free);
    rmSync(path);
  });

  it('every upload channel delivers the same bytes (escaped stdin, base64 stdin, exec fallback)', async () => {
    const data = Buffer.concat([randomBytes(3000), Buffer.from([3, 4, 0x1b, 0x1b, 3, 10, 13, 0]), Buffer.from('x = 1\n'.repeat(500))]);
    for (const channel of ['raw', 'base64', 'exec'] as const) {
      const [res] = await uploadFiles(board, [{ dest: `/chan-${channel}.bin`, data }], [], { channel, window: 256 });
      expect(res).toMatchObject({ ok: true, size: data.length });
      expect(sha(await boardRead(`/chan-${channel}.bin`))).toBe(sha(data));
    }
  });

  it('every download channel delivers every byte value, escapes at chunk edges, deflated or not, under non-ASCII names', async () => {
    expect((await boardCapabilities(board)).download).toBe('raw');
    // Each 3 KB chunk the sender reads ends on a byte that must be escaped (ESC, CR, LF, Ctrl-D).
    const data = Buffer.concat([Buffer.from(Array.from({ length: 3 * 3072 + 77 }, (_, i) => (i * 7) % 256)), randomBytes(2000)]);
    [0x1b, 0x0d, 0x0a].forEach((b, k) => (data[(k + 1) * 3072 - 1] = b));
    data[3072] = 0x04;
    const names = ['/dl-日本.bin', '/dl-héllo.txt']; // .txt is deflated on the board, .bin is not
    expect((await uploadFiles(board, names.map((dest) => ({ dest, data })))).every((r) => r.ok)).toBe(true);
    const dir = join(host, 'dl-chan');
    mkdirSync(dir);
    // (channel exec: no stdin to answer on, so the sender runs without flow control)
    for (const [downloadChannel, channel] of [['raw', undefined], ['base64', undefined], ['raw', 'exec']] as const) {
      const items = names.map((src, k) => ({ src, dest: join(dir, `${downloadChannel}-${channel}-${k}-${src.slice(1)}`) }));
      const res = await downloadFiles(board, items, { downloadChannel, channel });
      expect(res.map((r) => [r.ok, r.size])).toEqual(names.map(() => [true, data.length]));
      for (const it of items) expect(sha(readFileSync(it.dest))).toBe(sha(data));
      const mem = await readBoardFiles(board, names, { downloadChannel, compress: false });
      for (const m of mem) expect(Buffer.from(m.data).equals(data)).toBe(true);
    }
    expect(readdirSync(dir).filter((n) => n.includes('.tmp'))).toEqual([]);
    const empty = await readBoardFiles(board, ['/cp2.txt', '/nope.bin']);
    expect(empty.map((m) => m.result.ok)).toEqual([true, false]);
    expect((await cli('cat', '/ls1/b.bin')).stdout).toBe(Buffer.from(Array.from({ length: 256 }, (_, i) => i)).toString('utf8'));
  });

  it('a download that cannot write its host file stops the sender and leaves the board ready', async () => {
    for (const channel of [undefined, 'exec'] as const) {
      const err = await downloadFiles(board, [{ src: '/dl-日本.bin', dest: join(host, 'no-such-dir', 'b.bin') }], { channel }).catch((e: unknown) => e);
      expect((err as BoardError).code).toBe('LOCAL_IO');
      expect((await board.exec('print(6*7)')).stdout.trim()).toBe('42');
    }
  });

  it('compresses source text on the wire', async () => {
    const src = Buffer.from(Array.from({ length: 400 }, (_, i) => `def f${i}(x):\n    return x * ${i} + 1\n`).join(''));
    const [res] = await uploadFiles(board, [{ dest: '/src.py', data: src }]);
    expect(res!.ok).toBe(true);
    expect(res!.wireBytes).toBeLessThan(src.length / 2);
    expect(sha(await boardRead('/src.py'))).toBe(sha(src));
  });
});

describe('sync', () => {
  const local = join(host, 'proj');
  beforeAll(() => {
    hostTree(local, {
      'main.py': 'print("main")\n',
      'lib/util.py': 'X = 1\n',
      'lib/__pycache__/util.cpython.pyc': 'junk',
      '.git/HEAD': 'ref',
      'notes.log': 'ignored by .boardignore',
      'data/big.bin': randomBytes(3000),
      '.boardignore': '*.log\n',
    });
  });

  it('uploads everything not ignored, then nothing, then only what changed', async () => {
    const first = await cli('--json', 'sync', local, ':/app');
    expect(first.error).toBeUndefined();
    const plan = first.json[0]!.plan as { uploads: { rel: string }[] };
    expect(plan.uploads.map((u) => u.rel).sort()).toEqual(['data/big.bin', 'lib/util.py', 'main.py']);
    expect(await boardNames('/app')).toBe("['data', 'lib', 'main.py']");
    expect(await boardNames('/app/lib')).toBe("['util.py']");
    const again = await cli('sync', local, ':/app');
    expect(again.stdout).toContain('0 to upload, 0 to delete, 3 unchanged');
    writeFileSync(join(local, 'lib/util.py'), 'X = 2\n');
    const changed = await cli('sync', local, ':/app');
    expect(changed.stdout).toContain('upload lib/util.py (changed)');
    expect(changed.stdout).toContain('1 to upload');
    expect((await boardRead('/app/lib/util.py')).toString()).toBe('X = 2\n');
  });

  it('--dry-run reports without touching the board; --delete removes extras but keeps ignored files', async () => {
    await py("W('/app/stale.py','old')\nW('/app/board.log','keep me')");
    writeFileSync(join(local, 'main.py'), 'print("v2")\n');
    const dry = await cli('sync', '--delete', '--dry-run', local, ':/app');
    expect(dry.stdout).toContain('would delete :/app/stale.py');
    expect(dry.stdout).toContain('would upload main.py (changed)');
    expect(dry.stdout).not.toContain('board.log');
    expect((await boardRead('/app/main.py')).toString()).toBe('print("main")\n');
    expect(await boardExists('/app/stale.py')).toBe(true);
    const real = await cli('sync', '--delete', local, ':/app');
    expect(real.error).toBeUndefined();
    expect(await boardExists('/app/stale.py')).toBe(false);
    expect(await boardExists('/app/board.log')).toBe(true);
    expect((await boardRead('/app/main.py')).toString()).toBe('print("v2")\n');
  });

  it('--exclude skips matching paths', async () => {
    writeFileSync(join(local, 'secret.py'), 'token');
    const r = await cli('sync', '--exclude', 'secret.py', local, ':/app');
    expect(r.error).toBeUndefined();
    expect(await boardExists('/app/secret.py')).toBe(false);
    rmSync(join(local, 'secret.py'));
  });
});
