// The built CLI as users run it: `node dist/cli/main.js …`, against a scripted board over TCP.
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureBuilt, MAIN } from './helpers/built-cli.js';
import { cliTerminal, runOnTerminal } from './helpers/cli-terminal.js';
import { splitChain, withDefaultCommand } from '../cli/chain.js';
import { servePeer, type PeerServer } from './helpers/scripted-peer.js';
import { boardctl } from './helpers/boardctl.js';

let tmp: string;

beforeAll(async () => {
  tmp = mkdtempSync(join(tmpdir(), 'boardctl-cli-'));
  await ensureBuilt();
}, 180_000);

afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe('command chains', () => {
  it('split on "+" and after commands whose arguments are complete, as mpremote does', () => {
    expect(splitChain(['exec', 'x=1', '+', 'eval', 'x'])).toEqual([['exec', 'x=1'], ['eval', 'x']]);
    expect(splitChain(['connect', 'virtual', 'exec', 'print(1)'])).toEqual([['connect', 'virtual'], ['exec', 'print(1)']]);
    expect(splitChain(['-p', 'a0', 'resume', 'exec', '--no-follow', 'eval', 'eval', 'x'])).toEqual([
      ['-p', 'a0', 'resume'],
      ['exec', '--no-follow', 'eval'],
      ['eval', 'x'],
    ]);
    expect(splitChain(['u1', 'repl', '--capture', 'f'])).toEqual([['connect', 'u1'], ['repl', '--capture', 'f']]);
    expect(splitChain(['exec', 'a0'])).toEqual([['exec', 'a0']]);
    expect(withDefaultCommand(['-p', 'virtual'])).toEqual(['-p', 'virtual', 'repl']);
    expect(withDefaultCommand(['--help'])).toEqual(['--help']);
  });
});

describe('boardctl --help', () => {
  it('says what bare boardctl and boardctl -p PORT do, and how to get the TUI on any port', async () => {
    const run = await boardctl(['--help']);
    expect(run.stdout).toMatch(/^ {2}boardctl {14}the TUI on a terminal/m);
    expect(run.stdout).toMatch(/^ {2}boardctl -p PORT {6}the plain REPL on PORT, as mpremote does/m);
    expect(run.stdout).toMatch(/^ {2}boardctl \[-p PORT\] tui +the TUI on any port/m);
    expect(run.stdout).toMatch(/^ {2}tui +the full-screen TUI/m);
    const off = await boardctl(['-p', 'virtual', 'tui']);
    expect(off.code).toBe(2);
    expect(off.stderr).toBe('boardctl: tui: the TUI needs a terminal (stdin and stdout are not both one)\n');
  });

  it('wraps help to the terminal width, flash --help included', async () => {
    for (const cols of [80, 60]) {
      const { output, code } = await runOnTerminal(['flash', '--help'], cols);
      expect(code).toBe(0);
      const lines = output.split('\n');
      expect(lines.join('\n')).toContain('write-flash [options] <address-file...>');
      for (const line of lines) expect(line.length, line).toBeLessThanOrEqual(cols);
    }
  });

  it('exits 2 with one line for a usage error', async () => {
    const run = await boardctl(['frobnicate']);
    expect(run.code).toBe(2);
    expect(run.stderr.trim().split('\n')).toHaveLength(1);
    expect(run.stderr).toMatch(/^boardctl: .*frobnicate/);
  });
});

describe('boardctl against a board', () => {
  let server: PeerServer;
  beforeAll(async () => {
    server = await servePeer();
  });
  afterAll(() => server.close());

  it('execs code and streams its output', async () => {
    const run = await boardctl(['-p', server.url, 'exec', "print('hello')"]);
    expect(run).toMatchObject({ code: 0, stdout: 'hello\n', stderr: '' });
  });

  it('chains commands over one connection with one soft reset', async () => {
    const before = server.connections;
    const run = await boardctl(['-p', server.url, 'exec', 'x = 1', '+', 'eval', '42', '+', 'eval', "'two'"]);
    expect(run).toMatchObject({ code: 0, stdout: "42\n'two'\n" });
    expect(server.connections).toBe(before + 1);
    expect(server.peer!.softResets).toBe(1);
    expect(server.peer!.programs).toEqual(['x = 1', 'print(repr(42))', "print(repr('two'))"]);
    // Left in the friendly REPL.
    expect(server.peer!.received.slice(-2)).toEqual([0x0d, 0x02]);
  });

  it('takes mpremote forms: connect PORT CMD, resume, BOARDCTL_PORT', async () => {
    let run = await boardctl(['connect', server.url, 'resume', 'exec', "print('x')"]);
    expect(run).toMatchObject({ code: 0, stdout: 'x\n' });
    expect(server.peer!.softResets).toBe(0);
    run = await boardctl(['eval', '5'], { BOARDCTL_PORT: server.url });
    expect(run).toMatchObject({ code: 0, stdout: '5\n' });
  });

  it('prints JSON documents with --json', async () => {
    const run = await boardctl(['--json', 'connect', server.url, 'eval', '1', '+', 'exec', "print('a')", '+', 'disconnect']);
    expect(run.code).toBe(0);
    const docs = run.stdout.trim().split('\n').map((l) => JSON.parse(l));
    expect(docs).toEqual([
      { command: 'connect', ok: true, port: server.url, kind: 'socket' },
      { command: 'eval', ok: true, value: '1' },
      { command: 'exec', ok: true, stdout: 'a\r\n', stderr: '' },
      { command: 'disconnect', ok: true },
    ]);
  });

  it('shows a device traceback on stderr and exits 1', async () => {
    const run = await boardctl(['-p', server.url, 'exec', "raise ValueError('nope')", '+', 'eval', '1']);
    expect(run.code).toBe(1);
    expect(run.stderr).toContain('Traceback (most recent call last)');
    expect(run.stderr).toContain('ValueError: nope');
    expect(run.stdout).toBe(''); // the chain stopped
  });

  it('reports a device exception as a JSON error document', async () => {
    const run = await boardctl(['--json', '-p', server.url, 'exec', "raise KeyError('k')"]);
    expect(run.code).toBe(1);
    expect(JSON.parse(run.stdout)).toMatchObject({ command: 'exec', ok: false, error: 'DEVICE_EXCEPTION', message: 'KeyError: k' });
  });

  it('runs a local file', async () => {
    const file = join(tmp, 'hello.py');
    writeFileSync(file, "print('from file')\n");
    const run = await boardctl(['-p', server.url, 'run', file]);
    expect(run).toMatchObject({ code: 0, stdout: 'from file\n' });
    const missing = await boardctl(['-p', server.url, 'run', join(tmp, 'nope.py')]);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/^boardctl: run: .*nope\.py: no such file or directory\n$/);
  });

  it('interrupts the board on host Ctrl-C and exits 130', async () => {
    const child = spawn(process.execPath, [MAIN, '-p', server.url, 'exec', 'while True: pass  # FOREVER'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d) => (stderr += d));
    const code = new Promise<number | null>((resolve) => child.on('close', resolve));
    await expect.poll(() => server.peer?.programs.at(-1), { timeout: 10_000 }).toContain('FOREVER');
    child.kill('SIGINT');
    expect(await code).toBe(130);
    expect(stderr).toContain('KeyboardInterrupt');
    expect(stderr).toMatch(/boardctl: exec: interrupted by Ctrl-C\n$/);
  });

  it('soft-resets on request without a second automatic reset, and resets through machine', async () => {
    let run = await boardctl(['-p', server.url, 'soft-reset', '+', 'eval', '3']);
    expect(run).toMatchObject({ code: 0, stdout: '3\n' });
    expect(server.peer!.softResets).toBe(1);
    run = await boardctl(['-p', server.url, 'reset']);
    expect(run.code).toBe(0);
    expect(server.peer!.programs.at(-1)).toContain('machine.reset()');
    run = await boardctl(['-p', server.url, 'bootloader']);
    expect(run.code).toBe(0);
    expect(server.peer!.programs.at(-1)).toContain('machine.bootloader()');
  });

  it('refuses reset --hard on a link without control lines', async () => {
    const run = await boardctl(['-p', server.url, 'reset', '--hard']);
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/^boardctl: reset: socket:\/\/.* has no DTR\/RTS control lines/);
  });

  it('exits 6 when the link drops mid-command', async () => {
    const run = await boardctl(['-p', server.url, 'exec', 'DISCONNECT']);
    expect(run.code).toBe(6);
    expect(run.stderr).toMatch(/^boardctl: exec: .*closed by the peer\n$/);
  });

  it('exits 3 for a missing port and names the ports that exist', async () => {
    const run = await boardctl(['-p', '/dev/ttyDOESNOTEXIST0', 'eval', '1']);
    expect(run.code).toBe(3);
    expect(run.stderr).toMatch(/^boardctl: eval: \/dev\/ttyDOESNOTEXIST0: no such port; (ports present: |no serial ports are present)/);
    const json = await boardctl(['--json', '-p', 'socket://127.0.0.1:1', 'eval', '1']);
    expect(json.code).toBe(3);
    expect(JSON.parse(json.stdout)).toMatchObject({ ok: false, error: 'NO_SUCH_PORT' });
  });
});

describe('boardctl against the virtual board', () => {
  // A private data home, so the virtual board's flash lives in the test's temp dir.
  const env = () => ({ XDG_DATA_HOME: join(tmp, 'data') });

  it('runs exec and eval in one chain, sharing state', async () => {
    let run = await boardctl(['-p', 'virtual', 'exec', 'x = 6 * 7', '+', 'eval', 'x', '+', 'exec', 'print(x + 1)'], env());
    expect(run).toMatchObject({ code: 0, stdout: '42\n43\n', stderr: '' });
    run = await boardctl(['--json', 'connect', 'virtual', 'eval', '[1, 2]'], env());
    expect(run.code).toBe(0);
    expect(run.stdout.trim().split('\n').map((l) => JSON.parse(l))).toEqual([
      { command: 'connect', ok: true, port: 'virtual:default', kind: 'virtual' },
      { command: 'eval', ok: true, value: '[1, 2]' },
    ]);
  });

  it('shows a device exception as a traceback and exits 1', async () => {
    const run = await boardctl(['--json', '-p', 'virtual', 'exec', '1/0'], env());
    expect(run.code).toBe(1);
    expect(JSON.parse(run.stdout)).toMatchObject({ command: 'exec', ok: false, error: 'DEVICE_EXCEPTION', message: expect.stringContaining('ZeroDivisionError') });
    expect(run.stderr).toContain('Traceback (most recent call last)');
  });

  it('soft-reset clears the heap between chained commands', async () => {
    const run = await boardctl(['-p', 'virtual', 'exec', 'y = 1', '+', 'soft-reset', '+', 'exec', "print('y' in globals())"], env());
    expect(run).toMatchObject({ code: 0, stdout: 'False\n' });
  });

  it("keeps what a command's files left open wrote, as a board's next soft reset commits them", async () => {
    const wrote = await boardctl(['-p', 'virtual', 'exec', "open('dropped.txt', 'w').write('one')\nlog = open('held.txt', 'a')\nlog.write('two')"], env());
    expect(wrote).toMatchObject({ code: 0, stderr: '' });
    const read = await boardctl(['-p', 'virtual', 'cat', ':dropped.txt', '+', 'cat', ':held.txt'], env());
    expect(read).toMatchObject({ code: 0, stdout: 'onetwo', stderr: '' });
  });
});

describe('boardctl devs', () => {
  it('lists the same ports as the library, as JSON', async () => {
    const { listPorts } = await import('../protocol/ports.js');
    const run = await boardctl(['devs', '--json']);
    expect(run.code).toBe(0);
    expect(JSON.parse(run.stdout)).toEqual({ command: 'devs', ok: true, ports: await listPorts() });
  });
});

describe('boardctl repl', () => {
  it('passes keys through, captures output, injects code, survives an unplug, and quits on Ctrl-]', async () => {
    const server = await servePeer();
    const capture = join(tmp, 'capture.txt');
    const term = cliTerminal(['-p', server.url, 'repl', '--capture', capture, '--inject-code', "print('inj')"]);
    try {
      await expect.poll(term.screen, { timeout: 10_000 }).toContain('Ctrl-] or Ctrl-X to quit');
      await expect.poll(() => server.connections).toBe(1);
      term.write('abc\r');
      // No local echo: what shows is the board's echo and its prompt, with the board's CR LF as CR LF
      // (not CR CR LF, which the terminal's ONLCR would make of it).
      await expect.poll(term.screen).toMatch(/abc\r\n>>> /);
      expect(term.screen().match(/abc/g)).toHaveLength(1);
      expect(term.screen()).not.toContain('\r\r\n');
      term.write('\n'); // Ctrl-J
      await expect.poll(() => Buffer.from(server.peer!.received).toString('latin1')).toContain("\x05print('inj')\x04");

      server.peer!.hangUpNow();
      await expect.poll(term.screen, { timeout: 10_000 }).toContain('device disconnected');
      await expect.poll(term.screen, { timeout: 10_000 }).toContain('reconnected');
      expect(server.connections).toBe(2);
      term.write('xyz');
      await expect.poll(() => Buffer.from(server.peer!.received).toString('latin1')).toBe('xyz');

      term.write('\x1d');
      expect(await term.exited).toBe(0);
      expect(readFileSync(capture, 'utf8')).toContain('abc\r\n>>> ');
    } finally {
      term.kill();
      await server.close();
    }
  });
});
