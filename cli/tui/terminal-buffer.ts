// The REPL pane's screen model: board output interpreted as a minimal terminal (CR, LF, backspace, cursor
// left/right and erase-line, which MicroPython's readline emits) into a bounded list of lines. Other escape
// sequences are dropped, so a program printing colours cannot corrupt the TUI's own drawing.

const ESC = '\x1b';

export class TerminalBuffer {
  private lines: string[] = [''];
  private col = 0;
  /** An escape sequence split across two chunks waits here for its end. */
  private pending = '';
  /** Bumped on every change, so a view knows when to redraw. */
  version = 0;

  constructor(private readonly maxLines = 2000) {}

  write(text: string): void {
    const s = this.pending + text;
    this.pending = '';
    for (let i = 0; i < s.length; i++) {
      const ch = s[i]!;
      if (ch === ESC) {
        const m = /^\x1b(?:\[([0-9;?]*)([\x40-\x7e])|[\x40-\x5f]|$)/.exec(s.slice(i, i + 32));
        if (!m || m[0] === ESC || (m[0] === '\x1b[' && m[2] === undefined)) {
          // Incomplete at the end of the chunk: keep it for the next one (bounded, so junk cannot pile up).
          if (s.length - i < 32) this.pending = s.slice(i);
          break;
        }
        if (m[2]) this.csi(m[1] ?? '', m[2]);
        i += m[0].length - 1;
        continue;
      }
      if (ch === '\r') this.col = 0;
      else if (ch === '\n') this.newline();
      else if (ch === '\b') this.col = Math.max(0, this.col - 1);
      else if (ch === '\t') this.put(' '.repeat(8 - (this.col % 8)));
      else if (ch >= ' ' && ch !== '\x7f') this.put(ch);
    }
    this.version++;
  }

  /** The last `count` lines (the screen's visible part of the scrollback). */
  tail(count: number): string[] {
    return this.lines.slice(-count);
  }

  /** The cursor's column; it is always on the last line. */
  get cursorColumn(): number {
    return this.col;
  }

  get lineCount(): number {
    return this.lines.length;
  }

  clear(): void {
    this.lines = [''];
    this.col = 0;
    this.version++;
  }

  private get current(): string {
    return this.lines[this.lines.length - 1]!;
  }

  private set current(line: string) {
    this.lines[this.lines.length - 1] = line;
  }

  private put(text: string): void {
    const line = this.current.padEnd(this.col);
    this.current = line.slice(0, this.col) + text + line.slice(this.col + text.length);
    this.col += text.length;
  }

  private newline(): void {
    this.lines.push('');
    this.col = 0;
    if (this.lines.length > this.maxLines) this.lines.splice(0, this.lines.length - this.maxLines);
  }

  private csi(params: string, final: string): void {
    const n = Math.max(1, Number.parseInt(params, 10) || 1);
    if (final === 'D') this.col = Math.max(0, this.col - n);
    else if (final === 'C') this.col += n;
    else if (final === 'K') {
      const mode = Number.parseInt(params, 10) || 0;
      if (mode === 0) this.current = this.current.slice(0, this.col);
      else if (mode === 1) this.current = ' '.repeat(this.col) + this.current.slice(this.col);
      else this.current = '';
    } else if (final === 'J' && params === '2') this.clear();
  }
}
