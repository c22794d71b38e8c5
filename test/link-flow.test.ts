// Flow control on the served board's links, as a UART with RTS/CTS: a client that reads slowly (or not at all)
// loses nothing and makes the board wait, and the serving process's memory stays bounded meanwhile.
import { afterAll, describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { closeSync, constants, mkdtempSync, openSync, readdirSync, readFileSync, readSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import net from 'node:net';
import type { Duplex } from 'node:stream';
import { SerialPort } from 'serialport';
import { BoardConsole } from './helpers/board-console.js';
import { cliPath, rssMiB, startCli, stopAllCli, stopCli } from './helpers/serve-cli.js';
import { controlSocketPath } from '../emulator/link/control-server.js';

const home = mkdtempSync(join(tmpdir(), 'boardctl-flow-'));
const env = { ...process.env, BOARDCTL_HOME: home };
afterAll(async () => {
  await stopAllCli();
  rmSync(home, { recursive: true, force: true });
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** CPU ticks process PID's threads used so far, and whether one of them is running or waiting for a core. */
function cpuOf(pid: number): { ticks: number; running: boolean } {
  let ticks = 0;
  let running = false;
  for (const task of readdirSync(`/proc/${pid}/task`)) {
    // Fields after the command's ") ": state, then utime and stime at 11 and 12.
    const f = readFileSync(`/proc/${pid}/task/${task}/stat`, 'utf8').split(') ')[1]!.split(' ');
    ticks += Number(f[11]) + Number(f[12]);
    running ||= f[0] === 'R';
  }
  return { ticks, running };
}

/** Wait until process PID has used no CPU for half a second, all its threads asleep: the board's program is over. */
async function idleProcess(pid: number): Promise<void> {
  const deadline = Date.now() + 45_000;
  for (let last = cpuOf(pid), quietSince = Date.now(); Date.now() - quietSince < 500; ) {
    if (Date.now() > deadline) throw new Error(`the serving process ${pid} never went idle: its program does not end without a reader`);
    await sleep(50);
    const now = cpuOf(pid);
    if (now.running || now.ticks !== last.ticks) quietSince = Date.now();
    last = now;
  }
}

/** Serve a board in its own process and open its link as a plain byte stream. */
async function served(kind: 'pty' | 'tcp' | 'rfc2217', name: string) {
  execFileSync(process.execPath, [cliPath, 'sim', 'create', name], { env });
  const args = ['sim', 'serve', name, ...(kind === 'pty' ? [] : [`--${kind}`, '127.0.0.1:0'])];
  const { child, lines } = await startCli(args, env);
  let stream: Duplex;
  if (kind === 'pty') {
    const port = new SerialPort({ path: lines[0]!.slice('pty: '.length), baudRate: 115200, hupcl: false, autoOpen: false });
    await new Promise<void>((resolve, reject) => port.open((err) => (err ? reject(err) : resolve())));
    stream = port;
  } else {
    const sock = net.connect(Number(lines[0]!.split(':').pop()), '127.0.0.1');
    await new Promise((r) => sock.once('connect', r));
    stream = sock;
  }
  const con = new BoardConsole({
    write: (d) => new Promise((resolve) => stream.write(Buffer.from(d), () => resolve())),
    onData: (l) => stream.on('data', (d: Buffer) => l(d)),
    close: async () => void stream.destroy(),
  });
  return {
    child,
    stream,
    con,
    async close() {
      stream.destroy();
      expect(await stopCli(child)).toBe(0);
    },
  };
}

/** Lines "i ticks_ms …" in order 0..n-1; returns the longest pause between two lines, in ms. */
function checkLines(text: string, n: number): number {
  const lines = text.split('\r\n').filter(Boolean);
  expect(lines.length).toBe(n);
  let gap = 0;
  for (let i = 0; i < n; i++) {
    const [idx, ms] = lines[i]!.split(' ').map(Number);
    if (idx !== i) expect.fail(`line ${i} reads ${JSON.stringify(lines[i]!.slice(0, 40))}`);
    if (i) gap = Math.max(gap, ms! - Number(lines[i - 1]!.split(' ')[1]));
  }
  return gap;
}

describe('a client that reads slowly', () => {
  it.each(['pty', 'tcp'] as const)('gets all of 20,000 printed lines, and the board waits for it (%s)', async (kind) => {
    const s = await served(kind, `slow-${kind}`);
    try {
      await s.con.rawRepl();
      const n = 20000;
      // About 2 MB: more than the pty, the board's rings and loopback TCP's buffers hold together.
      await s.con.send(`import time\nfor i in range(${n}):\n    print(i, time.ticks_ms(), 'x' * 90)\n\x04`);
      await s.con.expect('OK');
      s.stream.pause();
      await sleep(3000);
      const done = s.con.expect(/\x04[^\x04]*\x04>/, 120_000);
      let finished = false;
      void done.then(() => (finished = true), () => (finished = true));
      while (!finished) {
        s.stream.resume();
        await sleep(10);
        s.stream.pause();
        await sleep(30);
      }
      s.stream.resume();
      const text = await done;
      const out = text.slice(0, text.indexOf('\x04'));
      const gap = checkLines(out, n);
      // On the pty the stall shows as one print that took as long as the client did not read (loopback TCP's
      // socket buffers hold megabytes: there the test below stalls the client for longer).
      if (kind === 'pty') expect(gap).toBeGreaterThan(1000);
    } finally {
      await s.close();
    }
  }, 180_000);
});

describe('while nobody has the pty open', () => {
  it('the board runs on, and the next client finds only the newest output', async () => {
    const s = await served('pty', 'unheard');
    try {
      await s.con.rawRepl();
      await s.con.send("for i in range(20000):\n    print(i, 'z' * 20)\nprint('END')\n\x04");
      await s.con.expect('OK');
      const path = (s.stream as SerialPort).path;
      await new Promise<void>((resolve) => (s.stream as SerialPort).close(() => resolve()));
      // However long the program takes on a loaded machine, it ends with nobody reading.
      await idleProcess(s.child.pid!);
      // A plain open, as cat or pyserial do (node-serialport flushes what waits when it opens a port).
      const fd = openSync(path, constants.O_RDWR | constants.O_NOCTTY | constants.O_NONBLOCK);
      let text = '';
      const buf = Buffer.alloc(65536);
      for (let quiet = 0; quiet < 20; ) {
        try {
          text += buf.toString('latin1', 0, readSync(fd, buf));
          quiet = 0;
        } catch {
          quiet++;
          await sleep(25);
        }
      }
      closeSync(fd);
      // The program finished without a reader; what waited is the end of its output, no more than the pty's
      // buffer, and unbroken.
      expect(text).toMatch(/19999 z{20}\r\nEND\r\n\x04\x04>$/);
      expect(text.length).toBeLessThan(64 * 1024);
      const nums = text.split('\r\n').slice(1).filter((l) => /^\d+ z+$/.test(l)).map((l) => Number(l.split(' ')[0]));
      expect(nums.length).toBeGreaterThan(50);
      expect(nums.every((v, i) => i === 0 || v === nums[i - 1]! + 1)).toBe(true);
    } finally {
      await s.close();
    }
  }, 60_000);
});

describe('a client that stops reading', () => {
  it.each(['tcp', 'rfc2217'] as const)('holds the board, and the server\'s memory stays flat (%s)', async (kind) => {
    const s = await served(kind, `stall-${kind}`);
    try {
      await s.con.rawRepl();
      await s.con.send("s = 'y' * 1000\ni = 0\nwhile True:\n    print(i, s)\n    i += 1\n\x04");
      await s.con.expect('OK');
      await sleep(300);
      s.stream.pause();
      await sleep(1500);
      const before = rssMiB(s.child.pid!);
      await sleep(8000);
      const growth = rssMiB(s.child.pid!) - before;
      // Queueing without bound grew this by 40-60 MB in these 8 s (the kernel's socket buffers, some 4 MB on
      // loopback, are all a stalled client may hold).
      expect(growth).toBeLessThan(32);
      s.stream.resume();
      await s.con.send('\x03');
      const text = await s.con.expect(/KeyboardInterrupt[^]*\x04>/, 30_000);
      // Nothing was lost meanwhile: every line arrived whole, in order.
      const lines = text.split('\r\n').filter((l) => /^\d+ y/.test(l));
      expect(lines.length).toBeGreaterThan(1000);
      expect(lines.every((l, k) => l === `${Number(lines[0]!.split(' ')[0]) + k} ${'y'.repeat(1000)}`)).toBe(true);
    } finally {
      await s.close();
    }
  }, 60_000);
});

describe('the control socket', () => {
  it('answers an over-long request with an error and closes, without growing; then serves the next client', async () => {
    const s = await served('tcp', 'ctl');
    try {
      const path = controlSocketPath(join(home, 'boards', 'ctl'));
      const sock = net.connect(path);
      await new Promise((r) => sock.once('connect', r));
      let reply = '';
      sock.on('data', (d) => (reply += d));
      const closed = new Promise((r) => sock.once('close', r));
      sock.on('error', () => undefined);
      const before = rssMiB(s.child.pid!);
      const block = Buffer.alloc(1 << 20, 0x61);
      for (let i = 0; i < 50 && !sock.destroyed; i++) {
        if (!sock.write(block)) await Promise.race([new Promise((r) => sock.once('drain', r)), closed]);
      }
      await closed;
      expect(rssMiB(s.child.pid!) - before).toBeLessThan(24);
      expect(reply).toMatch(/"error":"control request longer than \d+ bytes/);
      const { sendControl } = await import('../emulator/link/control-server.js');
      expect(await sendControl(join(home, 'boards', 'ctl'), { plugin: 'hw', op: 'get', args: { what: 'pins' } })).toBeTruthy();
    } finally {
      await s.close();
    }
  }, 60_000);
});

describe('the ROM and stub over the unpaced pty', () => {
  it('read 1 MB of flash intact: their answers wait for the client instead of being dropped', async () => {
    const { serveBoard } = await import('../emulator/link/serve.js');
    const { openTransport } = await import('../protocol/connect.js');
    const { connectEsp } = await import('../flash/esp-connect.js');
    const { readFlash } = await import('../flash/read-flash.js');
    const { parseStubJson } = await import('../protocol/esp/stub.js');
    const { createBoard } = await import('../emulator/board-store.js');
    const stored = createBoard('readback', { home });
    const serving = await serveBoard({ name: 'readback', home });
    const transport = await openTransport(serving.ptyPath!);
    try {
      const image = readFileSync(stored.flashPath);
      const rom = await connectEsp(transport, { attempts: 3 });
      const size = 1 << 20;
      expect(Buffer.from(await readFlash(rom, 0, size)).equals(image.subarray(0, size))).toBe(true);
      // The stub streams 64 sectors before it waits for an acknowledgement: far more than the pty holds.
      const stub = parseStubJson(JSON.stringify({
        entry: 0x4009_0000, text: Buffer.alloc(4096, 1).toString('base64'), text_start: 0x4009_0000,
        data: Buffer.alloc(16).toString('base64'), data_start: 0x3ffe_0000,
      }));
      await rom.loader.runStub(stub);
      expect(rom.loader.isStub).toBe(true);
      expect(Buffer.from(await readFlash(rom, 0x100000, 2 * size)).equals(image.subarray(0x100000, 0x100000 + 2 * size))).toBe(true);
    } finally {
      await transport.close();
      await serving.close();
    }
  }, 120_000);
});
