// Transports over real links: a pseudo-terminal opened by path, TCP, RFC 2217 against a scripted Telnet
// server; port names and discovery.
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pty from '@lydell/node-pty';
import { afterEach, describe, expect, it } from 'vitest';
import { openTransport } from '../protocol/connect.js';
import { BoardError } from '../protocol/errors.js';
import { expandShortcut, parsePortSpec } from '../protocol/port-spec.js';
import { guessBoard, listPortsFromSysfs } from '../protocol/ports.js';
import { usbTtyPresent } from '../protocol/usb-ttys.js';
import { RawReplClient } from '../protocol/raw-repl.js';
import type { Transport } from '../protocol/transport.js';
import { COM, CONTROL, DO, IAC, OPT_BINARY, OPT_COM_PORT, SB, SE, SERVER_OFFSET, WILL } from '../protocol/telnet.js';
import { ScriptedPeer } from './helpers/scripted-peer.js';
import { rejection } from './helpers/rejection.js';

const cleanups: Array<() => unknown> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});


function closed(t: Transport): Promise<Error | undefined> {
  return new Promise((resolve) => t.onClose(resolve));
}

/** A pseudo-terminal whose slave side is a "serial port" path; the test holds the master. */
function openPty(): { path: string; write: (b: Uint8Array) => void; onData: (f: (b: Buffer) => void) => void; kill: () => void } {
  const term = pty.spawn('sleep', ['600'], { encoding: null } as pty.IPtyForkOptions);
  let alive = true;
  const kill = () => {
    if (alive) term.kill();
    alive = false;
  };
  cleanups.push(kill);
  return {
    path: (term as unknown as { ptsName: string }).ptsName,
    write: (b) => (term.write as unknown as (d: Buffer) => void)(Buffer.from(b)),
    onData: (f) => term.onData((d) => f(d as unknown as Buffer)),
    kill,
  };
}

describe('serial path on a pseudo-terminal', () => {
  it('opens by path without control lines, tolerates signal requests, and carries bytes both ways', async () => {
    const p = openPty();
    const fromHost: Buffer[] = [];
    p.onData((d) => fromHost.push(d));
    const t = await openTransport(p.path);
    cleanups.push(() => t.close());
    expect(t.kind).toBe('pty');
    expect(t.hasControlLines).toBe(false);
    await t.setSignals({ dtr: true, rts: false }); // ENOTTY on a PTY: ignored
    const got: Buffer[] = [];
    t.onData((d) => got.push(Buffer.from(d)));
    const binary = Uint8Array.from([0, 1, 2, 3, 0x0d, 0x0a, 0xff, 0x80]);
    p.write(binary);
    await t.write(binary);
    await expect.poll(() => Buffer.concat(got).equals(Buffer.from(binary))).toBe(true);
    await expect.poll(() => Buffer.concat(fromHost).equals(Buffer.from(binary))).toBe(true);
  });

  it('runs the raw REPL client against a peer on the master side', async () => {
    const p = openPty();
    const peer = new ScriptedPeer((b) => p.write(b));
    cleanups.push(() => peer.stop());
    p.onData((d) => peer.feed(d));
    const board = new RawReplClient(await openTransport(p.path), { enterTimeoutMs: 3000 });
    cleanups.push(() => board.close());
    expect(await board.exec(`${'# long program line\n'.repeat(40)}print('over pty')`)).toEqual({ stdout: 'over pty\r\n', stderr: '' });
    expect(peer.overruns).toBe(0);
  });

  it('reports PORT_BUSY while another client holds the port', async () => {
    const p = openPty();
    const first = await openTransport(p.path);
    cleanups.push(() => first.close());
    const err = await rejection(openTransport(p.path));
    expect(err.code).toBe('PORT_BUSY');
    expect(err.exitCode).toBe(4);
  });

  it('reports LINK_LOST when the other side goes away', async () => {
    const p = openPty();
    const t = await openTransport(p.path);
    cleanups.push(() => t.close());
    const gone = closed(t);
    p.kill();
    const err = await gone;
    expect(err).toBeInstanceOf(BoardError);
    expect((err as BoardError).code).toBe('LINK_LOST');
  });

  it('names the ports that exist when the path does not', async () => {
    const err = await rejection(openTransport('/dev/ttyACM97'));
    expect(err.code).toBe('NO_SUCH_PORT');
    expect(err.exitCode).toBe(3);
    expect(err.message).toMatch(/^\/dev\/ttyACM97: no such port; (ports present: \/dev\/|no serial ports are present)/);
    expect(Array.isArray(err.details.ports)).toBe(true);
  });
});

async function listen(onSocket: (s: Socket) => void): Promise<{ server: Server; port: number }> {
  const server = createServer(onSocket);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const sockets = new Set<Socket>();
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  cleanups.push(
    () =>
      new Promise<void>((r) => {
        for (const s of sockets) s.destroy();
        server.close(() => r());
      }),
  );
  return { server, port: (server.address() as { port: number }).port };
}

describe('socket://', () => {
  it('carries bytes both ways and reports the peer hanging up as LINK_LOST', async () => {
    let peer!: Socket;
    const { port } = await listen((s) => {
      peer = s;
      s.on('data', (d) => s.write(Buffer.concat([Buffer.from('echo:'), d])));
    });
    const t = await openTransport(`socket://127.0.0.1:${port}`);
    cleanups.push(() => t.close());
    expect(t.kind).toBe('socket');
    const got: Buffer[] = [];
    t.onData((d) => got.push(Buffer.from(d)));
    await t.write(Uint8Array.from([0xff, 0x00, 0x41]));
    await expect.poll(() => Buffer.concat(got).toString('latin1')).toBe('echo:\xff\x00A');
    const gone = closed(t);
    peer.destroy();
    expect(((await gone) as BoardError).code).toBe('LINK_LOST');
  });

  it('closes cleanly without reporting a loss', async () => {
    const { port } = await listen(() => {});
    const t = await openTransport(`socket://127.0.0.1:${port}`);
    const gone = closed(t);
    await t.close();
    expect(await gone).toBeUndefined();
  });

  it('reports NO_SUCH_PORT when nothing listens', async () => {
    const { server, port } = await listen(() => {});
    await new Promise<void>((r) => server.close(() => r()));
    const err = await rejection(openTransport(`socket://127.0.0.1:${port}`));
    expect(err.code).toBe('NO_SUCH_PORT');
    expect(err.message).toContain('ECONNREFUSED');
  });
});

/** A scripted RFC 2217 server: agrees to the COM port option, acks every command, unescapes data. */
function rfc2217Server() {
  const commands: Array<[number, number[]]> = [];
  const data: number[] = [];
  let sock!: Socket;
  const handle = (s: Socket) => {
    sock = s;
    s.write(Buffer.from([IAC, DO, OPT_COM_PORT, IAC, WILL, OPT_BINARY]));
    let state: 'data' | 'iac' | 'opt' | 'sb' | 'sb-iac' = 'data';
    let sub: number[] = [];
    s.on('data', (chunk) => {
      for (const b of chunk) {
        if (state === 'data') {
          if (b === IAC) state = 'iac';
          else data.push(b);
        } else if (state === 'iac') {
          if (b === IAC) {
            data.push(IAC);
            state = 'data';
          } else if (b === SB) {
            sub = [];
            state = 'sb';
          } else state = 'opt';
        } else if (state === 'opt') {
          state = 'data';
        } else if (state === 'sb') {
          if (b === IAC) state = 'sb-iac';
          else sub.push(b);
        } else {
          if (b === IAC) {
            sub.push(IAC);
            state = 'sb';
            continue;
          }
          state = 'data';
          if (sub[0] !== OPT_COM_PORT) continue;
          commands.push([sub[1]!, sub.slice(2)]);
          const reply = [OPT_COM_PORT, sub[1]! + SERVER_OFFSET, ...sub.slice(2)].flatMap((x) => (x === IAC ? [IAC, IAC] : [x]));
          s.write(Buffer.from([IAC, SB, ...reply, IAC, SE]));
        }
      }
    });
  };
  return { handle, commands, data, send: (b: number[]) => sock.write(Buffer.from(b)) };
}

describe('rfc2217://', () => {
  it('negotiates the COM port option, sets the line, drives DTR/RTS, and escapes IAC both ways', async () => {
    const srv = rfc2217Server();
    const { port } = await listen(srv.handle);
    const t = await openTransport(`rfc2217://127.0.0.1:${port}`, { baudRate: 115200 });
    cleanups.push(() => t.close());
    expect(t.kind).toBe('rfc2217');
    expect(t.hasControlLines).toBe(true);
    // 115200 = 0x0001C200, big-endian; then 8N1 and no flow control, and no DTR/RTS change on open.
    expect(srv.commands).toEqual([
      [COM.SET_BAUDRATE, [0x00, 0x01, 0xc2, 0x00]],
      [COM.SET_DATASIZE, [8]],
      [COM.SET_PARITY, [1]],
      [COM.SET_STOPSIZE, [1]],
      [COM.SET_CONTROL, [CONTROL.NO_FLOW_CONTROL]],
    ]);
    srv.commands.length = 0;
    await t.setBaudRate(0x0ff_ff_ff); // value bytes 0xff must be doubled inside the sub-negotiation
    expect(t.baudRate).toBe(0xffffff);
    await t.setSignals({ dtr: true, rts: false });
    await t.setSignals({ dtr: false });
    expect(srv.commands).toEqual([
      [COM.SET_BAUDRATE, [0x00, 0xff, 0xff, 0xff]],
      [COM.SET_CONTROL, [CONTROL.DTR_ON]],
      [COM.SET_CONTROL, [CONTROL.RTS_OFF]],
      [COM.SET_CONTROL, [CONTROL.DTR_OFF]],
    ]);
    const got: number[] = [];
    t.onData((d) => got.push(...d));
    await t.write(Uint8Array.from([0x41, 0xff, 0x42]));
    await expect.poll(() => srv.data).toEqual([0x41, 0xff, 0x42]);
    srv.send([0x43, IAC, IAC, 0x44]);
    await expect.poll(() => got).toEqual([0x43, 0xff, 0x44]);
  });

  it('works as a plain link when the server refuses the COM port option', async () => {
    const { port } = await listen((s) => {
      s.on('data', (d) => {
        if (d.includes(OPT_COM_PORT)) s.write(Buffer.from([IAC, 254 /* DONT */, OPT_COM_PORT, 0x5a]));
      });
    });
    const t = await openTransport(`rfc2217://127.0.0.1:${port}`);
    cleanups.push(() => t.close());
    expect(t.hasControlLines).toBe(false);
    await t.setSignals({ dtr: true });
  });
});

describe('port names', () => {
  it('expands mpremote shortcuts', () => {
    expect(expandShortcut('a0')).toBe('/dev/ttyACM0');
    expect(expandShortcut('u3')).toBe('/dev/ttyUSB3');
    expect(expandShortcut('c9')).toBe('COM9');
    expect(expandShortcut('a10')).toBe('a10');
    expect(parsePortSpec('u1')).toEqual({ kind: 'serial', path: '/dev/ttyUSB1' });
    expect(parsePortSpec('virtual:lab?baud=9600')).toEqual({ kind: 'virtual', path: 'virtual:lab?baud=9600' });
    expect(parsePortSpec('socket://h:1').kind).toBe('socket');
    expect(parsePortSpec('rfc2217://h:1').kind).toBe('rfc2217');
    expect(() => parsePortSpec('ftp://x')).toThrow(/unknown port scheme/);
  });

  it('opens virtual ports only through the injected factory', async () => {
    expect((await rejection(openTransport('virtual'))).code).toBe('NO_SUCH_PORT');
    const asked: string[] = [];
    const err = await rejection(
      openTransport('virtual:lab', {
        virtual: async (spec) => {
          asked.push(spec);
          throw new BoardError('BOARD_BUSY', 'held');
        },
      }),
    );
    expect(err.code).toBe('BOARD_BUSY');
    expect(asked).toEqual(['virtual:lab']);
  });

  it('rejects a malformed socket address as a usage error', async () => {
    expect((await rejection(openTransport('socket://nohost'))).code).toBe('USAGE');
  });
});

describe('port discovery from sysfs', () => {
  it('reads USB identity and guesses the board', async () => {
    const root = mkdtempSync(join(tmpdir(), 'boardctl-sysfs-'));
    cleanups.push(() => rmSync(root, { recursive: true, force: true }));
    const usb = join(root, 'devices/usb1/1-1');
    mkdirSync(join(usb, '1-1:1.0/tty/ttyACM0'), { recursive: true });
    for (const [k, v] of Object.entries({ idVendor: '2e8a', idProduct: '0005', serial: 'E660583883', manufacturer: 'MicroPython', product: 'Board in FS mode' })) {
      writeFileSync(join(usb, k), `${v}\n`);
    }
    const ch340 = join(root, 'devices/usb1/1-2');
    mkdirSync(join(ch340, '1-2:1.0/ttyUSB0/tty/ttyUSB0'), { recursive: true });
    writeFileSync(join(ch340, 'idVendor'), '1a86\n');
    writeFileSync(join(ch340, 'idProduct'), '7523\n');
    mkdirSync(join(root, 'devices/platform/serial8250/tty/ttyS0'), { recursive: true });
    const cls = join(root, 'class/tty');
    for (const name of ['ttyACM0', 'ttyUSB0', 'ttyS0', 'console']) mkdirSync(join(cls, name), { recursive: true });
    symlinkSync(join(usb, '1-1:1.0'), join(cls, 'ttyACM0/device'));
    symlinkSync(join(ch340, '1-2:1.0/ttyUSB0'), join(cls, 'ttyUSB0/device'));
    symlinkSync(join(root, 'devices/platform/serial8250'), join(cls, 'ttyS0/device'));
    expect(await listPortsFromSysfs(cls, '/dev')).toEqual([
      {
        path: '/dev/ttyACM0',
        vidPid: '2e8a:0005',
        serialNumber: 'E660583883',
        manufacturer: 'MicroPython',
        product: 'Board in FS mode',
        board: 'Raspberry Pi Pico (MicroPython RP2)',
      },
      { path: '/dev/ttyUSB0', vidPid: '1a86:7523', board: 'CH340 USB-UART (ESP dev board)' },
    ]);
  });

  it('tells from the class links alone whether a tty is a USB one (what auto-connect tries), or that it cannot tell', () => {
    const cls = mkdtempSync(join(tmpdir(), 'boardctl-ttys-'));
    cleanups.push(() => rmSync(cls, { recursive: true, force: true }));
    const linux = process.platform === 'linux';
    symlinkSync('../../devices/pnp0/00:00/00:00:0/00:00:0.0/tty/ttyS0', join(cls, 'ttyS0'));
    symlinkSync('../../devices/virtual/tty/tty1', join(cls, 'tty1'));
    expect(usbTtyPresent(cls)).toBe(linux ? false : undefined);
    symlinkSync('../../devices/platform/soc/3f980000.usb/usb1/1-1/1-1:1.0/tty/ttyACM0', join(cls, 'ttyACM0'));
    expect(usbTtyPresent(cls)).toBe(linux ? true : undefined);
    expect(usbTtyPresent(join(cls, 'missing'))).toBeUndefined();
  });

  it('guesses boards by exact VID:PID, then by vendor', () => {
    expect(guessBoard('303a:1001')).toMatch(/USB-JTAG/);
    expect(guessBoard('10C4:EA60')).toMatch(/CP210x/);
    expect(guessBoard('239a:8029')).toBe('Adafruit board');
    expect(guessBoard('dead:beef')).toBeUndefined();
  });
});
