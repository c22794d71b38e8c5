// mpremote-style command chains: `boardctl exec "x=1" + eval x`. Commands are separated by `+`; after
// a command whose arguments are complete (connect PORT, resume, …) the next command may follow directly,
// and a port shortcut in command position (a0, u1, c3) means `connect` to it.

/** Positional argument counts of commands that may be followed by another command without `+`. */
const ARITY: Record<string, number> = {
  connect: 1,
  exec: 1,
  eval: 1,
  run: 1,
  mount: 1,
  umount: 0,
  sleep: 1,
  rtc: 0,
  resume: 0,
  'soft-reset': 0,
  disconnect: 0,
};

const SHORTCUT = /^[auc]\d$/;

/** Global options that take a value (so the value is not taken for a command name). */
const VALUE_OPTIONS = new Set(['-p', '--port', '--baud', '--dtr', '--rts']);

/** Where the command of a segment stands (its first word that is not an option or an option's value), or -1. */
export function commandIndex(segment: string[]): number {
  for (let i = 0; i < segment.length; i++) {
    const arg = segment[i]!;
    if (VALUE_OPTIONS.has(arg)) i++;
    else if (!arg.startsWith('-')) return i;
  }
  return -1;
}

/** The command a segment runs. */
export function commandOf(segment: string[]): string | undefined {
  return segment[commandIndex(segment)];
}

/**
 * Global options are read before the command name only (so `mkdir -p` and `flash -b` keep their own meaning),
 * except the flag `--json`, which every command takes and which may stand anywhere: move it to the front.
 */
export function hoistJsonFlag(segment: string[]): string[] {
  const rest = segment.filter((a) => a !== '--json');
  return rest.length === segment.length ? segment : ['--json', ...rest];
}

/** The command line asks for help or the version (it then runs nothing on a board). */
export function asksForHelp(argv: string[]): boolean {
  return argv.some((a) => a === '-h' || a === '--help' || a === '-V' || a === '--version');
}

/** With no command at all, boardctl opens the REPL, as mpremote does. */
export function withDefaultCommand(argv: string[]): string[] {
  if (commandOf(argv) !== undefined || asksForHelp(argv)) return argv;
  return [...argv, 'repl'];
}

/** A default port (not -p) stands for the chain's board unless the chain `connect`s or asks for help/version. */
export function defaultPortApplies(argv: string[]): boolean {
  return !asksForHelp(argv) && !splitChain(argv).some((segment) => commandOf(segment) === 'connect');
}

/** A chain that ends by mounting a folder goes on into the REPL, where the mount is used (mpremote's behaviour). */
export function withTrailingRepl(segments: string[][]): string[][] {
  const last = segments.at(-1);
  return last && commandOf(last) === 'mount' && !last.some((a) => a === '-h' || a === '--help') ? [...segments, ['repl']] : segments;
}

export function splitChain(argv: string[]): string[][] {
  const segments: string[][] = [];
  let current: string[] = [];
  let seenCommand: string | undefined;
  let positionals = 0;
  const flush = () => {
    segments.push(current);
    current = [];
    seenCommand = undefined;
    positionals = 0;
  };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '+') {
      if (current.length) flush();
      continue;
    }
    // Once a command of known arity has all its arguments, the next word can only be the next command.
    if (seenCommand !== undefined && !arg.startsWith('-') && positionals >= (ARITY[seenCommand] ?? Infinity)) flush();
    if (seenCommand === undefined && SHORTCUT.test(arg)) {
      current.push('connect', arg);
      seenCommand = 'connect';
      positionals = 1;
      continue;
    }
    current.push(arg);
    if (arg.startsWith('-')) {
      if (seenCommand === undefined && VALUE_OPTIONS.has(arg) && i + 1 < argv.length) current.push(argv[++i]!);
    } else if (seenCommand === undefined) {
      seenCommand = arg;
    } else {
      positionals++;
    }
  }
  if (current.length || segments.length === 0) segments.push(current);
  return segments;
}
