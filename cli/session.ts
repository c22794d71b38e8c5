// One board connection shared by every command of a `+` chain, opened on first use and closed at the end.
import type { Connection, VirtualFactory } from '../protocol/connect.js';
import type { RawReplClient } from '../protocol/raw-repl.js';
import type { ControlLines, Transport } from '../protocol/transport.js';
import { BoardError } from '../protocol/errors.js';
import { isVirtualPort } from '../protocol/port-spec.js';
import { phase } from '../protocol/timing.js';
import type { Output } from './output.js';
import { webreplPassword } from './webrepl-password.js';

export interface SessionOptions {
  port?: string;
  baudRate?: number;
  /** Host Ctrl-C: gives up waiting for a board that does not answer. */
  signal?: AbortSignal;
  /** Named boards from the config: `-p kitchen`, `connect kitchen`. */
  boards?: Record<string, string>;
}

/**
 * The connection being made, or INTERRUPTED as soon as Ctrl-C comes (a board that never answers would otherwise
 * hold the user until the raw REPL deadline). A connection that completes after that is closed.
 */
function untilInterrupted(connecting: Promise<Connection>, signal: AbortSignal | undefined): Promise<Connection> {
  if (!signal) return connecting;
  return new Promise((resolve, reject) => {
    const onAbort = () => {
      reject(new BoardError('INTERRUPTED', 'interrupted by Ctrl-C while connecting'));
      void connecting.then((c) => c.board.abandon(), () => undefined);
    };
    if (signal.aborted) return onAbort();
    signal.addEventListener('abort', onAbort, { once: true });
    connecting.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
  });
}

/** The virtual board's factory, its module loaded only when a virtual port opens. */
const openVirtual: VirtualFactory = async (spec) => (await virtualModule()).openVirtual(spec);
let virtual: Promise<typeof import('./virtual.js')> | undefined;
const virtualModule = () => (virtual ??= import('./virtual.js'));

/**
 * The virtual board `spec` names, opening from now on, and the factory that hands it to the connection once (its
 * errors are reported there); `dropUntaken` closes it when the connection failed before taking it.
 */
function openingNow(spec: string): { factory: VirtualFactory; dropUntaken(): void } {
  const opening = openVirtual(spec);
  opening.catch(() => undefined);
  let taken = false;
  return {
    factory: (asked) => {
      if (asked !== spec || taken) return openVirtual(asked);
      taken = true;
      return opening;
    },
    dropUntaken: () => void (taken || opening.then((t) => t.close(), () => undefined)),
  };
}

export class Session {
  port: string | undefined;
  baudRate: number | undefined;
  /** --password: a ws:// port's WebREPL password, before the environment's or a prompt. */
  password: string | undefined;
  /** DTR/RTS levels set on opening a port (--dtr/--rts); the lines not named stay as the port opened. */
  lines: ControlLines = {};
  /** --no-reset-lines: nothing moves DTR/RTS on this session's links. */
  noResetLines = false;
  /** mpremote semantics: one soft reset per session before the first command, unless `resume`. */
  private softResetDone = false;
  private board: RawReplClient | undefined;
  private readonly signal: AbortSignal | undefined;

  private readonly boards: Record<string, string>;

  constructor(
    opts: SessionOptions,
    private readonly out: () => Output,
  ) {
    this.boards = opts.boards ?? {};
    this.port = this.named(opts.port);
    this.baudRate = opts.baudRate;
    this.signal = opts.signal;
  }

  /** The connected board, connecting (or auto-detecting) first if needed. */
  async connect(): Promise<RawReplClient> {
    if (this.board) return this.board;
    // A virtual board opens now: its worker boots while the connection modules below load.
    const early = isVirtualPort(this.port) ? openingNow(this.port!.trim()) : undefined;
    const { connectBoard } = await import('../protocol/connect.js');
    phase('connection modules loaded');
    const connecting = connectBoard(this.port, { virtual: early?.factory ?? openVirtual, webreplPassword: async () => this.password ?? (await webreplPassword()), baudRate: this.baudRate, lines: this.lines, noResetLines: this.noResetLines, resume: this.softResetDone });
    const conn = await untilInterrupted(connecting, this.signal).finally(() => early?.dropUntaken());
    if (conn.note) this.out().note(conn.note);
    this.board = conn.board;
    return conn.board;
  }

  /**
   * Put a layer between the board and its link (mount's request server): the connected board's link is taken
   * back and a client made by `make` speaks over it from now on, keeping the session's soft-reset state.
   */
  async interpose<T extends RawReplClient>(make: (transport: Transport, opts: { resume: boolean }) => T): Promise<T> {
    const board = await this.connect();
    const resume = board.didSoftReset;
    this.board = undefined;
    const layered = make(await board.release(), { resume });
    this.board = layered;
    return layered;
  }

  /** A bare link for commands that speak their own protocol (flashing) or none (the terminal). */
  async openTransport(port?: string, baudRate?: number): Promise<Transport> {
    if (this.board && (port === undefined || port === this.port)) {
      // Earlier commands of the chain hold the link: hand it over, back in the friendly REPL.
      const board = this.board;
      this.board = undefined;
      return board.release();
    }
    await this.close();
    const { openTransport, openAnyTransport } = await import('../protocol/connect.js');
    const opts = { virtual: openVirtual, webreplPassword, baudRate: baudRate ?? this.baudRate, lines: this.lines, noResetLines: this.noResetLines };
    const target = port ?? this.port;
    if (target) return openTransport(target, opts);
    const { transport, note } = await openAnyTransport(opts);
    if (note) this.out().note(note);
    return transport;
  }

  resume(): void {
    this.softResetDone = true;
    this.board?.resume();
  }

  /** Note that the board already had its soft reset (an explicit soft-reset command). */
  markSoftReset(): void {
    this.softResetDone = true;
  }

  /** A board's name from the config as its port; anything else as it is. */
  named(port: string | undefined): string | undefined {
    return port === undefined ? undefined : (this.boards[port] ?? port);
  }

  /** Switch to another port (mpremote `connect`). */
  async use(port: string | undefined): Promise<void> {
    await this.close();
    this.port = this.named(port);
    this.softResetDone = false;
  }

  /** Leave the board in the friendly REPL and close the link. */
  async close(): Promise<void> {
    const board = this.board;
    this.board = undefined;
    if (board) {
      this.softResetDone ||= board.didSoftReset;
      await board.close();
    }
  }

  /** The command line's end: the link closed, then the virtual boards the process opened powered off. */
  async end(): Promise<void> {
    try {
      await this.close();
    } finally {
      await (await virtual)?.closeVirtualBoards();
    }
  }

  /** Drop the link without sending anything (a program was left running, or the board is rebooting). */
  async abandon(): Promise<void> {
    const board = this.board;
    this.board = undefined;
    if (board) {
      this.softResetDone ||= board.didSoftReset;
      await board.abandon();
    }
  }
}
