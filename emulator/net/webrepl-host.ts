// The board's WebREPL server, run on the main thread: the websocket handshake (SHA-1, which the board's hashlib
// lacks) and framing come from `ws`; the password prompt, the REPL over text frames and the file-transfer
// records in binary frames follow the firmware's webrepl.py and _webrepl (extmod/webrepl, extmod/modwebrepl.c).
// An accepted client is attached to the board's console as os.dupterm attaches it on the firmware: it sees the
// REPL's output beside the UART's and types into it.
import { createServer as createHttpServer, type IncomingMessage, type Server as HttpServer } from 'node:http';
import { createServer, type AddressInfo, type Server, type Socket } from 'node:net';
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
  /** How many connections wait for the board's accept now; `arrived`: one more came (its accept handler runs). */
  held(count: number, arrived: boolean): void;
}

export const PASSWORD_PROMPT = 'Password: ';
export const CONNECTED = '\r\nWebREPL connected\r\n>>> '; // modwebrepl.c's connected_prompt, prompt and all
export const DENIED = '\r\nAccess denied\r\n';
/** What os.dupterm prints on the UART when the client's stream reads EOF (extmod/os_dupterm.c), cooked. */
export const DUPTERM_EOF = 'dupterm: EOF received, deactivating\r\n';
/** What it prints when the read raises instead: a client's TCP reset is lwIP's ECONNRESET (no traceback: C frames only). */
export const DUPTERM_RESET = 'dupterm: Exception in read() method, deactivating: OSError: [Errno 104] ECONNRESET\r\n';
export interface WebReplOptions {
  password: string;
  /**
   * Connections wait for the board's accept (webrepl.py's listening socket with a handler of the user's, or
   * none: start_foreground); else the default accept_conn serves each one as it comes.
   */
  held?: boolean;
  /** webrepl.py's static_host (webrepl_cfg.BASE): where the page served to a plain HTTP request loads the client from. */
  base: string;
}

/** The attached client; `dropped`: the board ended it (no EOF to print). */
interface Client {
  ws: WebSocket;
  files: FileSession;
  dropped?: boolean;
}

/**
 * How accept_conn ended for a connection it served: a websocket client attached or not (the page, a refusal),
 * and the line webrepl.py prints then, if any.
 */
type Served = (attached: boolean, line?: string) => void;

export class WebReplServer {
  private client: Client | undefined;
  /** Connections the board has not accepted yet (`held`), oldest first. */
  private readonly waiting: Socket[] = [];
  private readonly served = new WeakMap<Socket, Served>();

  private constructor(
    private readonly tcp: Server,
    private readonly http: HttpServer,
    private readonly wss: WebSocketServer,
    private readonly opts: WebReplOptions,
    private readonly board: WebReplBoard,
  ) {
    tcp.on('connection', (socket: Socket) => this.arrive(socket));
    http.on('upgrade', (req: IncomingMessage, socket: Socket, head: Buffer) => this.upgrade(req, socket, head));
    http.on('request', (req: IncomingMessage) => this.page(req.socket));
  }

  /** Listen on host:port (0: any free one); resolves with the server and the port it got. */
  static async start(host: string, port: number, opts: WebReplOptions, board: WebReplBoard): Promise<[WebReplServer, number]> {
    const { WebSocketServer } = await import('ws');
    // The TCP listener hands a connection to the HTTP parser only once the board accepts it.
    const tcp = createServer();
    await new Promise<void>((resolve, reject) => {
      tcp.once('error', reject);
      tcp.listen({ host, port, exclusive: true }, () => {
        tcp.off('error', reject);
        resolve();
      });
    });
    const wss = new WebSocketServer({ noServer: true, perMessageDeflate: false, skipUTF8Validation: true });
    return [new WebReplServer(tcp, createHttpServer(), wss, opts, board), (tcp.address() as AddressInfo).port];
  }

  private arrive(socket: Socket): void {
    // Nobody reaches a board without an address (the firmware listens on its interfaces').
    if (!this.board.reachable()) return void socket.destroy();
    // The default accept_conn runs here: its lines go to the board's console.
    if (!this.opts.held) return this.serve(socket, (_, line) => line && this.board.console.print(`\r\n${line}\r\n`));
    // Until the board accepts it the connection waits in the listening socket's backlog, unanswered.
    this.waiting.push(socket);
    socket.once('close', () => {
      const i = this.waiting.indexOf(socket);
      if (i < 0) return;
      this.waiting.splice(i, 1);
      this.board.held(this.waiting.length, false);
    });
    this.board.held(this.waiting.length, true);
  }

  /** The board's accept of the oldest waiting connection; undefined when none waits (it went meanwhile). */
  take(): Socket | undefined {
    const socket = this.waiting.shift();
    if (socket) this.board.held(this.waiting.length, false);
    return socket;
  }

  /** webrepl.py's accept_conn on an accepted connection: the page or the websocket client; `done` says which. */
  serve(socket: Socket, done: Served): void {
    this.served.set(socket, done);
    this.http.emit('connection', socket);
  }

  /** A request that is no websocket handshake: webrepl.py's send_html, raw bytes (HTTP/1.0, no headers), then close. */
  private page(socket: Socket): void {
    socket.end(`HTTP/1.0 200 OK\r\n\r\n<base href="${this.opts.base}"></base>\r\n<script src="webrepl_content.js"></script>\r\n`);
    this.served.get(socket)?.(false);
  }

  private upgrade(req: IncomingMessage, socket: Socket, head: Buffer): void {
    const peer = `('${socket.remoteAddress?.replace(/^::ffff:/, '')}', ${socket.remotePort})`;
    const done = this.served.get(socket)!;
    let reset = false;
    socket.on('error', (err: NodeJS.ErrnoException) => (reset ||= err.code === 'ECONNRESET'));
    this.wss.handleUpgrade(req, socket, head, (ws) => {
      // As webrepl.py's accept_conn: one client at a time; a second one completes its handshake and is then
      // closed (its TCP connection, no close frame) before any prompt.
      if (this.client) {
        ws.terminate();
        return done(false, `Concurrent WebREPL connection from ${peer} rejected`);
      }
      this.accept(ws, () => reset);
      done(true, `WebREPL connection from: ${peer}`);
    });
  }

  private accept(ws: WebSocket, wasReset: () => boolean): void {
    const files = new FileSession(this.board.files, (record) => ws.send(record, { binary: true }));
    const client: Client = { ws, files };
    this.client = client;
    let typed = '';
    let detach: (() => void) | undefined;
    ws.on('error', () => undefined);
    ws.on('close', () => {
      detach?.();
      files.close();
      if (this.client === client) this.client = undefined;
      // The client went (or was refused its password): the board's next read of its stream is EOF, or
      // raises when the connection was reset.
      if (!client.dropped) this.board.console.print(wasReset() ? DUPTERM_RESET : DUPTERM_EOF);
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
    for (const s of this.waiting.splice(0)) s.destroy();
    this.wss.close();
    this.tcp.close();
  }
}
