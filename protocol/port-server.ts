// A byte link (a virtual board's, or a real serial port) served on TCP to one client at a time: raw (socket://)
// or, with another serve function, RFC 2217. Shared by `sim serve` and `share`.
import net from 'node:net';
import { BoardError } from './errors.js';
import type { Transport } from './transport.js';
import { DelegatingTransport } from './transports/delegating.js';

/** A link as a server in front of it holds it: with flow control toward the link's source where it has one. */
export interface ServedPort extends Transport {
  /** Stop (true) or resume (false) taking bytes from the port, so that what lies behind it waits. */
  holdOutput?(held: boolean): void;
  /** Discard bytes waiting in the port's own buffers: 'receive' from the device, 'transmit' to it. */
  purge?(what: 'receive' | 'transmit'): Promise<void>;
  /** The modem status lines, where the port has them. */
  modemLines?(): Promise<ModemLines>;
}

export interface ModemLines {
  cts: boolean;
  dsr: boolean;
  ri: boolean;
  cd: boolean;
}

export interface TcpServerOptions {
  host: string;
  port: number;
  /** Opens the link for one client; throws (e.g. BoardError BOARD_BUSY) while another holds it. */
  attach(): ServedPort;
  /** How a connected client talks to the link (default: raw bytes both ways). */
  serve?(sock: net.Socket, port: ServedPort): void;
}

/**
 * Socket writes and link writes with back-pressure both ways: a client that stops reading holds the port's
 * output (the socket's send buffer is the only queue), and a port that takes its input slowly stops the
 * socket being read.
 */
export class SocketFlow {
  private pendingIn = 0;
  private queue: Promise<void> = Promise.resolve();
  private suspended = false;
  private full = false;

  constructor(private readonly sock: net.Socket, private readonly port: ServedPort) {
    sock.on('drain', () => {
      this.full = false;
      this.update();
    });
  }

  /** Bytes to the client. */
  send(bytes: Uint8Array): void {
    if (!this.sock.writable) return;
    if (!this.sock.write(bytes) && !this.full) {
      this.full = true;
      this.update();
    }
  }

  /** The client asked us to stop (or resume) sending, as RFC 2217's FLOWCONTROL-SUSPEND does. */
  suspend(on: boolean): void {
    this.suspended = on;
    this.update();
  }

  /** Queue one step toward the port (steps run in order); the socket is not read while steps are pending. */
  toPort(step: () => Promise<void> | void): void {
    this.pendingIn++;
    this.sock.pause();
    this.queue = this.queue.then(step).then(
      () => {
        if (--this.pendingIn === 0 && !this.sock.destroyed) this.sock.resume();
      },
      () => void this.sock.destroy(),
    );
  }

  private update(): void {
    this.port.holdOutput?.(this.full || this.suspended);
  }
}

/** Raw TCP: bytes pass unchanged both ways. */
export function pipeRaw(sock: net.Socket, port: ServedPort): void {
  const flow = new SocketFlow(sock, port);
  port.onData((chunk) => flow.send(chunk));
  sock.on('data', (d: Buffer) => flow.toPort(() => port.write(d)));
}

export async function startTcpServer(opts: TcpServerOptions): Promise<{ address: net.AddressInfo; close(): Promise<void> }> {
  const sockets = new Set<net.Socket>();
  const server = net.createServer((sock) => {
    sock.setNoDelay(true);
    let port: ServedPort;
    try {
      port = opts.attach();
    } catch (err) {
      sock.end(`boardctl: ${(err as Error).message}\r\n`);
      return;
    }
    sockets.add(sock);
    (opts.serve ?? pipeRaw)(sock, port);
    let done = false;
    const finish = () => {
      if (done) return;
      done = true;
      sockets.delete(sock);
      void port.close();
    };
    sock.on('close', finish);
    sock.on('error', finish);
    port.onClose(() => sock.destroy());
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
export function parseListenAddress(spec: string): { host: string; port: number } {
  const m = /^(?:\[?([^\]]*?)\]?:)?(\d{1,5})$/.exec(spec);
  const port = m ? Number(m[2]) : NaN;
  if (!m || port > 65535) throw new BoardError('USAGE', `bad address '${spec}': expected HOST:PORT or PORT`);
  return { host: m[1] || '127.0.0.1', port };
}

export interface ShareOptions {
  host: string;
  port: number;
  /** How a connected client talks to the port (default: raw bytes both ways). */
  serve?(sock: net.Socket, port: ServedPort): void;
}

/**
 * Serve one open port to one TCP client at a time (`boardctl share`), as esp_rfc2217_server does: the port stays
 * open between clients, a second client is refused while one is connected, and each client leaves the port at
 * the speed it was opened with.
 */
export function sharePort(port: ServedPort, opts: ShareOptions): Promise<{ address: net.AddressInfo; close(): Promise<void> }> {
  let inUse = false;
  return startTcpServer({
    ...opts,
    attach() {
      if (inUse) throw new BoardError('PORT_BUSY', `${port.path} is shared with another client; one at a time`);
      inUse = true;
      return new ClientView(port, () => (inUse = false));
    },
  });
}

/** One client's view of a shared port: its listeners go, and the line speed is restored, when it leaves. */
class ClientView extends DelegatingTransport<ServedPort> {
  private readonly unsubscribe: Array<() => void> = [];
  private readonly closeListeners = new Set<(err?: Error) => void>();
  private readonly openedAt: number;
  private open = true;

  constructor(
    port: ServedPort,
    private readonly onLeave: () => void,
  ) {
    super(port);
    this.openedAt = port.baudRate;
    this.unsubscribe.push(port.onClose((err) => this.closeListeners.forEach((l) => l(err))));
  }

  override onData(listener: (chunk: Uint8Array) => void): () => void {
    const off = this.inner.onData(listener);
    this.unsubscribe.push(off);
    return off;
  }
  override onClose(listener: (err?: Error) => void): () => void {
    this.closeListeners.add(listener);
    return () => this.closeListeners.delete(listener);
  }
  override async close(): Promise<void> {
    if (!this.open) return;
    this.open = false;
    for (const off of this.unsubscribe) off();
    this.inner.holdOutput?.(false);
    if (this.inner.baudRate !== this.openedAt) await this.inner.setBaudRate(this.openedAt).catch(() => undefined);
    this.onLeave();
  }
}
