// Fleet runs: one boardctl command line on many boards at once (`-p a0,u1,virtual:x`, a glob over discovered
// ports, --all). The core here is data in, data out: which boards, each board's own command line, a bounded pool
// that runs them, each line of a board's output with its name, and the summary with the exit status.
import { BoardError } from '../protocol/errors.js';

export interface FleetArgs {
  /** -p/--port as given (a list, a glob or one port), else undefined. */
  port?: string;
  jobs?: number;
  all: boolean;
  /** The command line every board runs (fleet options and -p taken out). */
  rest: string[];
}

/** Options that take a value among the global ones before the command (kept for the boards, except -p). */
const GLOBAL_VALUE = new Set(['--baud', '--password', '--dtr', '--rts']);

function jobCount(text: string | undefined): number {
  const n = Number(text);
  if (!Number.isSafeInteger(n) || n < 1) throw new BoardError('USAGE', `--jobs: '${text ?? ''}' is not a number of boards at a time (1 or more)`);
  return n;
}

/** Take the fleet's options (-p, --jobs, --all) from the global options before the command. */
export function fleetArgs(argv: string[]): FleetArgs {
  const out: FleetArgs = { all: false, rest: [] };
  let i = 0;
  for (; i < argv.length && argv[i]!.startsWith('-') && argv[i] !== '+'; i++) {
    const [flag, inline] = argv[i]!.startsWith('--') && argv[i]!.includes('=') ? [argv[i]!.slice(0, argv[i]!.indexOf('=')), argv[i]!.slice(argv[i]!.indexOf('=') + 1)] : [argv[i]!, undefined];
    const value = () => inline ?? argv[++i];
    if (flag === '-p' || flag === '--port') out.port = value();
    else if (flag === '--jobs') out.jobs = jobCount(value());
    else if (flag === '--all') out.all = true;
    else {
      out.rest.push(argv[i]!);
      if (GLOBAL_VALUE.has(flag) && inline === undefined && i + 1 < argv.length) out.rest.push(argv[++i]!);
    }
  }
  out.rest.push(...argv.slice(i));
  return out;
}

/** The names a discovered port answers to: its path, its device name and mpremote's short name (u0, a1). */
function namesOf(path: string): string[] {
  const base = path.split('/').pop()!;
  const m = /^tty(USB|ACM)(\d+)$/.exec(base);
  return [path, base, ...(m ? [`${m[1] === 'USB' ? 'u' : 'a'}${m[2]}`] : [])];
}

/** One item of a faults list (drop:1e-4, delay:1e-4@50, seed=7): part of the port before it, not a port. */
const FAULT_ITEM = /^(?!virtual)[a-z]+(:[\d.e+-]+(@\d+)?|=\w*)$/i;

/** The list's entries: split at commas, except those inside a port's options (virtual:x?faults=drop:1e-4,seed=7). */
function listEntries(list: string): string[] {
  const entries: string[] = [];
  for (const piece of list.split(',').map((x) => x.trim())) {
    if (entries.length && entries.at(-1)!.includes('?') && FAULT_ITEM.test(piece)) entries[entries.length - 1] += `,${piece}`;
    else entries.push(piece);
  }
  return entries;
}

/** A `?key=value` options suffix (virtual:NAME?baud=115200) is part of a port name, not a pattern. */
const OPTIONS_SUFFIX = /\?[a-z]+=.*$/;
const isPattern = (entry: string) => /[*?]/.test(entry.replace(OPTIONS_SUFFIX, ''));

function globRegExp(glob: string): RegExp {
  return new RegExp(`^${glob.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.')}$`);
}

export interface FoundPort {
  path: string;
  /** A guess from its USB identity (protocol/ports); --all takes the ports that have one. */
  board?: string;
}

/**
 * The boards of a fleet, or undefined for a single board: a comma-separated list, entries with * or ? matched
 * against the discovered ports, or with --all every USB board found. A pattern that matches nothing is an error.
 */
export function fleetPorts(args: { port?: string; all?: boolean }, found: FoundPort[]): string[] | undefined {
  if (args.all) {
    if (args.port) throw new BoardError('USAGE', '--all and -p/--port: give one of them');
    const boards = found.filter((p) => p.board).map((p) => p.path);
    if (boards.length === 0) throw new BoardError('NO_SUCH_PORT', 'no board found for --all (boardctl devs lists the ports)');
    return boards;
  }
  if (!args.port) return undefined;
  const entries = listEntries(args.port);
  if (entries.length === 1 && !isPattern(entries[0]!)) return undefined;
  const ports: string[] = [];
  for (const entry of entries) {
    if (!entry) throw new BoardError('USAGE', `-p ${args.port}: an empty name in the list`);
    if (!isPattern(entry)) {
      ports.push(entry);
      continue;
    }
    const options = OPTIONS_SUFFIX.exec(entry)?.[0] ?? '';
    const re = globRegExp(entry.slice(0, entry.length - options.length));
    const matched = found.filter((p) => namesOf(p.path).some((n) => re.test(n))).map((p) => p.path + options);
    if (matched.length === 0) throw new BoardError('NO_SUCH_PORT', `-p ${entry}: no port matches (found: ${found.map((p) => p.path).join(', ') || 'none'})`);
    ports.push(...matched);
  }
  const twice = ports.find((p, i) => ports.indexOf(p) !== i);
  if (twice) throw new BoardError('USAGE', `-p ${args.port}: ${twice} is in the list twice`);
  return ports;
}

/** What one board's run came to. */
export interface BoardRun {
  board: string;
  /** The board's exit status (130 for a board never started because of Ctrl-C). */
  exitCode: number;
  /** Set when the board's process was ended by a signal. */
  signal?: string;
  started: boolean;
}

/** Run `run` for every board, at most `jobs` at a time; boards not started when `stop` aborts are skipped. */
export async function runFleet(boards: string[], jobs: number, run: (board: string) => Promise<BoardRun>, stop?: AbortSignal): Promise<BoardRun[]> {
  const results = new Array<BoardRun>(boards.length);
  let next = 0;
  const worker = async () => {
    for (let i = next++; i < boards.length; i = next++) {
      results[i] = stop?.aborted ? { board: boards[i]!, exitCode: 130, started: false } : await run(boards[i]!);
    }
  };
  await Promise.all(Array.from({ length: Math.min(jobs, boards.length) }, worker));
  return results;
}

export interface FleetSummary {
  ok: boolean;
  /** 0 when every board succeeded; the failures' exit status when they agree, else 1. */
  exitCode: number;
  failed: BoardRun[];
  /** The one line naming the failures ("2 of 5 boards failed: …"), undefined when all succeeded. */
  line?: string;
}

export function fleetSummary(runs: BoardRun[]): FleetSummary {
  const failed = runs.filter((r) => r.exitCode !== 0);
  if (failed.length === 0) return { ok: true, exitCode: 0, failed };
  const codes = new Set(failed.map((r) => r.exitCode));
  const why = (r: BoardRun) => (!r.started ? 'not started' : r.signal ? `ended by ${r.signal}` : `exit ${r.exitCode}`);
  return {
    ok: false,
    exitCode: codes.size === 1 ? failed[0]!.exitCode : 1,
    failed,
    line: `${failed.length} of ${runs.length} boards failed: ${failed.map((r) => `${r.board} (${why(r)})`).join(', ')}`,
  };
}

/** Text split into whole lines, each written with the board's name in front; a last partial line on end(). */
export class LinePrefixer {
  private partial = '';

  constructor(
    private readonly prefix: string,
    private readonly write: (text: string) => void,
  ) {}

  push(text: string): void {
    const lines = (this.partial + text).split('\n');
    this.partial = lines.pop()!;
    if (lines.length) this.write(lines.map((l) => `${this.prefix}${l}\n`).join(''));
  }

  end(): void {
    if (this.partial) this.write(`${this.prefix}${this.partial}\n`);
    this.partial = '';
  }
}
