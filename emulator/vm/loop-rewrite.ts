// A program's top-level `while` loops, rewritten so that the VM can collect garbage while they run. The VM
// collects only when a call from JavaScript returns to the top level (ports/webassembly/main.c: a full heap, or
// gc.collect(), only sets gc_collect_pending), so a board's `while True:` main loop would otherwise keep all its
// garbage until the program ends. Each top-level loop's condition becomes
//     while (not __boardctl_gc__[0] or (await __boardctl_yield__())) and (CONDITION):
// where __boardctl_gc__ is the port's gc_collect_pending flag (one byte, read in place) and __boardctl_yield__()
// a generator that yields once. The program is compiled with top-level await, so it is a generator the host
// steps (_boardrt.py's loop section): while no collection is pending an iteration costs one byte read; when one
// is, the program yields at the head of the next iteration, the host's next call collects, and the loop goes on.
// The condition is evaluated as before, once per iteration, so break, continue, else, exceptions and Ctrl-C keep
// their meaning; names stay globals of __main__; lines keep their numbers (only the header line grows).
// Rewritten are loops of the module's own code (also inside top-level if, for, try, with and while), never
// inside def or class. A program with top-level await, yield or async (a SyntaxError on the board) runs as
// written, and fails there as it would.

type Tok = { text: string; at: number; end: number; str: boolean };
type Line = { indent: number; toks: Tok[] };

const STRING_PREFIX = /^(?:[rbuf]|rb|br|fr|rf)$/i;
const TWO_CHAR_OPS = new Set(['->', ':=', '==', '!=', '<=', '>=', '**', '//', '<<', '>>']);
const GEN_WORDS = new Set(['await', 'yield', 'async']);
export const GC_FLAG = '__boardctl_gc__';
export const YIELD_HOOK = '__boardctl_yield__';
export const EXEC_HOOK = '__boardctl_exec__';
const isName = (c: string | undefined) => c !== undefined && (/\w/.test(c) || c.charCodeAt(0) >= 0x80);

/** The index after the string literal whose opening quote is at i, or -1 when it does not end. */
function stringEnd(src: string, i: number): number {
  const q = src[i]!;
  const close = src.startsWith(q.repeat(3), i) ? q.repeat(3) : q;
  for (let j = i + close.length; j < src.length; j++) {
    if (src[j] === '\\') j++;
    else if (close.length === 1 && src[j] === '\n') return -1;
    else if (src.startsWith(close, j)) return j + close.length;
  }
  return -1;
}

/** The source's logical lines (indent and tokens), or undefined where it cannot be read. */
function logicalLines(src: string): Line[] | undefined {
  const lines: Line[] = [];
  let toks: Tok[] = [];
  let indent = -1;
  let depth = 0;
  for (let i = 0; i < src.length; ) {
    const c = src[i]!;
    if (indent < 0) {
      let col = 0;
      while (src[i] === ' ' || src[i] === '\t' || src[i] === '\f') col = src[i++] === '\t' ? (Math.floor(col / 8) + 1) * 8 : col + 1;
      indent = col;
      continue;
    }
    if (c === '\n') {
      i++;
      if (depth > 0) continue;
      if (toks.length) lines.push({ indent, toks });
      toks = [];
      indent = -1;
    } else if (c === ' ' || c === '\t' || c === '\r' || c === '\f') {
      i++;
    } else if (c === '#') {
      while (i < src.length && src[i] !== '\n') i++;
    } else if (c === '\\' && /^\\\r?\n/.test(src.slice(i, i + 3))) {
      i += src[i + 1] === '\n' ? 2 : 3;
    } else {
      const at = i;
      let str = false;
      if (isName(c)) {
        while (isName(src[i])) i++;
        if ((src[i] === '"' || src[i] === "'") && STRING_PREFIX.test(src.slice(at, i))) str = true;
      } else if (c === '"' || c === "'") {
        str = true;
      } else {
        i += TWO_CHAR_OPS.has(src.slice(i, i + 2)) ? 2 : 1;
        if ('([{'.includes(c)) depth++;
        if (')]}'.includes(c)) depth = Math.max(0, depth - 1);
      }
      if (str) {
        i = stringEnd(src, i);
        if (i < 0) return undefined;
      }
      toks.push({ text: src.slice(at, i), at, end: i, str });
    }
  }
  if (toks.length) lines.push({ indent, toks });
  return depth === 0 ? lines : undefined;
}

/** The index of the colon that ends a compound statement's header, or -1. */
function headerColon(toks: Tok[]): number {
  let depth = 0;
  let lambdas = 0;
  for (let k = 0; k < toks.length; k++) {
    const t = toks[k]!.str ? '' : toks[k]!.text;
    if (t === '(' || t === '[' || t === '{') depth++;
    else if (t === ')' || t === ']' || t === '}') depth--;
    else if (depth === 0 && t === 'lambda') lambdas++;
    else if (depth === 0 && t === ':' && lambdas-- === 0) return k;
  }
  return -1;
}

/** The program with its top-level while loops rewritten, or undefined when there are none to rewrite. */
export function rewriteLoops(src: string): string | undefined {
  if (!src.includes('while') && !src.includes('exec')) return undefined;
  const lines = logicalLines(src);
  if (!lines) return undefined;
  const edits: Array<{ from: number; to: number; text: string }> = [];
  // Indents of the def and class bodies the current line may be in.
  const scopes: number[] = [];
  for (const { indent, toks } of lines) {
    while (scopes.length && indent <= scopes[scopes.length - 1]!) scopes.pop();
    if (scopes.length) continue;
    const first = toks[0]!.text;
    const isDef = first === 'def' || first === 'class' || (first === 'async' && toks[1]?.text === 'def');
    if (isDef) {
      if (headerColon(toks) === toks.length - 1) scopes.push(indent);
      continue;
    }
    if (toks.some((t) => !t.str && GEN_WORDS.has(t.text))) return undefined;
    if (isExecOfOne(toks)) {
      edits.push({ from: toks[0]!.at, to: toks[1]!.end, text: `await ${EXEC_HOOK}(` });
      continue;
    }
    if (first !== 'while') continue;
    const colon = headerColon(toks);
    if (colon < 1) return undefined;
    const cond = src.slice(toks[0]!.end, toks[colon]!.at);
    edits.push({ from: toks[0]!.end, to: toks[colon]!.at, text: ` (not ${GC_FLAG}[0] or (await ${YIELD_HOOK}())) and (${cond})` });
  }
  if (!edits.length) return undefined;
  let out = src;
  for (const { from, to, text } of edits.reverse()) out = out.slice(0, from) + text + out.slice(to);
  return out;
}

/**
 * A statement `exec(CODE)` alone on its line: the way a client runs code it sent as a string (boardctl's
 * checksum guard). It becomes `await __boardctl_exec__(CODE)`, which runs CODE as exec() would, stepped the same
 * way when CODE has top-level loops of its own.
 */
function isExecOfOne(toks: Tok[]): boolean {
  if (toks.length < 4 || toks[0]!.text !== 'exec' || toks[1]!.text !== '(' || toks[toks.length - 1]!.text !== ')') return false;
  let depth = 0;
  for (let k = 1; k < toks.length; k++) {
    const t = toks[k]!.str ? '' : toks[k]!.text;
    if (t === '(' || t === '[' || t === '{') depth++;
    else if (t === ')' || t === ']' || t === '}') depth--;
    if (depth === 0 && k < toks.length - 1) return false;
    if (depth === 1 && (t === ',' || t === ';')) return false;
  }
  return true;
}
