// What the firmware offers for file transfer, probed once per connection and remembered per Board: nothing
// is assumed because our own board has it (real esp32/rp2/stm32 firmware can only decompress, smaller
// boards lack hashlib and binascii, the qemu port's stock build has no filesystem at all).
import type { Board } from '../board.js';
import { damagedCommand } from '../checked-program.js';
import { BoardError } from '../errors.js';
import { helperExecOptions } from './helper.js';
import { outputLines, parsePyStr } from './py-repr.js';
import { ALL_BYTES, PROBE_TOKENS, probeSource, rawStdoutCheckSource, stdinEchoSource } from './snippets.js';
import { escapeBytes, stdoutLines, stdoutMarker, unescapeBytes } from './wire.js';

/** How upload data reaches the board: escaped raw bytes or base64 on stdin, or chunks of code (slowest). */
export type UploadChannel = 'raw' | 'base64' | 'exec';
/** How download data leaves the board: escaped raw bytes on sys.stdout.buffer, base64 text, or not at all. */
export type DownloadChannel = 'raw' | 'base64' | 'none';

/** What the short probe finds: enough for commands that move no file data (ls, an unchanged sync). */
export interface FsBasics {
  cwd: string;
  /** hashlib.sha256: transfers are checked with sha256 on the board (else digest.ts's block sum). */
  hashlib: boolean;
  /** The hashlib algorithms present (sha256, sha1, md5). */
  hashAlgorithms: string[];
  binascii: boolean;
  /** deflate.DeflateIO: none, decompress only (esp32, rp2, stm32 firmware), or both ways. */
  deflate: 'none' | 'decompress' | 'both';
  /** os.statvfs reports a filesystem at the cwd (the qemu stock build: all zeros). */
  statvfs: boolean;
  /** sys.stdin.buffer.readinto exists. */
  stdinBuffer: boolean;
  /** The errno module (its absence only changes how the board prints OSError). */
  errno: boolean;
  /** select.poll works on stdin, so board-side helpers can give up on a host that went quiet. */
  poll: boolean;
}

/** The basics and the channels file data can take, which only a transfer needs to know (their checks cost round trips). */
export interface FsCapabilities extends FsBasics {
  upload: UploadChannel;
  download: DownloadChannel;
}

const basicsCache = new WeakMap<Board, Promise<FsBasics>>();
const cache = new WeakMap<Board, Promise<FsCapabilities>>();

/** Remember a probe's result for this connection; a failed probe is retried next time. */
function remembered<T>(map: WeakMap<Board, Promise<T>>, board: Board, probe: () => Promise<T>): Promise<T> {
  let found = map.get(board);
  if (!found) {
    found = probe();
    map.set(board, found);
    found.catch(() => map.delete(board));
  }
  return found;
}

/**
 * The basics for this connection: from the full probe when a transfer ran first, else from the short probe
 * (one exec, no byte patterns, no stdin echo).
 */
export function boardBasics(board: Board): Promise<FsBasics> {
  return cache.get(board) ?? remembered(basicsCache, board, async () => parseBasics(outputLines((await board.exec(probeSource(), helperExecOptions(board))).stdout)));
}

/**
 * Everything transfers need, probed on first use: after the short probe, only the channel checks run;
 * otherwise one probe finds the basics and checks raw stdout in the same exec.
 */
export function boardCapabilities(board: Board): Promise<FsCapabilities> {
  return remembered(cache, board, async () => {
    const known = basicsCache.get(board);
    if (known) return channels(board, await known, await rawPatternAfter(board, rawStdoutCheckSource));
    const first = await rawPatternAfter(board, probeSource);
    return channels(board, parseBasics(outputLines(first.stdout)), first);
  });
}

/** The one-line error for a feature this firmware lacks. */
export function lacking(what: string): BoardError {
  return new BoardError('DEVICE_OSERROR', `this firmware has no ${what}`, { lacking: what });
}


/** Run a program that prints `marker` and then every byte value escaped; what arrived (hex) and whether intact. */
async function rawPatternAfter(board: Board, code: (marker: string) => string): Promise<{ intact: boolean; seen: string; stdout: string }> {
  const marker = stdoutMarker();
  let pattern: Uint8Array | undefined;
  const onStdoutBytes = stdoutLines(marker, (line) => {
    if (line.length && !pattern) pattern = unescapeBytes(line);
  });
  const { stdout } = await board.exec(code(marker), { onStdoutBytes, ...helperExecOptions(board) });
  const seen = pattern ? Buffer.from(pattern).toString('hex') : '';
  return { intact: seen === Buffer.from(ALL_BYTES).toString('hex'), seen, stdout };
}

/**
 * A link that really changes bytes changes them the same way every time; a fault does not repeat. So a
 * channel is given up only when two looks saw the same damage.
 */
async function confirmedLossy(first: string, again: () => Promise<string>): Promise<boolean> {
  const second = await again();
  return second !== 'intact' && second === first;
}

/** The token line, checked: a line the link damaged must not pass for a board without hashlib. */
function parseTokens(lines: string[]): Set<string> {
  const line = lines.find((l) => l.startsWith('C'));
  const words = (line ?? '').split(' ').slice(1);
  const count = Number(words.pop());
  const known = new Set<string>(PROBE_TOKENS);
  if (!line || count !== words.length || words.some((w) => !known.has(w))) {
    throw damagedCommand(`the board's answer to the capability probe was damaged ("${line ?? ''}"); check the cable or lower the baud rate`);
  }
  return new Set(words);
}

function parseBasics(lines: string[]): FsBasics {
  const has = parseTokens(lines);
  const cwdLine = lines.find((l) => l.startsWith("'") || l.startsWith('"'));
  if (!cwdLine) throw damagedCommand("the board's answer to the capability probe was damaged (no working directory)");
  return {
    cwd: parsePyStr(cwdLine).value || '/',
    hashlib: has.has('h-sha256'),
    hashAlgorithms: ['sha256', 'sha1', 'md5'].filter((a) => has.has(`h-${a}`)),
    binascii: has.has('binascii'),
    deflate: !has.has('deflate') ? 'none' : has.has('deflate-w') ? 'both' : 'decompress',
    statvfs: has.has('statvfs'),
    stdinBuffer: has.has('stdin'),
    errno: has.has('errno'),
    poll: has.has('poll'),
  };
}

/** The upload and download channels, given the basics and a first look at the raw stdout pattern. */
async function channels(board: Board, basics: FsBasics, first: { intact: boolean; seen: string }): Promise<FsCapabilities> {
  // A pattern that came back wrong once may be a link fault: look again before settling for base64.
  const rawOut =
    first.intact ||
    !(await confirmedLossy(first.seen, async () => {
      const r = await rawPatternAfter(board, rawStdoutCheckSource).catch(() => ({ intact: false, seen: '' }));
      return r.intact ? 'intact' : r.seen;
    }));
  const caps: FsCapabilities = { ...basics, upload: 'exec', download: rawOut ? 'raw' : basics.binascii ? 'base64' : 'none' };
  if (caps.stdinBuffer) {
    // Same here: only the same verdict twice downgrades the channel for the whole connection.
    const link = await stdinLink(board);
    const transparent = link === 'transparent' || !(await confirmedLossy(link, () => stdinLink(board)));
    if (transparent) caps.upload = 'raw';
    else if (link !== 'broken' && caps.binascii) caps.upload = 'base64';
  }
  return caps;
}

/** transparent: every byte arrives as sent; broken: stdin cannot be read at all; else what arrived (hex). */
async function stdinLink(board: Board): Promise<string> {
  const pattern = escapeBytes(ALL_BYTES);
  let out = '';
  const seen = (marker: string) =>
    new Promise<void>((resolve) => {
      const check = () => (out.includes(marker) ? resolve() : setTimeout(check, 5));
      check();
    });
  // A link that drops bytes leaves the reader waiting: Ctrl-C it after a while instead of hanging.
  const stop = new AbortController();
  const run = await board.start(stdinEchoSource(), { signal: stop.signal, onStdout: (t) => (out += t) });
  const timer = setTimeout(() => stop.abort(), 3000);
  try {
    await Promise.race([seen('R'), run.done]);
    await run.write(Uint8Array.of(0x21));
    await Promise.race([seen('G'), run.done]);
    if (!out.includes('G')) throw new Error('stdin unreadable');
    await run.write(pattern);
    const { stdout } = await run.done;
    const echo = outputLines(stdout).at(-1) ?? '';
    return echo === '=' ? 'transparent' : `lossy:${echo}`;
  } catch {
    await run.done.catch(() => {});
    // Whatever we sent after the program died sits in the raw REPL's line buffer: Ctrl-C clears it.
    await board.interrupt();
    return 'broken';
  } finally {
    clearTimeout(timer);
  }
}
