// Programs sent to the board carry their own checksum, so a program the link damaged refuses to run instead
// of running wrong (a flipped bit once turned `binascii` into `bioascii`, a dropped byte moved a file to
// another name). The code travels as a string literal inside a one-line guard that checks its length, byte
// sum and a position-weighted sum over 8-byte blocks (only len, sum and slices: every firmware has them, at C
// speed) and only then exec()s it. The guard binds no name: it is one expression, its scratch lives in a
// lambda's scope, so the user's globals are as a bare program leaves them. It is short because on a slow
// link every byte of it is paid on every exec. A damaged guard fails as a traceback from the guard itself;
// both cases become LINK_DAMAGED, never a traceback from code the user never wrote.
import { BoardError } from './errors.js';

const DAMAGED = 'boardctl: damaged command';
/** The guard's refusal as MicroPython prints it (CPython would quote the key). */
const REFUSAL = new RegExp(`^KeyError: '?${DAMAGED}'?$`);
/** Larger programs go as they are: the guard needs the whole text in the board's RAM next to its bytecode. */
export const CHECKED_MAX_BYTES = 32 * 1024;

export const DAMAGED_MESSAGE = 'the board received a damaged command; check the cable or lower the baud rate';

export function damagedCommand(what = DAMAGED_MESSAGE, details: Record<string, unknown> = {}): BoardError {
  return new BoardError('LINK_DAMAGED', what, details);
}

const BLOCK = 8;
/** The largest prime below 2^16: each weighted term stays below it, so the sum stays a small int on a 32-bit port. */
const WEIGHT_MOD = 65521;

/**
 * Length, byte sum, and the sum over 8-byte blocks of (block sum × (offset + 1)) mod 65521. Every single
 * dropped, duplicated or flipped byte changes the first two; two faults in different blocks that cancel in
 * the byte sum change the weighted sum (their change there is δ·(distance) mod a prime larger than both).
 */
export function programChecksum(bytes: Uint8Array): [number, number, number] {
  let sum = 0;
  let weighted = 0;
  for (let i = 0; i < bytes.length; i += BLOCK) {
    let block = 0;
    for (let j = i; j < Math.min(i + BLOCK, bytes.length); j++) block += bytes[j]!;
    sum += block;
    weighted += (block * (i + 1)) % WEIGHT_MOD;
  }
  return [bytes.length, sum, weighted];
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
}

/**
 * The program to send for `code`, or undefined when it is too large to guard. A lambda takes the code as
 * bytes and gives it back as text when the sums agree (exec() runs it with the caller's globals, as the raw
 * REPL would), else raises KeyError('boardctl: damaged command') itself.
 */
export function checkedProgram(code: string): CheckedProgram | undefined {
  const bytes = new TextEncoder().encode(code);
  if (bytes.length > CHECKED_MAX_BYTES) return undefined;
  const [n, s, w] = programChecksum(bytes);
  const weighted = `sum(sum(b[i:i+${BLOCK}])*(i+1)%${WEIGHT_MOD} for i in range(0,len(b),${BLOCK}))`;
  // The refusal is raised in the lambda, in the guard's own <stdin> frame: were it exec()'d, a copy the link
  // damaged twice (code and refusal) would come back from "<string>" as if from the user's code.
  const refuse = `{}['${DAMAGED}']`;
  return { source: `exec((lambda b:b.decode()if(len(b),sum(b),${weighted})==(${n},${s},${w})else${refuse})(${literal(code)}.encode()))` };
}

const FRAME = /^ {2}File "([^"]*)", line (\d+)/;

/**
 * Judge a traceback from a guarded program: a damaged-command error or one raised by the guard itself is
 * the link's fault; anything from the code comes back with the guard's frame removed and the code's
 * frames named `<stdin>` again, as if it had been sent bare.
 */
export function checkedTraceback(traceback: string): { damaged: boolean; refused: boolean; traceback: string } {
  const lines = traceback.split(/(?<=\n)/);
  const frames = lines.filter((l) => FRAME.test(l));
  const fromCode = frames.some((l) => FRAME.exec(l)![1] === '<string>');
  const last = traceback.trim().split(/\r?\n/).pop() ?? '';
  // Certain that none of the code ran: the guard's own verdict, or nothing compiled at all.
  const refused = REFUSAL.test(last) || /^SyntaxError\b/.test(last);
  // MemoryError and KeyboardInterrupt can strike the guard without any damage, and the virtual board's own
  // notice of a host-side VM error (`[boardctl] …`) replaces the traceback whatever ran.
  if (traceback.includes(DAMAGED) || (!fromCode && !/^(MemoryError|KeyboardInterrupt)\b|^\[boardctl\] /.test(last))) {
    return { damaged: true, refused, traceback };
  }
  if (!fromCode) return { damaged: false, refused: false, traceback };
  // Under the guard every <stdin> frame is the guard's: the code's own frames are exec()'s "<string>".
  const kept = lines.filter((l) => !l.startsWith('  File "<stdin>"')).map((l) => l.replace(/^( {2}File )"<string>"/, '$1"<stdin>"'));
  return { damaged: false, refused: false, traceback: kept.join('') };
}
