// The board's WebREPL server, run on the main thread: the websocket handshake (SHA-1, which the board's hashlib
// lacks) and framing come from `ws`; the password prompt, the REPL over text frames and the file-transfer
// records in binary frames follow the firmware's webrepl.py and _webrepl (extmod/webrepl, extmod/modwebrepl.c).
// An accepted client is attached to the board's console as os.dupterm attaches it on the firmware: it sees the
// REPL's output beside the UART's and types into it.
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import type { WebSocket, WebSocketServer } from 'ws';
import { FileSession, type BoardAnswer, type BoardFiles } from './webrepl-files.js';

export interface BoardConsole {
  /** Bytes typed at the REPL. */
  input(data: Uint8Array): void;
  /** Subscribe to the REPL's output; returns the unsubscribe function. */
  onOutput(listener: (chunk: Uint8Array) => void): () => void;
  /** Text the board prints (webrepl.py's messages), to the UART and every terminal beside it. */
  print(text: string): void;
}

export interface WebReplBoard {
  console: BoardConsole;
  files: BoardFiles;
  /** The board has an address a client can reach (a connected station or an active AP). */
  reachable(): boolean;
  /** A client's handshake is done and it is attached to the REPL (webrepl.py's accept_conn returned). */
  accepted(): void;
}

export const PASSWORD_PROMPT = 'Password: ';
export const CONNECTED = '\r\nWebREPL connected\r\n>>> '; // modwebrepl.c's connected_prompt, prompt and all
export const DENIED = '\r\nAccess denied\r\n';
/** What os.dupterm prints on the UART when the client's stream reads EOF (extmod/os_dupterm.c), cooked. */
export const DUPTERM_EOF = 'dupterm: EOF received, deactivating\r\n';
export interface WebReplOptions {
  password: string;
  /** start_foreground: serve one client, then answer nobody. */
  once?: boolean;
  /** webrepl.py's static_host (webrepl_cfg.BASE): where the page served to a plain HTTP request loads the client from. */
  base: string;
}

/** The attached client; `dropped`: the board ended it (no EOF to print). */
interface Client {
  ws: WebSocket;
  files: FileSession;
  dropped?: boolean;
}

export class WebReplServer {
  private client: Client | undefined;
  /** start_foreground's server (`once`) after its one client: later connections wait unanswered in the backlog. */
  private readonly backlog = new Set<Socket>();
  private served = false;

  private constructor(private readonly http: Server, private readonly wss: WebSocketServer, private readonly opts: WebReplOptions, private readonly board: WebReplBoard) {
    http.on('upgrade', (req: IncomingMessage, socket: Socket, head: Buffer) => this.upgrade(req, socket, head));
    http.on('request', (req: IncomingMessage) => this.page(req.socket));
  }

  /** Listen on host:port (0: any free one); resolves with the server and the port it got. */
  static async start(host: string, port: number, opts: WebReplOptions, board: WebReplBoard): Promise<[WebReplServer, number]> {
    const { WebSocketServer } = await import('ws');
    const http = createServer();
    await new Promise<void>((resolve, reject) => {
      http.once('error', reject);
      http.listen({ host, port, exclusive: true }, () => {
        http.off('error', reject);
        resolve();
      });
    });
    const wss = new WebSocketServer({ noServer: true, perMessageDeflate: false, skipUTF8Validation: true });
    return [new WebReplServer(http, wss, opts, board), (http.address() as AddressInfo).port];
  }

  /** Whether webrepl.py's accept_conn would run for this connection; it is dropped or left waiting if not. */
  private admit(socket: Socket): boolean {
    // Nobody reaches a board without an address (the firmware listens on its interfaces').
    if (!this.board.reachable()) return void socket.destroy(), false;
    // start_foreground accepts one connection and installs no accept handler: nobody answers the next ones.
    if (this.served) {
      this.backlog.add(socket);
      socket.once('close', () => this.backlog.delete(socket));
      return false;
    }
    return true;
  }

  /** A request that is no websocket handshake: webrepl.py's send_html, raw bytes (HTTP/1.0, no headers), then close. */
  private page(socket: Socket): void {
    if (!this.admit(socket)) return;
    socket.end(`HTTP/1.0 200 OK\r\n\r\n<base href="${this.opts.base}"></base>\r\n<script src="webrepl_content.js"></script>\r\n`);
  }

  private upgrade(req: IncomingMessage, socket: Socket, head: Buffer): void {
    if (!this.admit(socket)) return;
    const peer = `('${socket.remoteAddress?.replace(/^::ffff:/, '')}', ${socket.remotePort})`;
    this.wss.handleUpgrade(req, socket, head, (ws) => {
      // As webrepl.py's accept_conn: one client at a time; a second one completes its handshake and is then
      // closed (its TCP connection, no close frame) before any prompt.
      if (this.client) {
        this.board.console.print(`\r\nConcurrent WebREPL connection from ${peer} rejected\r\n`);
        return void ws.terminate();
      }
      this.board.console.print(`\r\nWebREPL connection from: ${peer}\r\n`);
      this.accept(ws);
    });
  }

  private accept(ws: WebSocket): void {
    const files = new FileSession(this.board.files, (record) => ws.send(record, { binary: true }));
    const client: Client = { ws, files };
    this.client = client;
    this.served = this.opts.once === true;
    this.board.accepted();
    let typed = '';
    let detach: (() => void) | undefined;
    ws.on('error', () => undefined);
    ws.on('close', () => {
      detach?.();
      files.close();
      if (this.client === client) this.client = undefined;
      // The client went (or was refused its password): the board's next read of its stream is EOF.
      if (!client.dropped) this.board.console.print(DUPTERM_EOF);
    });
    ws.send(PASSWORD_PROMPT);
    ws.on('message', (data: Buffer, isBinary: boolean) => {
      if (detach) {
        if (isBinary) return files.feed(data);
        return this.board.console.input(new Uint8Array(data.buffer, data.byteOffset, data.length));
      }
      typed += data.toString('latin1');
      const end = typed.search(/[\r\n]/);
      if (end < 0) return;
      if (typed.slice(0, end) !== this.opts.password) {
        ws.send(DENIED);
        return void ws.close();
      }
      ws.send(CONNECTED);
      detach = this.board.console.onOutput((chunk) => ws.send(chunk, { binary: false }));
      // What came after the password line is the first REPL input.
      const rest = typed.slice(end + 1).replace(/^\n/, '');
      if (rest) this.board.console.input(Buffer.from(rest, 'latin1'));
    });
  }

  /** What the board answered to the client's file request. */
  fromBoard(answer: BoardAnswer): void {
    this.client?.files.fromBoard(answer);
  }

  /** The board ends the connection itself (webrepl.stop, a lost address): os.dupterm(None), no EOF read. */
  dropClient(): void {
    if (!this.client) return;
    this.client.dropped = true;
    this.client.ws.terminate();
  }

  close(): void {
    this.dropClient();
    for (const s of this.backlog) s.destroy();
    this.wss.close();
    this.http.close();
  }
}
