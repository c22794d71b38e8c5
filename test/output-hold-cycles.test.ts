// A client that keeps stopping and resuming its reads while the board prints as fast as it can: every byte
// arrives, in order, and Ctrl-C still interrupts. The main thread takes a printing worker's output in looks 2 ms
// apart (STATUS_OUT_WAKE, shared-state.ts); a look that takes bytes for none stops looking while the worker, its
// ring full, cannot wake it: the board stalls for good and the KeyboardInterrupt's traceback has nowhere to go.
// (Ring positions that came back after two ringfuls did that to 10 of 36 runs of the TCP case on a loaded
// machine. The in-process and pty cases, where the client's stops hold the board's output, did not catch it:
// they are here for the hold and release path.)
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import net from 'node:net';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Duplex } from 'node:stream';
import { SerialPort } from 'serialport';
import { closeAllVirtualBoards, VirtualBoard } from '../emulator/board.js';
import { createBoard } from '../emulator/board-store.js';
import { serveBoard, type Serving } from '../emulator/link/serve.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Line k of the program below: its number and a length that varies from 0 to 1499 characters. */
const LINE = (k: number) => `${k} ${'y'.repeat((k * 7919) % 1500)}`;
const PROGRAM = "s = 'y' * 1500\ni = 0\nwhile True:\n    print(i, s[:(i * 7919) % 1500])\n    i += 1\n\x04";

/** A small deterministic generator, so every run tries the same schedule of stops and resumes. */
function schedule(seed: number): () => number {
  let x = seed;
  return () => ((x = (x * 1103515245 + 12345) % 2 ** 31), x / 2 ** 31);
}

/**
 * What the board sends, checked as it comes (megabytes: not kept): the raw REPL's prompt, then after the program's
 * OK its lines in order, and after Ctrl-C a cut last line, the KeyboardInterrupt and the prompt.
 */
class Receiver {
  private text = '';
  private next = 0;
  private waiter: (() => void) | undefined;
  bytes = 0;
  error: string | undefined;
  interrupted = false;
  private phase: 'setup' | 'lines' | 'end' = 'setup';

  push(chunk: Uint8Array): void {
    this.bytes += chunk.length;
    this.text += Buffer.from(chunk).toString('latin1');
    if (this.phase === 'lines') this.checkLines();
    if (this.phase === 'end' && /KeyboardInterrupt: \r\n\x04>$/.test(this.text)) this.interrupted = true;
    this.waiter?.();
  }

  /** Wait for `marker` during setup (the raw REPL's answers before the program runs). */
  async until(marker: string, timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!this.text.includes(marker)) {
      const got = JSON.stringify(this.text.slice(-200));
      if (Date.now() > deadline) throw new Error(`no ${JSON.stringify(marker)} from the board; got ${got}`);
      await new Promise<void>((r) => {
        this.waiter = r;
        setTimeout(r, 100);
      });
    }
    this.text = this.text.slice(this.text.indexOf(marker) + marker.length);
  }

  startLines(): void {
    this.phase = 'lines';
    this.checkLines();
  }

  get lines(): number {
    return this.next;
  }

  private checkLines(): void {
    for (let end = this.text.indexOf('\r\n'); end >= 0 && !this.error; end = this.text.indexOf('\r\n')) {
      const line = this.text.slice(0, end);
      if (line.includes('\x04')) break;
      if (line !== LINE(this.next)) this.error = `line ${this.next} reads ${JSON.stringify(line.slice(0, 60))} (${line.length} chars)`;
      this.text = this.text.slice(end + 2);
      this.next++;
    }
    const eot = this.text.indexOf('\x04');
    if (eot < 0 || this.error) return;
    // Ctrl-C cut the program somewhere in line `next`: what came of it is its start.
    const cut = this.text.slice(0, eot).replace(/\r$/, '');
    if (!LINE(this.next).startsWith(cut)) this.error = `line ${this.next} cut as ${JSON.stringify(cut.slice(0, 60))}`;
    this.text = this.text.slice(eot);
    this.phase = 'end';
  }
}

interface Client {
  write(data: string): Promise<void>;
  /** Stop (true) or resume (false) reading. */
  stop(stopped: boolean): void;
}

/**
 * Start the printing program, then stop and resume reading `cycles` times (stops of up to maxStopMs, reads of up to
 * maxReadMs), then read on and press Ctrl-C: its KeyboardInterrupt must come.
 */
async function holdCycles(client: Client, rx: Receiver, cycles: number, maxStopMs: number, maxReadMs: number): Promise<void> {
  await client.write('\r\x03\x03\x01');
  await rx.until('raw REPL; CTRL-B to exit\r\n>', 20_000);
  await client.write(PROGRAM);
  await rx.until('OK', 20_000);
  rx.startLines();
  const rand = schedule(20261202);
  for (let c = 0; c < cycles && !rx.error; c++) {
    client.stop(true);
    await sleep(rand() * maxStopMs);
    client.stop(false);
    await sleep(rand() * maxReadMs);
  }
  const before = rx.lines;
  await client.write('\x03');
  // Generous for a loaded machine: a board that still prints answers within milliseconds.
  for (const deadline = Date.now() + 20_000; !rx.interrupted && !rx.error && Date.now() < deadline; ) await sleep(20);
  expect(rx.error).toBeUndefined();
  expect(rx.interrupted, `no KeyboardInterrupt: ${rx.lines} lines (${rx.bytes} bytes) arrived, ${rx.lines - before} after the Ctrl-C`).toBe(true);
  expect(rx.lines).toBeGreaterThan(1000);
}

describe('a reader that keeps stopping', () => {
  const home = mkdtempSync(join(tmpdir(), 'boardctl-hold-'));
  afterAll(async () => {
    await closeAllVirtualBoards();
    rmSync(home, { recursive: true, force: true });
  });

  it('on the in-process link (its output held and released 300 times) gets every line, and Ctrl-C works', async () => {
    // Its own client, not TestBoard's console: that keeps all it receives, and this is hundreds of megabytes.
    createBoard('hold-here', { home });
    const board = await VirtualBoard.open('hold-here', { home });
    await board.whenReady();
    const link = board.attach();
    try {
      const rx = new Receiver();
      link.onData((c) => rx.push(c));
      await holdCycles({ write: (d) => link.write(Buffer.from(d, 'latin1')), stop: (s) => link.holdOutput(s) }, rx, 300, 8, 3);
    } finally {
      await link.close();
    }
  }, 60_000);

  describe('on a served port', () => {
    const servings: Partial<Record<'tcp' | 'pty', Serving>> = {};
    beforeAll(async () => {
      createBoard('hold-tcp', { home });
      createBoard('hold-pty', { home });
      servings.tcp = await serveBoard({ name: 'hold-tcp', home, tcp: '127.0.0.1:0' });
      servings.pty = await serveBoard({ name: 'hold-pty', home });
    }, 60_000);
    afterAll(async () => {
      await servings.tcp?.close();
      await servings.pty?.close();
    });

    /** The served board's link as a byte stream: a TCP socket, or the pty opened as a serial port. */
    async function open(kind: 'tcp' | 'pty'): Promise<Duplex> {
      const serving = servings[kind]!;
      if (kind === 'tcp') {
        const sock = net.connect(serving.tcp!.port, '127.0.0.1');
        await new Promise((r) => sock.once('connect', r));
        return sock;
      }
      const port = new SerialPort({ path: serving.ptyPath!, baudRate: 115200, hupcl: false, autoOpen: false });
      await new Promise<void>((resolve, reject) => port.open((err) => (err ? reject(err) : resolve())));
      return port;
    }

    // TCP: loopback's socket buffers take what comes during these stops (the server does not hold the board),
    // a fast reader with gaps, where the worker fills its ring between two looks. The pty holds a few KiB: each
    // stop fills it and the server holds the board's output until the client reads again.
    it.each([
      ['tcp', 120],
      ['pty', 60],
    ] as const)('(%s, the client stopping 40 times) gets every line, and Ctrl-C works', async (kind, maxStopMs) => {
      const stream = await open(kind);
      try {
        const rx = new Receiver();
        stream.on('data', (d: Buffer) => rx.push(d));
        const client: Client = {
          write: (d) => new Promise((resolve) => stream.write(Buffer.from(d, 'latin1'), () => resolve())),
          stop: (s) => (s ? stream.pause() : stream.resume()),
        };
        await holdCycles(client, rx, 40, maxStopMs, 20);
      } finally {
        stream.destroy();
      }
    }, 60_000);
  });
});
