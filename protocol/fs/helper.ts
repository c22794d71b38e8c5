// Running boardctl's own board-side helpers: they are expected to keep talking, so each gets an inactivity
// deadline (a lost byte must end in TIMEOUT, not a wait forever), and their output comes back as lines.
import { createHash } from 'node:crypto';
import type { Board, ExecOptions } from '../board.js';
import { BoardError, isBoardError, type ErrorCode } from '../errors.js';
import { outputLines } from './py-repr.js';
import type { HelperProgram } from './snippets.js';

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

/** How a helper runs: its inactivity deadline, and a Ctrl-C the host did not send taken as link damage. */
export function helperExecOptions(board: Board): ExecOptions {
  return { idleTimeoutMs: helperIdleMs(board), ownProgram: true };
}

/** Run a helper and return its stdout lines. */
export async function helperLines(board: Board, code: string, opts: ExecOptions = {}): Promise<string[]> {
  return outputLines((await board.exec(code, { ...helperExecOptions(board), ...opts })).stdout);
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

/**
 * Helper libraries stay defined on the board for the rest of the connection (until a soft reset), so a
 * retry or the next batch sends only its call: less to move at the baud rate, less for the link to spoil.
 */
const libs = new WeakMap<Board, { generation: number | undefined; names: Set<string> }>();

function libsOf(board: Board): Set<string> {
  let state = libs.get(board);
  if (!state || state.generation !== board.generation) {
    state = { generation: board.generation, names: new Set() };
    libs.set(board, state);
  }
  return state.names;
}

/** A library's name: its hash, an attribute of the one global the helpers own. */
const libName = (lib: string) => `L${createHash('sha256').update(lib).digest('hex').slice(0, 10)}`;
/** The one name boardctl's helpers leave in the user's globals: a class holding the libraries. */
const HOLDER = '_bc';
const libCall = (name: string) => `${HOLDER}.${name}`;

/**
 * The library as a function: its own names live in that scope and only X comes out, kept as an attribute of
 * the holder (made by the first library of the connection).
 */
function libDefinition(name: string, lib: string): string {
  return [
    `try:${HOLDER}`,
    `except NameError:\n class ${HOLDER}:pass`,
    'def _bcf():',
    ...lib.split('\n').map((l) => ` ${l}`),
    ' return X',
    `${libCall(name)}=_bcf()`,
    'del _bcf',
  ].join('\n');
}

/**
 * What to send for `program`: its call alone where the library is known to be there (were it gone, user
 * code removed it, the call fails naming it: helperError), else both.
 */
export function helperSource(board: Board, program: HelperProgram): string {
  const name = libName(program.lib);
  const call = program.call(libCall(name));
  return libsOf(board).has(name) ? call : `${libDefinition(name, program.lib)}\n${call}`;
}

/**
 * Define the library first, in a run of its own, for a helper that is started (and then fed) rather than
 * run: exec() sends a copy the link damaged again by itself, so only the short call is left at risk.
 */
export async function loadHelper(board: Board, program: HelperProgram): Promise<void> {
  const name = libName(program.lib);
  if (libsOf(board).has(name)) return;
  await helperLines(board, libDefinition(name, program.lib));
  libsOf(board).add(name);
}

/** The program ran (its library is defined now). */
export function helperRan(board: Board, program: HelperProgram): void {
  libsOf(board).add(libName(program.lib));
}

/** A library that went missing (user code cleared the globals) is sent again on the retry. */
export function helperError(board: Board, program: HelperProgram, err: unknown): unknown {
  const name = libName(program.lib);
  // The holder is gone (NameError) or lacks this library (AttributeError); MicroPython and CPython word the
  // rest differently, the names are what tell.
  const lost = new RegExp(`^(NameError: name '${HOLDER}'|AttributeError: .*'${name}')`, 'm');
  if (!isBoardError(err, 'DEVICE_EXCEPTION') || !lost.test(String(err.details.traceback ?? err.message))) return err;
  libsOf(board).delete(name);
  return new BoardError('PROTOCOL', 'the board lost boardctl\'s helper definitions; sending them again', {});
}

/** Run a helper program to its end and return its stdout lines; a library user code removed is sent again, once. */
export async function runHelper(board: Board, program: HelperProgram, opts: ExecOptions = {}): Promise<string[]> {
  for (let round = 0; ; round++) {
    try {
      const out = await helperLines(board, helperSource(board, program), opts);
      helperRan(board, program);
      return out;
    } catch (err) {
      const mapped = helperError(board, program, err);
      if (round > 0 || mapped === err) throw mapped;
    }
  }
}
