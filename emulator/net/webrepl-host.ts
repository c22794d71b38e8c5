// The board's WebREPL server, run on the main thread: the websocket handshake (SHA-1, which the board's hashlib
// lacks) and framing come from `ws`; the password prompt and the REPL over text frames follow the firmware's
// _webrepl (docs.micropython.org "WebREPL"). An accepted client is attached to the board's console as
// os.dupterm attaches it on the firmware: it sees the REPL's output beside the UART's and types into it.
import type { AddressInfo } from 'node:net';
import type { WebSocket, WebSocketServer } from 'ws';

export interface BoardConsole {
  /** Bytes typed at the REPL. */
  input(data: Uint8Array): void;
  /** Subscribe to the REPL's output; returns the unsubscribe function. */
  onOutput(listener: (chunk: Uint8Array) => void): () => void;
}

export const PASSWORD_PROMPT = 'Password: ';
export const CONNECTED = '\r\nWebREPL connected\r\n';
export const DENIED = '\r\nAccess denied\r\n';

export class WebReplServer {
  private client: WebSocket | undefined;

  private constructor(private readonly server: WebSocketServer, private readonly password: string, private readonly console: BoardConsole) {
    server.on('connection', (ws) => this.accept(ws));
  }

  /** Listen on host:port (0: any free one); resolves with the server and the port it got. */
  static async start(host: string, port: number, password: string, console: BoardConsole): Promise<[WebReplServer, number]> {
    const { WebSocketServer } = await import('ws');
    const server = new WebSocketServer({ host, port, perMessageDeflate: false, skipUTF8Validation: true });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.once('listening', () => {
        server.off('error', reject);
        resolve();
      });
    });
    return [new WebReplServer(server, password, console), (server.address() as AddressInfo).port];
  }

  private accept(ws: WebSocket): void {
    // The firmware serves one WebREPL client at a time.
    if (this.client) return void ws.close(1013, 'busy');
    this.client = ws;
    let typed = '';
    let detach: (() => void) | undefined;
    ws.on('error', () => undefined);
    ws.on('close', () => {
      detach?.();
      if (this.client === ws) this.client = undefined;
    });
    ws.send(PASSWORD_PROMPT);
    ws.on('message', (data: Buffer) => {
      if (detach) return this.console.input(new Uint8Array(data.buffer, data.byteOffset, data.length));
      typed += data.toString('latin1');
      const end = typed.search(/[\r\n]/);
      if (end < 0) return;
      if (typed.slice(0, end) !== this.password) {
        ws.send(DENIED);
        return void ws.close();
      }
      ws.send(CONNECTED);
      detach = this.console.onOutput((chunk) => ws.send(chunk, { binary: false }));
      // What came after the password line is the first REPL input.
      const rest = typed.slice(end + 1).replace(/^\n/, '');
      if (rest) this.console.input(Buffer.from(rest, 'latin1'));
    });
  }

  close(): void {
    this.client?.terminate();
    this.server.close();
  }
}
