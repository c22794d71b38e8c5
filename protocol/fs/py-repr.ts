// Board output carries names as Python repr() strings, which survive spaces, newlines and non-ASCII alike.

const SIMPLE: Record<string, string> = { n: '\n', r: '\r', t: '\t', '\\': '\\', "'": "'", '"': '"', a: '\x07', b: '\b', f: '\f', v: '\v', '0': '\0' };

/** Parse one Python str literal as repr() prints it ('...' or "..."); returns the value and where it ended. */
export function parsePyStr(text: string, start = 0): { value: string; end: number } {
  const quote = text[start];
  if (quote !== "'" && quote !== '"') throw new Error(`expected a Python string at ${JSON.stringify(text.slice(start, start + 20))}`);
  let value = '';
  let i = start + 1;
  while (i < text.length) {
    const ch = text[i]!;
    if (ch === quote) return { value, end: i + 1 };
    if (ch !== '\\') {
      value += ch;
      i++;
      continue;
    }
    const esc = text[i + 1]!;
    const hexLen = esc === 'x' ? 2 : esc === 'u' ? 4 : esc === 'U' ? 8 : 0;
    if (hexLen) {
      value += String.fromCodePoint(parseInt(text.slice(i + 2, i + 2 + hexLen), 16));
      i += 2 + hexLen;
    } else {
      value += SIMPLE[esc] ?? `\\${esc}`;
      i += 2;
    }
  }
  throw new Error('unterminated Python string in board output');
}

/** Split a line of space-separated fields whose last field is a repr() string. */
export function splitReprLine(line: string, fieldCount: number): { fields: string[]; name: string } {
  const fields: string[] = [];
  let pos = 0;
  for (let k = 0; k < fieldCount; k++) {
    const sp = line.indexOf(' ', pos);
    fields.push(line.slice(pos, sp));
    pos = sp + 1;
  }
  return { fields, name: parsePyStr(line, pos).value };
}

/** stdout as lines without the \r boards add before \n. */
export function outputLines(stdout: string): string[] {
  return stdout.split('\n').map((l) => l.replace(/\r$/, '')).filter((l) => l.length > 0);
}
