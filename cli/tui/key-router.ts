// Who gets a key: the TUI's own keys are the F-keys and Ctrl-] followed by a key, so every other byte
// (Ctrl-A…Ctrl-E included, the board's raw REPL and paste mode need them) can go to the board untouched
// while the REPL pane has the focus. Outside the REPL pane keys go to the focused view.

export const VIEWS = ['boards', 'repl', 'files', 'flash', 'board'] as const;
export type ViewName = (typeof VIEWS)[number];

export function nextView(view: ViewName): ViewName {
  return VIEWS[(VIEWS.indexOf(view) + 1) % VIEWS.length]!;
}

/** The view a command leaves focused. */
export function viewAfter(view: ViewName, command: TuiCommand): ViewName {
  if (command.kind === 'view') return command.view;
  return command.kind === 'next-view' ? nextView(view) : view;
}

export type TuiCommand =
  | { kind: 'view'; view: ViewName }
  | { kind: 'next-view' }
  | { kind: 'quit' }
  /** REPL scrollback: positive goes back in time. */
  | { kind: 'scroll'; lines: number };

/** Plain keys go to the board or the focused view, whichever has the focus when they are handled. */
export type Routed = { to: 'keys'; bytes: Buffer } | { to: 'tui'; command: TuiCommand };

const PREFIX = 0x1d; // Ctrl-]

/** F1…F5 pick a view, F10 quits (xterm and VT220 encodings); Shift-PgUp/PgDn scroll the REPL back. */
const FKEYS: Array<[string, TuiCommand]> = [
  ['\x1bOP', { kind: 'view', view: 'boards' }],
  ['\x1bOQ', { kind: 'view', view: 'repl' }],
  ['\x1bOR', { kind: 'view', view: 'files' }],
  ['\x1bOS', { kind: 'view', view: 'flash' }],
  ['\x1b[11~', { kind: 'view', view: 'boards' }],
  ['\x1b[12~', { kind: 'view', view: 'repl' }],
  ['\x1b[13~', { kind: 'view', view: 'files' }],
  ['\x1b[14~', { kind: 'view', view: 'flash' }],
  ['\x1b[15~', { kind: 'view', view: 'board' }],
  ['\x1b[21~', { kind: 'quit' }],
  ['\x1b[5;2~', { kind: 'scroll', lines: 10 }],
  ['\x1b[6;2~', { kind: 'scroll', lines: -10 }],
];

/** What Ctrl-] followed by a key means. */
function prefixed(key: string): TuiCommand | undefined {
  const n = Number.parseInt(key, 10);
  if (n >= 1 && n <= VIEWS.length) return { kind: 'view', view: VIEWS[n - 1]! };
  if (key === 'q' || key === 'Q' || key === '\x1d') return { kind: 'quit' };
  if (key === '\t' || key === 'n') return { kind: 'next-view' };
  return undefined;
}

export class KeyRouter {
  private prefixPending = false;

  route(chunk: Buffer): Routed[] {
    const out: Routed[] = [];
    let start = 0;
    const flush = (end: number) => {
      if (end > start) out.push({ to: 'keys', bytes: chunk.subarray(start, end) });
    };
    for (let i = 0; i < chunk.length; i++) {
      if (this.prefixPending) {
        this.prefixPending = false;
        const command = prefixed(String.fromCharCode(chunk[i]!));
        if (command) out.push({ to: 'tui', command });
        start = i + 1;
        continue;
      }
      if (chunk[i] === PREFIX) {
        flush(i);
        this.prefixPending = true;
        start = i + 1;
        continue;
      }
      if (chunk[i] !== 0x1b) continue;
      const rest = chunk.subarray(i, i + 6).toString('latin1');
      const fkey = FKEYS.find(([seq]) => rest.startsWith(seq));
      if (!fkey) continue;
      flush(i);
      out.push({ to: 'tui', command: fkey[1] });
      i += fkey[0].length - 1;
      start = i + 1;
    }
    flush(chunk.length);
    return out;
  }
}
