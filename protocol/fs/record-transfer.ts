// Uploads and downloads through a link's own file records (the WebREPL's put and get, as webrepl_cli.py and the
// browser client move files), used instead of the raw-REPL programs when the peer answers them. On the firmware
// a request for a file that cannot be opened raises inside the board's dupterm read, which drops the WebREPL
// session: so paths are checked in one exec first, and only openable ones are requested. Uploads land in a temp
// file next to the target and are renamed over it (size checked) in one exec at the end, so a broken link never
// leaves a half-written target.
import type { Board } from '../board.js';
import { BoardError } from '../errors.js';
import type { FileRecords } from '../transport.js';
import { boardDirname, joinBoardPath } from './board-path.js';
import { errnoText } from './errno.js';
import { helperLines } from './helper.js';
import { scoped, TEMP_PREFIX } from './snippets.js';
import { pyStr } from './wire.js';
import { statPaths } from './operations.js';
import type { FileResult, TransferOptions, UploadItem } from './upload.js';

const ENOTDIR = 20;
const EISDIR = 21;
const EIO = 5;

/** The link's file records, when the peer answers them and the caller did not ask for the raw-REPL path. */
export async function recordsOf(board: Board, opts: TransferOptions): Promise<FileRecords | undefined> {
  const records = board.transport.records;
  if (!records || opts.records === false || opts.channel || opts.downloadChannel) return undefined;
  return (await records.available()) ? records : undefined;
}

const fits = (records: FileRecords, path: string) => Buffer.byteLength(path) <= records.maxName;

const interrupted = () => new BoardError('INTERRUPTED', 'interrupted by Ctrl-C');

const refused = (status: number): Partial<FileResult> => ({ errno: EIO, error: `the board refused the file (WebREPL status ${status})` });

/** Board temp names of a batch's uploads, next to their targets; undefined when one is too long for a request. */
export function recordTempNames(records: FileRecords, items: UploadItem[]): string[] | undefined {
  const temp = items.map((it, i) => joinBoardPath(boardDirname(it.dest), `${TEMP_PREFIX}w${i}`));
  return temp.every((t) => fits(records, t)) ? temp : undefined;
}

/** Upload `items` to their temp names (recordTempNames), then rename them over their targets, whose directories exist. */
export async function uploadByRecords(board: Board, records: FileRecords, items: UploadItem[], temp: string[], opts: TransferOptions): Promise<FileResult[]> {
  const todo = items.map((it, i) => ({ it, tmp: temp[i]!, i }));
  const results = new Array<FileResult>(items.length);
  const dirs = [...new Set(todo.map(({ it }) => boardDirname(it.dest)))];
  const dirOk = new Map((await statPaths(board, dirs)).map((s, i) => [dirs[i]!, s.ok ? (s.value.kind === 'dir' ? 0 : ENOTDIR) : s.errno]));
  const sent: typeof todo = [];
  for (const job of todo) {
    if (opts.signal?.aborted) throw interrupted();
    const base: FileResult = { path: job.it.dest, board: true, size: job.it.data.length, ok: false, wireBytes: job.it.data.length };
    const errno = dirOk.get(boardDirname(job.it.dest))!;
    if (errno) {
      results[job.i] = { ...base, errno, error: errnoText(errno) };
      continue;
    }
    const status = await records.put(job.tmp, job.it.data);
    if (status !== 0) {
      results[job.i] = { ...base, ...refused(status) };
      continue;
    }
    sent.push(job);
    opts.onProgress?.({ file: job.it.dest, bytesDone: job.it.data.length, bytesTotal: job.it.data.length });
  }
  if (sent.length) {
    const lines = await helperLines(board, renameSource(sent.map(({ it, tmp }) => [tmp, it.dest, it.data.length])));
    const outcome = new Map(lines.map((l) => l.split(' ')).map(([k, i, e]) => [Number(i), k === 'OK' ? 0 : Number(e)]));
    sent.forEach(({ it, i: at }, i) => {
      const base: FileResult = { path: it.dest, board: true, size: it.data.length, ok: false, wireBytes: it.data.length };
      const errno = outcome.get(i);
      if (errno === 0) results[at] = { ...base, ok: true };
      else if (errno === undefined || errno < 0) results[at] = { ...base, code: 'LINK_DAMAGED', error: `:${it.dest}: the data arrived incomplete (size mismatch)` };
      else results[at] = { ...base, errno, error: errnoText(errno) };
    });
  }
  return results;
}

/** Each temp file checked for its size and renamed over its target (a target that is a directory stays). */
function renameSource(moves: [string, string, number][]): string {
  return scoped([
    'import os',
    'def M(t,d,n):',
    ' if os.stat(t)[6]!=n:os.remove(t);return -2',
    ' try:',
    `  if os.stat(d)[0]&0x4000:os.remove(t);return ${EISDIR}`,
    ' except OSError:pass',
    ' try:os.rename(t,d)',
    ' except OSError:os.remove(d);os.rename(t,d)',
    ' return 0',
    `for i,(t,d,n) in enumerate([${moves.map(([t, d, n]) => `(${pyStr(t)},${pyStr(d)},${n})`).join(',')}]):`,
    ' try:r=M(t,d,n)',
    ' except OSError as x:r=x.args[0]',
    " print('OK' if r==0 else 'E',i,r)",
  ]);
}

/** Where a download's bytes go (a host temp file, memory). */
export interface RecordSink {
  begin(size: number): void;
  data(bytes: Uint8Array): void;
  /** The file arrived whole and checked; returns an error text if it cannot be kept. */
  end(): string | undefined;
  abandon(): void;
}

/** Whether every path of a download batch fits in a request. */
export function recordsCarry(records: FileRecords, paths: string[]): boolean {
  return paths.every((p) => fits(records, p));
}

/** Download `paths` into their sinks: regular files only (stated first), each in one get. */
export async function receiveByRecords(board: Board, records: FileRecords, paths: string[], sinks: RecordSink[], opts: TransferOptions): Promise<FileResult[]> {
  const stats = await statPaths(board, paths);
  const results: FileResult[] = [];
  for (const [i, path] of paths.entries()) {
    if (opts.signal?.aborted) throw interrupted();
    const st = stats[i]!;
    const base: FileResult = { path, board: true, size: 0, ok: false };
    if (!st.ok || st.value.kind === 'dir') {
      const errno = st.ok ? EISDIR : st.errno;
      results.push({ ...base, errno, error: errnoText(errno) });
      continue;
    }
    const got = await records.get(path, st.value.size);
    if (typeof got === 'number') {
      results.push({ ...base, ...refused(got) });
      continue;
    }
    const sink = sinks[i]!;
    sink.begin(got.length);
    sink.data(got);
    const problem = sink.end();
    results.push(problem ? { ...base, size: got.length, error: problem, code: 'LOCAL_IO' } : { ...base, size: got.length, ok: true, wireBytes: got.length });
    opts.onProgress?.({ file: path, bytesDone: got.length, bytesTotal: got.length });
  }
  return results;
}
