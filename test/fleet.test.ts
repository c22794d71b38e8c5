// Fleet runs (issue 19.1): one command line on several boards at once, each line with its board's name, one
// JSON document per board plus a summary, and a board that vanishes mid-run failing alone. Kept at 3 boards:
// each is a VM worker of its own.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFile, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { cliPath, startCli, stopAllCli } from './helpers/serve-cli.js';
import { fleetArgs, fleetPorts, fleetSummary, LinePrefixer, runFleet } from '../cli/fleet.js';

const home = mkdtempSync(join(tmpdir(), 'boardctl-fleet-run-'));
const env = { ...process.env, BOARDCTL_HOME: home };
const run = promisify(execFile);
const boards = ['virtual:fa', 'virtual:fb', 'virtual:fc'];

beforeAll(async () => {
  for (const b of boards) await run(process.execPath, [cliPath, 'sim', 'create', b.slice('virtual:'.length)], { env });
}, 60_000);
afterAll(async () => {
  await stopAllCli();
  rmSync(home, { recursive: true, force: true });
});

/** `boardctl ARGS…` to its end, whatever its exit status. */
async function boardctl(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return run(process.execPath, [cliPath, ...args], { env, maxBuffer: 1 << 24 }).then(
    ({ stdout, stderr }) => ({ code: 0, stdout, stderr }),
    (err: { code: number; stdout: string; stderr: string }) => ({ code: err.code, stdout: err.stdout, stderr: err.stderr }),
  );
}

/** Lines of `text` that start with `board: `, without the prefix (and the board's \r). */
const linesOf = (text: string, board: string) =>
  text.split('\n').filter((l) => l.startsWith(`${board}: `)).map((l) => l.slice(board.length + 2).replace(/\r$/, ''));

describe('a command line on several boards', () => {
  it('prints three different unique ids, each line prefixed by its board', async () => {
    const r = await boardctl('-p', boards.join(','), 'exec', 'import machine; print(machine.unique_id())');
    expect(r.code, r.stderr).toBe(0);
    const ids = boards.map((b) => linesOf(r.stdout, b));
    // A bytes repr: in double quotes when the random id holds a ' and no " (as CPython's).
    for (const id of ids) expect(id).toEqual([expect.stringMatching(/^b(['"]).+\1$/)]);
    expect(new Set(ids.map((i) => i[0])).size).toBe(3);
    expect(r.stdout.trim().split('\n')).toHaveLength(3); // nothing without a board's name
  }, 120_000);

  it('runs a cp + exec chain on every board in parallel, and --json gives one document per board plus a summary', async () => {
    const local = join(home, 'greet.py');
    writeFileSync(local, "import machine\nNAME = 'board-' + machine.unique_id().hex()\n");
    const r = await boardctl('--json', '-p', boards.join(','), '--jobs', '3', 'cp', local, ':greet.py', '+', 'exec', 'import greet; print(greet.NAME)');
    expect(r.code, r.stderr).toBe(0);
    const docs = r.stdout.trim().split('\n').map((l) => JSON.parse(l));
    expect(docs).toHaveLength(4);
    const perBoard = docs.slice(0, 3);
    expect(perBoard.map((d) => d.board).sort()).toEqual(boards);
    const names = new Set<string>();
    for (const d of perBoard) {
      expect(d).toMatchObject({ ok: true, exitCode: 0 });
      expect(d.documents.map((x: { command: string }) => x.command)).toEqual(['cp', 'exec']);
      names.add(d.documents[1].stdout.trim());
    }
    expect([...names].every((n) => /^board-[0-9a-f]{12}$/.test(n))).toBe(true);
    expect(names.size).toBe(3);
    expect(docs[3]).toEqual({ fleet: true, ok: true, boards: 3, succeeded: expect.arrayContaining(boards), failed: [] });
  }, 120_000);

  it('a board that disappears mid-run fails alone, with a clear line, and the exit status says so', async () => {
    // The third board is served by a process of its own, killed while the program runs.
    const { child: server, lines } = await startCli(['sim', 'serve', '--create', 'gone', '--tcp', '127.0.0.1:0'], env);
    const gone = `socket://${/^tcp: (\S+)/.exec(lines[0]!)![1]}`;
    const fleet = spawn(process.execPath, [cliPath, '-p', [...boards.slice(0, 2), gone].join(','), 'exec', 'import time\nfor i in range(25):\n    print(i)\n    time.sleep(0.2)\n'], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    fleet.stderr!.on('data', (d) => (stderr += d));
    const done = new Promise<number | null>((resolve) => fleet.on('close', resolve));
    await new Promise<void>((resolve) => {
      fleet.on('close', () => resolve()); // it ended early: the checks below say how
      fleet.stdout!.on('data', (d) => {
        stdout += d;
        if (linesOf(stdout, gone).includes('3')) resolve();
      });
    });
    server.kill('SIGKILL');
    const code = await done;
    for (const b of boards.slice(0, 2)) expect(linesOf(stdout, b)).toEqual(Array.from({ length: 25 }, (_, i) => String(i)));
    expect(linesOf(stdout, gone).length).toBeLessThan(25);
    expect(linesOf(stderr, gone).join('\n')).toMatch(/^boardctl: exec: .*(closed|lost|went away)/m);
    expect(stderr).toMatch(new RegExp(`^boardctl: 1 of 3 boards failed: ${gone.replace(/[.:/]/g, '\\$&')} \\(exit 6\\)$`, 'm'));
    expect(code).toBe(6); // LINK_LOST, the failed board's own status
  }, 120_000);

  it('Ctrl-C interrupts the program on every board and stops them all', async () => {
    const fleet = spawn(process.execPath, [cliPath, '-p', boards.join(','), 'exec', "import time\nprint('up')\nwhile True:\n    time.sleep(0.05)\n"], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    fleet.stderr!.on('data', (d) => (stderr += d));
    const done = new Promise<number | null>((resolve) => fleet.on('close', resolve));
    await new Promise<void>((resolve) => {
      fleet.on('close', () => resolve());
      fleet.stdout!.on('data', (d) => {
        stdout += d;
        if (boards.every((b) => linesOf(stdout, b).includes('up'))) resolve();
      });
    });
    fleet.kill('SIGINT');
    expect(await done).toBe(130);
    for (const b of boards) expect(linesOf(stderr, b).join('\n')).toMatch(/KeyboardInterrupt|interrupted/);
  }, 120_000);

  it('flashes a fleet: write-flash on every board, each verified', async () => {
    const image = join(home, 'image.bin');
    writeFileSync(image, randomBytes(64 * 1024));
    const r = await boardctl('-p', boards.slice(0, 2).join(','), 'flash', 'write-flash', '0x300000', image);
    expect(r.code, r.stderr).toBe(0);
    for (const b of boards.slice(0, 2)) expect(linesOf(r.stdout + r.stderr, b).join('\n')).toMatch(/Wrote 65536 bytes[^]*Hash of data verified/);
  }, 120_000);

  it('expands virtual:* over the stored virtual boards', async () => {
    const r = await boardctl('-p', 'virtual:f[*', 'exec', 'print(1)');
    expect(r.code).toBe(3); // nothing is named like that: the glob has no match
    const all = await boardctl('-p', 'virtual:f?', 'exec', 'print(6 * 7)');
    expect(all.code, all.stderr).toBe(0);
    expect(boards.map((b) => linesOf(all.stdout, b))).toEqual([['42'], ['42'], ['42']]);
  }, 60_000);

  it('refuses what needs one board, and names a list entry twice', async () => {
    const repl = await boardctl('-p', boards.join(','), 'repl');
    expect(repl.code).toBe(2);
    expect(repl.stderr).toMatch(/repl works on one board at a time/);
    const twice = await boardctl('-p', 'virtual:fa,virtual:fa', 'exec', 'print(1)');
    expect(twice.code).toBe(2);
    expect(twice.stderr).toMatch(/virtual:fa is in the list twice/);
  }, 60_000);
});

describe('fleet core', () => {
  it('takes -p, --jobs and --all from the global options and leaves the rest to every board', () => {
    expect(fleetArgs(['-p', 'a0,u1', '--jobs', '2', '--baud', '9600', 'exec', '-p', '+', 'cp', 'x', ':'])).toEqual({
      port: 'a0,u1', jobs: 2, all: false, rest: ['--baud', '9600', 'exec', '-p', '+', 'cp', 'x', ':'],
    });
    expect(fleetArgs(['--port=virtual:a,virtual:b', '--all', '--json', 'ls'])).toMatchObject({ port: 'virtual:a,virtual:b', all: true, rest: ['--json', 'ls'] });
    expect(() => fleetArgs(['--jobs', '0', 'ls'])).toThrow(/--jobs: '0'/);
  });

  it('expands globs over found ports by path, device name or short name; --all takes the known boards', () => {
    const found = [{ path: '/dev/ttyUSB0', board: 'CP210x' }, { path: '/dev/ttyUSB1' }, { path: '/dev/ttyACM0', board: 'Pico' }, { path: '/dev/ttyS0' }];
    expect(fleetPorts({ port: 'u*' }, found)).toEqual(['/dev/ttyUSB0', '/dev/ttyUSB1']);
    expect(fleetPorts({ port: 'ttyACM?,virtual:x' }, found)).toEqual(['/dev/ttyACM0', 'virtual:x']);
    expect(fleetPorts({ port: 'u0' }, found)).toBeUndefined(); // one board: the ordinary path
    expect(fleetPorts({ port: 'virtual:x?baud=9600' }, found)).toBeUndefined(); // options, not a pattern
    expect(fleetPorts({ port: 'virtual:x?faults=drop:1e-4,delay:1e-4@50,seed=7' }, found)).toBeUndefined();
    expect(fleetPorts({ port: 'virtual:x?faults=drop:0.01,seed=7,virtual:y,u1' }, found)).toEqual(['virtual:x?faults=drop:0.01,seed=7', 'virtual:y', 'u1']);
    expect(fleetPorts({ port: 'v*?baud=9600' }, [{ path: 'virtual:a' }, { path: 'virtual:b' }])).toEqual(['virtual:a?baud=9600', 'virtual:b?baud=9600']);
    expect(fleetPorts({ all: true }, found)).toEqual(['/dev/ttyUSB0', '/dev/ttyACM0']);
    expect(() => fleetPorts({ port: 'c*' }, found)).toThrow(/-p c\*: no port matches/);
    expect(() => fleetPorts({ port: 'a0,,u0' }, found)).toThrow(/empty name/);
  });

  it('runs at most --jobs boards at a time, and none once stopped', async () => {
    let running = 0;
    let most = 0;
    const stop = new AbortController();
    const runs = await runFleet(['a', 'b', 'c', 'd', 'e'], 2, async (board) => {
      most = Math.max(most, ++running);
      await new Promise((r) => setTimeout(r, 20));
      running--;
      if (board === 'c') stop.abort();
      return { board, exitCode: board === 'b' ? 6 : 0, started: true };
    }, stop.signal);
    expect(most).toBe(2);
    expect(runs.map((r) => [r.board, r.exitCode, r.started])).toEqual([['a', 0, true], ['b', 6, true], ['c', 0, true], ['d', 0, true], ['e', 130, false]]);
    expect(fleetSummary(runs)).toMatchObject({ ok: false, exitCode: 1, line: '2 of 5 boards failed: b (exit 6), e (not started)' });
    expect(fleetSummary(runs.slice(0, 2))).toMatchObject({ exitCode: 6 });
    expect(fleetSummary([runs[0]!])).toEqual({ ok: true, exitCode: 0, failed: [] });
  });

  it('prefixes whole lines only, and the last partial line at the end', () => {
    const got: string[] = [];
    const p = new LinePrefixer('u0: ', (t) => got.push(t));
    p.push('a\nb');
    p.push('c\n\nd');
    p.end();
    expect(got.join('')).toBe('u0: a\nu0: bc\nu0: \nu0: d\n');
  });
});
