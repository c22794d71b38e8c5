// A program's loops, rewritten so that the VM can collect garbage while they run. The VM collects only when a call
// from JavaScript returns to the top level (ports/webassembly/main.c: a full heap, or gc.collect(), only sets
// gc_collect_pending), so a board's `while True:` main loop would otherwise keep all its garbage until the program
// ends. Each loop iteration starts with
//     not GC[0] or not ON[0] or (await YIELD())
// where GC is the port's gc_collect_pending flag (one byte, read in place), ON says the host drives the code, and
// YIELD() a generator that yields once. The program is compiled with top-level await, so it is a generator the host steps (_boardrt.py's loop
// section): while no collection is pending an iteration costs one byte read; when one is, the program yields, the
// host's next call collects, and the loop goes on. Top-level functions and methods with loops become async functions
// that the program's calls await (see rewriteLoops), so their loops reach the host too.
// What the rewritten code names of the runtime (GC, YIELD, ...) it names by a bytes literal, a hook, that the
// runtime replaces in the compiled program's constants with its own object: no name in builtins or the program's
// globals, nothing a program can see, shadow or rebind. A line at the end that never runs names every hook, so
// each is among the constants however much of the program the compiler leaves out.
// break, continue, else, exceptions and Ctrl-C keep their meaning; names stay globals of __main__; lines keep
// their numbers (edits stay on the lines they change). A program with top-level await, yield or async (a
// SyntaxError on the board) runs as written, and fails there as it would.

type Tok = { text: string; at: number; end: number; str: boolean };
type Line = { indent: number; toks: Tok[] };

const STRING_PREFIX = /^(?:[rbuf]|rb|br|fr|rf)$/i;
const TWO_CHAR_OPS = new Set(['->', ':=', '==', '!=', '<=', '>=', '**', '//', '<<', '>>']);
const GEN_WORDS = new Set(['await', 'yield', 'async']);
/** What starts each hook's literal after its NUL byte: _boardrt.py builds the same bytes from it (_board.hook_mark). */
export const HOOK_MARK = 'boardctl:';
/** The runtime's objects a rewritten program uses, each written as its hook: `b'\\x00boardctl:gc'`. */
const hook = (name: 'gc' | 'on' | 'yield' | 'exec' | 'twin' | 'call') => `b'\\x00${HOOK_MARK}${name}'`;
const GC_FLAG = hook('gc');
const ON_FLAG = hook('on');
const YIELD_HOOK = hook('yield');
const EXEC_HOOK = hook('exec');
const TWIN_HOOK = hook('twin');
const CALL_HOOK = hook('call');
/** The last line of every rewritten program: it names each hook and never runs (the flag has one byte): a test
 * the compiler cannot fold away, or the hooks in its body would not be among the constants. */
const HOOKS_LINE = `if ${GC_FLAG}[1:]: ${YIELD_HOOK}(${ON_FLAG}, ${EXEC_HOOK}, ${TWIN_HOOK}, ${CALL_HOOK})`;
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

/**
 * `not GC[0] or not ON[0] or (await YIELD())`: a byte read, and a trip to the host when due and the host is what
 * drives the code (ON: a byte the runtime sets while it steps the program). A stepped function run to its end by
 * its wrapper passes by (nothing could collect its garbage there), allocating nothing: a pending collection stays
 * pending for the program's next collection point.
 */
const CHECK = `not ${GC_FLAG}[0] or not ${ON_FLAG}[0] or (await ${YIELD_HOOK}())`;
const COMPOUND = new Set(['if', 'while', 'for', 'try', 'with', 'def', 'class', 'async', '@', 'elif', 'else', 'except', 'finally']);

type Edit = { from: number; to: number; text: string };

/** The line index after the block whose header is lines[k] (the lines indented deeper than it). */
function blockEnd(lines: Line[], k: number): number {
  let j = k + 1;
  while (j < lines.length && lines[j]!.indent > lines[k]!.indent) j++;
  return j;
}

/** Does the scope of lines [from, to) (nested def and class bodies left out) hold a while or for loop? */
function hasLoop(lines: Line[], from: number, to: number): boolean {
  for (let k = from; k < to; k++) {
    const first = lines[k]!.toks[0]!.text;
    if (first === 'while' || first === 'for') return true;
    if (first === 'def' || first === 'class') k = blockEnd(lines, k) - 1;
  }
  return false;
}

/** The index of the token that closes the bracket opened at toks[k], or -1. */
function closing(toks: Tok[], k: number): number {
  let depth = 0;
  for (let j = k; j < toks.length; j++) {
    const t = toks[j]!.str ? '' : toks[j]!.text;
    if (t === '(' || t === '[' || t === '{') depth++;
    else if ((t === ')' || t === ']' || t === '}') && --depth === 0) return j;
  }
  return -1;
}

/** Is the bracket toks[open..close] a comprehension, or does a lambda start directly inside it? */
function ownScope(toks: Tok[], open: number, close: number): boolean {
  let depth = 0;
  for (let j = open + 1; j < close; j++) {
    const t = toks[j]!.str ? '' : toks[j]!.text;
    if (t === '(' || t === '[' || t === '{') depth++;
    else if (t === ')' || t === ']' || t === '}') depth--;
    else if (depth === 0 && (t === 'for' || t === 'lambda')) return true;
  }
  return false;
}

/**
 * The statement's calls of stepped functions, each `f(...)` made `(await CALL(f)(...))`, and of methods of a
 * stepped name, `x.m(...)` made `(await CALL(x.m)(...))` (CALL runs any other callable at once); calls inside a
 * lambda or a comprehension (scopes of their own, where await cannot go) stay as written.
 */
function steppedCalls(toks: Tok[], stepped: Set<string>, methods: Set<string>): Edit[] {
  const edits: Edit[] = [];
  for (let k = 0; k < toks.length; k++) {
    const t = toks[k]!;
    if (t.str) continue;
    if (t.text === 'lambda') break;
    if ('([{'.includes(t.text)) {
      const close = closing(toks, k);
      if (ownScope(toks, k, close)) k = close;
      continue;
    }
    if (toks[k + 1]?.text !== '(' || toks[k - 1]?.text === 'def') continue;
    const dotted = toks[k - 1]?.text === '.';
    if (!(dotted ? methods : stepped).has(t.text)) continue;
    const close = closing(toks, k + 1);
    edits.push(
      { from: dotted ? calleeStart(toks, k) : t.at, to: dotted ? calleeStart(toks, k) : t.at, text: `(await ${CALL_HOOK}(` },
      { from: t.end, to: t.end, text: ')' },
      { from: toks[close]!.end, to: toks[close]!.end, text: ')' },
    );
  }
  return edits;
}

const KEYWORDS = new Set(['and', 'as', 'assert', 'break', 'class', 'continue', 'def', 'del', 'elif', 'else', 'except', 'finally',
  'for', 'from', 'global', 'if', 'import', 'in', 'is', 'lambda', 'nonlocal', 'not', 'or', 'pass', 'raise', 'return', 'try',
  'while', 'with', 'None', 'True', 'False']);

/** Where the object of the method call whose name is toks[k] (after a '.') starts: `a.b(x)[0].m(...)` starts at a. */
function calleeStart(toks: Tok[], k: number): number {
  let j = k - 2;
  for (;;) {
    if (!toks[j]!.str && ')]}'.includes(toks[j]!.text)) {
      let depth = 0;
      for (; j > 0; j--) {
        const t = toks[j]!.str ? '' : toks[j]!.text;
        if (t === ')' || t === ']' || t === '}') depth++;
        else if ((t === '(' || t === '[' || t === '{') && --depth === 0) break;
      }
    }
    const prev = toks[j - 1];
    if (prev && !prev.str && prev.text === '.') j -= 2;
    else if (prev && '(['.includes(toks[j]!.text) && (prev.str || /^[\w)\]]/.test(prev.text)) && !KEYWORDS.has(prev.text)) j -= 1;
    else return toks[j]!.at;
  }
}

/** The header `if COND:` or `while COND:` of toks with the check before its condition, or undefined. */
function headerCheck(toks: Tok[]): Edit[] | undefined {
  const c = headerColon(toks);
  if (c < 1) return undefined;
  // Insertions only: the condition's own calls may be edited too.
  return [{ from: toks[0]!.end, to: toks[0]!.end, text: ` (${CHECK}) and (` }, { from: toks[c]!.at, to: toks[c]!.at, text: ')' }];
}

/**
 * The edit that makes each iteration of the loop headed by lines[k] start with a collection point, on the lines
 * it has (so line numbers stay): before its first statement (inside a `try:` that opens the body, so what the
 * collection point raises is the body's to handle, as an allocation's MemoryError would be), or in the test of
 * an `if` or `while` that opens it; undefined where the first statement gives no room (def, class, with, ...).
 */
function bodyCheck(lines: Line[], k: number): Edit[] | undefined {
  const toks = lines[k]!.toks;
  const colon = headerColon(toks);
  if (colon < 0) return undefined;
  if (colon < toks.length - 1) return [{ from: toks[colon + 1]!.at, to: toks[colon + 1]!.at, text: `${CHECK}; ` }];
  for (let j = k + 1; j < lines.length && lines[j]!.indent > lines[k]!.indent; j++) {
    const body = lines[j]!.toks;
    const first = body[0]!.text;
    if (first === 'try' && body.length === 2) continue;
    if (first === 'if' || first === 'while') return headerCheck(body);
    if (COMPOUND.has(first)) return undefined;
    return [{ from: body[0]!.at, to: body[0]!.at, text: `${CHECK}; ` }];
  }
  return undefined;
}

/**
 * The program with its loops rewritten for stepping, or undefined when there are none to rewrite:
 * - the module's own while and for loops (also inside top-level if, for, try, with and while);
 * - the loops of its top-level functions and of the methods (not special methods) of its top-level classes,
 *   which a stepped statement may call: such a `def` becomes an `async def` (its loops stepped the same way)
 *   wrapped by TWIN, which runs it to its end when anything else calls it; a call of one in the module's code or
 *   in such a function (outside lambdas and comprehensions) awaits it through CALL, as does a call `x.m(...)` of
 *   a stepped method's name (CALL runs anything else at once), so its collection points reach the host. The
 *   wrapping `f = TWIN(f)` takes the first blank or comment line after the function, else the start of the
 *   simple statement after it at its indent, else a line of its own at the end; a function with none of these,
 *   with decorators, or that is a generator already keeps its loops as written, as do all functions of a
 *   program that locks the heap.
 */
export function rewriteLoops(src: string): string | undefined {
  if (!/while|for|exec/.test(src)) return undefined;
  const lines = logicalLines(src);
  if (!lines) return undefined;
  const edits: Edit[] = [];
  // Top-level functions and methods of top-level classes to step, and the line range of each one's body.
  const stepped = new Set<string>();
  const methods = new Set<string>();
  const bodies: Array<[number, number]> = [];
  const step = (k: number, names: Set<string>) => {
    const toks = lines[k]!.toks;
    if (toks[0]!.text !== 'def' || toks[1]?.str !== false || headerColon(toks) !== toks.length - 1) return;
    const end = blockEnd(lines, k);
    const inner = lines.slice(k + 1, end);
    if (end === k + 1 || !hasLoop(lines, k + 1, end) || inner.some((l) => l.toks.some((t) => !t.str && GEN_WORDS.has(t.text)))) return;
    if (k > 0 && lines[k - 1]!.toks[0]!.text === '@') return;
    const wrap = wrapperEdit(src, lines, k, end, toks[1]!.text);
    if (!wrap) return;
    names.add(toks[1]!.text);
    bodies.push([k + 1, end]);
    edits.push(wrap, { from: toks[0]!.at, to: toks[0]!.at, text: 'async ' });
  };
  // A stepped function's every call allocates (its generator; the wrapper's arguments): a program that locks the
  // heap (micropython.heap_lock) keeps its functions as written, or its locked calls would fail.
  for (let k = 0; k < lines.length && !src.includes('heap_lock'); k++) {
    const { indent, toks } = lines[k]!;
    if (indent > 0) continue;
    if (toks[0]!.text !== 'class' || headerColon(toks) !== toks.length - 1) {
      step(k, stepped);
      continue;
    }
    // Methods (not special methods: the VM calls those itself, never a stepped statement).
    const end = blockEnd(lines, k);
    for (let j = k + 1; j < end; j = blockEnd(lines, j)) {
      const name = lines[j]!.toks[1]?.text ?? '';
      if (lines[j]!.indent === lines[k + 1]!.indent && !(name.startsWith('__') && name.endsWith('__'))) step(j, methods);
    }
    k = end - 1;
  }
  // Each scope to rewrite: the module, then the stepped functions' bodies.
  for (const [from, to, module] of [[0, lines.length, true] as const, ...bodies.map(([a, b]) => [a, b, false] as const)]) {
    const scopes: number[] = [];
    for (let k = from; k < to; k++) {
      const { indent, toks } = lines[k]!;
      while (scopes.length && indent <= scopes[scopes.length - 1]!) scopes.pop();
      if (scopes.length) continue;
      const first = toks[0]!.text;
      const isDef = first === 'def' || first === 'class' || (first === 'async' && toks[1]?.text === 'def');
      if (isDef) {
        if (headerColon(toks) === toks.length - 1) scopes.push(indent);
        continue;
      }
      if (module && toks.some((t) => !t.str && GEN_WORDS.has(t.text))) return undefined;
      if (module && isExecOfOne(toks)) {
        edits.push({ from: toks[0]!.at, to: toks[1]!.end, text: `await ${EXEC_HOOK}(` });
        continue;
      }
      edits.push(...steppedCalls(toks, stepped, methods));
      if (first === 'for' || first === 'while') {
        const check = bodyCheck(lines, k) ?? (first === 'while' ? headerCheck(toks) : undefined);
        if (first === 'while' && !check) return undefined;
        if (check && !edits.some((e) => e.from === check[0]!.from && e.text === check[0]!.text)) edits.push(...check);
      }
    }
  }
  if (!edits.some((e) => e.text)) return undefined;
  let out = src;
  // At one place, a statement's collection point goes before the call edits of that statement.
  const rank = (e: Edit) => (e.text.endsWith('; ') ? 0 : 1);
  const ordered = edits.map((e, seq) => ({ ...e, seq })).sort((a, b) => a.from - b.from || rank(a) - rank(b) || a.seq - b.seq);
  for (const { from, to, text } of ordered.reverse()) out = out.slice(0, from) + text + out.slice(to);
  return `${out}\n${HOOKS_LINE}\n`;
}

/**
 * Where the function or method `name` defined by lines [k, end) is wrapped (`name = TWIN(name)`, at its def's
 * indent): on the first blank or comment line after it, else before the simple statement after it at that
 * indent, else (the program's last statement) on a line of its own at the end; undefined otherwise.
 */
function wrapperEdit(src: string, lines: Line[], k: number, end: number, name: string): Edit | undefined {
  const defAt = lines[k]!.toks[0]!.at;
  const indent = src.slice(src.lastIndexOf('\n', defAt - 1) + 1, defAt);
  const wrap = `${name} = ${TWIN_HOOK}(${name})`;
  const last = lines[end - 1]!.toks;
  const lineEnd = src.indexOf('\n', last[last.length - 1]!.end);
  const next = lines[end];
  const nextLine = next ? src.lastIndexOf('\n', next.toks[0]!.at - 1) + 1 : src.length;
  if (lineEnd >= 0 && lineEnd + 1 < nextLine) {
    return { from: lineEnd + 1, to: lineEnd + 1, text: `${indent}${wrap} ` };
  }
  if (!next) return { from: src.length, to: src.length, text: `\n${indent}${wrap}` };
  if (next.indent !== lines[k]!.indent || COMPOUND.has(next.toks[0]!.text)) return undefined;
  return { from: next.toks[0]!.at, to: next.toks[0]!.at, text: `${wrap}; ` };
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
