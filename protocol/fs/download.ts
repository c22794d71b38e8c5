// Downloads: one sender program per batch prints each file as base64 lines (board stdout turns \n into
// \r\n, so raw bytes cannot travel that way) followed by its sha256. Host files are written to a temp file
// next to the target and renamed only once the hash matches.
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

/** Board bytes per base64 line: 4 KB of text per line keeps the line overhead under 0.1%. */
const SEND_CHUNK = 3072;
/** Text-like files are worth deflating on the board (source shrinks 3-5x); binaries are sent as they are. */
const COMPRESSIBLE = /\.(py|txt|json|html?|css|js|mjs|csv|md|cfg|ini|toml|ya?ml|xml|svg|log)$/i;

interface Sink {
  begin(size: number): void;
  data(bytes: Uint8Array): void;
  /** Called with the board's sha256 (or undefined without hashlib); returns an error text if it is wrong. */
  end(boardSha: string | undefined): string | undefined;
  abandon(): void;
}

/** Run the sender for `paths`, feeding each file to its sink; resolves per-file results. */
async function receiveFiles(board: Board, paths: string[], sinks: Sink[], opts: TransferOptions): Promise<FileResult[]> {
  const results: FileResult[] = paths.map((p) => ({ path: p, board: true, size: 0, ok: false }));
  let line = '';
  let current = -1;
  let hash: Hash | undefined;
  /** Deflated files are buffered whole and inflated at their end line. */
  let packed: Buffer[] | undefined;
  const deliver = (i: number, bytes: Uint8Array) => {
    hash!.update(bytes);
    sinks[i]!.data(bytes);
  };
  let bytesTotal = 0;
  let bytesDone = 0;
  const onLine = (l: string) => {
    const tag = l[0];
    // Control lines are a letter and a space; base64 never contains a space.
    if (l[1] === ' ' && (tag === 'B' || tag === 'E' || tag === 'F')) {
      const [, idx, arg, zipped] = l.split(' ');
      const i = Number(idx);
      if (tag === 'B') {
        current = i;
        hash = createHash('sha256');
        packed = zipped === '1' ? [] : undefined;
        results[i]!.size = Number(arg);
        bytesTotal = Number(arg);
        bytesDone = 0;
        sinks[i]!.begin(Number(arg));
      } else if (tag === 'E') {
        if (packed) deliver(i, inflateRawSync(Buffer.concat(packed)));
        const got = hash!.digest('hex');
        const problem = arg !== '-' && arg !== got ? 'sha256 mismatch' : sinks[i]!.end(arg === '-' ? undefined : got);
        results[i]!.ok = !problem;
        if (problem) results[i]!.error = problem;
        current = -1;
      } else {
        results[i]!.errno = Number(arg);
        results[i]!.error = errnoText(Number(arg));
      }
      return;
    }
    if (current < 0) return;
    const bytes = Buffer.from(l, 'base64');
    if (packed) packed.push(bytes);
    else deliver(current, bytes);
    bytesDone = Math.min(bytesTotal, bytesDone + bytes.length);
    opts.onProgress?.({ file: paths[current]!, bytesDone, bytesTotal });
  };
  const caps = await boardCapabilities(board);
  const compress = paths.map((p) => caps.deflate && opts.compress !== false && COMPRESSIBLE.test(p));
  // Answered flow control needs a readable stdin; without one, Ctrl-C is the only way to stop.
  const flow = caps.upload !== 'exec';
  let stopped = false;
  let answering = flow;
  // Answers owed before start() has handed us the writer (fast boards print first) wait here.
  const owed: number[] = [];
  let send: ((bytes: Uint8Array) => void) | undefined;
  const answer = (byte: number) => {
    owed.push(byte);
    if (send) send(Uint8Array.from(owed.splice(0)));
  };
  const onStdout = (text: string) => {
    const parts = (line + text).split('\n');
    line = parts.pop()!;
    for (const p of parts) {
      const l = p.replace(/\r$/, '');
      if (l === 'X') stopped = true;
      const isData = !/^[BEF] /.test(l) && l !== 'X';
      onLine(l);
      if (isData && current >= 0 && answering) {
        const abort = opts.signal?.aborted === true;
        answer(abort ? 0x58 : 0x41);
        if (abort) answering = false; // after X, nothing more: the sender reads no further answer
      }
    }
  };
  try {
    const code = senderSource(paths, SEND_CHUNK, compress, flow);
    if (flow) {
      if (opts.signal?.aborted) throw new BoardError('INTERRUPTED', 'interrupted by Ctrl-C');
      const run = await board.start(code, { onStdout });
      const writes: Promise<void>[] = [];
      send = (bytes) => writes.push(run.write(bytes).catch(() => {}));
      if (owed.length) send(Uint8Array.from(owed.splice(0)));
      await run.done;
      await Promise.all(writes);
      if (stopped) throw new BoardError('INTERRUPTED', 'interrupted by Ctrl-C');
    } else {
      await board.exec(code, { signal: opts.signal, onStdout });
    }
  } catch (err) {
    for (const s of sinks) s.abandon();
    throw mapBoardException(err, paths[Math.max(current, 0)]!);
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
