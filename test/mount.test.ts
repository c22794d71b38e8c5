// `mount`: a host folder on the board at /remote, served over the REPL link while programs run. The same checks
// run on the virtual board over its in-process link and over the pty `sim serve` gives, and the host's error
// paths against a scripted peer that sends damaged and foreign frames.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ChildProcess } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openTransport } from '../protocol/connect.js';
import { isBoardError } from '../protocol/errors.js';
import { HostTree } from '../protocol/mount/host-tree.js';
import { MountLink } from '../protocol/mount/mount-link.js';
import { MountedBoard } from '../protocol/mount/mounted-board.js';
import type { Transport } from '../protocol/transport.js';
import { servePeer, defaultRun, type PeerServer } from './helpers/scripted-peer.js';
import { startCli, stopAllCli, stopCli } from './helpers/serve-cli.js';
import { TargetedFaults } from './helpers/targeted-faults.js';
import { TestBoard } from './helpers/test-board.js';

const work = mkdtempSync(join(tmpdir(), 'boardctl-mount-'));
const root = join(work, 'project');
const outside = join(work, 'outside');
const big = randomBytes(1 << 20);

beforeAll(() => {
  mkdirSync(join(root, 'app', 'drivers'), { recursive: true });
  mkdirSync(outside);
  writeFileSync(join(root, 'app', '__init__.py'), 'NAME = "app"\n');
  writeFileSync(join(root, 'app', 'util.py'), 'def twice(x):\n    return 2 * x\n');
  writeFileSync(join(root, 'app', 'drivers', '__init__.py'), '');
  writeFileSync(join(root, 'app', 'drivers', 'led.py'), 'from app.util import twice\nPIN = twice(21)\n');
  writeFileSync(join(root, 'big.bin'), big);
  writeFileSync(join(outside, 'secret.txt'), 'host secret\n');
  symlinkSync(join(outside, 'secret.txt'), join(root, 'link.txt'));
  symlinkSync(outside, join(root, 'linkdir'));
});

afterAll(async () => {
  await stopAllCli();
  rmSync(work, { recursive: true, force: true });
});

const lf = (s: string) => s.replace(/\r\n/g, '\n');

interface Rig {
  name: string;
  open(): Promise<{ transport: Transport; close(): Promise<void> }>;
}

const rigs: Rig[] = [
  {
    name: 'in-process link',
    async open() {
      const tb = await TestBoard.open();
      return { transport: tb.transport, close: () => tb.close() };
    },
  },
  {
    name: 'pty',
    async open() {
      const home = join(work, 'pty-home');
      mkdirSync(home, { recursive: true });
      const { child, lines } = await startCli(['sim', 'serve'], { ...process.env, BOARDCTL_HOME: home });
      const transport = await openTransport(lines[0]!.replace(/^pty: /, ''));
      return {
        transport,
        async close() {
          await transport.close().catch(() => {});
          await stopCli(child as ChildProcess);
        },
      };
    },
  },
];

describe.each(rigs)('mount over the $name', (rig) => {
  let board: MountedBoard;
  let tree: HostTree;
  let close: () => Promise<void>;
  const py = async (code: string) => lf((await board.exec(code)).stdout);

  beforeAll(async () => {
    const opened = await rig.open();
    close = opened.close;
    tree = new HostTree(root);
    board = new MountedBoard(new MountLink(opened.transport, tree));
    await board.ensureMounted();
  }, 60_000);
  afterAll(async () => {
    await board?.close();
    await close?.();
  });

  it('puts the folder at /remote, cwd and sys.path first, and imports a package tree from it', async () => {
    expect(await py('import os,sys\nprint(os.getcwd(), sys.path[0])')).toBe('/remote /remote\n');
    expect(await py('import app, app.drivers.led as led\nprint(app.NAME, led.PIN)')).toBe('app 42\n');
  });

  it('writes host files from the board; stat, listdir, rename, mkdir, rmdir and remove act on the host', async () => {
    await py("with open('made.txt','w') as f:\n f.write('from the board\\n')");
    expect(readFileSync(join(root, 'made.txt'), 'utf8')).toBe('from the board\n');
    expect(await py("import os\nprint(os.stat('made.txt')[6], os.stat('app')[0] & 0x4000)")).toBe('15 16384\n');
    expect(await py("with open('made.txt','a') as f:\n f.write('more')\nprint(open('made.txt').read().split())")).toBe("['from', 'the', 'board', 'more']\n");
    await py("import os\nos.rename('made.txt','moved.txt')\nos.mkdir('newdir')");
    expect(existsSync(join(root, 'moved.txt')) && !existsSync(join(root, 'made.txt'))).toBe(true);
    expect(await py("import os\nprint(sorted(os.listdir()))")).toBe("['app', 'big.bin', 'moved.txt', 'newdir']\n");
    await py("import os\nos.remove('moved.txt')\nos.rmdir('newdir')");
    expect(existsSync(join(root, 'moved.txt')) || existsSync(join(root, 'newdir'))).toBe(false);
    expect(await py("import os\ntry:os.stat('gone.py')\nexcept OSError as e:print(e.errno)")).toBe('2\n');
  });

  it('reads a 1 MB file intact', async () => {
    const code = "import hashlib\nh=hashlib.sha256();b=bytearray(4096);n=0\nwith open('big.bin','rb') as f:\n while True:\n  k=f.readinto(b)\n  if not k:break\n  h.update(b[:k]);n+=k\nprint(n,h.digest().hex())";
    expect(await py(code)).toBe(`${big.length} ${createHash('sha256').update(big).digest('hex')}\n`);
  }, 60_000);

  it('is still mounted after a soft reset and after machine.soft_reset() in a program', async () => {
    await board.softReset();
    expect(await py("import os,app.util\nprint(os.getcwd(), app.util.twice(4))")).toBe('/remote 8\n');
    await board.exec('import machine\nmachine.soft_reset()');
    expect(await py("import app\nprint(app.NAME, open('app/util.py').readline().strip())")).toBe('app def twice(x):\n');
  }, 60_000);

  it('stops a large read at Ctrl-C, closes its file and keeps serving', async () => {
    const open = tree.openFiles;
    const abort = new AbortController();
    const reading = board.exec("print('reading')\nb=bytearray(4096)\nwhile True:\n with open('big.bin','rb') as f:\n  while f.readinto(b):pass", {
      signal: abort.signal,
      onStdout: (t) => t.includes('reading') && setTimeout(() => abort.abort(), 300),
    });
    const err = await reading.catch((e: unknown) => e);
    expect(isBoardError(err, 'INTERRUPTED')).toBe(true);
    expect(String((err as { details: { stderr?: string } }).details.stderr)).toContain('KeyboardInterrupt');
    expect(tree.openFiles).toBe(open);
    expect(await py("with open('app/__init__.py') as f:print(f.read().strip())")).toBe('NAME = "app"\n');
  }, 60_000);

  it('refuses paths that leave the folder: .. and symlinks', async () => {
    const errno = (expr: string) => py(`try:\n ${expr}\n print('allowed')\nexcept OSError as e:print(e.errno)`);
    expect(await errno("open('/remote/../outside/secret.txt')")).toBe('13\n');
    expect(await errno("open('app/../../outside/secret.txt')")).toBe('13\n');
    expect(await errno("open('link.txt')")).toBe('13\n');
    expect(await errno("import os;os.listdir('linkdir')")).toBe('13\n');
    expect(await py("import os\nprint('link.txt' in os.listdir(), 'linkdir' in os.listdir())")).toBe('False False\n');
    expect(await py("print(open('app/../app/__init__.py').read().strip())")).toBe('NAME = "app"\n');
  });

  it('leaves program output around requests alone, bytes that look like a frame start included', async () => {
    const key = board.link.key;
    const out = await py(`import sys\nsys.stdout.write('A\\x18${key.slice(0, 2)}|')\nprint(open('app/__init__.py').read().strip())\nsys.stdout.write('\\x18zzzz|\\x18')\nprint('B')`);
    expect(out).toBe(`A\x18${key.slice(0, 2)}|NAME = "app"\n\x18zzzz|\x18B\n`);
  });
});

describe('mount over a link that damages its requests', () => {
  it('sends a damaged request again (start byte lost, a byte changed, end mark lost): the program gets the right bytes', async () => {
    const tb = await TestBoard.open();
    const link = new TargetedFaults(tb.transport);
    const board = new MountedBoard(new MountLink(link, new HostTree(root), 'kdmg'));
    try {
      await board.ensureMounted();
      // The file is open first: the damaged request is the read, whose failure the program would see.
      for (const [pattern, offset, damage] of [['\x18kdmg', 0, 'drop'], ['\x18kdmg', 6, 'flip'], ['\x17', 0, 'drop']] as const) {
        await board.exec("f = open('big.bin', 'rb')\nf.seek(1000)");
        const hits = link.hits;
        link.arm('from-board', pattern, offset, damage);
        const out = lf((await board.exec('print(f.read(64).hex())\nf.close()')).stdout);
        expect(out, `${damage} at ${offset} of ${JSON.stringify(pattern)}`).toBe(`${big.subarray(1000, 1064).toString('hex')}\n`);
        expect(link.hits).toBe(hits + 1);
      }
    } finally {
      await board.close();
      await tb.close();
    }
  }, 60_000);

  it('sends a request again when the link damaged its answer (a changed byte, a lost one after the quiet time): a read gets its bytes, a write and a mkdir run once, an error keeps its errno', async () => {
    const tb = await TestBoard.open();
    const link = new TargetedFaults(tb.transport);
    const board = new MountedBoard(new MountLink(link, new HostTree(root), 'kdmh', 1000));
    try {
      await board.ensureMounted();
      await board.exec("f = open('big.bin', 'rb')\nf.seek(2000)");
      // The answer to a 64-byte read: '+', its length, its byte sum, then the data.
      for (const damage of ['flip', 'drop'] as const) {
        link.arm('to-board', '+\x40\x00\x00\x00', 7, damage);
        expect(lf((await board.exec('print(f.read(64).hex(), f.tell())')).stdout), damage).toBe(`${big.subarray(2000, 2064).toString('hex')} 2064\n`);
        await board.exec('f.seek(2000)');
      }
      // Damaged three times in a row: the read fails, and says how.
      link.arm('to-board', '+\x40\x00\x00\x00', 7, 'flip', 3);
      expect(lf((await board.exec("try:\n f.read(64)\nexcept OSError as e:\n print('OSError', e.errno)")).stdout)).toBe('OSError 5\n');
      // A write's answer is its count ('+', length 2, sum, '10'), a mkdir's is empty ('+', length 0, sum 0): the
      // request goes again under its number and the host answers it from memory, so neither runs twice (the file
      // would hold the text twice, the second mkdir would fail with EEXIST).
      link.arm('to-board', '+\x02\x00\x00\x00', 7, 'flip');
      expect((await board.exec("with open('w.txt', 'w') as g:\n g.write('0123456789')")).stdout).toBe('');
      expect(readFileSync(join(root, 'w.txt'), 'utf8')).toBe('0123456789');
      for (const damage of ['flip', 'drop'] as const) {
        link.arm('to-board', '+\x00\x00\x00\x00', 5, damage);
        expect(lf((await board.exec(`import os\nos.mkdir('made-${damage}')\nprint(os.stat('made-${damage}')[0])`)).stdout), damage).toBe('16384\n');
        rmSync(join(root, `made-${damage}`), { recursive: true });
      }
      // An error answer's errno changed on the way would be another error (ENOENT read as ENOTDIR): its check
      // catches it, and the request goes again.
      link.arm('to-board', '-\x02\x00\x00\x00', 1, 'flip');
      expect(lf((await board.exec("try:\n open('no-such-file')\nexcept OSError as e:\n print('OSError', e.errno)")).stdout)).toBe('OSError 2\n');
      expect(link.hits).toBe(9);
    } finally {
      await board.close();
      await tb.close();
    }
  }, 60_000);
});

describe('the host side of a mount', () => {
  it('resolves inside the folder only, following links only when allowed', () => {
    const safe = new HostTree(root);
    expect(safe.resolve('/app/../app/util.py').rel).toBe('/app/util.py');
    expect(() => safe.resolve('/../outside')).toThrow();
    expect(() => safe.resolve('/linkdir/secret.txt')).toThrow();
    expect(new HostTree(root, true).resolve('/linkdir/secret.txt').abs).toBe(join(root, 'linkdir', 'secret.txt'));
  });
});

describe('mount against a scripted misbehaving peer', () => {
  const key = 'qwer';
  let server: PeerServer;
  let board: MountedBoard;
  /** A request with its number and check, as remote_fs.py frames it (the bodies here need no stuffing). */
  const check = (body: string) => `${body.length.toString(16)},${[...Buffer.from(body, 'latin1')].reduce((a, b) => (a + b) & 0xffff, 0).toString(16)};${body}`;
  const checked = (seq: number, request: string) => check(`${seq.toString(16)}:${request}`);
  const frame = (seq: number, request: string) => `\x18${key}${checked(seq, request)}\x17`;
  const stat = checked(3, 'S/app');
  const outputs: Record<string, Array<string | Uint8Array>> = {
    GOOD: ['before|', frame(1, 'S/app'), '|after\r\n'],
    LOST_END: ['x|', `\x18${key}${stat}`, '\r\nrest\r\n'],
    LOST_START: ['x|', `${key}${stat}\x17`, '|y\r\n'],
    LOST_START_SPLIT: [`x|${key.slice(0, 3)}`, `${key.slice(3)}${stat.slice(0, -2)}`, `${stat.slice(-2)}\x17|y\r\n`],
    CHANGED: [`\x18${key}${stat.replace('app', 'apq')}\x17`, 'ok\r\n'],
    BAD_VERB: [frame(2, 's/app'), 'ok\r\n'],
    // A request sent again under its number (its answer reached the board damaged) and then the next one.
    REPEAT: [frame(4, 'M/again'), frame(4, 'M/again'), frame(5, 'M/again'), 'ok\r\n'],
    UNNUMBERED: [`\x18${key}${check('S/app')}\x17`, 'ok\r\n'],
    FOREIGN: ['\x18zzzzS/app\x17|\x18', 'q\r\n'],
    SPLIT: ['a', `\x18${key.slice(0, 2)}`, `${key.slice(2)}${stat.slice(0, -2)}`, `${stat.slice(-2)}\x17`, 'b\r\n'],
  };
  const RESEND = '-\x00\x00\x00\x00\xff\xff';

  beforeAll(async () => {
    server = await servePeer({
      run: (code) => {
        const name = Object.keys(outputs).find((k) => code.includes(k));
        return name ? { stdout: outputs[name] } : defaultRun(code);
      },
    });
    board = new MountedBoard(new MountLink(await openTransport(server.url), new HostTree(root), key), { enterTimeoutMs: 3000 });
    await board.ensureMounted();
  });
  afterAll(async () => {
    await board?.close();
    await server?.close();
  });

  /** What the host sent the peer while `run` ran. */
  async function answered(run: () => Promise<unknown>): Promise<string> {
    const received = server.peer!.received;
    const start = received.length;
    await run();
    // The answer may still be on its way when the program's end reached us.
    for (let n = -1; n !== received.length; ) {
      n = received.length;
      await new Promise((r) => setTimeout(r, 100));
    }
    return Buffer.from(received.slice(start)).toString('latin1');
  }

  /** What the program saw of the peer's script `name`, and what the host sent the peer meanwhile. */
  async function script(name: string): Promise<{ out: string; sent: string }> {
    let out = '';
    const sent = await answered(async () => (out = (await board.exec(name)).stdout));
    return { out, sent };
  }

  it('sent the helper once, with its key', () => {
    expect(server.peer!.programs.filter((p) => p.includes(`KEY = b'${key}'`))).toHaveLength(1);
  });

  it('answers a request and takes it out of the output', async () => {
    const { out, sent } = await script('GOOD');
    expect(out).toBe('before||after\r\n');
    expect(sent).toMatch(/\+\x12\x00\x00\x00[\s\S]{2}16384 0 \d+/);
  });

  it('asks again for a frame that lost its end mark, and the output after it still arrives', async () => {
    const { out, sent } = await script('LOST_END');
    expect(sent).toContain(RESEND);
    expect(out).toBe('x|\r\nrest\r\n');
  });

  it('asks again for a frame that lost its start byte (the board would wait for an answer forever), also split across reads', async () => {
    const whole = await script('LOST_START');
    expect(whole.sent).toContain(RESEND);
    expect(whole.out).toBe('x||y\r\n');
    const split = await script('LOST_START_SPLIT');
    expect(split.sent).toContain(RESEND);
    // The pieces may arrive as one read: the earlier pieces' text is out already when they do not.
    expect([`x|${key}${stat.slice(0, -2)}|y\r\n`, 'x||y\r\n']).toContain(split.out);
  });

  it('asks again for a frame whose check fails (a changed byte), and answers EINVAL to an intact request it does not know', async () => {
    expect(await script('CHANGED')).toEqual({ out: 'ok\r\n', sent: expect.stringContaining(RESEND) });
    expect(await script('BAD_VERB')).toEqual({ out: 'ok\r\n', sent: expect.stringContaining('-\x16\x00\x00\x00\xe9\xff') });
  });

  it('answers a request sent again under its number from memory (the directory is made once), the next number anew; a request without a number is damaged', async () => {
    const made = '+\x00\x00\x00\x00\x00\x00';
    try {
      const repeat = await script('REPEAT');
      expect(repeat.out).toBe('ok\r\n');
      expect(repeat.sent.endsWith(`${made}${made}-\x11\x00\x00\x00\xee\xff`), JSON.stringify(repeat.sent)).toBe(true);
      expect(existsSync(join(root, 'again'))).toBe(true);
    } finally {
      rmSync(join(root, 'again'), { recursive: true, force: true });
    }
    const unnumbered = await script('UNNUMBERED');
    expect(unnumbered.out).toBe('ok\r\n');
    expect(unnumbered.sent.endsWith(RESEND), JSON.stringify(unnumbered.sent)).toBe(true);
  });

  it('passes frames with another key through as output', async () => {
    const { out, sent } = await script('FOREIGN');
    expect(out).toBe('\x18zzzzS/app\x17|\x18q\r\n');
    expect(sent).not.toMatch(/[+-][\x00-\x20]\x00\x00\x00/);
  });

  it('joins a frame split across reads', async () => {
    const { out, sent } = await script('SPLIT');
    expect(out).toBe('ab\r\n');
    expect(sent).toMatch(/\+\x12\x00\x00\x00[\s\S]{2}16384 0/);
  });
});
