// Downloads: one sender program per batch prints each file (named by index and path) as data lines followed
// by its digest. The data is the file's bytes escaped so that no Ctrl-D, LF or CR travels raw (see wire.ts),
// read straight off the link; firmware without a binary stdout sends base64 text instead. Host files are
// written to a temp file next to the target and renamed only once size and digest match; a file the link
// spoiled is fetched again (`retries`).
import { createHash } from 'node:crypto';
import { inflateRawSync } from 'node:zlib';
import { closeSync, openSync, readdirSync, renameSync, rmSync, writeSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import type { Board } from '../board.js';
import { damagedCommand } from '../checked-program.js';
import { BoardError, isBoardError } from '../errors.js';
import { boardCapabilities, lacking, type FsCapabilities } from './capabilities.js';
import { DigestStream, isDigest } from './digest.js';
import { errnoText, mapBoardException } from './errno.js';
import { fileError } from '../host-error.js';
import { helperError, helperExecOptions, helperIdleMs, helperRan, helperSource, isLinkFault, loadHelper } from './helper.js';
import { parsePyStr } from './py-repr.js';
import { senderProgram } from './snippets.js';
import { receiveByRecords, recordsCarry, recordsOf, type RecordSink } from './record-transfer.js';
import { DEFAULT_RETRIES, withRetries, type FileResult, type TransferOptions } from './upload.js';
import { stdoutLines, stdoutMarker, unescapeBytes } from './wire.js';

/** Board bytes per data line: 3 KB keeps the line overhead near 0.1% and the board's buffers small. */
const SEND_CHUNK = 3072;
/** Text-like files are worth deflating on the board (source shrinks 3-5x); binaries are sent as they are. */
const COMPRESSIBLE = /\.(py|txt|json|html?|css|js|mjs|csv|md|cfg|ini|toml|ya?ml|xml|svg|log)$/i;
const DATA = 0x44; // 'D'
/** Files per sender run, so its program stays small whatever the project's size. */
const FILES_PER_RUN = 60;

type Sink = RecordSink;

const interrupted = () => new BoardError('INTERRUPTED', 'interrupted by Ctrl-C');
const spoiled = (path: string, why: string) => damagedCommand(`:${path}: ${why}; check the cable or lower the baud rate`);

/** Run senders for `paths` (retrying files the link spoiled), feeding each file to its sink. */
async function receiveFiles(board: Board, paths: string[], sinks: Sink[], opts: TransferOptions): Promise<FileResult[]> {
  const records = await recordsOf(board, opts);
  if (records && recordsCarry(records, paths)) return receiveByRecords(board, records, paths, sinks, opts);
  const indexes = paths.map((_, i) => i);
  return withRetries(indexes, opts.retries ?? DEFAULT_RETRIES, async (todo) => {
    const caps = await boardCapabilities(board);
    const out: FileResult[] = [];
    for (let k = 0; k < todo.length; k += FILES_PER_RUN) {
      const run = todo.slice(k, k + FILES_PER_RUN);
      out.push(...(await receiveOnce(board, caps, run.map((i) => paths[i]!), run.map((i) => sinks[i]!), opts)));
    }
    return out;
  });
}

async function receiveOnce(board: Board, caps: FsCapabilities, paths: string[], sinks: Sink[], opts: TransferOptions): Promise<FileResult[]> {
  const channel = opts.downloadChannel ?? caps.download;
  if (channel === 'none') throw lacking('binary stdout (sys.stdout.buffer) or binascii, so files cannot be read');
  const raw = channel === 'raw';
  const compress = paths.map((p) => caps.deflate === 'both' && opts.compress !== false && COMPRESSIBLE.test(p));
  // Answered flow control needs a readable stdin; without one, Ctrl-C is the only way to stop.
  const flow = (opts.channel ?? caps.upload) !== 'exec';
  const results: FileResult[] = paths.map((p) => ({ path: p, board: true, size: 0, ok: false }));
  /** Files whose outcome is final (checked, or a board errno). */
  const settled = new Set<number>();
  let current = -1;
  let hash: DigestStream | undefined;
  /** Deflated files are buffered whole and inflated at their end line. */
  let packed: Uint8Array[] | undefined;
  let bytesTotal = 0;
  let bytesDone = 0;
  let received = 0;
  let stopped = false;
  let broken = false;
  let askedToStop = false;
  /** A host-side failure (say, the temp file cannot be created): the sender is stopped, then it is thrown. */
  let failure: unknown;
  const deliver = (i: number, bytes: Uint8Array) => {
    hash!.update(bytes);
    received += bytes.length;
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
    if (abort) {
      answering = false; // after X, nothing more: the sender reads no further answer
      askedToStop = true;
    }
    if (send) send(Uint8Array.from(owed.splice(0)));
  };
  /** The file in progress is lost (a damaged line): drop it, and ignore its data until the next file. */
  const spoil = (why: string) => {
    if (current < 0) return;
    sinks[current]!.abandon();
    const e = spoiled(paths[current]!, why);
    Object.assign(results[current]!, { ok: false, code: e.code, error: e.message });
    current = -1;
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
    if (line === 'X' || line === 'XD') {
      if (line === 'X' && (askedToStop || !flow)) stopped = true;
      else broken = true;
      return;
    }
    const b = /^B (\d+) (\d+) ([01]) (.+)$/.exec(line);
    const e = /^E (\d+) (\S+)$/.exec(line);
    const f = /^F (\d+) (\d+)$/.exec(line);
    if (b) {
      spoil('the board skipped the end of the file');
      const i = Number(b[1]);
      let name: string | undefined;
      try {
        name = parsePyStr(b[4]!).value;
      } catch {
        // checked below
      }
      if (paths[i] !== name || settled.has(i)) return;
      current = i;
      hash = new DigestStream(caps.hashlib);
      packed = b[3] === '1' ? [] : undefined;
      results[i]!.size = bytesTotal = Number(b[2]);
      bytesDone = received = 0;
      sinks[i]!.begin(bytesTotal);
    } else if (e && current >= 0 && Number(e[1]) === current) {
      const i = current;
      if (packed) {
        try {
          // An empty file (also one a program holds open and has not flushed) may come with no deflate data at
          // all; the size and digest checks below still tell a lost stream from an empty file.
          const data = Buffer.concat(packed);
          if (data.length) deliver(i, inflateRawSync(data));
        } catch {
          spoil('the compressed data arrived damaged');
          return;
        }
      }
      const got = hash!.digest();
      if (received !== results[i]!.size) return spoil(`${received} of ${results[i]!.size} bytes arrived`);
      if (!isDigest(e[2], caps.hashlib) || e[2] !== got) return spoil('the data arrived damaged (digest mismatch)');
      const problem = sinks[i]!.end();
      results[i]!.ok = !problem;
      if (problem) Object.assign(results[i]!, { code: 'LOCAL_IO', error: problem });
      settled.add(i);
      current = -1;
    } else if (f && paths[Number(f[1])] !== undefined && !settled.has(Number(f[1]))) {
      spoil('the board skipped the end of the file');
      const i = Number(f[1]);
      Object.assign(results[i]!, { errno: Number(f[2]), error: errnoText(Number(f[2])) });
      settled.add(i);
    } else spoil('a control line arrived damaged');
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
  // The library's marker line shows it ran (and is defined from now on).
  const onStdoutBytes = stdoutLines(marker, onLine, () => helperRan(board, program));
  const execOpts = helperExecOptions(board);
  const idleTimeoutMs = helperIdleMs(board);
  const program = senderProgram(paths, compress, marker, {
    chunk: SEND_CHUNK,
    deflate: caps.deflate === 'both' && opts.compress !== false,
    flow,
    raw,
    hashlib: caps.hashlib,
    pollMs: caps.poll ? idleTimeoutMs + 5000 : undefined,
  });
  try {
    await loadHelper(board, program);
    const code = helperSource(board, program);
    if (flow) {
      if (opts.signal?.aborted) throw interrupted();
      const run = await board.start(code, { onStdoutBytes, ...execOpts });
      const writes: Promise<void>[] = [];
      send = (bytes) => writes.push(run.write(bytes).catch(() => {}));
      if (owed.length) send(Uint8Array.from(owed.splice(0)));
      await run.done;
      await Promise.all(writes);
    } else {
      opts.signal?.addEventListener('abort', onAbort);
      if (opts.signal?.aborted) onAbort();
      await board.exec(code, { signal: stop.signal, onStdoutBytes, ...execOpts });
    }
    if (failure !== undefined) throw failure;
    if (broken) throw damagedCommand('the transfer broke off (an answer was damaged or lost on the way); check the cable or lower the baud rate');
    if (stopped) throw interrupted();
  } catch (err) {
    const done = settled.size === paths.length;
    if (failure === undefined && !isBoardError(err, 'INTERRUPTED') && !opts.signal?.aborted && isLinkFault(err)) {
      // What was checked stands (also when only the sender's goodbye was lost); the rest failed with the fault.
      spoil((err as Error).message);
      return results.map((r, i) => (settled.has(i) || done ? r : { ...r, ok: false, code: (err as BoardError).code, error: (err as Error).message }));
    }
    for (const s of sinks) s.abandon();
    if (failure !== undefined) throw failure;
    throw mapBoardException(helperError(board, program, err), paths[Math.max(current, 0)]!);
  } finally {
    opts.signal?.removeEventListener('abort', onAbort);
  }
  for (const [i, r] of results.entries()) {
    if (!settled.has(i)) Object.assign(r, { ok: false, code: 'LINK_DAMAGED', error: spoiled(paths[i]!, 'the board never sent the file').message });
    if (!r.ok) sinks[i]!.abandon();
  }
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

const HOST_TEMP = /^\..+\.boardctl-(\d+)\.tmp$/;

/** A host temp name next to the target, recognisable, unique per process and target, short whatever the name. */
function hostTempPath(dest: string): string {
  const name = basename(dest);
  const tag = createHash('sha256').update(name).digest('hex').slice(0, 8);
  return join(dirname(dest), `.${name.slice(0, 32)}.${tag}.boardctl-${process.pid}.tmp`);
}

/** Temp files a killed boardctl left in `dir` (their process is gone) are removed before new ones appear. */
function clearHostDebris(dir: string): void {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return;
  }
  for (const name of names) {
    const pid = Number(HOST_TEMP.exec(name)?.[1]);
    if (!pid || pid === process.pid || processAlive(pid)) continue;
    rmSync(join(dir, name), { force: true });
  }
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Download board files to host files, each written to a temp file and renamed after size and digest matched. */
export async function downloadFiles(board: Board, items: DownloadItem[], opts: TransferOptions = {}): Promise<FileResult[]> {
  for (const dir of new Set(items.map((i) => dirname(i.dest)))) clearHostDebris(dir);
  const sinks = items.map((item): Sink => {
    const temp = hostTempPath(item.dest);
    let fd: number | undefined;
    const closeFd = () => {
      if (fd !== undefined) closeSync(fd);
      fd = undefined;
    };
    return {
      begin: () => {
        closeFd();
        try {
          fd = openSync(temp, 'w', 0o666);
        } catch (err) {
          // Named after the target (the temp file is ours), in the reason's words only.
          throw fileError(item.dest, err);
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
          return fileError(item.dest, err).message;
        }
      },
      abandon: () => {
        closeFd();
        rmSync(temp, { force: true });
      },
    };
  });
  return receiveFiles(board, items.map((i) => i.src), sinks, opts);
}
