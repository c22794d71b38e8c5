// Who gets a key: the TUI's own keys are the F-keys and Ctrl-] followed by a key, so every other byte
// (Ctrl-A…Ctrl-E included, the board's raw REPL and paste mode need them) can go to the board untouched
// while the REPL pane has the focus. Outside the REPL pane keys go to the focused view.
// F1 is help and F10 quits, as in htop and mc; F2…F6 pick the views in tab-bar order.

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
  | { kind: 'help' }
  | { kind: 'next-view' }
  | { kind: 'quit' }
  /** REPL scrollback: positive goes back in time. */
  | { kind: 'scroll'; lines: number };

/** Plain keys go to the board or the focused view, whichever has the focus when they are handled. */
export type Routed = { to: 'keys'; bytes: Buffer } | { to: 'tui'; command: TuiCommand };

const PREFIX = 0x1d; // Ctrl-]

/** F1 help, F2…F6 the views, F10 quit (xterm, VT220 and Linux console encodings); Shift-PgUp/PgDn scroll the REPL back. */
const FKEY_CODES: Array<[string[], number]> = [
  [['\x1bOP', '\x1b[11~', '\x1b[[A'], 1],
  [['\x1bOQ', '\x1b[12~', '\x1b[[B'], 2],
  [['\x1bOR', '\x1b[13~', '\x1b[[C'], 3],
  [['\x1bOS', '\x1b[14~', '\x1b[[D'], 4],
  [['\x1b[15~', '\x1b[[E'], 5],
  [['\x1b[17~'], 6],
  [['\x1b[21~'], 10],
];

function fkeyCommand(n: number): TuiCommand {
  if (n === 1) return { kind: 'help' };
  if (n === 10) return { kind: 'quit' };
  return { kind: 'view', view: VIEWS[n - 2]! };
}

const FKEYS: Array<[string, TuiCommand]> = [
  ...FKEY_CODES.flatMap(([seqs, n]) => seqs.map((seq): [string, TuiCommand] => [seq, fkeyCommand(n)])),
  ['\x1b[5;2~', { kind: 'scroll', lines: 10 }],
  ['\x1b[6;2~', { kind: 'scroll', lines: -10 }],
];

/** What Ctrl-] followed by a key means. */
function prefixed(key: string): TuiCommand | undefined {
  const n = Number.parseInt(key, 10);
  if (n >= 1 && n <= VIEWS.length) return { kind: 'view', view: VIEWS[n - 1]! };
  if (key === 'q' || key === 'Q' || key === '\x1d') return { kind: 'quit' };
  if (key === '?' || key === 'h') return { kind: 'help' };
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
