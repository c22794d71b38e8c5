// Running boardctl's own board-side helpers: they are expected to keep talking, so each gets an inactivity
// deadline (a lost byte must end in TIMEOUT, not a wait forever), and their output comes back as lines.
import type { Board, ExecOptions } from '../board.js';
import { isBoardError, type ErrorCode } from '../errors.js';
import { outputLines } from './py-repr.js';

/** Default silence after which a helper is given up on (hashing a large file on a slow board stays well under it). */
export const HELPER_IDLE_MS = 10_000;

const idleByBoard = new WeakMap<Board, number>();

/** Shorten (or lengthen) the helpers' inactivity deadline on one connection (fault trials use a short one). */
export function setHelperIdleTimeout(board: Board, ms: number): void {
  idleByBoard.set(board, ms);
}

export function helperIdleMs(board: Board): number {
  return idleByBoard.get(board) ?? HELPER_IDLE_MS;
}

/** Run a helper and return its stdout lines. */
export async function helperLines(board: Board, code: string, opts: ExecOptions = {}): Promise<string[]> {
  return outputLines((await board.exec(code, { idleTimeoutMs: helperIdleMs(board), ...opts })).stdout);
}

const LINK_FAULTS: ReadonlySet<ErrorCode> = new Set(['LINK_DAMAGED', 'TIMEOUT', 'PROTOCOL']);

/** Errors a second try may cure: the link damaged something, or a helper went quiet. */
export function isLinkFault(err: unknown): boolean {
  return isBoardError(err) && LINK_FAULTS.has(err.code);
}

export function isLinkFaultCode(code: ErrorCode | undefined): boolean {
  return code !== undefined && LINK_FAULTS.has(code);
}

/** Run a read-only or idempotent step again (up to `retries` times) when the link spoiled it. */
export async function retrying<T>(retries: number, step: () => Promise<T>): Promise<T> {
  for (let round = 0; ; round++) {
    try {
      return await step();
    } catch (err) {
      if (round >= retries || !isLinkFault(err)) throw err;
    }
  }
}
