// Issue 2 acceptance: the virtual board behaves as a real MicroPython board, over the in-process link and over a
// real pseudo-terminal opened with node serialport.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SerialPort } from 'serialport';
import { VirtualBoard } from '../emulator/board.js';
import { serveBoard, type Serving } from '../emulator/link/serve.js';
import { createBoard } from '../emulator/board-store.js';
import { BoardConsole, type ByteLink } from './helpers/board-console.js';

const home = mkdtempSync(join(tmpdir(), 'boardctl-vb-'));
const BANNER = 'MicroPython v1.27.0 on 2025-12-10; Generic ESP32 module with ESP32\r\nType "help()" for more information.\r\n>>> ';

interface Harness {
  open(): Promise<BoardConsole>;
  board(): VirtualBoard;
  close(): Promise<void>;
}

function inProcess(name: string): Harness {
  let board: VirtualBoard;
  createBoard(name, { home });
  return {
    async open() {
      board ??= await VirtualBoard.open(name, { home });
      await board.whenReady();
      const t = board.attach();
      return new BoardConsole({ write: (d) => t.write(d), onData: (l) => t.onData(l), close: () => t.close() });
    },
    board: () => board,
    close: () => board?.close() ?? Promise.resolve(),
  };
}

function overPty(name: string): Harness {
  let serving: Serving | undefined;
  createBoard(name, { home });
  return {
    async open() {
      serving ??= await serveBoard({ name, home });
      await serving.board.whenReady();
      const port = new SerialPort({ path: serving.ptyPath!, baudRate: 115200, hupcl: false, autoOpen: false });
      await new Promise<void>((resolve, reject) => port.open((err) => (err ? reject(err) : resolve())));
      const link: ByteLink = {
        write: (d) => new Promise((resolve, reject) => port.write(Buffer.from(d), (err) => (err ? reject(err) : port.drain(() => resolve())))),
        onData: (l) => port.on('data', (d: Buffer) => l(d)),
        close: () => new Promise((resolve) => (port.isOpen ? port.close(() => resolve()) : resolve())),
      };
      return new BoardConsole(link);
    },
    board: () => serving!.board,
    close: () => serving?.close() ?? Promise.resolve(),
  };
}

afterAll(() => rmSync(home, { recursive: true, force: true }));

describe.each([
  ['in-process link', inProcess('vb-inproc')],
  ['pseudo-terminal (serialport)', overPty('vb-pty')],
] as const)('virtual board over %s', (_label, harness) => {
  let con: BoardConsole;

  beforeAll(async () => {
    con = await harness.open();
  });
  afterAll(async () => {
    await con?.link.close();
    await harness.close();
  });

  it('prints the profile banner on Ctrl-B and on soft reset', async () => {
    await con.friendlyPrompt();
    await con.send('\x02');
    expect(await con.expect('>>> ')).toBe('\r\n' + BANNER);
    await con.send('\x04');
    expect(await con.expect('>>> ', 10_000)).toBe('\r\nMPY: soft reboot\r\n' + BANNER);
  });

  it('keeps a file over a soft reset and runs main.py', async () => {
    await con.rawRepl();
    const [, err] = await con.rawExec(
      "open('kept.txt', 'w').write('still here')\nopen('main.py', 'w').write('print(\"main says\", open(\"kept.txt\").read())\\n')",
    );
    expect(err).toBe('');
    await con.send('\x02');
    await con.expect('>>> ');
    await con.send('\x04');
    expect(await con.expect('>>> ', 10_000)).toBe('\r\nMPY: soft reboot\r\nmain says still here\r\n' + BANNER);
    await con.rawRepl();
    await con.rawExec("import os\nos.remove('main.py')");
    await con.friendlyPrompt();
  });

  it('echoes in the friendly REPL and evaluates', async () => {
    await con.friendlyPrompt();
    await con.send('1+1\r');
    expect(await con.expect('>>> ')).toBe('1+1\r\n2\r\n>>> ');
    await con.send('import sys, os\r');
    await con.expect('>>> ');
    await con.send('sys.platform, sys.implementation._machine, os.uname().machine\r');
    expect(await con.expect('>>> ')).toContain(
      "('esp32', 'Generic ESP32 module with ESP32', 'Generic ESP32 module with ESP32')",
    );
  });

  it('supports paste mode', async () => {
    await con.friendlyPrompt();
    await con.send('\x05');
    await con.expect('paste mode; Ctrl-C to cancel, Ctrl-D to finish\r\n=== ');
    await con.send('a = 6\rb = 7\rprint(a * b)\x04');
    expect(await con.expect('>>> ')).toContain('42\r\n');
  });

  it('runs code in the raw REPL with output and with an exception', async () => {
    await con.rawRepl();
    expect(await con.rawExec('print("hi", 3 * 4)')).toEqual(['hi 12\r\n', '']);
    const [out, err] = await con.rawExec('print("before")\nraise ValueError("boom")');
    expect(out).toBe('before\r\n');
    expect(err).toBe('Traceback (most recent call last):\r\n  File "<stdin>", line 2, in <module>\r\nValueError: boom\r\n');
    await con.send('\x02');
    await con.expect('>>> ');
  });

  it('takes a raw-paste request only as a whole line (Ctrl-E, a letter, Ctrl-A), as pyexec.c does', async () => {
    await con.rawRepl();
    // An unknown command letter: refused, and the prompt comes back.
    await con.send('\x05B\x01');
    await con.expect('R\x00>');
    // A Ctrl-E inside a line (a stray byte after a program the link cut short) is a byte of that line.
    await con.send('print(6*7)#\x05\x05\x05x\x04');
    expect(await con.expect('\x04>')).toMatch(/^OK42\r\n\x04\x04>$/);
    // The line's Ctrl-E is not a request when the Ctrl-A ends a longer line: the raw REPL starts afresh.
    await con.send('\x05Ax\x01');
    await con.expect('raw REPL; CTRL-B to exit\r\n>');
    await con.send('\x02');
    await con.expect('>>> ');
  });

  it('accepts 100 KB of code in raw-paste mode with window flow control', async () => {
    await con.rawRepl();
    const lines: string[] = ['t = 0'];
    let expected = 0;
    for (let i = 0; lines.join('\n').length < 100_000; i++) {
      lines.push(`t += ${i * 7919 % 100003}  # padding to make the line longer ${'x'.repeat(20)}`);
      expected += (i * 7919) % 100003;
    }
    lines.push('print("total", t, len(globals()))');
    const code = Buffer.from(lines.join('\n'));
    expect(code.length).toBeGreaterThanOrEqual(100_000);
    await con.send('\x05A\x01');
    const hello = await con.expect(/R\x01[\s\S]{2}\x01/);
    const window = hello.charCodeAt(hello.length - 3) | (hello.charCodeAt(hello.length - 2) << 8);
    expect(window).toBeGreaterThan(0);
    // Send exactly one window per credit byte, as the protocol demands.
    let sent = 0;
    let credit = 1;
    while (sent < code.length) {
      while (credit === 0) {
        await con.expect('\x01');
        credit++;
      }
      await con.send(code.subarray(sent, sent + window));
      sent += window;
      credit--;
    }
    await con.send('\x04');
    await con.expect('\x04', 10_000);
    const out = await con.expect('\x04', 20_000);
    const err = await con.expect('\x04>', 10_000);
    expect(err).toBe('\x04>');
    expect(out).toMatch(new RegExp(`total ${expected} \\d+\\r\\n\\x04$`));
    await con.send('\x02');
    await con.expect('>>> ');
  });

  it('interrupts time.sleep loops with Ctrl-C (no reset needed)', async () => {
    await con.friendlyPrompt();
    await con.send('import time\rwhile True: time.sleep(0.1)\r\r');
    await con.expect('... \r\n');
    await new Promise((r) => setTimeout(r, 300));
    await con.send('\x03');
    // KeyboardInterrupt, not the stuck-VM reset (its [boardctl] line would come first), brings the prompt back.
    const text = await con.expect('>>> ');
    expect(text).toContain('KeyboardInterrupt');
    expect(text).not.toContain('[boardctl]');
  });

  it('feeds input() from the link', async () => {
    await con.friendlyPrompt();
    await con.send('name = input("who? ")\r');
    await con.expect('who? ');
    await con.send('Grace\r');
    await con.expect('>>> ');
    await con.send('print("hello", name)\r');
    expect(await con.expect('>>> ')).toContain('hello Grace\r\n');
  });

  it('reads raw bytes with sys.stdin.buffer.read', async () => {
    await con.rawRepl();
    await con.send('import sys\nd = sys.stdin.buffer.read(5)\nprint(list(d))\x04');
    await con.expect('OK');
    await con.send(Uint8Array.from([0, 255, 10, 13, 65]));
    expect(await con.expect('\x04')).toBe('[0, 255, 10, 13, 65]\r\n\x04');
    await con.expect('\x04>');
    await con.send('\x02');
    await con.expect('>>> ');
  });

  it('resets a VM stuck in a compute loop and boots in safe mode', async () => {
    await con.friendlyPrompt();
    await con.send('while True: pass\r\r');
    await con.expect('... \r\n', 20_000);
    await con.send('\x03');
    // 1 s for the stuck check, then a fresh worker boots: on a loaded host that may take many seconds.
    const text = await con.expect(BANNER, 30_000);
    expect(text).toContain('did not answer Ctrl-C within 1 s');
    expect(text).toContain('safe mode');
    await con.send('1+2\r');
    expect(await con.expect('>>> ', 20_000)).toContain('3\r\n');
  }, 60_000);

  it('refuses to let Python reach the host', async () => {
    await con.rawRepl();
    const attempts = [
      'import js\nprint(js.process)',
      'import js\nprint(js.globalThis)',
      'import js\nprint(js.require)',
      'import js\nprint(js.Function)',
      'import jsffi\no = jsffi.to_js({"a": 1})\nf = o.constructor.constructor\nprint(f("return process")())',
      'import jsffi\nf = jsffi.to_js([1]).map.constructor\nprint(f("return globalThis.process.env")())',
      'import _board\nf = _board.stdin_read.constructor\nprint(f("return process")())',
      'import time\nf = time.sleep.__globals__["_board"].stdin_read.constructor\nprint(f("return process")())',
      'import os\nprint(os.listdir("/proc"))',
      'open("/etc/passwd").read()',
    ];
    for (const code of attempts) {
      const [out, err] = await con.rawExec(code);
      expect(err, `${code} -> ${JSON.stringify(out)}`).toMatch(/Error|Exception/);
      expect(out).not.toMatch(/root:|PATH=|\[object process\]|versions/);
    }
    // The VM's JavaScript modules are not importable (a board has none), but a determined program still finds
    // the runtime's through a function's globals. Planting a member on a shared prototype from there is refused
    // by restarting the VM; the plant does not survive.
    const board = "import time\nb = time.sleep.__globals__['_board']\n";
    await con.send(`${board}b.__proto__.polluted = 1\x04`);
    expect(await con.expect('raw REPL; CTRL-B to exit\r\n>')).toContain('soft reboot');
    const [, err] = await con.rawExec(`${board}print(b.polluted)`);
    expect(err).toContain('AttributeError');
    await con.send('\x02');
    await con.expect('>>> ');
  });

  it('survives binary garbage, invalid UTF-8 and a 10 MB paste', async () => {
    await con.friendlyPrompt();
    const garbage = Buffer.alloc(4096);
    for (let i = 0; i < garbage.length; i++) garbage[i] = (i * 131 + 7) & 0xff;
    await con.send(garbage.map((b) => (b === 0x04 || b === 0x01 || b === 0x05 ? 0x20 : b)));
    await con.send(Buffer.from([0xc3, 0x28, 0xa0, 0xa1, 0xe2, 0x28, 0xa1, 0xf0, 0x28, 0x8c, 0xbc]));
    await con.friendlyPrompt();
    await con.send('\x01\x05A\x01');
    await con.expect(/R\x01[\s\S]{2}\x01/);
    const big = Buffer.alloc(10 * 1024 * 1024, 'x = 1\n');
    await con.send(big);
    await con.send('\x04');
    await con.expect('\x04>', 60_000);
    await con.friendlyPrompt();
    await con.send('print("still here")\r');
    expect(await con.expect('>>> ')).toContain('still here\r\n');
  }, 120_000);

  it('gives the next client a clean prompt after one disconnects mid-exec', async () => {
    await con.friendlyPrompt();
    await con.send('import time\rfor i in range(30): time.sleep(0.1)\r\r');
    await con.expect('... \r\n');
    await con.link.close();
    con = await harness.open();
    await con.friendlyPrompt();
    await con.send('print(6 * 7)\r');
    expect(await con.expect('>>> ')).toContain('42\r\n');
  });
});

describe('one client at a time', () => {
  it('refuses a second in-process client with "board busy"', async () => {
    createBoard('vb-busy', { home });
    const board = await VirtualBoard.open('vb-busy', { home });
    try {
      await board.whenReady();
      const first = board.attach();
      expect(() => board.attach()).toThrow(/board busy/);
      await first.close();
      (await Promise.resolve(board.attach())).close();
    } finally {
      await board.close();
    }
  });
});
