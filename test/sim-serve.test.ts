// `boardctl sim serve` as other tools meet it: a pty path on the first line, a symlink, serving across clients,
// TCP with one client at a time, and our own CLI driving the served board.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFile, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readlinkSync, rmSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import net from 'node:net';
import { promisify } from 'node:util';
import { SerialPort } from 'serialport';
import { BoardConsole } from './helpers/board-console.js';
import { cliPath as cli, startCli, stopAllCli, stopCli as stop } from './helpers/serve-cli.js';

const home = mkdtempSync(join(tmpdir(), 'boardctl-serve-'));
const env = { ...process.env, BOARDCTL_HOME: home };
const run = promisify(execFile);

async function serve(args: string[]): Promise<{ child: ChildProcess; first: string }> {
  const { child, lines } = await startCli(['sim', 'serve', ...args], env);
  return { child, first: lines[0]! };
}

async function openPty(path: string): Promise<BoardConsole> {
  const port = new SerialPort({ path, baudRate: 115200, hupcl: false, autoOpen: false });
  await new Promise<void>((resolve, reject) => port.open((err) => (err ? reject(err) : resolve())));
  return new BoardConsole({
    write: (d) => new Promise((resolve, reject) => port.write(Buffer.from(d), (err) => (err ? reject(err) : resolve()))),
    onData: (l) => port.on('data', (d: Buffer) => l(d)),
    close: () => new Promise((resolve) => port.close(() => resolve())),
  });
}

afterAll(async () => {
  await stopAllCli();
  rmSync(home, { recursive: true, force: true });
});

describe('sim serve on a pseudo-terminal', () => {
  let child: ChildProcess;
  let pty: string;
  const link = join(home, 'board-link');

  beforeAll(async () => {
    const started = await serve(['--link', link]);
    child = started.child;
    expect(started.first).toMatch(/^pty: \/dev\/pts\/\d+$/);
    pty = started.first.slice('pty: '.length);
  });
  afterAll(async () => {
    expect(await stop(child)).toBe(0);
    expect(existsSync(link)).toBe(false);
  });

  it('links the pty and keeps serving while clients come and go', async () => {
    expect(readlinkSync(link)).toBe(pty);
    for (let i = 0; i < 3; i++) {
      const con = await openPty(link);
      await con.friendlyPrompt();
      await con.send(`print(${i} * 11)\r`);
      expect(await con.expect('>>> ')).toContain(`${i * 11}\r\n`);
      await con.link.close();
    }
  });

  it('steers the served board\'s hardware from another process, and says when a board is not served', async () => {
    await run(process.execPath, [cli, 'sim', 'set', 'default', 'pin', '0', 'low'], { env });
    const { stdout } = await run(process.execPath, [cli, 'sim', 'get', 'default', 'pins', '--json'], { env });
    expect(JSON.stringify(JSON.parse(stdout))).toMatch(/"pin":0[^}]*"level":0/);
    await run(process.execPath, [cli, 'sim', 'set', 'default', 'pin', '0', 'release'], { env });
    await run(process.execPath, [cli, 'sim', 'create', 'idle'], { env });
    const err = await run(process.execPath, [cli, 'sim', 'set', 'idle', 'pin', '0', 'low'], { env }).then(
      () => undefined,
      (e: { code: number; stderr: string }) => e,
    );
    expect(err?.code).toBe(3);
    expect(err?.stderr).toMatch(/not being served.*sim serve/);
  });

  it('runs our own CLI against the served board: exec, eval, chaining, soft reset, resume', async () => {
    const { stdout } = await run(process.execPath, [cli, '-p', pty, 'exec', 'x = 6', '+', 'eval', 'x * 7'], { env });
    expect(stdout.trim()).toBe('42');
    const soft = await run(process.execPath, [cli, '-p', pty, 'exec', 'y = 1', '+', 'soft-reset', '+', 'exec', "print('y' in globals())"], { env });
    expect(soft.stdout.trim()).toBe('False');
    await run(process.execPath, [cli, '-p', pty, 'exec', 'z = 5'], { env });
    const resumed = await run(process.execPath, [cli, '-p', pty, 'resume', 'eval', 'z'], { env });
    expect(resumed.stdout.trim()).toBe('5');
  });
});

describe('sim serve on TCP', () => {
  it('serves one client at a time and tells the second the board is busy', async () => {
    await run(process.execPath, [cli, 'sim', 'create', 'tcpboard', '--profile', 'esp32s3'], { env });
    const { child, first } = await serve(['tcpboard', '--tcp', '127.0.0.1:0']);
    try {
      const m = /^tcp: 127\.0\.0\.1:(\d+)$/.exec(first);
      expect(m).not.toBeNull();
      const port = Number(m![1]);
      const a = net.connect(port, '127.0.0.1');
      await new Promise((r) => a.once('connect', r));
      const con = new BoardConsole({
        write: (d) => new Promise((resolve) => a.write(d, () => resolve())),
        onData: (l) => a.on('data', l),
        close: async () => void a.end(),
      });
      await con.friendlyPrompt();
      const b = net.connect(port, '127.0.0.1');
      const reply = await new Promise<string>((resolve) => {
        let text = '';
        b.on('data', (d) => (text += d.toString()));
        b.on('close', () => resolve(text));
      });
      expect(reply).toMatch(/board busy/);
      await con.send('import sys\rprint(sys.implementation._machine)\r');
      expect(await con.expect('Generic ESP32S3 module with ESP32S3\r\n>>> ')).toBeTruthy();
      a.destroy();
    } finally {
      expect(await stop(child)).toBe(0);
    }
  });
});
