// WebREPL both ways: a served virtual ESP32 runs webrepl.start(password=…), and boardctl reaches it over
// ws://127.0.0.1:PORT: a wrong password is refused (AUTH_FAILED, exit 12), exec, cp up and down, and a repl;
// then what the firmware's webrepl.py and os.dupterm print and do: unconfigured start(), start_foreground()
// and a Ctrl-C in it, an accept_handler, a client's disconnect and its TCP reset, as seen on the board's UART.
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect, type Socket } from 'node:net';
import { once } from 'node:events';
import type { ChildProcess } from 'node:child_process';
import pty from '@lydell/node-pty';
import WebSocket, { WebSocketServer } from 'ws';
import { boardctl } from './helpers/boardctl.js';
import { MAIN } from './helpers/built-cli.js';
import { startCli, stopAllCli, stopCli } from './helpers/serve-cli.js';
import { WebReplPeer } from './helpers/webrepl-peer.js';
import { connectBoard } from '../protocol/connect.js';

const home = mkdtempSync(join(tmpdir(), 'boardctl-webrepl-'));
const env = { BOARDCTL_HOME: home };
let serve: ChildProcess;
let ws = '';
let uart = '';
/** What `sim serve` printed (published ports). */
let out = '';

const START = [
  'import network, time, webrepl',
  "w = network.WLAN(network.STA_IF); w.active(True); w.connect('boardctl', 'micropython')",
  'while not w.isconnected(): time.sleep_ms(50)',
  "webrepl.start(password='s3cret')",
].join('\n');

/** boardctl ARGS on a pseudo-terminal, with BOARDCTL_WEBREPL_PASSWORD set to `password`. */
function onTerminal(args: string[], password: string) {
  const term = pty.spawn(process.execPath, [MAIN, ...args], {
    env: { ...process.env, BOARDCTL_PORT: '', ...env, BOARDCTL_WEBREPL_PASSWORD: password } as Record<string, string>,
    cols: 120,
    rows: 30,
  });
  let screen = '';
  term.onData((d) => (screen += d));
  const exited = new Promise<number>((resolve) => term.onExit(({ exitCode }) => resolve(exitCode)));
  return { term, exited, screen: () => screen };
}

beforeAll(async () => {
  expect((await boardctl(['sim', 'create', 'wr', '--profile', 'esp32'], env)).code).toBe(0);
  // The WebREPL's port 8266 is published at a free host port (port 0), not at 8266.
  const config = join(home, 'boards', 'wr', 'board.json');
  writeFileSync(config, JSON.stringify({ ...JSON.parse(readFileSync(config, 'utf8')), network: { ports: { 8266: 0 } } }));
  const started = await startCli(['sim', 'serve', 'wr', '--tcp', '127.0.0.1:0'], { ...process.env, ...env });
  serve = started.child;
  serve.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  uart = `socket://${/^tcp: (127\.0\.0\.1:\d+)$/.exec(started.lines[0]!)![1]}`;
  const run = await boardctl(['-p', uart, 'exec', START], env, [], 30_000);
  expect(run.stdout).toContain('WebREPL server started on http://10.0.2.15:8266/\nStarted webrepl in manual override mode\n');
  let published: RegExpExecArray | null = null;
  for (let i = 0; i < 400 && !published; i++) {
    published = /published: wr tcp port 8266 at 127\.0\.0\.1:(\d+)/.exec(out);
    if (!published) await new Promise((r) => setTimeout(r, 25));
  }
  expect(published).not.toBeNull();
  ws = `ws://127.0.0.1:${published![1]}`;
}, 60_000);

afterAll(async () => {
  if (serve) expect(await stopCli(serve)).toBe(0);
  await stopAllCli();
  rmSync(home, { recursive: true, force: true });
});

it('refuses a wrong password with one line and exit 12, and a missing one without a prompt', async () => {
  const wrong = await boardctl(['-p', `${ws}?password=nope`, 'exec', 'print(1)'], env);
  expect(wrong.code).toBe(12);
  expect(wrong.stderr.trim().split('\n')).toEqual([`boardctl: exec: ${ws}?password=nope: WebREPL password refused`]);
  expect(wrong.stdout).toBe('');
  const none = await boardctl(['-p', ws, 'exec', 'print(1)'], { ...env, BOARDCTL_WEBREPL_PASSWORD: '' });
  expect(none.code).toBe(2);
  expect(none.stderr).toContain('no WebREPL password');
});

it('runs exec over ws:// with the password from the URL, --password or BOARDCTL_WEBREPL_PASSWORD', async () => {
  const run = await boardctl(['-p', `${ws}?password=s3cret`, 'exec', 'import sys; print(sys.platform, 6 * 7)'], env);
  expect(run).toMatchObject({ code: 0, stdout: 'esp32 42\n' });
  const viaOption = await boardctl(['-p', ws, '--password', 's3cret', 'exec', 'print(7 * 6)'], env);
  expect(viaOption).toMatchObject({ code: 0, stdout: '42\n' });
  const viaEnv = await boardctl(['-p', ws, 'exec', 'print(w.isconnected())'], { ...env, BOARDCTL_WEBREPL_PASSWORD: 's3cret' });
  // No soft reset over the WebREPL: the session's globals (w) are still there.
  expect(viaEnv).toMatchObject({ code: 0, stdout: 'True\n' });
});

const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');

it("serves the firmware's file-transfer records to a webrepl_cli-style client: put, get, a missing file, the version", async () => {
  const peer = await WebReplPeer.login(ws, 's3cret');
  try {
    // The banner ends in the firmware's static prompt, whatever the REPL is doing.
    expect(peer.output()).toBe('Password: \r\nWebREPL connected\r\n>>> ');
    expect(await peer.version()).toEqual([1, 27, 0]);
    const data = randomBytes(100 * 1024);
    expect(await peer.put('/rec.bin', data)).toEqual([0, 0]);
    const back = await peer.get('/rec.bin');
    expect(back).toMatchObject({ status: 0, end: 0, biggest: 256 });
    expect(sha(back.data!)).toBe(sha(data));
    // The board's own view of the file: the REPL over the same connection still works after the records.
    peer.ws.send("import os; print('size', os.stat('/rec.bin')[6])\r");
    await peer.untilText(`size ${data.length}`);
    expect((await peer.get('/missing.bin')).status).toBe(1);
    expect(await peer.put('/no/such/dir.bin', Buffer.from('x'))).toEqual([1]);
    // After failed requests the next one is served.
    expect(await peer.put('/empty.bin', Buffer.alloc(0))).toEqual([0, 0]);
    expect(await peer.get('/empty.bin')).toMatchObject({ status: 0, end: 0, data: Buffer.alloc(0) });
  } finally {
    await peer.close();
  }
}, 60_000);

it("boardctl's record client keeps one connection's requests in step: gets asked ahead by the stated size, then a put", async () => {
  const { board } = await connectBoard(`${ws}?password=s3cret`);
  try {
    const records = board.transport.records!;
    expect(await records.available()).toBe(true);
    for (const size of [512, 700, 0]) {
      const data = randomBytes(size);
      expect(await records.put('/step.bin', data)).toBe(0);
      // The exact size (a multiple of the firmware's 256-byte chunks too), a smaller one, none: the same bytes.
      for (const hint of [size, 100, undefined]) expect(sha(Buffer.from((await records.get('/step.bin', hint)) as Uint8Array))).toBe(sha(data));
    }
    expect(await records.get('/no-such.bin')).toBe(1);
    // The REPL beside the records is still in step too.
    expect((await board.exec('print(6 * 7)')).stdout).toBe('42\r\n');
  } finally {
    await board.close();
  }
}, 60_000);

it('copies a file up and down with sha256 equal', async () => {
  const up = join(home, 'up.bin');
  const down = join(home, 'down.bin');
  const data = randomBytes(40_000);
  writeFileSync(up, data);
  const run = await boardctl(['-p', ws, 'cp', up, ':w.bin', '+', 'cp', ':w.bin', down], { ...env, BOARDCTL_WEBREPL_PASSWORD: 's3cret' }, [], 60_000);
  expect(run.code, run.stderr).toBe(0);
  expect(sha(readFileSync(down))).toBe(sha(data));
}, 60_000);

/**
 * A websocket relay in front of the board that counts the binary (file-record) bytes each way; with
 * `dropBinary` it plays a WebREPL that does not answer the records (they never reach the board).
 */
async function relay(target: string, dropBinary = false) {
  // The REPL's text frames carry raw bytes, as the firmware's do: no UTF-8 checks on either side.
  const server = new WebSocketServer({ host: '127.0.0.1', port: 0, perMessageDeflate: false, skipUTF8Validation: true });
  await new Promise<void>((resolve) => server.once('listening', () => resolve()));
  const counts = { up: 0, down: 0 };
  server.on('connection', (client) => {
    const board = new WebSocket(target, { perMessageDeflate: false, skipUTF8Validation: true });
    const early: [Buffer, boolean][] = [];
    client.on('message', (data: Buffer, isBinary: boolean) => {
      if (isBinary && dropBinary) return;
      if (isBinary) counts.up += data.length;
      if (board.readyState === board.OPEN) board.send(data, { binary: isBinary });
      else early.push([data, isBinary]);
    });
    board.on('open', () => early.splice(0).forEach(([d, b]) => board.send(d, { binary: b })));
    board.on('message', (data: Buffer, isBinary: boolean) => {
      if (isBinary) counts.down += data.length;
      client.send(data, { binary: isBinary });
    });
    board.on('close', () => client.close());
    client.on('close', () => board.close());
    board.on('error', () => client.terminate());
  });
  const url = `ws://127.0.0.1:${(server.address() as { port: number }).port}`;
  return { url, counts, close: () => new Promise<void>((resolve) => server.close(() => resolve())) };
}

it('cp over ws:// moves files with the WebREPL records, and through the raw REPL where the peer does not answer them', async () => {
  const up = join(home, 'rec-up.bin');
  const data = randomBytes(60_000);
  writeFileSync(up, data);
  const password = { ...env, BOARDCTL_WEBREPL_PASSWORD: 's3cret' };
  for (const dropBinary of [false, true]) {
    const r = await relay(ws, dropBinary);
    const down = join(home, `rec-down-${dropBinary}.bin`);
    try {
      const run = await boardctl(['-p', r.url, 'cp', up, ':rec-cp.bin', '+', 'cp', ':rec-cp.bin', down], password, [], 60_000);
      expect(run.code, run.stderr).toBe(0);
      expect(sha(readFileSync(down))).toBe(sha(data));
      if (dropBinary) expect(r.counts.down).toBe(0);
      else expect(Math.min(r.counts.up, r.counts.down)).toBeGreaterThan(data.length);
    } finally {
      await r.close();
    }
  }
  // No upload debris (the records' temp file) is left beside the target.
  const ls = await boardctl(['-p', ws, 'exec', "import os; print([n for n in os.listdir('/') if n.startswith('.~bc')])"], password);
  expect(ls).toMatchObject({ code: 0, stdout: '[]\n' });
}, 120_000);

it('runs an interactive repl over ws://', async () => {
  const { term, exited, screen } = onTerminal(['-p', ws, 'repl'], 's3cret');
  try {
    await expect.poll(screen, { timeout: 10_000 }).toContain('Ctrl-] or Ctrl-X to quit');
    term.write('\r');
    await expect.poll(screen, { timeout: 10_000 }).toContain('>>> ');
    term.write('print(7 * 6)\r');
    await expect.poll(screen, { timeout: 10_000 }).toMatch(/print\(7 \* 6\)\r\n42\r\n>>> /);
    // webrepl_setup's dialog, typed over the WebREPL: an empty line quits it.
    term.write('import webrepl_setup\r');
    await expect.poll(screen, { timeout: 10_000 }).toContain('WebREPL daemon auto-start status: disabled');
    await expect.poll(screen, { timeout: 10_000 }).toContain('(Empty line to quit)\r\n> ');
    term.write('\r');
    await expect.poll(screen, { timeout: 10_000 }).toMatch(/\(Empty line to quit\)\r\n> \r\n>>> $/);
    term.write('\x1d');
    expect(await exited).toBe(0);
  } finally {
    term.kill();
  }
}, 30_000);

it('asks for the password on a terminal when neither the URL nor the environment has one', async () => {
  const { term, exited, screen } = onTerminal(['-p', ws, 'exec', 'print(6 * 7)'], '');
  try {
    await expect.poll(screen, { timeout: 10_000 }).toContain('WebREPL password: ');
    term.write('s3cret\r');
    expect(await exited).toBe(0);
    // Typed without echo, as a password prompt should.
    expect(screen()).toMatch(/WebREPL password: \s+42\s+$/);
    expect(screen()).not.toContain('s3cret');
  } finally {
    term.kill();
  }
}, 30_000);

it('serves one client at a time: a second one is closed after its handshake, before any prompt, and the first sees the notice', async () => {
  const first = await WebReplPeer.login(ws, 's3cret');
  try {
    // As v1.27's webrepl.py (micropython-lib): the handshake completes, then the TCP connection closes.
    const second = new WebSocket(ws, { perMessageDeflate: false });
    const frames: Buffer[] = [];
    second.on('message', (d: Buffer) => frames.push(d));
    await once(second, 'open');
    const [code] = (await once(second, 'close')) as [number];
    expect({ code, frames }).toEqual({ code: 1006, frames: [] });
    await first.untilText(`Concurrent WebREPL connection from ('127.0.0.1', `);
    const busy = await boardctl(['-p', `${ws}?password=s3cret`, 'exec', 'print(1)'], env);
    expect(busy.code).toBe(3);
    expect(busy.stderr).toContain('a WebREPL serves one client at a time');
    first.ws.send('print(6 * 7)\r');
    await first.untilText('42');
  } finally {
    await first.close();
  }
}, 30_000);

it('cannot be reached while the board has no address (AP gone), and is again once the station reconnects', async () => {
  const peer = await WebReplPeer.login(ws, 's3cret');
  expect((await boardctl(['sim', 'set', 'wr', 'ap', 'down'], env)).code).toBe(0);
  try {
    // At the station's beacon timeout its link drops, and the client's connection with it.
    await expect.poll(() => peer.closed, { timeout: 20_000, interval: 100 }).toBe(true);
    await expect(WebReplPeer.login(ws, 's3cret')).rejects.toThrow(/socket hang up|ECONNRESET/);
  } finally {
    expect((await boardctl(['sim', 'set', 'wr', 'ap', 'up'], env)).code).toBe(0);
  }
  // ESP-IDF's station reconnects by itself: the WebREPL, still listening, is reachable again.
  let again: WebReplPeer | undefined;
  for (let i = 0; i < 100 && !again; i++) {
    again = await WebReplPeer.login(ws, 's3cret').catch(() => undefined);
    if (!again) await new Promise((r) => setTimeout(r, 200));
  }
  expect(again).toBeDefined();
  await again!.close();
}, 60_000);

it("start() as the firmware's webrepl.py: a password over 9 characters is a ValueError (after stop), webrepl_cfg.PASS is normal mode", async () => {
  // exec over the UART starts with a soft reset, which stops the WebREPL: start one, then the too long one.
  let seen = out.length;
  const long = await boardctl(['-p', uart, 'exec', "import webrepl\nwebrepl.start(password='s3cret')\ntry:\n    webrepl.start(password='0123456789')\nexcept ValueError:\n    print('ValueError')"], env, [], 30_000);
  expect(long, long.stderr).toMatchObject({ code: 0 });
  expect(long.stdout).toMatch(/manual override mode\nValueError\n$/);
  await expect.poll(() => out.slice(seen)).toMatch(/published: wr tcp port 8266 at 127\.0\.0\.1:(\d+)\nunpublished: wr tcp port 8266 at 127\.0\.0\.1:\1/);
  seen = out.length;
  const cfg = await boardctl(['-p', uart, 'exec', "import webrepl\nwith open('webrepl_cfg.py', 'w') as f:\n    f.write(\"PASS = 'abc12'\\n\")\nwebrepl.start()"], env, [], 30_000);
  expect(cfg.stdout, cfg.stderr).toMatch(/Started webrepl in normal mode\n$/);
  let port: string | undefined;
  await expect.poll(() => (port = /published: wr tcp port 8266 at 127\.0\.0\.1:(\d+)/.exec(out.slice(seen))?.[1])).toBeDefined();
  const peer = await WebReplPeer.login(`ws://127.0.0.1:${port}`, 'abc12');
  await peer.close();
}, 60_000);

/** Run `code` over the UART (its soft reset stops any WebREPL first); the ws:// URL it published, if any. */
async function startOverUart(code: string): Promise<{ run: Awaited<ReturnType<typeof boardctl>>; url?: string }> {
  const seen = out.length;
  const run = await boardctl(['-p', uart, 'exec', code], env, [], 30_000);
  const port = /(?:^|\n)published: wr tcp port 8266 at 127\.0\.0\.1:(\d+)/.exec(out.slice(seen))?.[1];
  return { run, ...(port ? { url: `ws://127.0.0.1:${port}` } : {}) };
}

/** A raw terminal on the board's UART (the served TCP link), as a user's serial terminal sees it. */
async function uartTerminal() {
  const [host, port] = uart.slice('socket://'.length).split(':');
  const sock: Socket = connect(Number(port), host);
  await once(sock, 'connect');
  let text = '';
  sock.on('data', (d: Buffer) => (text += d.toString('latin1')));
  return {
    text: () => text,
    type: (s: string) => sock.write(s),
    close: async () => {
      sock.destroy();
      await once(sock, 'close');
    },
  };
}

const DUPTERM_EOF = 'dupterm: EOF received, deactivating\r\n';
const count = (text: string, part: string) => text.split(part).length - 1;

/** A plain HTTP GET on a raw socket: every byte the server sent until it closed. */
async function plainGet(url: string): Promise<string> {
  const { hostname, port } = new URL(url);
  const sock = connect(Number(port), hostname);
  let text = '';
  sock.on('data', (d: Buffer) => (text += d.toString('latin1')));
  sock.write(`GET / HTTP/1.1\r\nHost: ${hostname}\r\n\r\n`);
  await once(sock, 'close');
  return text;
}

const page = (base: string) => `HTTP/1.0 200 OK\r\n\r\n<base href="${base}"></base>\r\n<script src="webrepl_content.js"></script>\r\n`;

it("answers a plain HTTP request with webrepl.py's page, its client loaded from webrepl_cfg.BASE where set", async () => {
  const plain = await startOverUart("import webrepl\nwebrepl.start(password='s3cret')");
  expect(await plainGet(plain.url!)).toBe(page('https://micropython.org/webrepl/'));
  const cfg = "with open('webrepl_cfg.py', 'w') as f:\n    f.write(\"PASS = 'abc12'\\nBASE = 'http://10.0.2.2:8000/'\\n\")\nimport webrepl\nwebrepl.start()";
  const based = await startOverUart(cfg);
  expect(based.run.stdout).toMatch(/Started webrepl in normal mode\n$/);
  expect(await plainGet(based.url!)).toBe(page('http://10.0.2.2:8000/'));
  // The page is no session: a websocket client is served next.
  await (await WebReplPeer.login(based.url!, 'abc12')).close();
}, 60_000);

it("start() without webrepl_cfg.py or a password prints the firmware's hint, then raises its TypeError; nothing is served", async () => {
  const cleared = await boardctl(['-p', uart, 'exec', "import os\ntry:\n    os.remove('webrepl_cfg.py')\nexcept OSError:\n    pass"], env, [], 30_000);
  expect(cleared.code, cleared.stderr).toBe(0);
  const { run, url } = await startOverUart('import webrepl\nwebrepl.start()');
  expect(run.stdout).toBe("WebREPL is not configured, run 'import webrepl_setup'\n");
  expect(run.code).toBe(1);
  expect(run.stderr).toMatch(/File "webrepl\.py", line \d+, in start\nTypeError: can't convert 'NoneType' object to str implicitly\n$/);
  expect(url).toBeUndefined();
  // _webrepl.password takes bytes as well as str; an address line for each active interface (AP, then STA).
  const bytes = await startOverUart("import webrepl\nwebrepl.start(password=b'by7')");
  expect(bytes.run.stdout).toBe('WebREPL server started on http://10.0.2.15:8266/\nStarted webrepl in manual override mode\n');
  await (await WebReplPeer.login(bytes.url!, 'by7')).close();
  const off = await startOverUart("import network, webrepl\nnetwork.WLAN(network.STA_IF).active(False)\nwebrepl.start(password='x1')");
  expect(off.run.stdout).toBe('Started webrepl in manual override mode\n');
}, 60_000);

it("prints os.dupterm's EOF line on the UART when a client goes away or is refused its password, not when the board stops it", async () => {
  const { url } = await startOverUart(START);
  const term = await uartTerminal();
  try {
    const peer = await WebReplPeer.login(url!, 's3cret');
    await peer.close();
    await expect.poll(term.text).toMatch(/WebREPL connection from: \('127\.0\.0\.1', \d+\)\r\ndupterm: EOF received, deactivating\r\n$/);
    await expect(WebReplPeer.login(url!, 'nope')).rejects.toThrow(/closed/);
    await expect.poll(() => count(term.text(), DUPTERM_EOF)).toBe(2);
    // webrepl.stop() drops its client without reading an EOF: no line.
    const third = await WebReplPeer.login(url!, 's3cret');
    third.ws.send('webrepl.stop()\r');
    await expect.poll(() => third.closed).toBe(true);
    term.type('print(6 * 7)\r');
    await expect.poll(term.text).toContain('42\r\n>>> ');
    expect(count(term.text(), DUPTERM_EOF)).toBe(2);
  } finally {
    await term.close();
  }
}, 60_000);

it('start_foreground() blocks the REPL until one client connects, attaches it, and accepts nobody after it', async () => {
  await startOverUart(START); // the station is connected; the UART is at the friendly REPL
  const term = await uartTerminal();
  const waiting: WebSocket[] = [];
  try {
    const seen = out.length;
    term.type('\x03');
    await expect.poll(term.text).toContain('>>> ');
    term.type("webrepl.start_foreground(password='fg1')\r");
    await expect.poll(term.text).toMatch(/WebREPL server started on http:\/\/10\.0\.2\.15:8266\/\r\nStarting webrepl in foreground mode\r\n$/);
    let port: string | undefined;
    await expect.poll(() => (port = /(?:^|\n)published: wr tcp port 8266 at 127\.0\.0\.1:(\d+)/.exec(out.slice(seen))?.[1])).toBeDefined();
    // Typed ahead while it blocks: no echo and no prompt until start_foreground returns.
    term.type("print('typed', 6 * 7)\r");
    await new Promise((r) => setTimeout(r, 500));
    expect(term.text()).toMatch(/Starting webrepl in foreground mode\r\n$/);
    const url = `ws://127.0.0.1:${port}`;
    const peer = await WebReplPeer.login(url, 'fg1');
    await expect.poll(term.text).toMatch(/WebREPL connection from: \('127\.0\.0\.1', \d+\)\r\n>>> print\('typed', 6 \* 7\)\r\ntyped 42\r\n>>> /);
    peer.ws.send('print(7 * 6)\r');
    await peer.untilText('42');
    // Nobody else gets an answer, during the client's session or after it.
    for (const phase of ['during', 'after']) {
      if (phase === 'after') await peer.close();
      const next = new WebSocket(url, { perMessageDeflate: false });
      next.on('error', () => undefined);
      waiting.push(next);
      await new Promise((r) => setTimeout(r, 1000));
      expect({ phase, state: next.readyState }).toEqual({ phase, state: WebSocket.CONNECTING });
    }
    await expect.poll(term.text).toContain(DUPTERM_EOF);
    expect(term.text()).not.toContain('Concurrent WebREPL connection');
  } finally {
    for (const w of waiting) w.terminate();
    await term.close();
  }
}, 60_000);

it("calls start()'s accept_handler with the listening socket for each connection: it serves one with accept_conn, or takes and closes it", async () => {
  const code = [
    START.replace("webrepl.start(password='s3cret')", ''),
    'def gate(sock):',
    "    print('gate', type(sock).__name__ if sock is webrepl.listen_s else sock)",
    '    if deny:',
    '        cl, addr = sock.accept()',
    "        cl.send(b'no\\r\\n')",
    '        cl.close()',
    "        print('denied', addr[0])",
    '    else:',
    "        print('served', webrepl.accept_conn(sock))",
    'deny = False',
    "webrepl.start(password='s3cret', accept_handler=gate)",
  ].join('\n');
  const { run, url } = await startOverUart(code);
  expect(run.stdout, run.stderr).toMatch(/Started webrepl in manual override mode\n$/);
  const term = await uartTerminal();
  try {
    const peer = await WebReplPeer.login(url!, 's3cret');
    await expect.poll(term.text).toMatch(/gate _Listener\r\n\r\nWebREPL connection from: \('127\.0\.0\.1', \d+\)\r\nserved True\r\n/);
    await peer.close();
    // A plain HTTP request gets the page: accept_conn says False.
    expect(await plainGet(url!)).toBe(page('https://micropython.org/webrepl/'));
    await expect.poll(term.text).toContain('served False\r\n');
    term.type('deny = True\r');
    await expect.poll(term.text).toContain('deny = True\r\n>>> ');
    // The handler's own socket: what it sends reaches the client, then its close ends the connection.
    expect(await plainGet(url!)).toBe('no\r\n');
    await expect.poll(term.text).toContain('denied 127.0.0.1\r\n');
    expect(count(term.text(), 'gate _Listener')).toBe(3);
  } finally {
    await term.close();
  }
}, 60_000);

it('Ctrl-C in start_foreground() raises KeyboardInterrupt; the listener then answers nobody until the board accepts', async () => {
  await startOverUart(START);
  const term = await uartTerminal();
  try {
    const seen = out.length;
    term.type('\x03');
    await expect.poll(term.text).toContain('>>> ');
    term.type("webrepl.start_foreground(password='fg2')\r");
    await expect.poll(term.text).toContain('Starting webrepl in foreground mode\r\n');
    let port: string | undefined;
    await expect.poll(() => (port = /(?:^|\n)published: wr tcp port 8266 at 127\.0\.0\.1:(\d+)/.exec(out.slice(seen))?.[1])).toBeDefined();
    term.type('\x03');
    await expect.poll(term.text).toMatch(/in accept_conn\r\nKeyboardInterrupt: \r\n>>> $/);
    // The next client waits in the backlog, unanswered, until the board itself accepts it.
    const sock = connect(Number(port), '127.0.0.1');
    let got = '';
    sock.on('data', (d: Buffer) => (got += d.toString('latin1')));
    await once(sock, 'connect');
    sock.write('GET / HTTP/1.1\r\nHost: board\r\n\r\n');
    const closed = once(sock, 'close');
    // A round trip through the board after the request: a listener that answered by itself had answered by now.
    term.type("print('mark')\r");
    await expect.poll(term.text).toContain('mark\r\n>>> ');
    expect(got).toBe('');
    term.type('print(webrepl.accept_conn(webrepl.listen_s))\r');
    await closed;
    expect(got).toBe(page('https://micropython.org/webrepl/'));
    await expect.poll(term.text).toMatch(/\r\nFalse\r\n>>> $/);
  } finally {
    await term.close();
  }
}, 60_000);

it("reports a client's TCP reset as os.dupterm's exception in read(), as lwIP's ECONNRESET", async () => {
  const { url } = await startOverUart(START);
  const term = await uartTerminal();
  try {
    const { hostname, port } = new URL(url!);
    const sock = connect(Number(port), hostname);
    let got = '';
    sock.on('data', (d: Buffer) => (got += d.toString('latin1')));
    await once(sock, 'connect');
    const key = randomBytes(16).toString('base64');
    sock.write(`GET / HTTP/1.1\r\nHost: board\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: ${key}\r\nSec-WebSocket-Version: 13\r\n\r\n`);
    await expect.poll(() => got).toContain('Password: ');
    sock.resetAndDestroy();
    await expect.poll(term.text).toMatch(/WebREPL connection from: \('127\.0\.0\.1', \d+\)\r\ndupterm: Exception in read\(\) method, deactivating: OSError: \[Errno 104\] ECONNRESET\r\n$/);
    expect(term.text()).not.toContain(DUPTERM_EOF);
  } finally {
    await term.close();
  }
}, 60_000);
