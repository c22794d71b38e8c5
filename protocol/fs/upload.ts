// Uploads: a receiver program per batch streams every file through the board's stdin at close to the wire
// limit. Each file lands in a temp file next to its target and is renamed over it only after its size and
// digest check out on the board, which then names the file and the digest it checked, so the host knows the
// right bytes reached the right name. A file whose transfer the link spoiled is sent again (`retries`).
import { deflateRawSync } from 'node:zlib';
import type { Board, RunningExec } from '../board.js';
import { damagedCommand } from '../checked-program.js';
import { BoardError, isBoardError, type ErrorCode } from '../errors.js';
import { boardCapabilities, lacking, type FsCapabilities, type UploadChannel, type DownloadChannel } from './capabilities.js';
import { isDigest, transferDigest } from './digest.js';
import { ENOSPC, errnoText, mapBoardException } from './errno.js';
import { helperError, helperExecOptions, helperIdleMs, helperLines, helperRan, helperSource, isLinkFault, isLinkFaultCode, loadHelper, runHelper } from './helper.js';
import { parsePyStr } from './py-repr.js';
import {
  DEFLATE_WINDOW_BITS,
  execUploadBegin,
  execUploadStep,
  pathOpSource,
  receiverProgram,
  type ReceiverEntry,
  type ReceiverMode,
  type UploadSetup,
} from './snippets.js';
import { ESC, ABORT_CODE, escapeBytes } from './wire.js';
import { formatBytes } from './units.js';
import { recordTempNames, recordsOf, uploadByRecords } from './record-transfer.js';

export interface UploadItem {
  /** Absolute board path of the target file. */
  dest: string;
  data: Uint8Array;
}

export interface TransferProgress {
  /** Board path of the file being moved. */
  file: string;
  bytesDone: number;
  bytesTotal: number;
}

export interface TransferOptions {
  signal?: AbortSignal;
  onProgress?: (p: TransferProgress) => void;
  /** Force a channel (tests exercise the fallbacks on a board that offers the fast one). */
  channel?: UploadChannel;
  /** Force the download channel (tests exercise the base64 fallback on a board that offers raw). */
  downloadChannel?: DownloadChannel;
  /** Set false to never deflate-compress uploads. */
  compress?: boolean;
  /** Wire bytes per acknowledged window. */
  window?: number;
  /** Set false to move files through the raw REPL even where the link has its own file records (ws://). */
  records?: boolean;
  /** Send a file again this many times when the link spoiled its transfer (default 2). */
  retries?: number;
}

export const DEFAULT_RETRIES = 2;

export interface FileResult {
  path: string;
  /** `path` is on the board (messages mark it with `:`). */
  board: boolean;
  size: number;
  ok: boolean;
  /** Board errno on failure. */
  errno?: number;
  error?: string;
  /** Bytes that crossed the link for this file's data. */
  wireBytes?: number;
  /** Set for failures that are not board errnos (UNSAFE_PATH, LINK_DAMAGED, TIMEOUT…). */
  code?: ErrorCode;
  /** Transfers it took (more than 1 when the link spoiled earlier ones). */
  attempts?: number;
  /** Not sent: the board held these bytes already (cp without -f). */
  unchanged?: boolean;
}

/** Bytes per exec in the no-stdin fallback (a bytes literal; code is sent at the baud rate too). */
const EXEC_CHUNK = 1024;
/** Compression must save at least this share of the wire bytes to be worth the board's CPU. */
const COMPRESS_MIN_SAVING = 0.05;
/** Files and manifest bytes per receiver run, so its program stays small whatever the project's size. */
const FILES_PER_RUN = 60;
const MANIFEST_BYTES_PER_RUN = 3000;

interface Prepared {
  entry: ReceiverEntry;
  wire: Uint8Array;
}

function prepare(item: UploadItem, channel: UploadChannel, compress: boolean, hashlib: boolean): Prepared {
  let mode: ReceiverMode = channel === 'base64' ? 2 : 0;
  let wire: Uint8Array;
  if (channel === 'base64') wire = new TextEncoder().encode(Buffer.from(item.data).toString('base64'));
  else if (channel === 'exec') wire = item.data;
  else {
    wire = escapeBytes(item.data);
    if (compress && item.data.length > 64) {
      const packed = escapeBytes(deflateRawSync(item.data, { level: 9, windowBits: DEFLATE_WINDOW_BITS, memLevel: 9 }));
      if (packed.length < wire.length * (1 - COMPRESS_MIN_SAVING)) {
        wire = packed;
        mode = 1;
      }
    }
  }
  return {
    entry: { dest: item.dest, wireLength: wire.length, size: item.data.length, digest: transferDigest(item.data, hashlib), mode },
    wire,
  };
}

/** The board's word on one file: `F i result repr(dest) digest`. */
interface Confirmation {
  code: number;
  dest: string;
  digest: string;
}

function parseConfirmation(line: string): { index: number; c: Confirmation } | undefined {
  const m = /^F (\d+) (-?\d+) (.+) (\S+)$/.exec(line);
  if (!m) return undefined;
  try {
    return { index: Number(m[1]), c: { code: Number(m[2]), dest: parsePyStr(m[3]!).value, digest: m[4]! } };
  } catch {
    return undefined;
  }
}

const linkFailure = (p: Prepared, err: BoardError): FileResult => ({
  path: p.entry.dest,
  board: true,
  size: p.entry.size,
  ok: false,
  code: err.code,
  error: err.message,
  wireBytes: p.wire.length,
});

/** A file's result from the board's confirmation, checked against what was sent. */
function resultFor(p: Prepared, c: Confirmation | undefined, hashlib: boolean): FileResult {
  const r: FileResult = { path: p.entry.dest, board: true, size: p.entry.size, ok: false, wireBytes: p.wire.length };
  const spoiled = (why: string) => linkFailure(p, damagedCommand(`:${p.entry.dest}: ${why}; check the cable or lower the baud rate`));
  if (!c) return spoiled('the board never confirmed the file');
  if (c.dest !== p.entry.dest) return spoiled(`the board confirmed another name (:${c.dest})`);
  if (c.code === -1) return spoiled('the data arrived damaged (digest mismatch)');
  if (c.code === -2) return spoiled('the data arrived incomplete (size mismatch)');
  if (c.code > 0) return { ...r, errno: c.code, error: errnoText(c.code) };
  if (c.code !== 0) return spoiled('the board sent an unknown result');
  if (!isDigest(c.digest, hashlib) || c.digest !== p.entry.digest) return spoiled('the board checked other bytes than were sent');
  return { ...r, ok: true };
}

function noSpace(need: number, avail: number): BoardError {
  return new BoardError('NO_SPACE', `not enough space on the board: need ${formatBytes(need)}, ${formatBytes(avail)} free`, {
    need,
    available: avail,
  });
}

const interrupted = () => new BoardError('INTERRUPTED', 'interrupted by Ctrl-C');

/** Receiver runs: few files and a short manifest each. */
function runsOf(files: Prepared[]): Prepared[][] {
  const runs: Prepared[][] = [];
  let cur: Prepared[] = [];
  let bytes = 0;
  for (const f of files) {
    if (cur.length && (cur.length >= FILES_PER_RUN || bytes + Buffer.byteLength(f.entry.dest) > MANIFEST_BYTES_PER_RUN)) {
      runs.push(cur);
      cur = [];
      bytes = 0;
    }
    cur.push(f);
    // The entry's text in the manifest: its name, two lengths, the digest and the mode.
    bytes += Buffer.byteLength(f.entry.dest) + f.entry.digest.length + 24;
  }
  if (cur.length) runs.push(cur);
  return runs;
}

/**
 * Run `attempt` over `items` and again over the ones that failed with a link fault, up to `retries` more
 * times; the capability probe failing the same way is retried too. Shared by uploads and downloads.
 */
export async function withRetries<T>(
  items: T[],
  retries: number,
  attempt: (items: T[]) => Promise<FileResult[]>,
): Promise<FileResult[]> {
  const results = new Array<FileResult | undefined>(items.length);
  let pending = items.map((_, i) => i);
  for (let round = 0; pending.length; round++) {
    const last = round >= retries;
    let got: FileResult[];
    try {
      got = await attempt(pending.map((i) => items[i]!));
    } catch (err) {
      if (last || !isLinkFault(err)) throw err;
      continue;
    }
    const again: number[] = [];
    got.forEach((r, k) => {
      const i = pending[k]!;
      results[i] = { ...r, attempts: round + 1 };
      if (!r.ok && isLinkFaultCode(r.code)) again.push(i);
    });
    pending = last ? [] : again;
  }
  return results.map((r) => r!);
}

/**
 * Upload files (directories in `dirs` are created first, parents before children). Resolves per-file
 * results; rejects with NO_SPACE before writing anything when a batch cannot fit, and with INTERRUPTED
 * (board back at its prompt, targets untouched) when the signal fires.
 */
export async function uploadFiles(board: Board, items: UploadItem[], dirs: string[] = [], opts: TransferOptions = {}): Promise<FileResult[]> {
  if (items.length === 0) {
    // Nothing to stream: just the directories (empty ones from cp -r, sync).
    if (dirs.length) await withRetries([0], opts.retries ?? DEFAULT_RETRIES, async () => (await helperLines(board, pathOpSource('mkdirParents', dirs)), []));
    return [];
  }
  const records = await recordsOf(board, opts);
  const temp = records && recordTempNames(records, items);
  if (records && temp) {
    if (dirs.length) await uploadFiles(board, [], dirs, opts);
    return uploadByRecords(board, records, items, temp, opts);
  }
  // Each try creates the directories again (that is idempotent): the one before may not have got that far.
  return withRetries(items, opts.retries ?? DEFAULT_RETRIES, async (todo) => uploadOnce(board, await boardCapabilities(board), todo, dirs, opts));
}

async function uploadOnce(board: Board, caps: FsCapabilities, items: UploadItem[], dirs: string[], opts: TransferOptions): Promise<FileResult[]> {
  const channel = opts.channel ?? caps.upload;
  if (channel === 'base64' && !caps.binascii) throw lacking('binascii (needed for base64 uploads)');
  const inflate = opts.compress !== false && caps.deflate !== 'none';
  const prepared = items.map((it) => prepare(it, channel, inflate, caps.hashlib));
  // Real boards buffer only a few hundred bytes of UART input while the receiver writes to flash; the
  // in-process virtual board has no such limit, so it gets bigger windows (fewer acks). base64 needs
  // windows in whole 4-character groups.
  const window = Math.max(4, (opts.window ?? (board.transport.kind === 'virtual' ? 2048 : 256)) & ~3);
  const setup: UploadSetup = {
    stdin: channel !== 'exec',
    hashlib: caps.hashlib,
    inflate,
    base64: channel === 'base64',
    poll: caps.poll,
    boardIdleMs: helperIdleMs(board) + 5000,
    window,
  };
  const results: FileResult[] = [];
  const runs = runsOf(prepared);
  for (const [k, run] of runs.entries()) {
    const runDirs = k === 0 ? dirs : [];
    let got: FileResult[];
    try {
      got =
        channel === 'exec'
          ? await uploadByExec(board, run, runDirs, setup, opts)
          : await uploadByStdin(board, run, runDirs, setup, opts);
    } catch (err) {
      if (!isLinkFault(err)) throw err;
      // This run's files failed together; later runs are not tried (the retry sends them all again).
      return [...results, ...prepared.slice(results.length).map((p) => linkFailure(p, err as BoardError))];
    }
    results.push(...got);
  }
  return results;
}

class Acks {
  count = 0;
  private waiters: (() => void)[] = [];
  bump(): void {
    this.count++;
    this.wake();
  }
  wake(): void {
    for (const w of this.waiters.splice(0)) w();
  }
  next(): Promise<void> {
    return new Promise((r) => this.waiters.push(r));
  }
}

async function uploadByStdin(board: Board, files: Prepared[], dirs: string[], setup: UploadSetup, opts: TransferOptions): Promise<FileResult[]> {
  if (opts.signal?.aborted) throw interrupted();
  const { window, hashlib } = setup;
  const ends: number[] = [];
  let total = 0;
  for (const f of files) ends.push((total += f.wire.length));
  const bytesTotal = files.reduce((n, f) => n + f.entry.size, 0);

  const acks = new Acks();
  const confirmed = new Map<number, Confirmation>();
  let header: [number, number] | undefined;
  let badHeader = false;
  let aborted = false;
  let broken = false;
  let line = '';
  const onStdout = (text: string) => {
    for (const ch of text) {
      if (line === '' && ch === 'A') acks.bump();
      else if (ch === '\n') {
        const l = line.trim();
        const s = /^S (\d+) (-?\d+)$/.exec(l);
        const f = parseConfirmation(l);
        if (s) header = [Number(s[1]), Number(s[2])];
        else if (l.startsWith('S')) badHeader = true;
        else if (f && !confirmed.has(f.index)) confirmed.set(f.index, f.c);
        else if (l === 'X') aborted = true;
        else if (l === 'XD') broken = true;
        line = '';
        acks.wake();
      } else line += ch;
    }
  };
  // Only a board that stops answering gets a Ctrl-C; a normal abort goes through the data stream.
  const hardStop = new AbortController();
  const program = receiverProgram(files.map((f) => f.entry), dirs, setup);
  await loadHelper(board, program);
  const run: RunningExec = await board.start(helperSource(board, program), {
    onStdout,
    signal: hardStop.signal,
    ...helperExecOptions(board),
  });
  let finished = false;
  const done = run.done.finally(() => {
    finished = true;
    acks.wake();
  });
  done.catch(() => {});
  const onAbort = () => acks.wake();
  opts.signal?.addEventListener('abort', onAbort);
  try {
    while (!header && !badHeader && !finished) await acks.next();
    if (badHeader) {
      hardStop.abort();
      await done.catch(() => {});
      throw damagedCommand("the board's reply was damaged (space check); check the cable or lower the baud rate");
    }
    if (!header) await done; // the receiver died before starting: surface its error
    helperRan(board, program);
    const [need, avail] = header!;
    if (need > 0) {
      await done;
      throw noSpace(need, avail);
    }
    let sent = 0;
    let abortSent = false;
    let fileIdx = 0;
    const progressFile = () => {
      const acked = Math.min(acks.count * window, total);
      while (fileIdx < files.length - 1 && ends[fileIdx]! <= acked) fileIdx++;
      opts.onProgress?.({ file: files[fileIdx]!.entry.dest, bytesDone: Math.round((bytesTotal * acked) / (total || 1)), bytesTotal });
    };
    while (sent < total && !finished) {
      if (opts.signal?.aborted) {
        await run.write(abortBytes(sent, ends, window, files[0]!.entry.mode === 2));
        abortSent = true;
        break;
      }
      if (sent >= (acks.count + 2) * window) {
        await acks.next();
        progressFile();
        continue;
      }
      const end = Math.min(total, (Math.floor(sent / window) + 1) * window);
      await run.write(gather(files, ends, sent, end));
      sent = end;
      progressFile(); // a paced link resolves writes at wire speed, so acks may never be waited for
    }
    // After an abort the receiver should stop within the data already in flight; if not, Ctrl-C it.
    const timer = abortSent ? setTimeout(() => hardStop.abort(), 5000) : undefined;
    try {
      await done;
    } finally {
      clearTimeout(timer);
    }
    // The receiver stopped without being asked (a damaged byte looked like a stop), or the stream broke.
    if (broken || (aborted && !abortSent)) throw damagedCommand('the transfer broke off (a byte was damaged or lost on the way); check the cable or lower the baud rate');
    // (An abort that came after the last byte was sent lets the batch finish: the files are complete.)
    if (aborted || abortSent) throw interrupted();
    opts.onProgress?.({ file: files.at(-1)!.entry.dest, bytesDone: bytesTotal, bytesTotal });
    return files.map((f, i) => resultFor(f, confirmed.get(i), hashlib));
  } catch (err) {
    if (isBoardError(err, 'INTERRUPTED')) throw err;
    if (opts.signal?.aborted) throw interrupted();
    if (isLinkFault(err) && confirmed.size) {
      // The files the board confirmed before the fault stand; the rest failed with it.
      return files.map((f, i) => (confirmed.has(i) ? resultFor(f, confirmed.get(i), hashlib) : linkFailure(f, err as BoardError)));
    }
    throw mapBoardException(helperError(board, program, err), files[confirmed.size]?.entry.dest ?? files[0]!.entry.dest);
  } finally {
    opts.signal?.removeEventListener('abort', onAbort);
  }
}

/** Wire bytes [from, to) of the batch, across file boundaries. */
function gather(files: Prepared[], ends: number[], from: number, to: number): Uint8Array {
  const out = new Uint8Array(to - from);
  let start = 0;
  for (let i = 0; i < files.length; i++) {
    const end = ends[i]!;
    const lo = Math.max(from, start);
    const hi = Math.min(to, end);
    if (lo < hi) out.set(files[i]!.wire.subarray(lo - start, hi - start), lo - from);
    start = end;
  }
  return out;
}

/** How many wire bytes the receiver asks for next when it has consumed `pos` (it mirrors C() on the board). */
function nextRead(pos: number, ends: number[], window: number): number {
  const fileEnd = ends.find((e) => e > pos) ?? pos;
  return Math.min(window - (pos % window), fileEnd - pos);
}

/**
 * Bytes that make the receiver stop at once: the abort marker, padded to exactly the read it has pending,
 * so nothing is left over for the raw REPL to take as code. (Escaped mode: ESC 'A'; base64: '!'.)
 */
function abortBytes(pos: number, ends: number[], window: number, base64: boolean): Uint8Array {
  const out: number[] = [];
  const marker = base64 ? [0x21] : [ESC, ABORT_CODE];
  let want = nextRead(pos, ends, window);
  for (const b of marker) {
    if (want === 0) want = nextRead(pos, ends, window);
    if (want === 0) break; // the stream ended on the ESC: the last file fails its check and is dropped
    out.push(b);
    pos++;
    want--;
  }
  while (want-- > 0) out.push(0x20);
  return Uint8Array.from(out);
}

/** For firmware without a readable stdin: one exec per chunk, each carrying a bytes literal (mpremote's way). */
async function uploadByExec(board: Board, files: Prepared[], dirs: string[], setup: UploadSetup, opts: TransferOptions): Promise<FileResult[]> {
  const entries = files.map((f) => f.entry);
  const head = (await runHelper(board, execUploadBegin(entries, dirs, setup))).find((l) => l.startsWith('S'))?.split(' ') ?? [];
  if (Number(head[1]) > 0) throw noSpace(Number(head[1]), Number(head[2]));
  const bytesTotal = entries.reduce((n, e) => n + e.size, 0);
  let bytesDone = 0;
  const results: FileResult[] = [];
  for (let i = 0; i < files.length; i++) {
    const file = files[i]!;
    if (opts.signal?.aborted) throw interrupted();
    const opened = (await runHelper(board, execUploadStep(setup, 'O', i)))[0]?.split(' ') ?? [];
    if (opened[0] === 'E') {
      results.push(resultFor(file, { code: Number(opened[1]), dest: file.entry.dest, digest: '-' }, setup.hashlib));
      continue;
    }
    for (let off = 0; off < file.wire.length; off += EXEC_CHUNK) {
      if (opts.signal?.aborted) {
        await runHelper(board, execUploadStep(setup, 'A', i));
        throw interrupted();
      }
      const chunk = file.wire.subarray(off, off + EXEC_CHUNK);
      await runHelper(board, execUploadStep(setup, 'W', chunk));
      bytesDone += chunk.length;
      opts.onProgress?.({ file: file.entry.dest, bytesDone, bytesTotal });
    }
    const fin = (await runHelper(board, execUploadStep(setup, 'F', i))).map(parseConfirmation).find((f) => f?.index === i);
    results.push(resultFor(file, fin?.c, setup.hashlib));
  }
  return results;
}

/** Turn a failed per-file result into the error the CLI reports (`:lib/x.py: No such file or directory`). */
export function fileResultError(r: FileResult): BoardError {
  const shown = `${r.board ? ':' : ''}${r.path}`;
  if (r.errno !== undefined && r.errno > 0) {
    return new BoardError(r.errno === ENOSPC ? 'NO_SPACE' : 'DEVICE_OSERROR', `${shown}: ${errnoText(r.errno)}`, {
      path: r.path,
      errno: r.errno,
    });
  }
  const message = r.error?.startsWith(shown) ? r.error : `${shown}: ${r.error ?? 'failed'}`;
  return new BoardError(r.code ?? 'DEVICE_OSERROR', message, { path: r.path });
}
