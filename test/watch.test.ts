// `watch`: the edit-run loop as an editor drives it, through the built CLI's --json event stream on the virtual
// board: a save shows its new output within a second, a burst of saves is one run, --delete follows deletions.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { createBoard } from '../emulator/board-store.js';
import { boardctl } from './helpers/boardctl.js';
import { ensureBuilt, MAIN } from './helpers/built-cli.js';
import { WATCH_RUNS } from './helpers/watch-runs.js';

type Event = { event: string; data?: string; uploaded?: string[]; deleted?: string[]; kept?: string[]; ok?: boolean; at: number };

const work = mkdtempSync(join(tmpdir(), 'boardctl-watch-'));
const project = join(work, 'project');
let child: ChildProcess;
const events: Event[] = [];
let waiters: Array<() => void> = [];

/** Resolves with the first event from index `from` on that `match` accepts. */
function next(match: (e: Event) => boolean, from: number, timeoutMs = 30_000): Promise<Event> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no such event; got ${JSON.stringify(events.slice(from))}`)), timeoutMs);
    const check = () => {
      const found = events.slice(from).find(match);
      if (!found) return;
      clearTimeout(timer);
      waiters = waiters.filter((w) => w !== check);
      resolve(found);
    };
    waiters.push(check);
    check();
  });
}

/** The program's output text from index `from` on, up to the end of its run. */
async function runOutput(from: number): Promise<string> {
  const done = await next((e) => e.event === 'done', from);
  return events
    .slice(from, events.indexOf(done))
    .filter((e) => e.event === 'output')
    .map((e) => e.data)
    .join('')
    .replace(/\r\n/g, '\n');
}

beforeAll(async () => {
  await ensureBuilt();
  mkdirSync(project);
  writeFileSync(join(project, 'main.py'), "import helper\nprint('v1', helper.X)\n");
  writeFileSync(join(project, 'helper.py'), 'X = 1\n');
  writeFileSync(join(project, '.boardignore'), '*.swp\n');
  child = spawn(process.execPath, [MAIN, '-p', 'virtual', 'watch', project, ':/app', '--delete', '--json'], {
    env: { ...process.env, BOARDCTL_PORT: '', BOARDCTL_HOME: join(work, 'home'), XDG_CONFIG_HOME: join(work, 'xdg') },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  createInterface({ input: child.stdout! }).on('line', (line) => {
    events.push({ ...(JSON.parse(line) as Event), at: Date.now() });
    for (const w of [...waiters]) w();
  });
  expect(await runOutput(0)).toBe('v1 1\n');
}, 60_000);

afterAll(async () => {
  if (child.exitCode === null) {
    const exited = new Promise((r) => child.once('exit', r));
    child.kill('SIGKILL');
    await exited;
  }
  rmSync(work, { recursive: true, force: true });
});

describe('watch', () => {
  it('shows the new output within 1 s of a save', async () => {
    const from = events.length;
    const saved = Date.now();
    writeFileSync(join(project, 'helper.py'), 'X = 2\n');
    const shown = await next((e) => e.event === 'output' && e.data!.includes('2'), from);
    expect(await runOutput(from)).toBe('v1 2\n');
    expect(shown.at - saved).toBeLessThan(1000);
  });

  it('runs once for ten saves within 100 ms, and leaves files .boardignore names on the host', async () => {
    const from = events.length;
    for (let i = 1; i <= 10; i++) {
      writeFileSync(join(project, 'main.py'), `print('burst', ${i})\n`);
      writeFileSync(join(project, '.main.py.swp'), `${i}`);
      // 10 ms apart by the clock: a timer asked for 10 ms may fire after the watcher's 100 ms debounce under load.
      for (const t = Date.now() + 10; Date.now() < t; );
    }
    expect(await runOutput(from)).toBe('burst 10\n');
    await new Promise((r) => setTimeout(r, 800));
    expect(events.slice(from).filter((e) => e.event === 'run')).toHaveLength(1);
    expect(events.find((e, i) => i >= from && e.event === 'sync')!.uploaded).toEqual(['main.py']);
  });

  it('removes a deleted file from the board with --delete, and keeps the files the folder never had', async () => {
    const from = events.length;
    writeFileSync(join(project, 'main.py'), "import os\nwith open('log.txt', 'w') as f:\n    f.write('run')\nprint(sorted(os.listdir()))\n");
    unlinkSync(join(project, 'helper.py'));
    const sync = await next((e) => e.event === 'sync' && (e.deleted ?? []).length > 0, from);
    expect(sync.deleted).toEqual(['helper.py']);
    expect(await runOutput(from)).toBe("['log.txt', 'main.py']\n");
    // The program's log.txt is not the folder's: the next sync leaves it, and says so once.
    const again = events.length;
    writeFileSync(join(project, 'main.py'), "import os\nprint(sorted(os.listdir()), open('log.txt').read())\n");
    expect(await runOutput(again)).toBe("['log.txt', 'main.py'] run\n");
    expect(events.find((e, i) => i >= again && e.event === 'sync')).toMatchObject({ uploaded: ['main.py'], deleted: [], kept: ['log.txt'] });
  });

  it("reloads the project's modules between runs and keeps one imported from / before (as boot.py would)", async () => {
    createBoard('watch-runs', { home: join(work, 'home') });
    const r = await boardctl(['-p', 'virtual:watch-runs', ...WATCH_RUNS.chain], { BOARDCTL_HOME: join(work, 'home') });
    expect([r.code, r.stderr, r.stdout.replace(/\r\n/g, '\n')]).toEqual([0, '', WATCH_RUNS.stdout]);
  });

  it('stops cleanly at Ctrl-C', async () => {
    const exited = new Promise<number | null>((r) => child.once('exit', r));
    child.kill('SIGINT');
    expect(await exited).toBe(0);
    expect(events.at(-1)).toMatchObject({ command: 'watch', ok: true });
  });
});
