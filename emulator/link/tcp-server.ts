// Serves a virtual board on TCP: raw (socket://HOST:PORT for our client, esptool and mpremote) or, with another
// serve function, RFC 2217.
import net from 'node:net';
import type { Transport } from '../../protocol/transport.js';

export interface TcpServerOptions {
  host: string;
  port: number;
  /** Opens the board's link for one client; throws BoardError BOARD_BUSY while another holds it. */
  attach(): Transport;
  /** How a connected client talks to the link (default: raw bytes both ways). */
  serve?(sock: net.Socket, link: Transport): void;
}

/** Raw TCP: bytes pass unchanged both ways. */
export function pipeRaw(sock: net.Socket, link: Transport): void {
  link.onData((chunk) => sock.write(chunk));
  sock.on('data', (d) => void link.write(d).catch(() => sock.destroy()));
}

export async function startTcpServer(opts: TcpServerOptions): Promise<{ address: net.AddressInfo; close(): Promise<void> }> {
  const sockets = new Set<net.Socket>();
  const server = net.createServer((sock) => {
    sock.setNoDelay(true);
    let link: Transport;
    try {
      link = opts.attach();
    } catch (err) {
      sock.end(`boardctl: ${(err as Error).message}\r\n`);
      return;
    }
    sockets.add(sock);
    (opts.serve ?? pipeRaw)(sock, link);
    const done = () => {
      sockets.delete(sock);
      void link.close();
    };
    sock.on('close', done);
    sock.on('error', done);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port, opts.host, () => resolve());
  });
  return {
    address: server.address() as net.AddressInfo,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}

/** HOST:PORT, PORT alone meaning 127.0.0.1:PORT. */
export function parseHostPort(spec: string): { host: string; port: number } {
  const m = /^(?:\[?([^\]]*?)\]?:)?(\d{1,5})$/.exec(spec);
  const port = m ? Number(m[2]) : NaN;
  if (!m || port > 65535) throw new Error(`bad address '${spec}': expected HOST:PORT or PORT`);
  return { host: m[1] || '127.0.0.1', port };
}
