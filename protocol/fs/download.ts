// Downloads: one sender program per batch prints each file as data lines followed by its sha256. The
// data is the file's bytes escaped so that no Ctrl-D, LF or CR travels raw (see wire.ts), read straight
// off the link; firmware without a binary stdout sends base64 text instead. Host files are written to a
// temp file next to the target and renamed only once the hash matches.
import { createHash, type Hash } from 'node:crypto';
import { inflateRawSync } from 'node:zlib';
import { closeSync, openSync, renameSync, rmSync, writeSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import type { Board } from '../board.js';
import { BoardError } from '../errors.js';
import { boardCapabilities } from './capabilities.js';
import { errnoText, mapBoardException } from './errno.js';
import { senderSource } from './snippets.js';
import type { FileResult, TransferOptions } from './upload.js';
import { stdoutLines, stdoutMarker, unescapeBytes } from './wire.js';

/** Board bytes per data line: 3 KB keeps the line overhead near 0.1% and the board's buffers small. */
const SEND_CHUNK = 3072;
/** Text-like files are worth deflating on the board (source shrinks 3-5x); binaries are sent as they are. */
const COMPRESSIBLE = /\.(py|txt|json|html?|css|js|mjs|csv|md|cfg|ini|toml|ya?ml|xml|svg|log)$/i;
const DATA = 0x44; // 'D'

interface Sink {
  begin(size: number): void;
  data(bytes: Uint8Array): void;
  /** Called with the board's sha256 (or undefined without hashlib); returns an error text if it is wrong. */
  end(boardSha: string | undefined): string | undefined;
  abandon(): void;
}

const interrupted = () => new BoardError('INTERRUPTED', 'interrupted by Ctrl-C');

/** Run the sender for `paths`, feeding each file to its sink; resolves per-file results. */
async function receiveFiles(board: Board, paths: string[], sinks: Sink[], opts: TransferOptions): Promise<FileResult[]> {
  const caps = await boardCapabilities(board);
  const raw = (opts.downloadChannel ?? caps.download) === 'raw';
  const compress = paths.map((p) => caps.deflate && opts.compress !== false && COMPRESSIBLE.test(p));
  // Answered flow control needs a readable stdin; without one, Ctrl-C is the only way to stop.
  const flow = (opts.channel ?? caps.upload) !== 'exec';
  const results: FileResult[] = paths.map((p) => ({ path: p, board: true, size: 0, ok: false }));
  let current = -1;
  let hash: Hash | undefined;
  /** Deflated files are buffered whole and inflated at their end line. */
  let packed: Uint8Array[] | undefined;
  let bytesTotal = 0;
  let bytesDone = 0;
  let stopped = false;
  /** A host-side failure (say, the temp file cannot be created): the sender is stopped, then it is thrown. */
  let failure: unknown;
  const deliver = (i: number, bytes: Uint8Array) => {
    hash!.update(bytes);
    sinks[i]!.data(bytes);
  };
  // Answers owed before start() has handed us the writer (fast boards print first) wait here.
  const owed: number[] = [];
  let send: ((bytes: Uint8Array) => void) | undefined;
  let answering = flow;
  const answer = () => {
    if (!answering) return;
    const abort = opts.signal?.aborted === true || failure !== undefined;
    owed.push(abort ? 0x58 : 0x41);
    if (abort) answering = false; // after X, nothing more: the sender reads no further answer
    if (send) send(Uint8Array.from(owed.splice(0)));
  };
  const dataLine = (payload: Buffer) => {
    if (current < 0) return;
    const bytes = raw ? unescapeBytes(payload) : Buffer.from(payload.toString('latin1'), 'base64');
    if (packed) packed.push(bytes);
    else deliver(current, bytes);
    bytesDone = Math.min(bytesTotal, bytesDone + bytes.length);
    opts.onProgress?.({ file: paths[current]!, bytesDone, bytesTotal });
  };
  const controlLine = (line: string) => {
    const [tag, idx, arg, zipped] = line.split(' ');
    const i = Number(idx);
    if (tag === 'X') stopped = true;
    else if (tag === 'B') {
      current = i;
      hash = createHash('sha256');
      packed = zipped === '1' ? [] : undefined;
      results[i]!.size = bytesTotal = Number(arg);
      bytesDone = 0;
      sinks[i]!.begin(bytesTotal);
    } else if (tag === 'E') {
      if (packed) deliver(i, inflateRawSync(Buffer.concat(packed)));
      const got = hash!.digest('hex');
      const problem = arg !== '-' && arg !== got ? 'sha256 mismatch' : sinks[i]!.end(arg === '-' ? undefined : got);
      results[i]!.ok = !problem;
      if (problem) results[i]!.error = problem;
      current = -1;
    } else if (tag === 'F') {
      results[i]!.errno = Number(arg);
      results[i]!.error = errnoText(Number(arg));
    }
  };
  const stop = new AbortController();
  const onLine = (line: Buffer) => {
    const isData = line[0] === DATA;
    if (failure === undefined) {
      try {
        if (isData) dataLine(line.subarray(1));
        else controlLine(line.toString('latin1'));
      } catch (err) {
        failure = err;
        if (!flow) stop.abort();
      }
    }
    if (isData) answer();
  };
  const onAbort = () => stop.abort();
  const marker = stdoutMarker();
  const onStdoutBytes = stdoutLines(marker, onLine);
  try {
    const code = senderSource(paths, { chunk: SEND_CHUNK, compress, flow, raw, marker });
    if (flow) {
      if (opts.signal?.aborted) throw interrupted();
      const run = await board.start(code, { onStdoutBytes });
      const writes: Promise<void>[] = [];
      send = (bytes) => writes.push(run.write(bytes).catch(() => {}));
      if (owed.length) send(Uint8Array.from(owed.splice(0)));
      await run.done;
      await Promise.all(writes);
    } else {
      opts.signal?.addEventListener('abort', onAbort);
      if (opts.signal?.aborted) onAbort();
      await board.exec(code, { signal: stop.signal, onStdoutBytes });
    }
    if (failure !== undefined) throw failure;
    if (stopped) throw interrupted();
  } catch (err) {
    for (const s of sinks) s.abandon();
    if (failure !== undefined) throw failure;
    throw mapBoardException(err, paths[Math.max(current, 0)]!);
  } finally {
    opts.signal?.removeEventListener('abort', onAbort);
  }
  for (const [i, r] of results.entries()) if (!r.ok) sinks[i]!.abandon();
  return results;
}

/** Read board files into memory (cat, board-to-board copies). Failing files come back with ok false. */
export async function readBoardFiles(board: Board, paths: string[], opts: TransferOptions = {}): Promise<{ result: FileResult; data: Uint8Array }[]> {
  const chunks: Uint8Array[][] = paths.map(() => []);
  const sinks = paths.map((_, i): Sink => ({
    begin: () => (chunks[i] = []),
    data: (b) => chunks[i]!.push(b),
    end: () => undefined,
    abandon: () => (chunks[i] = []),
  }));
  const results = await receiveFiles(board, paths, sinks, opts);
  return results.map((result, i) => ({ result, data: Buffer.concat(chunks[i]!) }));
}

export interface DownloadItem {
  /** Absolute board path. */
  src: string;
  /** Host path of the target file (its directory must exist). */
  dest: string;
}

/** A host temp name next to the target, recognisable and unique per process. */
function hostTempPath(dest: string): string {
  return join(dirname(dest), `.${basename(dest)}.boardctl-${process.pid}.tmp`);
}

/** Download board files to host files, each written to a temp file and renamed after the sha256 matched. */
export async function downloadFiles(board: Board, items: DownloadItem[], opts: TransferOptions = {}): Promise<FileResult[]> {
  const sinks = items.map((item): Sink => {
    const temp = hostTempPath(item.dest);
    let fd: number | undefined;
    const closeFd = () => {
      if (fd !== undefined) closeSync(fd);
      fd = undefined;
    };
    return {
      begin: () => {
        try {
          fd = openSync(temp, 'w');
        } catch (err) {
          throw new BoardError('LOCAL_IO', `${item.dest}: ${(err as Error).message}`, { path: item.dest }, { cause: err });
        }
      },
      data: (b) => void writeSync(fd!, b),
      end: () => {
        closeFd();
        try {
          renameSync(temp, item.dest);
          return undefined;
        } catch (err) {
          rmSync(temp, { force: true });
          return (err as Error).message;
        }
      },
      abandon: () => {
        closeFd();
        rmSync(temp, { force: true });
      },
    };
  });
  const results = await receiveFiles(board, items.map((i) => i.src), sinks, opts);
  return results;
}
