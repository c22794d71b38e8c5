// What the network transports (socket://, ws://, and rfc2217:// for its byte link) share: no control lines or
// line speed of their own, writes that fail as LINK_LOST, and a close that ends politely and cuts off a peer
// that does not answer.
import { BoardError } from '../errors.js';
import type { ControlLines, Transport, TransportKind } from '../transport.js';
import { LinkEvents } from './link-events.js';

/** How long a peer may take to answer our close before the connection is cut. */
const CLOSE_GRACE_MS = 300;

/** A write through a callback-style sink; a closed link or a failed write is LINK_LOST. */
export function writeOrLost(path: string, open: boolean, start: (done: (err?: Error | null) => void) => void): Promise<void> {
  return new Promise((resolve, reject) => {
    if (!open) return reject(new BoardError('LINK_LOST', `${path}: connection is closed`, { port: path }));
    start((err) => (err ? reject(writeError(path, err)) : resolve()));
  });
}

/** EPIPE and ECONNRESET on a write: the peer's end went away before its close reached us; say so alike. */
function writeError(path: string, err: NodeJS.ErrnoException): BoardError {
  const how = { EPIPE: 'closed', ECONNRESET: 'reset' }[err.code ?? ''];
  const what = how ? `connection ${how} by the peer` : `write failed (${err.message})`;
  return new BoardError('LINK_LOST', `${path}: ${what}`, { port: path }, { cause: err });
}

/** End the connection (`end`), resolving once it is closed; `cut` it if the peer does not answer in time. */
export function closeOrCut(closed: boolean, onceClosed: (done: () => void) => void, end: () => void, cut: () => void): Promise<void> {
  return new Promise((resolve) => {
    if (closed) return resolve();
    onceClosed(resolve);
    end();
    setTimeout(cut, CLOSE_GRACE_MS).unref();
  });
}

/** A transport over a network connection: bytes only, no DTR/RTS, no baud rate. */
export abstract class NetworkTransport implements Transport {
  abstract readonly kind: TransportKind;
  readonly hasControlLines = false;
  readonly baudRate = 0;
  protected readonly events = new LinkEvents();

  constructor(readonly path: string) {}

  abstract write(data: Uint8Array): Promise<void>;
  abstract close(): Promise<void>;

  onData(listener: (chunk: Uint8Array) => void): () => void {
    return this.events.onData(listener);
  }
  onClose(listener: (err?: Error) => void): () => void {
    return this.events.onClose(listener);
  }
  async setSignals(_lines: ControlLines): Promise<void> {}
  async setBaudRate(_baud: number): Promise<void> {}
}
