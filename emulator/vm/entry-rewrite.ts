// A program's top-level asyncio runs, rewritten so that the host can drive them (host-loop.ts). The VM collects
// garbage only when no Python frame is active, and a program's `asyncio.run(main())` would otherwise run its
// loop inside the program's frame until the board resets. So a statement at the program's top level such as
//     asyncio.run(main())      result = loop.run_until_complete(task)      loop.run_forever()
// becomes `await RUN(asyncio.run, main())` (and so on), the program is compiled with top-level
// await (a generator), and the host resumes it step by step. Only module-level statements (also inside if, try,
// with, for, while) whose callee is reached from a name the program bound by importing asyncio (or uasyncio)
// are rewritten; lines and their numbers stay as they were. Anything else runs as written, with the loop inside
// the call (its garbage then waits for the program to end, or for the memory ceiling's reset).

import { HOOK_MARK } from './loop-rewrite.js';

type TokKind = 'name' | 'op' | 'str' | 'num';
interface Tok {
  kind: TokKind;
  text: string;
  at: number;
  end: number;
}
interface Line {
  indent: number;
  toks: Tok[];
}

const OPS = ['**=', '//=', '>>=', '<<=', '...', '->', ':=', '==', '!=', '<=', '>=', '**', '//', '<<', '>>', '+=', '-=',
  '*=', '/=', '%=', '&=', '|=', '^=', '@='];
const STRING_PREFIX = /^(?:[rbuf]|rb|br|fr|rf)$/i;
const COMPOUND = new Set(['if', 'elif', 'else', 'while', 'for', 'try', 'except', 'finally', 'with', 'def', 'class', 'async']);
const KEYWORDS = new Set([...COMPOUND, 'and', 'as', 'assert', 'await', 'break', 'continue', 'del', 'from', 'global',
  'import', 'in', 'is', 'lambda', 'nonlocal', 'not', 'or', 'pass', 'raise', 'return', 'yield', 'None', 'True', 'False']);
const ASYNCIO = new Set(['asyncio', 'uasyncio']);
const LOOP_ENTRIES = new Set(['run_until_complete', 'run_forever']);
const LOOP_FACTORIES = new Set(['get_event_loop', 'new_event_loop']);
/**
 * The host's hook for a rewritten run, RUN: a bytes literal that asyncio/core.py (_host_compile) makes its
 * _host_run in the compiled program's constants (as loop-rewrite.ts's hooks), so no name of it is anywhere. The
 * program's last line names it where the compiler keeps it, and never runs its body.
 */
const RUN_HOOK = `b'\\x00${HOOK_MARK}run'`;
const HOOK_LINE = `if [${RUN_HOOK}][1:]: pass`;

const isNameChar = (c: string) => /[\w]/.test(c) || c.charCodeAt(0) >= 0x80;

/** The source's logical lines as tokens, or undefined where it cannot be read (the VM then reports why). */
function logicalLines(src: string): Line[] | undefined {
  const lines: Line[] = [];
  let toks: Tok[] = [];
  let indent = 0;
  let depth = 0;
  let lineStart = true;
  let i = 0;
  const endLine = () => {
    if (toks.length) lines.push({ indent, toks });
    toks = [];
    lineStart = true;
  };
  while (i < src.length) {
    if (lineStart && depth === 0) {
      let col = 0;
      while (src[i] === ' ' || src[i] === '\t' || src[i] === '\f') {
        col = src[i] === '\t' ? (Math.floor(col / 8) + 1) * 8 : src[i] === ' ' ? col + 1 : 0;
        i++;
      }
      indent = col;
      lineStart = false;
      continue;
    }
    const c = src[i]!;
    if (c === '\n') {
      i++;
      if (depth === 0) endLine();
      continue;
    }
    if (c === ' ' || c === '\t' || c === '\r' || c === '\f') {
      i++;
      continue;
    }
    if (c === '#') {
      while (i < src.length && src[i] !== '\n') i++;
      continue;
    }
    if (c === '\\' && (src[i + 1] === '\n' || (src[i + 1] === '\r' && src[i + 2] === '\n'))) {
      i += src[i + 1] === '\n' ? 2 : 3;
      continue;
    }
    const at = i;
    if (isNameChar(c) && !/\d/.test(c)) {
      while (i < src.length && isNameChar(src[i]!)) i++;
      const text = src.slice(at, i);
      if ((src[i] === '"' || src[i] === "'") && STRING_PREFIX.test(text)) {
        i = skipString(src, i);
        if (i < 0) return undefined;
        toks.push({ kind: 'str', text: src.slice(at, i), at, end: i });
      } else {
        toks.push({ kind: 'name', text, at, end: i });
      }
      continue;
    }
    if (/\d/.test(c) || (c === '.' && /\d/.test(src[i + 1] ?? ''))) {
      while (i < src.length && (isNameChar(src[i]!) || src[i] === '.' || (/[+-]/.test(src[i]!) && /[eE]/.test(src[i - 1]!)))) i++;
      toks.push({ kind: 'num', text: src.slice(at, i), at, end: i });
      continue;
    }
    if (c === '"' || c === "'") {
      i = skipString(src, i);
      if (i < 0) return undefined;
      toks.push({ kind: 'str', text: src.slice(at, i), at, end: i });
      continue;
    }
    const op = OPS.find((o) => src.startsWith(o, i)) ?? c;
    i += op.length;
    if ('([{'.includes(op)) depth++;
    if (')]}'.includes(op)) depth = Math.max(0, depth - 1);
    toks.push({ kind: 'op', text: op, at, end: i });
  }
  endLine();
  return depth === 0 ? lines : undefined;
}

/** The index after the string literal whose opening quote is at i, or -1 when it does not end. */
function skipString(src: string, i: number): number {
  const q = src[i]!;
  const triple = src.startsWith(q.repeat(3), i);
  const close = triple ? q.repeat(3) : q;
  for (let j = i + close.length; j < src.length; j++) {
    if (src[j] === '\\') j++;
    else if (!triple && src[j] === '\n') return -1;
    else if (src.startsWith(close, j)) return j + close.length;
  }
  return -1;
}

/** Tokens split at the top-level (bracket depth 0) tokens that match `sep`. */
function splitTop(toks: Tok[], sep: (t: Tok) => boolean): Tok[][] {
  const out: Tok[][] = [[]];
  let depth = 0;
  for (const t of toks) {
    if (t.kind === 'op' && '([{'.includes(t.text)) depth++;
    if (t.kind === 'op' && ')]}'.includes(t.text)) depth--;
    if (depth === 0 && sep(t)) out.push([]);
    else out[out.length - 1]!.push(t);
  }
  return out;
}

/** Where the header of a compound statement ends (its colon), or -1. */
function headerColon(toks: Tok[]): number {
  let depth = 0;
  let lambdas = 0;
  for (let k = 0; k < toks.length; k++) {
    const t = toks[k]!;
    if (t.kind === 'op' && '([{'.includes(t.text)) depth++;
    else if (t.kind === 'op' && ')]}'.includes(t.text)) depth--;
    else if (depth === 0 && t.kind === 'name' && t.text === 'lambda') lambdas++;
    else if (depth === 0 && t.kind === 'op' && t.text === ':') {
      if (lambdas === 0) return k;
      lambdas--;
    }
  }
  return -1;
}

/** The names a program binds to asyncio things, as it binds them (top-level imports and assignments). */
class Bindings {
  readonly modules = new Set<string>();
  readonly runs = new Set<string>();
  readonly factories = new Set<string>();
  readonly loops = new Set<string>();

  notice(stmt: Tok[]): void {
    const words = stmt.map((t) => t.text);
    if (words[0] === 'import') {
      for (const part of splitTop(stmt.slice(1), (t) => t.text === ',')) {
        const [first, ...rest] = part.map((t) => t.text);
        const as = rest.indexOf('as');
        if (first && ASYNCIO.has(first)) this.modules.add(as >= 0 ? rest[as + 1]! : first);
      }
    } else if (words[0] === 'from' && ASYNCIO.has(words[1] ?? '') && words[2] === 'import') {
      const names = stmt.slice(3).filter((t) => t.text !== '(' && t.text !== ')');
      for (const part of splitTop(names, (t) => t.text === ',')) {
        const [name, as, alias] = part.map((t) => t.text);
        const bound = as === 'as' && alias ? alias : name!;
        if (name === '*') {
          this.runs.add('run');
          for (const f of LOOP_FACTORIES) this.factories.add(f);
        } else if (name === 'run') this.runs.add(bound);
        else if (LOOP_FACTORIES.has(name!)) this.factories.add(bound);
      }
    } else if (stmt[0]!.kind === 'name' && words[1] === '=') {
      // loop = asyncio.get_event_loop() (or new_event_loop(), or either imported by name)
      const rhs = stmt.slice(2);
      const calls = rhs[0]?.kind === 'name' ? callsOf(rhs, 0) : [];
      const last = calls[calls.length - 1];
      const chain = last && last.close === rhs.length - 1 ? last.chain.map((t) => t.text) : [];
      const viaModule = chain.length === 3 && this.modules.has(chain[0]!) && chain[1] === '.' && LOOP_FACTORIES.has(chain[2]!);
      if (viaModule || (chain.length === 1 && this.factories.has(chain[0]!))) this.loops.add(words[0]!);
    }
  }

  /** Whether a call's callee (a dotted chain, maybe with calls in it) is one of asyncio's loop entries. */
  isEntry(chain: Tok[]): boolean {
    const root = chain[0]!.text;
    if (chain.length === 1) return this.runs.has(root);
    const last = chain[chain.length - 1]!.text;
    if (chain[chain.length - 2]!.text !== '.') return false;
    if (last === 'run') return chain.length === 3 && this.modules.has(root);
    return LOOP_ENTRIES.has(last) && (this.modules.has(root) || this.loops.has(root) || this.factories.has(root));
  }
}

const OPEN = '([{';
const CLOSE = ')]}';

/** The index of the bracket closing the one at k, or -1. */
function closing(toks: Tok[], k: number): number {
  let depth = 0;
  for (let j = k; j < toks.length; j++) {
    if (OPEN.includes(toks[j]!.text)) depth++;
    else if (CLOSE.includes(toks[j]!.text) && --depth === 0) return j;
  }
  return -1;
}

/** A call `CHAIN(ARGS)` in a statement: CHAIN's tokens and the call's brackets (token indexes). */
interface Call {
  chain: Tok[];
  open: number;
  close: number;
}

/** The calls a primary expression starting at token i makes, outermost last (`a.b(x).c(y)`: `a.b(x)`, `a.b(x).c(y)`). */
function callsOf(toks: Tok[], i: number): Call[] {
  const calls: Call[] = [];
  let k = i + 1;
  while (k < toks.length) {
    const t = toks[k]!;
    if (t.text === '.' && toks[k + 1]?.kind === 'name') {
      k += 2;
    } else if (t.text === '(' || t.text === '[') {
      const end = closing(toks, k);
      if (end < 0) break;
      if (t.text === '(') calls.push({ chain: toks.slice(i, k), open: k, close: end });
      k = end + 1;
    } else {
      break;
    }
  }
  return calls;
}

/** Which tokens of a statement are in a scope of their own (a comprehension, a lambda): await cannot go there. */
function ownScopes(toks: Tok[]): boolean[] {
  const inner = toks.map(() => false);
  for (let k = 0; k < toks.length; k++) {
    const t = toks[k]!;
    if (t.kind === 'name' && t.text === 'lambda') {
      // to the end of the group (or statement) the lambda is in
      let depth = 0;
      for (let j = k; j < toks.length && depth >= 0; j++) {
        if (OPEN.includes(toks[j]!.text)) depth++;
        else if (CLOSE.includes(toks[j]!.text)) depth--;
        if (depth >= 0) inner[j] = true;
      }
    } else if (OPEN.includes(t.text)) {
      const end = closing(toks, k);
      let depth = 0;
      let comprehension = false;
      for (let j = k + 1; j < end; j++) {
        if (OPEN.includes(toks[j]!.text)) depth++;
        else if (CLOSE.includes(toks[j]!.text)) depth--;
        else if (depth === 0 && toks[j]!.text === 'for') comprehension = true;
      }
      if (comprehension) for (let j = k; j <= end; j++) inner[j] = true;
    }
  }
  return inner;
}

/** The loop entries a statement (or a header) calls, where the program's own frame makes the call. */
function entryCalls(toks: Tok[], names: Bindings): Call[] {
  const inner = ownScopes(toks);
  const found: Call[] = [];
  for (let i = 0; i < toks.length; i++) {
    const t = toks[i]!;
    if (t.kind !== 'name' || KEYWORDS.has(t.text) || toks[i - 1]?.text === '.' || inner[i]) continue;
    const call = callsOf(toks, i).find((c) => names.isEntry(c.chain));
    if (!call) continue;
    found.push(call);
    i = call.close;
  }
  return found;
}

/**
 * The program with its top-level asyncio runs rewritten for the host to drive, or undefined when it has none
 * (or already awaits at its top level, which the board refuses: it then runs, and fails, as written).
 */
export function rewriteEntry(src: string): string | undefined {
  if (!src.includes('asyncio')) return undefined;
  const lines = logicalLines(src);
  if (!lines) return undefined;
  const names = new Bindings();
  const edits: Array<{ from: number; to: number; text: string }> = [];
  const blocks: Array<{ indent: number; func: boolean }> = [];
  const edit = (toks: Tok[]) => {
    for (const call of entryCalls(toks, names)) {
      const first = call.chain[0]!;
      const callee = src.slice(first.at, toks[call.open]!.at);
      const args = src.slice(toks[call.open]!.end, toks[call.close]!.at);
      edits.push({
        from: first.at,
        to: toks[call.close]!.end,
        text: `await ${RUN_HOOK}(${callee}${args.trim() ? ', ' : ''}${args})`,
      });
    }
  };
  for (const line of lines) {
    while (blocks.length && line.indent <= blocks[blocks.length - 1]!.indent) blocks.pop();
    if (blocks.some((b) => b.func)) continue;
    let body = line.toks;
    const first = body[0]!.text;
    if (body[0]!.kind === 'name' && COMPOUND.has(first)) {
      const second = body[1]?.text;
      const func = first === 'def' || first === 'class' || (first === 'async' && second === 'def');
      if (first === 'async' && !func) return undefined; // async for / with at the top level
      const colon = headerColon(body);
      if (colon < 0) return undefined;
      if (func) {
        if (colon === body.length - 1) blocks.push({ indent: line.indent, func });
        continue;
      }
      const header = body.slice(0, colon);
      if (header.some((t) => t.text === 'await' || t.text === 'yield')) return undefined;
      edit(header);
      if (colon === body.length - 1) {
        blocks.push({ indent: line.indent, func });
        continue;
      }
      body = body.slice(colon + 1);
    }
    for (const stmt of splitTop(body, (t) => t.kind === 'op' && t.text === ';')) {
      if (!stmt.length) continue;
      if (stmt.some((t) => t.kind === 'name' && (t.text === 'await' || t.text === 'yield'))) return undefined;
      names.notice(stmt);
      edit(stmt);
    }
  }
  if (!edits.length) return undefined;
  let out = src;
  for (const e of edits.reverse()) out = out.slice(0, e.from) + e.text + out.slice(e.to);
  return `${out}\n${HOOK_LINE}\n`;
}
