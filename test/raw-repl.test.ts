// The raw REPL client against a scripted MicroPython peer over real TCP sockets.
import { createServer, type Socket } from 'node:net';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { openBoard } from '../cli/api.js';
import { connectBoard, openTransport } from '../protocol/connect.js';
import { BoardError } from '../protocol/errors.js';
import { LinkReader } from '../protocol/link-reader.js';
import { RawReplClient, type RawReplOptions } from '../protocol/raw-repl.js';
import { servePeer, type PeerOptions, type PeerServer } from './helpers/scripted-peer.js';
import { rejection } from './helpers/rejection.js';

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function setup(peerOpts: PeerOptions = {}, clientOpts: RawReplOptions = {}): Promise<{ server: PeerServer; board: RawReplClient }> {
  const server = await servePeer(peerOpts);
  // A generous prompt deadline (a loaded host runs the peer late); tests of the deadline set their own.
  const board = new RawReplClient(await openTransport(server.url), { enterTimeoutMs: 20_000, ...clientOpts });
  cleanups.push(async () => {
    await board.close().catch(() => {});
    await server.close();
  });
  return { server, board };
}


/** A TCP peer that sends `words` and hangs up as soon as a client connects. */
async function hangingUpPeer(words: string): Promise<string> {
  const sockets = new Set<Socket>();
  const server = createServer((c) => {
    sockets.add(c);
    c.on('error', () => {});
    c.end(words);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  cleanups.push(() => new Promise<void>((resolve) => (sockets.forEach((c) => c.destroy()), server.close(() => resolve()))));
  return `socket://127.0.0.1:${(server.address() as { port: number }).port}`;
}

describe('raw REPL client', () => {
  it('runs code with one soft reset per connection and streams stdout', async () => {
    const { server, board } = await setup();
    const chunks: string[] = [];
    const r = await board.exec("print('hi')", { onStdout: (t) => chunks.push(t) });
    expect(r).toEqual({ stdout: 'hi\r\n', stderr: '' });
    expect(chunks.join('')).toBe('hi\r\n');
    expect(await board.eval('42')).toBe('42');
    expect(server.peer!.softResets).toBe(1);
    expect(server.peer!.programs).toEqual(["print('hi')", 'print(repr(42))']);
    expect(server.peer!.pasteUsed).toBe(2);
  });

  it('skips the soft reset with resume and leaves the board in the friendly REPL on close', async () => {
    const { server, board } = await setup({}, { resume: true });
    await board.exec('x = 1');
    expect(server.peer!.softResets).toBe(0);
    await board.close();
    const sent = server.peer!.received;
    expect(sent.slice(-2)).toEqual([0x0d, 0x02]);
  });

  it('resume on a board that reads nothing for 800 ms runs the program once (issue 12.2)', async () => {
    const { server, board } = await setup({ holdInputMs: 800 }, { resume: true });
    expect(await board.eval('5')).toBe('5');
    expect(await board.eval('6')).toBe('6');
    expect(server.peer!.programs).toEqual(['print(repr(5))', 'print(repr(6))']);
    expect(server.peer!.softResets).toBe(0);
  });

  it('rejects with DEVICE_EXCEPTION carrying the traceback, and keeps working after', async () => {
    const { board } = await setup();
    const stderr: string[] = [];
    const err = await rejection(board.exec("raise ValueError('bad')", { onStderr: (t) => stderr.push(t) }));
    expect(err.code).toBe('DEVICE_EXCEPTION');
    expect(err.message).toBe('ValueError: bad');
    expect(String(err.details.traceback)).toContain('Traceback (most recent call last)');
    expect(stderr.join('')).toBe(err.details.traceback);
    expect(await board.exec("raise OSError('x')", { allowError: true })).toMatchObject({ stderr: expect.stringContaining('OSError: x') });
    expect(await board.eval('7')).toBe('7');
  });

  it('never exceeds the raw-paste window, waiting for each credit', async () => {
    const { server, board } = await setup({ window: 32, creditDelayMs: 3 });
    const code = `${'# padding line\n'.repeat(60)}print('done')`;
    expect((await board.exec(code)).stdout).toBe('done\r\n');
    expect(server.peer!.overruns).toBe(0);
    expect(server.peer!.programs[0]).toBe(code);
    expect(server.peer!.pasteUsed).toBe(1);
  });

  it('stops sending when the board ends raw-paste early and reports its error', async () => {
    const { server, board } = await setup({ window: 16, stopPasteAfter: 20 }, { checkPrograms: false });
    const err = await rejection(board.exec(`x = (\n${'1,\n'.repeat(100)}`));
    expect(err.code).toBe('DEVICE_EXCEPTION');
    expect(err.message).toContain('SyntaxError');
    expect(server.peer!.overruns).toBe(0);
    expect(await board.eval('5')).toBe('5');
  });

  it('reports a guarded program the board could not compile as a damaged command, exit 6', async () => {
    // Under the checksum guard the code is a string literal: a SyntaxError from <stdin> can only be damage.
    const { board } = await setup({ window: 16, stopPasteAfter: 20 });
    const err = await rejection(board.exec(`x = (\n${'1,\n'.repeat(100)}`));
    expect(err.code).toBe('LINK_DAMAGED');
    expect(err.exitCode).toBe(6);
    expect(err.message).toBe('the board received a damaged command; check the cable or lower the baud rate');
  });

  it("shows a program's own traceback as if it had been sent bare", async () => {
    const { board } = await setup();
    const stderr: string[] = [];
    const err = await rejection(board.exec("x = 1\nraise ValueError('bad')", { onStderr: (t) => stderr.push(t) }));
    expect(err.code).toBe('DEVICE_EXCEPTION');
    expect(stderr.join('')).toBe('Traceback (most recent call last):\r\n  File "<stdin>", line 1, in <module>\r\nValueError: bad\r\n');
  });

  it.each([['refuse' as const], ['old-firmware' as const]])('falls back to plain raw mode when raw-paste is %s', async (mode) => {
    const { server, board } = await setup({ rawPaste: mode });
    expect(await board.eval("'a'")).toBe("'a'");
    expect(await board.eval('2')).toBe('2');
    expect(server.peer!.pasteUsed).toBe(0);
    // Asked once, then plain raw mode for the rest of the connection.
    const requests = server.peer!.received.filter((b, i, all) => b === 0x05 && all[i + 1] === 0x41).length;
    expect(requests).toBe(1);
    expect(server.peer!.programs).toEqual(["print(repr('a'))", 'print(repr(2))']);
  });

  it('gives up on a silent device with NO_REPL at the deadline', async () => {
    const { board } = await setup({ silent: true }, { enterTimeoutMs: 800 });
    const t0 = Date.now();
    const err = await rejection(board.exec('pass'));
    const took = Date.now() - t0;
    expect(err.code).toBe('NO_REPL');
    expect(err.message).toContain('received: nothing');
    expect(took).toBeGreaterThanOrEqual(750);
    expect(took).toBeLessThan(8000); // its deadline, not the default 10 s
  });

  it('Ctrl-C while waiting for a silent device to give its raw prompt ends at once with INTERRUPTED', async () => {
    const { board } = await setup({ silent: true }, { enterTimeoutMs: 20_000 });
    const ctl = new AbortController();
    setTimeout(() => ctl.abort(), 300);
    const t0 = Date.now();
    const err = await rejection(board.exec('print(1)', { signal: ctl.signal }));
    expect((err as BoardError).code).toBe('INTERRUPTED');
    expect(Date.now() - t0).toBeLessThan(5_000);
  });

  it('reports garbage bytes escaped in NO_REPL', async () => {
    const { board } = await setup({ garbage: true }, { enterTimeoutMs: 600 });
    const err = await rejection(board.exec('pass'));
    expect(err.code).toBe('NO_REPL');
    expect(err.message).toMatch(/received: ".*\\xfe\\x00.*"/);
  });

  it('gets through a board that keeps printing', async () => {
    const { board } = await setup({ chatty: 'tick 12345\r\n' });
    expect(await board.eval('3')).toBe('3');
  });

  it('waits out a board that is still booting, within the deadline', async () => {
    const { board } = await setup({ bootMs: 700 });
    expect(await board.eval('4')).toBe('4');
  });

  it('accepts a banner ending in \\r\\r\\n', async () => {
    const { board } = await setup({ bannerEol: '\r\r\n' });
    expect(await board.eval('8')).toBe('8');
  });

  it('rejects with LINK_LOST when the link drops mid-command', async () => {
    const { board } = await setup();
    const err = await rejection(board.exec('DISCONNECT = 1'));
    expect(err.code).toBe('LINK_LOST');
  });

  it('a peer that hangs up at once is LINK_LOST at once, not at the (here 2-minute) deadline for the prompt', async () => {
    const url = await hangingUpPeer('');
    const board = new RawReplClient(await openTransport(url), { enterTimeoutMs: 120_000 });
    cleanups.push(() => board.close().catch(() => {}));
    const err = await rejection(board.eval('1'));
    expect(err).toMatchObject({ code: 'LINK_LOST', message: expect.stringMatching(/connection (closed|reset) by the peer/) });
  });

  it("the link reader hands over what came before a link loss, then ends a wait with no deadline at once", async () => {
    const transport = await openTransport(await hangingUpPeer('last words'));
    cleanups.push(() => transport.close().catch(() => {}));
    const reader = new LinkReader(transport);
    expect((await reader.until('words', Infinity))?.toString()).toBe('last words');
    const err = await rejection(reader.until('never sent', Infinity));
    expect(err).toMatchObject({ code: 'LINK_LOST', message: expect.stringMatching(/closed by the peer/) });
  });

  it('keeps UTF-8 sequences split across reads whole', async () => {
    const bytes = new TextEncoder().encode('héllo → 🐍\r\n');
    const { board } = await setup({ run: () => ({ stdout: [...bytes].map((b) => Uint8Array.of(b)) }) });
    const chunks: string[] = [];
    const r = await board.exec('anything', { onStdout: (t) => chunks.push(t) });
    expect(r.stdout).toBe('héllo → 🐍\r\n');
    expect(chunks.join('')).toBe('héllo → 🐍\r\n');
    expect(chunks.every((c) => !c.includes('\ufffd'))).toBe(true);
  });

  it('interrupts the program on the board when the signal aborts', async () => {
    const { server, board } = await setup();
    const ac = new AbortController();
    const failed = rejection(board.exec('while True: pass  # FOREVER', { signal: ac.signal }));
    // Aborted once the program runs (an abort while the client still enters the raw REPL interrupts no program).
    await vi.waitFor(() => expect(server.peer?.programs).toHaveLength(1), { timeout: 20_000 });
    ac.abort();
    const err = await failed;
    expect(err.code).toBe('INTERRUPTED');
    expect(String(err.details.stderr)).toContain('KeyboardInterrupt');
    expect(server.peer!.received.at(-1)).toBe(0x03);
    expect(await board.eval('9')).toBe('9');
  });

  it('interrupt() stops a started program that holds the link', async () => {
    const { board } = await setup();
    const running = await board.start('FOREVER');
    const done = running.done.then(
      () => 'resolved',
      (e: BoardError) => e.code,
    );
    await board.interrupt();
    expect(await done).toBe('DEVICE_EXCEPTION'); // the KeyboardInterrupt traceback
    expect(await board.eval('2')).toBe('2');
  });

  it('times out a program and gets back to the prompt', async () => {
    const { board } = await setup();
    const err = await rejection(board.exec('FOREVER', { timeoutMs: 100 }));
    expect(err.code).toBe('TIMEOUT');
    expect(await board.eval('1')).toBe('1');
  });

  it('serialises concurrent callers on one link', async () => {
    const { board } = await setup();
    const results = await Promise.all([board.eval('1'), board.eval('2'), board.eval('3')]);
    expect(results).toEqual(['1', '2', '3']);
  });

  it('soft-resets on request and stays usable', async () => {
    const { server, board } = await setup({}, { resume: true });
    await board.softReset();
    await board.softReset();
    expect(server.peer!.softResets).toBe(2);
    expect(await board.eval('6')).toBe('6');
  });

  it('feeds a started program its stdin and settles when it ends', async () => {
    const { board } = await setup();
    const running = await board.start('import sys\nline = sys.stdin.readline()');
    await running.write(new TextEncoder().encode('ünïcode\n'));
    expect(await running.done).toEqual({ stdout: 'got:ünïcode\r\n', stderr: '' });
    expect(await board.eval('1')).toBe('1');
  });
});

describe('connecting without a port', () => {
  it('falls back to the virtual board (through the injected factory) with a note', async () => {
    const server = await servePeer();
    const asked: string[] = [];
    const { board, note } = await connectBoard(undefined, {
      virtual: (spec) => {
        asked.push(spec);
        return openTransport(server.url);
      },
    });
    try {
      expect(asked).toEqual(['virtual']);
      expect(note).toMatch(/virtual board/);
      expect(await board.eval('12')).toBe('12');
    } finally {
      await board.close();
      await server.close();
    }
  });

  it('is what the library entry openBoard() returns for a port', async () => {
    const server = await servePeer();
    const board = await openBoard(server.url);
    try {
      expect(board.transport.kind).toBe('socket');
      expect((await board.exec("print('lib')")).stdout).toBe('lib\r\n');
    } finally {
      await board.close();
      await server.close();
    }
  });
});
