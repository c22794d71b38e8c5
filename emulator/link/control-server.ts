// A board served by one process (sim serve) is steered from others (sim set/get, the TUI) through a Unix socket
// in the board's directory: one JSON request per line, one JSON reply per line.
import net from 'node:net';
import { join } from 'node:path';
import { chmodSync, rmSync } from 'node:fs';
import { BoardError } from '../../protocol/errors.js';
import type { ControlRequest } from '../vm/host-api.js';

export function controlSocketPath(boardDir: string): string {
  return join(boardDir, 'control.sock');
}

/** Requests are a few hundred bytes; a longer line is a mistake or an attack, and must not grow the server. */
export const MAX_REQUEST_BYTES = 1 << 20;

export async function startControlServer(
  boardDir: string,
  handle: (req: ControlRequest) => Promise<unknown>,
): Promise<{ close(): Promise<void> }> {
  const path = controlSocketPath(boardDir);
  rmSync(path, { force: true });
  const server = net.createServer((sock) => {
    let partial: Buffer[] = [];
    let partialBytes = 0;
    const lines: Buffer[] = [];
    let busy = false;
    // One request at a time, and none while replies wait for the client to read them: the socket is not read
    // meanwhile, so a client that floods requests or never reads holds its own data, not our memory.
    const next = async () => {
      if (busy) return;
      busy = true;
      sock.pause();
      while (lines.length && !sock.destroyed) {
        const line = lines.shift()!.toString('utf8');
        let reply: string;
        try {
          reply = JSON.stringify({ result: await handle(JSON.parse(line) as ControlRequest) });
        } catch (err) {
          reply = JSON.stringify({ error: (err as Error).message });
        }
        if (!sock.write(reply + '\n')) await new Promise((r) => sock.once('drain', r).once('close', r));
      }
      busy = false;
      if (!sock.destroyed) sock.resume();
    };
    sock.on('data', (d: Buffer) => {
      for (let start = 0; ; ) {
        const nl = d.indexOf(0x0a, start);
        const piece = d.subarray(start, nl < 0 ? d.length : nl);
        partial.push(piece);
        partialBytes += piece.length;
        if (partialBytes > MAX_REQUEST_BYTES) {
          sock.removeAllListeners('data');
          sock.pause();
          sock.end(JSON.stringify({ error: `control request longer than ${MAX_REQUEST_BYTES} bytes: closing the connection` }) + '\n');
          setTimeout(() => sock.destroy(), 1000).unref();
          return;
        }
        if (nl < 0) break;
        lines.push(Buffer.concat(partial));
        partial = [];
        partialBytes = 0;
        start = nl + 1;
      }
      void next();
    });
    sock.on('error', () => undefined);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(path, () => resolve());
  });
  // Only the board's owner may steer it, whatever the umask (the board's directory is private as well).
  chmodSync(path, 0o600);
  return {
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        rmSync(path, { force: true });
      }),
  };
}

/** One request to the process serving the board. */
export function sendControl(boardDir: string, req: ControlRequest, timeoutMs = 5000): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const sock = net.connect(controlSocketPath(boardDir));
    let buf = '';
    const timer = setTimeout(() => {
      sock.destroy();
      reject(new BoardError('TIMEOUT', 'the virtual board did not answer the control request'));
    }, timeoutMs);
    sock.setEncoding('utf8');
    sock.on('connect', () => sock.write(JSON.stringify(req) + '\n'));
    sock.on('data', (d: string) => {
      buf += d;
      const nl = buf.indexOf('\n');
      if (nl < 0) return;
      clearTimeout(timer);
      sock.end();
      const reply = JSON.parse(buf.slice(0, nl)) as { result?: unknown; error?: string };
      if (reply.error !== undefined) reject(new BoardError('USAGE', reply.error));
      else resolve(reply.result);
    });
    sock.on('error', (err: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      reject(
        err.code === 'ENOENT' || err.code === 'ECONNREFUSED'
          ? new BoardError('NO_SUCH_PORT', 'the virtual board is not being served (start it with: boardctl sim serve NAME)')
          : err,
      );
    });
  });
}
