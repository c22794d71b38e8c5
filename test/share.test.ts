// `boardctl share PORT --rfc2217 …` in front of a served virtual board's pty, as in front of a USB board: our
// client and flasher work through it, one client at a time; and RFC 2217's reset lines reach the ESP circuit
// with the timing-critical step applied at once (the board enters its ROM by its lines, not by a SYNC).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import net from 'node:net';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { cliPath, startCli, stopAllCli, stopCli } from './helpers/serve-cli.js';
import { execAndCp, flash256k } from './helpers/remote-checks.js';
import { BoardConsole } from './helpers/board-console.js';
import { openTransport } from '../protocol/connect.js';
import { classicReset, playReset } from '../protocol/esp/reset.js';

const home = mkdtempSync(join(tmpdir(), 'boardctl-share-'));
const env = { ...process.env, BOARDCTL_HOME: home };
afterAll(async () => {
  await stopAllCli();
  rmSync(home, { recursive: true, force: true });
});

describe('share in front of a served board\'s pty', () => {
  let address: string;
  beforeAll(async () => {
    const served = await startCli(['sim', 'serve'], env);
    const shared = await startCli(['share', served.lines[0]!.slice('pty: '.length), '--rfc2217', '127.0.0.1:0'], env);
    expect(shared.lines[0]).toMatch(/^rfc2217: 127\.0\.0\.1:\d+$/);
    address = `rfc2217://${shared.lines[0]!.slice('rfc2217: '.length)}`;
  }, 60_000);

  it('runs exec and cp through rfc2217://', () => execAndCp(address, env, home), 60_000);

  it('lets our flasher enter the ROM through it and write 256 KiB', () => flash256k(address, env, home), 120_000);

  it('serves one client at a time', async () => {
    const first = await openTransport(address);
    try {
      const [host, port] = address.slice('rfc2217://'.length).split(':');
      const second = net.connect(Number(port), host);
      const reply = await new Promise<string>((resolve) => {
        let text = '';
        second.on('data', (d) => (text += d.toString('latin1')));
        second.on('close', () => resolve(text));
      });
      expect(reply).toMatch(/shared with another client; one at a time/);
    } finally {
      await first.close();
    }
    // Once the first has gone, the next gets in.
    const next = await openTransport(address);
    expect(next.hasControlLines).toBe(true);
    await next.close();
  }, 30_000);

  it('refuses what is not a serial port, with a usage error', async () => {
    const err = await promisify(execFile)(process.execPath, [cliPath, 'share', 'virtual:x', '--rfc2217', '0'], { env }).catch((e) => e);
    expect(err.code).toBe(2);
    expect(err.stderr).toMatch(/sim serve NAME --rfc2217/);
  });
});

describe('RFC 2217 reset lines on the virtual board', () => {
  it('the classic reset (DTR/RTS as separate commands) enters download mode by the lines', async () => {
    const { child, lines } = await startCli(['sim', 'serve', '--create', 'lines', '--rfc2217', '127.0.0.1:0'], env);
    const t = await openTransport(`rfc2217://${lines[0]!.slice('rfc2217: '.length)}`);
    try {
      let text = '';
      t.onData((d) => (text += Buffer.from(d).toString('latin1')));
      await playReset(t, classicReset());
      const deadline = Date.now() + 10_000;
      while (!/waiting for download/.test(text) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
      expect(text).toMatch(/boot:0x\w+ \(DOWNLOAD_BOOT[^]*waiting for download/);
    } finally {
      await t.close();
      expect(await stopCli(child)).toBe(0);
    }
  }, 30_000);
});

describe('a served board\'s lines when its client leaves', () => {
  it('are released (HUPCL): a client that left the chip held in reset does not leave it dead', async () => {
    const { child, lines } = await startCli(['sim', 'serve', '--create', 'held', '--rfc2217', '127.0.0.1:0'], env);
    const address = `rfc2217://${lines[0]!.slice('rfc2217: '.length)}`;
    try {
      const first = await openTransport(address);
      await first.setSignals({ dtr: false, rts: true }); // EN low: held in reset
      await first.close();
      const next = await openTransport(address);
      const con = new BoardConsole({ write: (d) => next.write(d), onData: (l) => void next.onData(l), close: () => next.close() });
      try {
        await con.friendlyPrompt();
      } finally {
        await next.close();
      }
    } finally {
      expect(await stopCli(child)).toBe(0);
    }
  }, 30_000);
});

// A raw client of the server's own commands: what pyserial and esptool send besides DTR/RTS.
describe('RFC 2217 commands', () => {
  it('answers baud (any rate on an unpaced link), framing, purge, modem state and flow control', async () => {
    const { child, lines } = await startCli(['sim', 'serve', '--create', 'commands', '--rfc2217', '127.0.0.1:0'], env);
    const sock = net.connect(Number(lines[0]!.split(':').pop()), '127.0.0.1');
    try {
      await new Promise((r) => sock.once('connect', r));
      let got = Buffer.alloc(0);
      sock.on('data', (d: Buffer) => (got = Buffer.concat([got, d])));
      const sb = (...body: number[]) => Buffer.from([255, 250, 44, ...body, 255, 240]);
      sock.write(Buffer.concat([
        Buffer.from([255, 251, 44]), // WILL COM-PORT-OPTION
        sb(1, 0, 0, 0x25, 0x80), // SET-BAUDRATE 9600
        sb(2, 7), // SET-DATASIZE 7: we only speak 8
        sb(12, 1), // PURGE-DATA receive
        sb(5, 3), // SET-CONTROL hardware flow control
        sb(7), // NOTIFY-MODEMSTATE: a poll
      ]));
      const want = [
        Buffer.from([255, 253, 44]), // DO COM-PORT-OPTION
        sb(101, 0, 0, 0x25, 0x80),
        sb(102, 8),
        sb(112, 1),
        sb(105, 3),
      ];
      const modem = Buffer.from([255, 250, 44, 107]); // NOTIFY-MODEMSTATE answered
      const deadline = Date.now() + 10_000;
      while (![...want, modem].every((w) => got.includes(w)) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
      for (const w of want) expect([...got].join(','), `reply ${[...w]}`).toContain([...w].join(','));
      expect(got.includes(modem)).toBe(true);
    } finally {
      sock.destroy();
      expect(await stopCli(child)).toBe(0);
    }
  }, 30_000);
});
