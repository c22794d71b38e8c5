// socket://HOST:PORT: a raw TCP byte stream (ser2net raw mode, ESP-Link, the virtual board's TCP bridge).
import { Socket, connect } from 'node:net';
import { BoardError } from '../errors.js';
import type { Transport } from '../transport.js';
import type { LinkEvents } from './link-events.js';
import { NetworkTransport, closeOrCut, writeOrLost } from './network-link.js';

export interface HostPort {
  host: string;
  port: number;
}

/** Parse "HOST:PORT" (IPv6 in brackets) from the part after the scheme. */
export function parseHostPort(spec: string, rest: string): HostPort {
  const m = /^(?:\[([^\]]+)\]|([^:/?]+)):(\d{1,5})(?:[/?].*)?$/.exec(rest);
  const port = m ? Number(m[3]) : NaN;
  if (!m || port < 1 || port > 65535) {
    throw new BoardError('USAGE', `${spec}: expected HOST:PORT`, { port: spec });
  }
  return { host: m[1] ?? m[2]!, port };
}

/** Connect a TCP socket, mapping refusals and unknown hosts to NO_SUCH_PORT. */
export function connectSocket(spec: string, { host, port }: HostPort, timeoutMs = 5000): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host, port });
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new BoardError('NO_SUCH_PORT', `${spec}: no answer from ${host}:${port} within ${timeoutMs} ms`, { port: spec }));
    }, timeoutMs);
    socket.once('connect', () => {
      clearTimeout(timer);
      socket.setNoDelay(true);
      resolve(socket);
    });
    socket.once('error', (err: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      reject(new BoardError('NO_SUCH_PORT', `${spec}: cannot connect to ${host}:${port} (${err.code ?? err.message})`, { port: spec, errno: err.code }, { cause: err }));
    });
  });
}

/** A connected socket as a byte link: reads go to onBytes, the end is reported once through events. */
export class SocketLink {
  private closingByUs = false;

  constructor(private readonly spec: string, private readonly socket: Socket, events: LinkEvents, onBytes: (chunk: Uint8Array) => void) {
    socket.on('data', (chunk: Buffer) => onBytes(new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.length)));
    socket.on('error', () => {}); // reported through 'close'
    socket.on('close', (hadError) => {
      events.emitClose(this.closingByUs ? undefined : new BoardError('LINK_LOST', `${spec}: connection ${hadError ? 'reset' : 'closed'} by the peer`, { port: spec }));
    });
  }

  write(data: Uint8Array): Promise<void> {
    return writeOrLost(this.spec, !this.socket.destroyed && this.socket.writable, (done) => this.socket.write(data, done));
  }

  close(): Promise<void> {
    this.closingByUs = true;
    return closeOrCut(this.socket.destroyed, (done) => this.socket.once('close', done), () => this.socket.end(), () => this.socket.destroy());
  }
}

class TcpTransport extends NetworkTransport {
  readonly kind = 'socket' as const;
  private readonly link: SocketLink;

  constructor(path: string, socket: Socket) {
    super(path);
    this.link = new SocketLink(path, socket, this.events, (chunk) => this.events.emitData(chunk));
  }

  write(data: Uint8Array): Promise<void> {
    return this.link.write(data);
  }
  close(): Promise<void> {
    return this.link.close();
  }
}

export async function openTcpTransport(spec: string): Promise<Transport> {
  const target = parseHostPort(spec, spec.slice('socket://'.length));
  return new TcpTransport(spec, await connectSocket(spec, target));
}
