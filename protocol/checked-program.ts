// Programs sent to the board carry their own checksum, so a program the link damaged refuses to run instead
// of running wrong (a flipped bit once turned `binascii` into `bioascii`, a dropped byte moved a file to
// another name). The code travels as a string literal inside a short guard that checks its length and a
// Fletcher-style sum over 8-byte blocks (only len, sum and slices: every firmware has them, at C speed) and
// only then exec()s it. A damaged guard fails as a traceback from the guard itself; both cases become
// LINK_DAMAGED, never a traceback from code the user never wrote.
import { BoardError } from './errors.js';

/** The guard's variable; exec() runs the code with the caller's globals, as the raw REPL would. */
const VAR = '_bc';
const DAMAGED = 'boardctl: damaged command';
/** Larger programs go as they are: the guard needs the whole text in the board's RAM next to its bytecode. */
export const CHECKED_MAX_BYTES = 32 * 1024;

export const DAMAGED_MESSAGE = 'the board received a damaged command; check the cable or lower the baud rate';

export function damagedCommand(what = DAMAGED_MESSAGE, details: Record<string, unknown> = {}): BoardError {
  return new BoardError('LINK_DAMAGED', what, details);
}

const BLOCK = 8;

/**
 * Length, byte sum, and the running sum of the 8-byte block sums (24 bits): every single dropped, duplicated
 * or flipped byte changes it, and so do two faults in different blocks.
 */
export function programChecksum(bytes: Uint8Array): [number, number, number] {
  let a = 0;
  let c = 0;
  for (let i = 0; i < bytes.length; i += BLOCK) {
    for (let j = i; j < Math.min(i + BLOCK, bytes.length); j++) a += bytes[j]!;
    c = (c + a) & 0xffffff;
  }
  return [bytes.length, a, c];
}

/** A Python str literal whose value is exactly `code`: raw triple quotes where that is safe, else escapes. */
function literal(code: string): string {
  for (const q of ["'''", '"""']) {
    if (!code.includes(q) && !code.includes('\r') && !code.includes('\0') && !/[\\'"]$/.test(code)) return `r${q}${code}${q}`;
  }
  // JSON's escapes are Python's, except \u00XX for control characters, which every MicroPython reads as \xXX.
  return JSON.stringify(code).replace(/\\u00([0-9a-fA-F]{2})/g, '\\x$1');
}

export interface CheckedProgram {
  source: string;
  /** Lines of <stdin> before the exec() line, so a traceback's guard frame can be recognised. */
  guardLine: number;
}

/** The program to send for `code`, or undefined when it is too large to guard. */
export function checkedProgram(code: string): CheckedProgram | undefined {
  const bytes = new TextEncoder().encode(code);
  if (bytes.length > CHECKED_MAX_BYTES) return undefined;
  const [n, s, t] = programChecksum(bytes);
  const lit = literal(code);
  const source = [
    `${VAR}=[${lit}]`,
    `def ${VAR}f(b):`,
    ' a=c=0',
    ` for i in range(0,len(b),${BLOCK}):a+=sum(b[i:i+${BLOCK}]);c=(c+a)&16777215`,
    ' return len(b),a,c',
    `if ${VAR}f(bytes(${VAR}[0],'utf8'))!=(${n},${s},${t}):raise RuntimeError('${DAMAGED}')`,
    `del ${VAR}f`,
    `exec(${VAR}.pop())`,
  ].join('\n');
  return { source, guardLine: lit.split('\n').length + 7 };
}

const FRAME = /^ {2}File "([^"]*)", line (\d+)/;

/**
 * Judge a traceback from a guarded program: a damaged-command error or one raised by the guard itself is
 * the link's fault; anything from the code comes back with the guard's frame removed and the code's
 * frames named `<stdin>` again, as if it had been sent bare.
 */
export function checkedTraceback(traceback: string, program: CheckedProgram): { damaged: boolean; refused: boolean; traceback: string } {
  const lines = traceback.split(/(?<=\n)/);
  const frames = lines.filter((l) => FRAME.test(l));
  const fromCode = frames.some((l) => FRAME.exec(l)![1] === '<string>');
  const last = traceback.trim().split(/\r?\n/).pop() ?? '';
  // Certain that none of the code ran: the guard's own verdict, or nothing compiled at all.
  const refused = last === `RuntimeError: ${DAMAGED}` || /^SyntaxError\b/.test(last);
  // MemoryError and KeyboardInterrupt can strike the guard without any damage, and the virtual board's own
  // notice of a host-side VM error (`[boardctl] …`) replaces the traceback whatever ran.
  if (traceback.includes(DAMAGED) || (!fromCode && !/^(MemoryError|KeyboardInterrupt)\b|^\[boardctl\] /.test(last))) {
    return { damaged: true, refused, traceback };
  }
  if (!fromCode) return { damaged: false, refused: false, traceback };
  const guardFrame = `  File "<stdin>", line ${program.guardLine}, in <module>`;
  const kept = lines.filter((l) => !l.startsWith(guardFrame)).map((l) => l.replace(/^( {2}File )"<string>"/, '$1"<stdin>"'));
  return { damaged: false, refused: false, traceback: kept.join('') };
}
