// A board served by one process (sim serve) is steered from others (sim set/get, the TUI) through a Unix socket
// in the board's directory: one JSON request per line, one JSON reply per line.
import net from 'node:net';
import { join } from 'node:path';
import { rmSync } from 'node:fs';
import { BoardError } from '../../protocol/errors.js';
import type { ControlRequest } from '../vm/host-api.js';

export function controlSocketPath(boardDir: string): string {
  return join(boardDir, 'control.sock');
}

export async function startControlServer(
  boardDir: string,
  handle: (req: ControlRequest) => Promise<unknown>,
): Promise<{ close(): Promise<void> }> {
  const path = controlSocketPath(boardDir);
  rmSync(path, { force: true });
  const server = net.createServer((sock) => {
    let buf = '';
    sock.setEncoding('utf8');
    sock.on('data', (d: string) => {
      buf += d;
      for (let nl = buf.indexOf('\n'); nl >= 0; nl = buf.indexOf('\n')) {
        const line = buf.slice(0, nl);
        buf = buf.slice(nl + 1);
        void (async () => {
          try {
            const result = await handle(JSON.parse(line) as ControlRequest);
            sock.write(JSON.stringify({ result }) + '\n');
          } catch (err) {
            sock.write(JSON.stringify({ error: (err as Error).message }) + '\n');
          }
        })();
      }
    });
    sock.on('error', () => undefined);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(path, () => resolve());
  });
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
