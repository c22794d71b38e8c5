// ws://HOST:PORT: a board's WebREPL (the REPL over websocket text frames, after its "Password: " prompt), with
// the `ws` library doing the websocket itself. The raw REPL runs through it as through a serial port.
import type { WebSocket } from 'ws';
import { BoardError } from '../errors.js';
import type { Transport } from '../transport.js';
import { NetworkTransport, closeOrCut, writeOrLost } from './network-link.js';
import { parseHostPort } from './tcp.js';
import { RecordClient } from './webrepl-records-client.js';

/** Where a WebREPL password comes from when the URL has none (environment, a prompt): undefined if none. */
export type PasswordSource = () => Promise<string | undefined>;

const PROMPT = 'Password: ';
const CONNECTED = 'WebREPL connected';
const DENIED = 'Access denied';

class WebReplTransport extends NetworkTransport {
  readonly kind = 'webrepl' as const;
  private closingByUs = false;
  readonly records: RecordClient;

  constructor(path: string, private readonly ws: WebSocket) {
    super(path);
    this.records = new RecordClient(path, (bytes) => this.sendFrame(bytes, true));
    // Text frames are the REPL; binary ones the file-transfer records.
    ws.on('message', (data: Buffer, isBinary: boolean) => {
      const bytes = new Uint8Array(data.buffer, data.byteOffset, data.length);
      if (isBinary) this.records.feed(bytes);
      else this.events.emitData(bytes);
    });
    ws.on('close', () => {
      const lost = new BoardError('LINK_LOST', `${path}: WebREPL connection closed by the board`, { port: path });
      this.records.end(lost);
      this.events.emitClose(this.closingByUs ? undefined : lost);
    });
  }

  write(data: Uint8Array): Promise<void> {
    // Text frames: the firmware's _webrepl takes binary ones as file-transfer requests.
    return this.sendFrame(data, false);
  }

  private sendFrame(data: Uint8Array, binary: boolean): Promise<void> {
    return writeOrLost(this.path, this.ws.readyState === this.ws.OPEN, (done) => this.ws.send(data, { binary }, done));
  }

  close(): Promise<void> {
    this.closingByUs = true;
    return closeOrCut(this.ws.readyState === this.ws.CLOSED, (done) => this.ws.once('close', done), () => this.ws.close(), () => this.ws.terminate());
  }
}

/** Connect, answer the password prompt, and hand over the REPL; a refused password is AUTH_FAILED. */
export async function openWebReplTransport(spec: string, password?: PasswordSource, timeoutMs = 5000): Promise<Transport> {
  const { host, port } = parseHostPort(spec, spec.slice('ws://'.length));
  const given = new URL(spec).searchParams.get('password') ?? (await password?.());
  if (given === undefined || given === '') {
    throw new BoardError('USAGE', `${spec}: no WebREPL password (add ?password=… or set BOARDCTL_WEBREPL_PASSWORD)`, { port: spec });
  }
  const { default: WebSocketClient } = await import('ws');
  const hostPart = host.includes(':') ? `[${host}]` : host;
  const ws = new WebSocketClient(`ws://${hostPart}:${port}/`, { perMessageDeflate: false, skipUTF8Validation: true, handshakeTimeout: timeoutMs });
  return new Promise<Transport>((resolve, reject) => {
    let seen = '';
    let answered = false;
    const fail = (err: BoardError) => {
      clearTimeout(timer);
      ws.removeAllListeners();
      ws.on('error', () => undefined);
      ws.terminate();
      reject(err);
    };
    const timer = setTimeout(() => fail(new BoardError('TIMEOUT', `${spec}: no WebREPL prompt within ${timeoutMs} ms`, { port: spec })), timeoutMs);
    const busy = (when: string) => new BoardError('NO_SUCH_PORT', `${spec}: cannot connect to ${host}:${port} (the board closed the connection ${when}: a WebREPL serves one client at a time)`, { port: spec });
    ws.once('error', (err: NodeJS.ErrnoException) => {
      // An older webrepl.py closes a second client before the handshake.
      if (err.code === 'ECONNRESET') return fail(busy('before the handshake'));
      fail(new BoardError('NO_SUCH_PORT', `${spec}: cannot connect to ${host}:${port} (${err.code ?? err.message})`, { port: spec, errno: err.code }));
    });
    ws.on('close', () => {
      if (answered) return fail(new BoardError('AUTH_FAILED', `${spec}: WebREPL password refused`, { port: spec }));
      // Later ones complete the handshake first and then close it, before the prompt.
      fail(seen === '' ? busy('before its password prompt') : new BoardError('PROTOCOL', `${spec}: closed before the WebREPL prompt`, { port: spec }));
    });
    const onMessage = (data: Buffer) => {
      seen += data.toString('latin1');
      if (!answered && seen.includes(PROMPT)) {
        answered = true;
        seen = '';
        ws.send(`${given}\r`);
        return;
      }
      if (!answered) return;
      if (seen.includes(DENIED)) return fail(new BoardError('AUTH_FAILED', `${spec}: WebREPL password refused`, { port: spec }));
      const at = seen.indexOf(CONNECTED);
      if (at < 0) return;
      clearTimeout(timer);
      ws.removeAllListeners();
      // The banner has a frame of its own: the REPL's output comes in the frames after it.
      resolve(new WebReplTransport(spec, ws));
    };
    ws.on('message', onMessage);
  });
}
