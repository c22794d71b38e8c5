// Uploads: one receiver program per batch streams every file through the board's stdin at close to the
// wire limit. Each file lands in a temp file next to its target and is renamed over it only after its
// size and sha256 check out on the board, so an interruption never leaves a half-written file.
import { createHash } from 'node:crypto';
import { deflateRawSync } from 'node:zlib';
import type { Board, RunningExec } from '../board.js';
import { BoardError, type ErrorCode } from '../errors.js';
import { boardCapabilities, type DownloadChannel, type UploadChannel } from './capabilities.js';
import { ENOSPC, errnoText, mapBoardException } from './errno.js';
import { outputLines } from './py-repr.js';
import {
  DEFLATE_WINDOW_BITS,
  execUploadBeginSource,
  execUploadFinishSource,
  execUploadOpenSource,
  pathOpSource,
  receiverSource,
  type ReceiverEntry,
  type ReceiverMode,
} from './snippets.js';
import { ESC, ABORT_CODE, escapeBytes, pyBytesLiteral } from './wire.js';
import { formatBytes } from './units.js';

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
}

export interface FileResult {
  path: string;
  /** `path` is on the board (messages mark it with `:`). */
  board: boolean;
  size: number;
  ok: boolean;
  /** Board errno on failure (negative: -1 hash mismatch, -2 size mismatch). */
  errno?: number;
  error?: string;
  /** Bytes that crossed the link for this file's data. */
  wireBytes?: number;
  /** Set for failures that are not board errnos (e.g. UNSAFE_PATH). */
  code?: ErrorCode;
}

/** Bytes per exec in the no-stdin fallback (a bytes literal; code is sent at the baud rate too). */
const EXEC_CHUNK = 1024;
/** Compression must save at least this share of the wire bytes to be worth the board's CPU. */
const COMPRESS_MIN_SAVING = 0.05;

interface Prepared {
  entry: ReceiverEntry;
  wire: Uint8Array;
}

function sha256Hex(data: Uint8Array): string {
  return createHash('sha256').update(data).digest('hex');
}

function prepare(item: UploadItem, channel: UploadChannel, compress: boolean, hash: boolean): Prepared {
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
    entry: { dest: item.dest, wireLength: wire.length, size: item.data.length, sha256: hash ? sha256Hex(item.data) : null, mode },
    wire,
  };
}

function resultFor(p: Prepared, code: number): FileResult {
  const r: FileResult = { path: p.entry.dest, board: true, size: p.entry.size, ok: code === 0, wireBytes: p.wire.length };
  if (code !== 0) {
    r.errno = code;
    r.error = code === -1 ? 'sha256 mismatch after writing' : code === -2 ? 'size mismatch after writing' : errnoText(code);
  }
  return r;
}

function noSpace(need: number, avail: number): BoardError {
  return new BoardError('NO_SPACE', `not enough space on the board: need ${formatBytes(need)}, ${formatBytes(avail)} free`, {
    need,
    available: avail,
  });
}

const interrupted = () => new BoardError('INTERRUPTED', 'interrupted by Ctrl-C');

/**
 * Upload files (directories in `dirs` are created first, parents before children). Resolves per-file
 * results; rejects with NO_SPACE before writing anything when the batch cannot fit, and with INTERRUPTED
 * (board back at its prompt, targets untouched) when the signal fires.
 */
export async function uploadFiles(board: Board, items: UploadItem[], dirs: string[] = [], opts: TransferOptions = {}): Promise<FileResult[]> {
  if (items.length === 0) {
    // Nothing to stream: just the directories (empty ones from cp -r, sync).
    if (dirs.length) await board.exec(pathOpSource('mkdirParents', dirs));
    return [];
  }
  const caps = await boardCapabilities(board);
  const channel = opts.channel ?? caps.upload;
  const prepared = items.map((it) => prepare(it, channel, opts.compress !== false && caps.deflate, caps.hashlib));
  if (channel === 'exec') return uploadByExec(board, prepared, dirs, opts);
  // Real boards buffer only a few hundred bytes of UART input while the receiver writes to flash; the
  // in-process virtual board has no such limit, so it gets bigger windows (fewer acks). base64 needs
  // windows in whole 4-character groups.
  const window = Math.max(4, (opts.window ?? (board.transport.kind === 'virtual' ? 2048 : 256)) & ~3);
  return uploadByStdin(board, prepared, dirs, window, opts);
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

async function uploadByStdin(board: Board, files: Prepared[], dirs: string[], window: number, opts: TransferOptions): Promise<FileResult[]> {
  if (opts.signal?.aborted) throw interrupted();
  const ends: number[] = [];
  let total = 0;
  for (const f of files) ends.push((total += f.wire.length));
  const bytesTotal = files.reduce((n, f) => n + f.entry.size, 0);

  const acks = new Acks();
  const codes = new Map<number, number>();
  let header: [number, number] | undefined;
  let aborted = false;
  let line = '';
  const onStdout = (text: string) => {
    for (const ch of text) {
      if (line === '' && ch === 'A') acks.bump();
      else if (ch === '\n') {
        const parts = line.trim().split(' ');
        if (parts[0] === 'S') header = [Number(parts[1]), Number(parts[2])];
        else if (parts[0] === 'F') codes.set(Number(parts[1]), Number(parts[2]));
        else if (parts[0] === 'X') aborted = true;
        line = '';
        acks.wake();
      } else line += ch;
    }
  };
  // Only a board that stops answering gets a Ctrl-C; a normal abort goes through the data stream.
  const hardStop = new AbortController();
  const run: RunningExec = await board.start(receiverSource(files.map((f) => f.entry), window, dirs), {
    onStdout,
    signal: hardStop.signal,
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
    while (!header && !finished) await acks.next();
    if (!header) await done; // the receiver died before starting: surface its error
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
    // (An abort that came after the last byte was sent lets the batch finish: the files are complete.)
    if (aborted || abortSent) throw interrupted();
    opts.onProgress?.({ file: files.at(-1)!.entry.dest, bytesDone: bytesTotal, bytesTotal });
    return files.map((f, i) => resultFor(f, codes.get(i) ?? 5));
  } catch (err) {
    if (err instanceof BoardError && err.code === 'INTERRUPTED') throw err;
    if (opts.signal?.aborted) throw interrupted();
    throw mapBoardException(err, files[codes.size]?.entry.dest ?? files[0]!.entry.dest);
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
async function uploadByExec(board: Board, files: Prepared[], dirs: string[], opts: TransferOptions): Promise<FileResult[]> {
  const lines = async (code: string) => outputLines((await board.exec(code)).stdout);
  const entries = files.map((f) => f.entry);
  const head = (await lines(execUploadBeginSource(entries, dirs))).find((l) => l.startsWith('S'))?.split(' ') ?? [];
  if (Number(head[1]) > 0) throw noSpace(Number(head[1]), Number(head[2]));
  const bytesTotal = entries.reduce((n, e) => n + e.size, 0);
  let bytesDone = 0;
  const results: FileResult[] = [];
  for (let i = 0; i < files.length; i++) {
    const file = files[i]!;
    if (opts.signal?.aborted) throw interrupted();
    const opened = (await lines(execUploadOpenSource(i)))[0]?.split(' ') ?? [];
    if (opened[0] === 'E') {
      results.push(resultFor(file, Number(opened[1])));
      continue;
    }
    for (let off = 0; off < file.wire.length; off += EXEC_CHUNK) {
      if (opts.signal?.aborted) {
        await board.exec(`_f.close();Q(TP(M[${i}][0]))`);
        throw interrupted();
      }
      const chunk = file.wire.subarray(off, off + EXEC_CHUNK);
      await board.exec(`_f.write(${pyBytesLiteral(chunk)})`);
      bytesDone += chunk.length;
      opts.onProgress?.({ file: file.entry.dest, bytesDone, bytesTotal });
    }
    const fin = (await lines(execUploadFinishSource(i))).find((l) => l.startsWith('F'))?.split(' ') ?? [];
    results.push(resultFor(file, Number(fin[2] ?? 5)));
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
  return new BoardError(r.code ?? 'DEVICE_OSERROR', `${shown}: ${r.error ?? 'failed'}`, { path: r.path });
}
