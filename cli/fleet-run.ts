// The CLI side of fleet runs: each board's command line runs in a boardctl process of its own (a board that
// hangs, crashes or vanishes fails alone), its lines prefixed with the board's name, or with --json collected
// into one document per board plus a summary. Ctrl-C is passed on to every board, as it would reach one.
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { constants, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { BoardError } from '../protocol/errors.js';
import { commandOf, withDefaultCommand } from './chain.js';
import { fleetSummary, LinePrefixer, runFleet, type BoardRun } from './fleet.js';
import type { Output } from './output.js';

/** Commands that need the user's terminal or hold a port for good: one board at a time. */
const SINGLE_BOARD = new Set(['repl', 'tui', 'share', 'devs']);
const DEFAULT_JOBS = 8;

// '../cli/': the same file from dist/cli and from the bundle's dist/chunks.
const cliPath = fileURLToPath(new URL('../cli/boardctl.cjs', import.meta.url));

/** `--junit FILE` in a board's command line, so each board writes its own and the fleet merges them. */
function junitArg(rest: string[]): { at: number; file: string; inline: boolean } | undefined {
  for (const [at, a] of rest.entries()) {
    if (a === '--junit' && at + 1 < rest.length) return { at, file: rest[at + 1]!, inline: false };
    if (a.startsWith('--junit=')) return { at, file: a.slice('--junit='.length), inline: true };
  }
  return undefined;
}

function withJunit(rest: string[], junit: NonNullable<ReturnType<typeof junitArg>>, file: string): string[] {
  const args = rest.slice();
  if (junit.inline) args[junit.at] = `--junit=${file}`;
  else args[junit.at + 1] = file;
  return args;
}

interface FleetCliOptions {
  boards: string[];
  jobs?: number;
  rest: string[];
  json: boolean;
  out: Output;
  signal: AbortSignal;
}

/** Run the command line on every board; returns the exit status (0 only if every board succeeded). */
export async function runFleetCli(o: FleetCliOptions): Promise<number> {
  const command = commandOf(withDefaultCommand(o.rest)) ?? 'repl';
  if (SINGLE_BOARD.has(command)) throw new BoardError('USAGE', `${command} works on one board at a time; -p gave ${o.boards.length}`);
  const junit = junitArg(o.rest);
  const scratch = junit ? mkdtempSync(join(tmpdir(), 'boardctl-fleet-')) : undefined;
  const children = new Set<ReturnType<typeof spawn>>();
  // Ctrl-C: each board's process gets it (it interrupts that board's program); a second one stops them.
  const forward = (sig: NodeJS.Signals) => () => children.forEach((c) => c.kill(sig));
  const onInt = forward('SIGINT');
  const onTerm = forward('SIGTERM');
  process.prependListener('SIGINT', onInt); // before main's, whose second Ctrl-C exits at once
  process.once('SIGTERM', onTerm);
  const docs: unknown[] = [];
  try {
    const runs = await runFleet(
      o.boards,
      o.jobs ?? DEFAULT_JOBS,
      (board) =>
        new Promise<BoardRun>((resolve) => {
          const index = o.boards.indexOf(board);
          const args = junit ? withJunit(o.rest, junit, join(scratch!, `${index}.xml`)) : o.rest;
          // Its own process group: a terminal's Ctrl-C reaches the fleet, which passes it on once.
          const child = spawn(process.execPath, [...process.execArgv, cliPath, ...args], {
            env: { ...process.env, BOARDCTL_PORT: board },
            stdio: ['ignore', 'pipe', 'pipe'],
            detached: true,
          });
          children.add(child);
          const prefix = `${board}: `;
          const stdout = new LinePrefixer(prefix, (t) => o.out.text(t));
          const stderr = new LinePrefixer(prefix, (t) => o.out.error(t));
          let jsonText = '';
          child.stdout!.setEncoding('utf8').on('data', (t: string) => (o.json ? (jsonText += t) : stdout.push(t)));
          child.stderr!.setEncoding('utf8').on('data', (t: string) => stderr.push(t));
          child.on('error', (err) => stderr.push(`boardctl: could not start a process for the board: ${err.message}\n`));
          child.on('close', (code, signal) => {
            children.delete(child);
            stdout.end();
            if (signal) stderr.push(`boardctl: the board's process was ended by ${signal}\n`);
            stderr.end();
            // Ended by a signal: the shell's 128 + N.
            const run: BoardRun = { board, exitCode: code ?? 128 + (constants.signals[signal!] ?? 0), started: true, ...(signal ? { signal } : {}) };
            if (o.json) {
              const documents = jsonText.split('\n').filter((l) => l.trim()).map((l) => {
                try {
                  return JSON.parse(l) as unknown;
                } catch {
                  return { text: l };
                }
              });
              const doc = { board, ok: run.exitCode === 0, exitCode: run.exitCode, ...(signal ? { signal } : {}), documents };
              docs.push(doc);
              o.out.doc(doc);
            }
            resolve(run);
          });
        }),
      o.signal,
    );
    const summary = fleetSummary(runs);
    for (const r of runs.filter((x) => !x.started)) o.out.doc({ board: r.board, ok: false, exitCode: r.exitCode, started: false, documents: [] });
    o.out.doc({ fleet: true, ok: summary.ok, boards: runs.length, succeeded: runs.filter((r) => r.exitCode === 0).map((r) => r.board), failed: summary.failed.map((r) => ({ board: r.board, exitCode: r.exitCode, ...(r.signal ? { signal: r.signal } : {}), started: r.started })) });
    if (junit) await mergeBoardReports(runs.map((_, i) => join(scratch!, `${i}.xml`)), junit.file);
    if (summary.line) o.out.note(summary.line);
    return summary.exitCode;
  } finally {
    process.removeListener('SIGINT', onInt);
    process.removeListener('SIGTERM', onTerm);
    if (scratch) rmSync(scratch, { recursive: true, force: true });
  }
}

/** One JUnit file from every board's (a board that wrote none, e.g. it was not reached, adds nothing). */
async function mergeBoardReports(files: string[], into: string): Promise<void> {
  const { mergeJunit } = await import('../protocol/test-report.js');
  const reports = files.flatMap((f) => {
    try {
      return [readFileSync(f, 'utf8')];
    } catch {
      return [];
    }
  });
  try {
    writeFileSync(into, mergeJunit(reports));
  } catch (err) {
    const { fileError } = await import('../protocol/host-error.js');
    throw fileError(into, err);
  }
}
