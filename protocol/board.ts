// The typed library surface for one connected board (what `openBoard()` returns). The raw REPL client
// implements it; the CLI commands and the TUI are thin layers over it.
import type { Transport } from './transport.js';

export interface ExecOptions {
  /** Streamed stdout text, split UTF-8 sequences kept whole. */
  onStdout?: (text: string) => void;
  /** The same stdout as raw bytes, for programs that print binary (file transfer). */
  onStdoutBytes?: (bytes: Uint8Array) => void;
  /** Streamed exception/traceback text. */
  onStderr?: (text: string) => void;
  /** Overall deadline for the program to finish (default: none once it started). */
  timeoutMs?: number;
  /**
   * Give up (TIMEOUT, board interrupted) when the board sends nothing for this long. For programs that are
   * expected to keep talking (boardctl's own helpers); a user's program may be quiet for as long as it likes.
   */
  idleTimeoutMs?: number;
  /** Aborting interrupts the program on the board (Ctrl-C) and rejects with INTERRUPTED. */
  signal?: AbortSignal;
  /** Resolve with the traceback in `stderr` instead of rejecting with DEVICE_EXCEPTION. */
  allowError?: boolean;
  /**
   * boardctl's own program, which never raises KeyboardInterrupt: one the host did not ask for is a byte the link
   * turned into Ctrl-C on the way (LINK_DAMAGED, so the step is sent again), not the program's error.
   */
  ownProgram?: boolean;
}

export interface ExecResult {
  stdout: string;
  stderr: string;
}

/** A program started on the board whose stdin we keep feeding (used by file transfer receivers). */
export interface RunningExec {
  /** Bytes to the program's sys.stdin / sys.stdin.buffer. */
  write(data: Uint8Array): Promise<void>;
  /** Settles when the program ends, exactly as exec() would. */
  readonly done: Promise<ExecResult>;
}

export interface Board {
  readonly transport: Transport;
  /** Changes whenever the board's Python state starts afresh (a soft reset): helpers defined earlier are gone. */
  readonly generation?: number;
  /** Run code in the raw REPL (raw-paste when the board offers it). Rejects with DEVICE_EXCEPTION on a traceback. */
  exec(code: string, opts?: ExecOptions): Promise<ExecResult>;
  /** Evaluate an expression and return its repr() text. */
  eval(expr: string, opts?: ExecOptions): Promise<string>;
  /** Start code and return at once, so its stdin can be streamed. */
  start(code: string, opts?: ExecOptions): Promise<RunningExec>;
  /** Ctrl-D soft reset (heap cleared, files kept); leaves the board in the raw REPL ready for exec. */
  softReset(): Promise<void>;
  /** Interrupt whatever runs (Ctrl-C) and get back to a raw REPL prompt. */
  interrupt(): Promise<void>;
  /** Leave the board in the friendly REPL and close the link. */
  close(): Promise<void>;
}
