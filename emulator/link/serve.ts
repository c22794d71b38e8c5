// `boardctl sim serve`: keep virtual boards running and reachable by other programs, each on a pseudo-terminal or
// a TCP socket, plus its control socket for sim set/get.
import { symlinkSync, rmSync, lstatSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { BoardError } from '../../protocol/errors.js';
import { withFaults } from '../../protocol/transports/faults.js';
import { VirtualBoard } from '../board.js';
import { PtyServer } from './pty-server.js';
import { startTcpServer, parseListenAddress } from '../../protocol/port-server.js';
import { serveRfc2217 } from '../../protocol/rfc2217-server.js';
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
      const { host, port } = parseListenAddress(tcp);
      const attach = () => withFaults(board.attach({ baud: opts.baud }), opts.faults);
      const srv = await startTcpServer({ host, port, attach, serve: opts.rfc2217 ? (sock, link) => serveRfc2217(sock, link) : undefined });
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

export interface FleetOptions extends Omit<ServeOptions, 'name' | 'link'> {
  names: string[];
  /** One board: a symlink to its pty here. */
  link?: string;
  /** One symlink per board, DIR/NAME, to its pty. */
  linkDir?: string;
}

/**
 * Several boards in this process (`sim serve a b c`), each on its own pty, or on TCP: `HOST:PORT+` gives them
 * consecutive ports from PORT, port 0 a free port each. All start, or none stays up.
 */
export async function serveBoards(opts: FleetOptions): Promise<Serving[]> {
  const names = [...new Set(opts.names)];
  if (names.length !== opts.names.length) throw new BoardError('USAGE', 'a board is named twice');
  if (opts.link && names.length > 1) throw new BoardError('USAGE', '--link names one pty: for several boards use --link-dir DIR');
  const addresses = (spec: string | undefined) => (spec === undefined ? names.map(() => undefined) : fleetAddresses(spec, names.length));
  const tcp = addresses(opts.tcp);
  const rfc2217 = addresses(opts.rfc2217);
  if (opts.linkDir) mkdirSync(opts.linkDir, { recursive: true });
  const started = await Promise.allSettled(
    names.map((name, i) =>
      serveBoard({
        ...opts, name, tcp: tcp[i], rfc2217: rfc2217[i],
        link: opts.linkDir ? join(opts.linkDir, name) : opts.link,
      }),
    ),
  );
  const failed = started.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  const up = started.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : []));
  if (failed) {
    await Promise.all(up.map((s) => s.close()));
    throw failed.reason;
  }
  return up;
}

/** `HOST:PORT+` as n consecutive addresses; a fixed port serves one board only, port 0 picks one per board. */
export function fleetAddresses(spec: string, n: number): string[] {
  const consecutive = spec.endsWith('+');
  const { host, port } = parseListenAddress(consecutive ? spec.slice(0, -1) : spec);
  const h = host.includes(':') ? `[${host}]` : host;
  if (consecutive) {
    if (port === 0 || port + n - 1 > 65535) throw new BoardError('USAGE', `bad port range '${spec}' for ${n} boards`);
    return Array.from({ length: n }, (_, i) => `${h}:${port + i}`);
  }
  if (n > 1 && port !== 0) {
    throw new BoardError('USAGE', `${n} boards need a port each: use ${h}:${port}+ for consecutive ports, or port 0 for free ones`);
  }
  return Array.from({ length: n }, () => `${h}:${port}`);
}
