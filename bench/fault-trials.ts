// Seeded trials of cp up, cp down and exec through the fault-injecting link (protocol/transports/faults.ts)
// against a virtual board, each judged against what really landed: the bytes on the board (read back over
// a clean link), the host file, or the side effect of the program. Shared by bench/faults.ts (200 trials per
// rate, numbers) and test/fault-trials.test.ts (40 trials in CI, zero silent corruptions, zero hangs).
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { openBoard } from '../cli/api.js';
import type { Board } from '../protocol/board.js';
import { isBoardError } from '../protocol/errors.js';
import { downloadFiles } from '../protocol/fs/download.js';
import { setHelperIdleTimeout } from '../protocol/fs/helper.js';
import { uploadFiles, type FileResult } from '../protocol/fs/upload.js';
import type { RawReplClient } from '../protocol/raw-repl.js';

export type TrialKind = 'upload' | 'download' | 'exec';
export type Verdict =
  /** Right bytes (or right program effect) on the first try. */
  | 'ok'
  /** Right bytes after the transfer was sent again. */
  | 'ok-after-retry'
  /** A clear error, and nothing half-written. */
  | 'failed-clearly'
  /** Reported success with wrong data, or left wrong data behind: must never happen. */
  | 'silent-wrong'
  /** No answer within the trial's wall deadline: must never happen. */
  | 'hung'
  /** exec: the program ran as sent, but its printed output was damaged on the way back (a terminal stream has no check). */
  | 'output-damaged';

export interface Trial {
  kind: TrialKind;
  seed: number;
  verdict: Verdict;
  ms: number;
  detail?: string;
}

export interface TrialOptions {
  /** Virtual board to use (it must exist). */
  board: string;
  /** Probability that a byte is faulted, in either direction: a drop, a flipped bit, a duplicate or a 20 ms delay, a quarter each. */
  rate: number;
  count: number;
  /** Host folder for downloads. */
  hostDir: string;
  firstSeed?: number;
  /** Bytes per transferred file (default 4 KB, the size of a typical module). */
  size?: number;
  /** A trial taking longer than this counts as hung. */
  wallMs?: number;
  onTrial?: (t: Trial) => void;
}

const sha = (d: Uint8Array) => createHash('sha256').update(d).digest('hex');

/** Deterministic content per seed: Python-like text for even seeds (deflated on the wire), bytes for odd. */
function content(seed: number, size: number): Buffer {
  let x = (seed * 2654435761) >>> 0 || 1;
  const next = () => ((x ^= x << 13), (x ^= x >>> 17), (x ^= x << 5), x >>> 0);
  if (seed % 2) return Buffer.from(Array.from({ length: size }, () => next() & 0xff));
  let text = '';
  while (text.length < size) text += `value_${next() % 1000} = ${next() % 100000}  # trial ${seed}\n`;
  return Buffer.from(text.slice(0, size));
}

const kindOf = (seed: number): TrialKind => (['upload', 'download', 'exec'] as const)[seed % 3]!;
const boardFile = (kind: TrialKind, seed: number) => `/ft/${kind[0]}${seed}${seed % 2 ? '.bin' : '.py'}`;
const OLD = (seed: number) => Buffer.from(`old contents of trial ${seed}\n`);
const execValue = (seed: number) => String(seed * 7919 + 1);

async function clean(name: string): Promise<Board> {
  return openBoard(`virtual:${name}`);
}

/** Board file contents by path (absent: undefined), over a clean link. */
async function readBack(board: Board, paths: string[]): Promise<Map<string, string | undefined>> {
  const code = [
    'import hashlib,binascii',
    `for p in ${JSON.stringify(paths)}:`,
    ' try:print(p,binascii.hexlify(hashlib.sha256(open(p,"rb").read()).digest()).decode())',
    ' except OSError:print(p,"-")',
  ].join('\n');
  const out = new Map<string, string | undefined>();
  for (const line of (await board.exec(code)).stdout.split(/\r?\n/)) {
    const [p, h] = line.split(' ');
    if (p) out.set(p, h === '-' ? undefined : h);
  }
  return out;
}

async function withDeadline<T>(ms: number, work: Promise<T>): Promise<T | 'hung'> {
  let timer: NodeJS.Timeout | undefined;
  const hung = new Promise<'hung'>((r) => (timer = setTimeout(() => r('hung'), ms)));
  try {
    return await Promise.race([work, hung]);
  } finally {
    clearTimeout(timer);
  }
}

const retried = (r: FileResult | undefined) => (r?.attempts ?? 1) > 1;

export async function runTrials(opts: TrialOptions): Promise<Trial[]> {
  const size = opts.size ?? 4096;
  const first = opts.firstSeed ?? 1;
  const seeds = Array.from({ length: opts.count }, (_, i) => first + i);
  const wallMs = opts.wallMs ?? 120_000;
  // Set-up over a clean link: old contents for the upload targets, the files to download.
  const setup = await clean(opts.board);
  try {
    await setup.exec("import os\ntry:os.mkdir('/ft')\nexcept OSError:pass");
    const files = seeds.filter((s) => kindOf(s) !== 'exec').map((s) => ({ dest: boardFile(kindOf(s), s), data: kindOf(s) === 'upload' ? OLD(s) : content(s, size) }));
    const res = await uploadFiles(setup, files);
    if (!res.every((r) => r.ok)) throw new Error('fault trials: set-up upload failed on a clean link');
    await setup.exec(`import os\nfor s in ${JSON.stringify(seeds)}:\n try:os.remove('/ft/e%d'%s)\n except OSError:pass`);
  } finally {
    await setup.close();
  }

  const trials: Trial[] = [];
  const pending: { trial: Trial; check: (board: Map<string, string | undefined>) => void }[] = [];
  const r = opts.rate / 4;
  for (const seed of seeds) {
    const kind = kindOf(seed);
    const started = Date.now();
    const trial: Trial = { kind, seed, verdict: 'failed-clearly', ms: 0 };
    let board: RawReplClient | undefined;
    const work = (async () => {
      board = (await openBoard(`virtual:${opts.board}?faults=drop:${r},flip:${r},dup:${r},delay:${r}@20,seed=${seed}`, {
        replyTimeoutMs: 1500,
        enterTimeoutMs: 6000,
      })) as RawReplClient;
      setHelperIdleTimeout(board, 2500);
      const data = content(seed, size);
      const path = boardFile(kind, seed);
      if (kind === 'upload') {
        const [res] = await uploadFiles(board, [{ dest: path, data }]);
        pending.push({
          trial,
          check: (onBoard) => {
            const now = onBoard.get(path);
            if (res?.ok) trial.verdict = now === sha(data) ? (retried(res) ? 'ok-after-retry' : 'ok') : 'silent-wrong';
            else if (now !== sha(data) && now !== sha(OLD(seed))) trial.verdict = 'silent-wrong';
            if (trial.verdict === 'silent-wrong') trial.detail = `reported ${res?.ok ? 'success' : res?.error}, board has ${now}`;
            else if (!res?.ok) trial.detail = res?.error;
          },
        });
      } else if (kind === 'download') {
        const dest = join(opts.hostDir, `d${seed}${seed % 2 ? '.bin' : '.py'}`);
        const [res] = await downloadFiles(board, [{ src: path, dest }]);
        const got = existsSync(dest) ? sha(readFileSync(dest)) : undefined;
        if (res?.ok) trial.verdict = got === sha(data) ? (retried(res) ? 'ok-after-retry' : 'ok') : 'silent-wrong';
        else if (got !== undefined) trial.verdict = 'silent-wrong'; // a failed download must leave no file
        trial.detail = trial.verdict === 'silent-wrong' ? `reported ${res?.ok ? 'success' : res?.error}, host has ${got}` : res?.error;
      } else {
        const value = execValue(seed);
        const out = await board.exec(`v=${seed}*7919+1\nf=open('/ft/e${seed}','w')\nf.write(str(v))\nf.close()\nprint(v)`);
        const printed = out.stdout.trim();
        pending.push({
          trial,
          check: (onBoard) => {
            const effect = onBoard.get(`/ft/e${seed}`);
            if (effect !== sha(Buffer.from(value))) {
              trial.verdict = 'silent-wrong';
              trial.detail = `the program ran damaged (printed ${JSON.stringify(printed)})`;
            } else trial.verdict = printed === value ? 'ok' : 'output-damaged';
          },
        });
      }
    })();
    const outcome = await withDeadline(
      wallMs,
      work.then(
        () => undefined,
        (err: unknown) => err,
      ),
    );
    if (outcome === 'hung') trial.verdict = 'hung';
    else if (outcome !== undefined) {
      trial.verdict = 'failed-clearly';
      trial.detail = isBoardError(outcome)
        ? `${outcome.code}: ${outcome.message.slice(0, 120)}${outcome.code === 'DEVICE_EXCEPTION' ? ` [${String(outcome.details.traceback ?? '')}]` : ''}`
        : `not a BoardError: ${String(outcome)}`;
      if (!isBoardError(outcome)) trial.verdict = 'silent-wrong';
      // Even a failed exec must not have run damaged: judged with the others below.
      if (kind === 'exec') {
        const detail = trial.detail;
        pending.push({
          trial,
          check: (onBoard) => {
            const effect = onBoard.get(`/ft/e${seed}`);
            if (effect !== undefined && effect !== sha(Buffer.from(execValue(seed)))) {
              trial.verdict = 'silent-wrong';
              trial.detail = `the program ran damaged, then: ${detail}`;
            }
          },
        });
      }
      if (kind === 'upload') pending.push({ trial, check: (onBoard) => void (![sha(content(seed, size)), sha(OLD(seed))].includes(onBoard.get(boardFile(kind, seed)) ?? '') && (trial.verdict = 'silent-wrong')) });
    }
    await withDeadline(5000, (board as RawReplClient | undefined)?.abandon() ?? Promise.resolve());
    trial.ms = Date.now() - started;
    trials.push(trial);
  }
  // Judge against what really landed on the board, over a clean link.
  const verify = await clean(opts.board);
  try {
    const paths = seeds.map((s) => (kindOf(s) === 'exec' ? `/ft/e${s}` : boardFile(kindOf(s), s)));
    const onBoard = await readBack(verify, paths);
    for (const p of pending) p.check(onBoard);
  } finally {
    await verify.close();
  }
  for (const t of trials) opts.onTrial?.(t);
  return trials;
}

/** Counts per verdict. */
export function tally(trials: Trial[]): Record<Verdict, number> {
  const out: Record<Verdict, number> = { ok: 0, 'ok-after-retry': 0, 'failed-clearly': 0, 'silent-wrong': 0, hung: 0, 'output-damaged': 0 };
  for (const t of trials) out[t.verdict]++;
  return out;
}
