// `boardctl sim serve`: keep a virtual board running and reachable by other programs, on a pseudo-terminal or
// a TCP socket, plus the control socket for sim set/get.
import { symlinkSync, rmSync, lstatSync } from 'node:fs';
import { withFaults } from '../../protocol/transports/faults.js';
import { VirtualBoard } from '../board.js';
import { PtyServer } from './pty-server.js';
import { startTcpServer, parseHostPort } from './tcp-server.js';
import { serveRfc2217 } from './rfc2217-server.js';
import { startControlServer } from './control-server.js';

export interface ServeOptions {
  name: string;
  home?: string;
  /** Make a symlink to the pty here. */
  link?: string;
  /** Serve on TCP instead of a pty. */
  tcp?: string;
  /** Serve RFC 2217 (with DTR/RTS and baud) on TCP instead of a pty. */
  rfc2217?: string;
  /** Emulate a UART at this baud rate. */
  baud?: number;
  /** Inject link faults (protocol/transports/faults.ts syntax) into every client's link. */
  faults?: string;
}

export interface Serving {
  board: VirtualBoard;
  ptyPath?: string;
  tcp?: { host: string; port: number };
  close(): Promise<void>;
}

export async function serveBoard(opts: ServeOptions): Promise<Serving> {
  const board = await VirtualBoard.open(opts.name, { home: opts.home });
  const closers: Array<() => Promise<void> | void> = [];
  try {
    const control = await startControlServer(board.stored.dir, (req) => board.controlRequest(req));
    closers.push(() => control.close());
    const tcp = opts.rfc2217 ?? opts.tcp;
    if (tcp) {
      const { host, port } = parseHostPort(tcp);
      const attach = () => withFaults(board.attach({ baud: opts.baud }), opts.faults);
      const srv = await startTcpServer({ host, port, attach, serve: opts.rfc2217 ? serveRfc2217 : undefined });
      closers.push(() => srv.close());
      return { board, tcp: { host: srv.address.address, port: srv.address.port }, close: () => closeAll(closers, board) };
    }
    const link = withFaults(board.attach({ baud: opts.baud }), opts.faults);
    const pty = new PtyServer(link);
    closers.push(() => pty.close(), () => link.close());
    if (opts.link) {
      const linkPath = opts.link;
      if (existsLink(linkPath)) rmSync(linkPath);
      symlinkSync(pty.path, linkPath);
      closers.push(() => rmSync(linkPath, { force: true }));
    }
    return { board, ptyPath: pty.path, close: () => closeAll(closers, board) };
  } catch (err) {
    await closeAll(closers, board);
    throw err;
  }
}

function existsLink(path: string): boolean {
  try {
    return lstatSync(path).isSymbolicLink();
  } catch {
    return false;
  }
}

async function closeAll(closers: Array<() => Promise<void> | void>, board: VirtualBoard): Promise<void> {
  for (const c of closers.reverse()) await c();
  await board.close();
}
