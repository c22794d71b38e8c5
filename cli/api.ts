// The library entry point (`import { openBoard } from 'boardctl'`): the same client the CLI uses,
// with the virtual board available as port "virtual".
import type { Board } from '../protocol/board.js';
import { connectBoard, openTransport as openPort, type ConnectOptions } from '../protocol/connect.js';
import type { Transport } from '../protocol/transport.js';
import { openVirtual } from './virtual.js';

export type { Board, ExecOptions, ExecResult, RunningExec } from '../protocol/board.js';
export type { ControlLines, Transport, TransportKind } from '../protocol/transport.js';
export { BoardError, ERROR_CODES, isBoardError, type ErrorCode } from '../protocol/errors.js';
export { listPorts, guessBoard, type PortInfo } from '../protocol/ports.js';
export { RawReplClient, type RawReplOptions } from '../protocol/raw-repl.js';

export type OpenBoardOptions = Omit<ConnectOptions, 'virtual'>;

/**
 * Connect to a board: a device path or shortcut (a0, u0, c0), socket://HOST:PORT, rfc2217://HOST:PORT,
 * or virtual[:NAME]. Without a port: the first USB port that answers as MicroPython, else the virtual board.
 */
export async function openBoard(port?: string, opts: OpenBoardOptions = {}): Promise<Board> {
  return (await connectBoard(port, { ...opts, virtual: openVirtual })).board;
}

/** Open a bare byte link (for flashing or a terminal) by the same port names. */
export function openTransport(port: string, opts: { baudRate?: number } = {}): Promise<Transport> {
  return openPort(port, { ...opts, virtual: openVirtual });
}
