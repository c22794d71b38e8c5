// Link throughput (issue 11 item 2, issue 13 item 5): 4 MB printed by the board, delivered whole (flow control:
// the board waits for its client) over each served link, as a ratio of the in-process link in the same run.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import net from 'node:net';
import { SerialPort } from 'serialport';
import { closeAllVirtualBoards, VirtualBoard } from '../emulator/board.js';
import { createBoard } from '../emulator/board-store.js';
import { serveBoard } from '../emulator/link/serve.js';
import { BoardConsole, type ByteLink } from '../test/helpers/board-console.js';

const home = mkdtempSync(join(tmpdir(), 'boardctl-bench-links-'));
const LINES = 4000;
const PROGRAM = `s = 'x' * 1000\nfor i in range(${LINES}):\n    print(s)\n`;

/** Seconds to run PROGRAM and receive all of its output. */
async function printRun(link: ByteLink): Promise<number> {
  const con = new BoardConsole(link);
  await con.rawRepl();
  let bytes = 0;
  link.onData((d) => (bytes += d.length));
  const t0 = performance.now();
  await con.send(PROGRAM + '\x04');
  await con.expect(/\x04[^\x04]*\x04>/, 120_000);
  const s = (performance.now() - t0) / 1000;
  if (bytes < LINES * 1002) throw new Error(`only ${bytes} bytes arrived`);
  await link.close();
  return s;
}

function socketLink(sock: net.Socket): ByteLink {
  return {
    write: (d) => new Promise((resolve) => sock.write(d, () => resolve())),
    onData: (l) => sock.on('data', l),
    close: async () => void sock.destroy(),
  };
}

async function tcpRun(name: string, kind: 'tcp' | 'rfc2217'): Promise<number> {
  const serving = await serveBoard({ name, home, [kind]: '127.0.0.1:0' });
  await serving.board.whenReady();
  const sock = net.connect(serving.tcp!.port, '127.0.0.1');
  await new Promise((r) => sock.once('connect', r));
  try {
    return await printRun(socketLink(sock));
  } finally {
    await serving.close();
  }
}

async function ptyRun(name: string): Promise<number> {
  const serving = await serveBoard({ name, home });
  await serving.board.whenReady();
  const port = new SerialPort({ path: serving.ptyPath!, baudRate: 115200, hupcl: false, autoOpen: false });
  await new Promise<void>((resolve, reject) => port.open((err) => (err ? reject(err) : resolve())));
  try {
    return await printRun({
      write: (d) => new Promise((resolve) => port.write(Buffer.from(d), () => resolve())),
      onData: (l) => port.on('data', l),
      close: () => new Promise((resolve) => port.close(() => resolve())),
    });
  } finally {
    await serving.close();
  }
}

async function main(): Promise<void> {
  for (const n of ['inproc', 'pty', 'tcp', 'rfc2217']) createBoard(`links-${n}`, { home });
  const board = await VirtualBoard.open('links-inproc', { home });
  await board.whenReady();
  const t = board.attach();
  const base = await printRun({ write: (d) => t.write(d), onData: (l) => t.onData(l), close: () => t.close() });
  await board.close();
  const mb = (LINES * 1002) / 1e6;
  const row = (label: string, s: number) =>
    console.log(`${label.padEnd(22)} ${(mb / s).toFixed(2).padStart(6)} MB/s  ${(base / s).toFixed(2)}x of in-process`);
  row('in-process link', base);
  row('served pty', await ptyRun('links-pty'));
  row('served TCP', await tcpRun('links-tcp', 'tcp'));
  row('served RFC 2217', await tcpRun('links-rfc2217', 'rfc2217'));
}

try {
  await main();
} finally {
  await closeAllVirtualBoards();
  rmSync(home, { recursive: true, force: true });
}
