// Named boards and macros from the user's config and the project's boardctl.json, and output scripts can use.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { expandMacros, loadConfig, splitWords } from '../cli/config.js';
import { isBoardError } from '../protocol/errors.js';
import { boardctl } from './helpers/boardctl.js';
import { ensureBuilt, MAIN } from './helpers/built-cli.js';

const work = mkdtempSync(join(tmpdir(), 'boardctl-config-'));
const xdg = join(work, 'xdg');
const project = join(work, 'project');
const env = { XDG_CONFIG_HOME: xdg, BOARDCTL_HOME: join(work, 'home') };

beforeAll(async () => {
  mkdirSync(join(xdg, 'boardctl'), { recursive: true });
  mkdirSync(join(project, 'src', 'deep'), { recursive: true });
  writeFileSync(
    join(xdg, 'boardctl', 'config.json'),
    JSON.stringify({
      boards: { bench: 'virtual', other: 'virtual:elsewhere' },
      commands: {
        answer: 'eval 6*7',
        times: { args: ['a', 'b=2'], command: 'eval {a}*{b}', help: 'multiply A by B' },
        whoami: `eval "'user file'"`,
        loop: 'answer + loop',
        ping: 'pong',
        pong: 'ping',
      },
    }),
  );
  writeFileSync(join(project, 'boardctl.json'), JSON.stringify({ port: 'bench', commands: { whoami: `eval "'project file'"` } }));
  await ensureBuilt();
});
afterAll(() => rmSync(work, { recursive: true, force: true }));

describe('config files', () => {
  it('reads the user file, then the nearest boardctl.json over it', () => {
    const config = loadConfig({ env: { XDG_CONFIG_HOME: xdg }, cwd: join(project, 'src', 'deep') });
    expect(config.port).toBe('bench');
    expect(config.boards.bench).toBe('virtual');
    expect(config.commands.whoami!.command).toBe(`eval "'project file'"`);
    expect(config.commands.answer!.command).toBe('eval 6*7');
  });

  it('expands macros with arguments and defaults, and refuses one that calls itself', () => {
    const { commands } = loadConfig({ env: { XDG_CONFIG_HOME: xdg }, cwd: work });
    expect(expandMacros(['-p', 'bench', 'times', '5', '+', 'answer'], commands)).toEqual(['-p', 'bench', 'eval', '5*2', '+', 'eval', '6*7']);
    expect(expandMacros(['times', '3', '7', 'exec', 'x'], commands)).toEqual(['eval', '3*7', '+', 'exec', 'x']);
    expect(expandMacros(['exec', 'answer'], commands)).toEqual(['exec', 'answer']);
    for (const name of ['loop', 'ping']) {
      const err = (() => {
        try {
          return expandMacros([name], commands);
        } catch (e) {
          return e;
        }
      })();
      expect(isBoardError(err, 'USAGE') && err.message).toMatch(/calls itself/);
    }
    expect(() => expandMacros(['times'], commands)).toThrow(/missing argument A/);
    expect(splitWords(`exec "print('a b')" + eval 'x y'`)).toEqual(['exec', "print('a b')", '+', 'eval', 'x y']);
  });

  it('is a clear error when broken', async () => {
    const bad = join(work, 'bad');
    mkdirSync(bad);
    writeFileSync(join(bad, 'boardctl.json'), '{"boards": ');
    const run = await runIn(bad, ['eval', '1']);
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/boardctl\.json: not valid JSON/);
  });

  it('refuses an empty group, and a group named like a board (of either file)', async () => {
    const dir = join(work, 'bad-groups');
    mkdirSync(dir);
    writeFileSync(join(dir, 'boardctl.json'), JSON.stringify({ groups: { rack: [] } }));
    const empty = await runIn(dir, ['-p', 'rack', 'eval', '1']);
    expect(empty.code).toBe(2);
    expect(empty.stderr).toMatch(/boardctl\.json: group "rack": expected a non-empty list of board names or ports\n$/);
    writeFileSync(join(dir, 'boardctl.json'), JSON.stringify({ groups: { bench: ['virtual:a', 'virtual:b'] } }));
    const clash = await runIn(dir, ['eval', '1']);
    expect(clash.code).toBe(2);
    expect(clash.stderr).toMatch(/"bench" is both a board and a group/);
  });
});

/** boardctl run in `cwd`, with the test's config home. */
async function runIn(cwd: string, args: string[]) {
  try {
    const { stdout, stderr } = await promisify(execFile)(process.execPath, [MAIN, ...args], { cwd, env: { ...process.env, BOARDCTL_PORT: '', ...env }, timeout: 60_000 });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

describe('the CLI with a config', () => {
  it('runs macros on the named board, the project file overriding the user file', async () => {
    const run = await runIn(join(project, 'src'), ['answer', '+', 'times', '7', '3', '+', 'whoami']);
    expect(run.stderr).toBe('');
    expect(run.stdout).toBe("42\n21\n'project file'\n");
    const user = await runIn(work, ['-p', 'bench', 'whoami']);
    expect(user.stdout).toBe("'user file'\n");
  }, 60_000);

  it('resolves named boards in -p and connect', async () => {
    const run = await runIn(work, ['connect', 'other', '+', 'eval', '1']);
    expect(run.code).not.toBe(0);
    expect(run.stderr).toMatch(/no virtual board named 'elsewhere'/);
  }, 60_000);

  it('runs -p GROUP as a fleet over the group\'s boards, a named board among them', async () => {
    const dir = join(work, 'grouped');
    mkdirSync(dir);
    writeFileSync(join(dir, 'boardctl.json'), JSON.stringify({ boards: { second: 'virtual:gb' }, groups: { rack: ['virtual:ga', 'second'] } }));
    for (const name of ['ga', 'gb']) expect((await runIn(dir, ['sim', 'create', name])).code).toBe(0);
    const run = await runIn(dir, ['-p', 'rack', 'exec', 'print(1)']);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout.replace(/\r/g, '').trim().split('\n').sort()).toEqual(['second: 1', 'virtual:ga: 1']);
  }, 120_000);

  it('takes a group as the default "port": a fleet, but not for --help or a chain that connects elsewhere', async () => {
    const dir = join(work, 'default-group');
    mkdirSync(dir);
    writeFileSync(join(dir, 'boardctl.json'), JSON.stringify({ port: 'rack', groups: { rack: ['virtual:ga', 'virtual:gb'] } }));
    for (const name of ['ga', 'gb']) await runIn(dir, ['sim', 'create', name]);
    const run = await runIn(dir, ['exec', 'print(2)']);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout.replace(/\r/g, '').trim().split('\n').sort()).toEqual(['virtual:ga: 2', 'virtual:gb: 2']);
    const one = await runIn(dir, ['connect', 'virtual:ga', 'eval', '3']);
    expect(one.stdout).toBe('3\n');
    const help = await runIn(dir, ['--help']);
    expect(help.code).toBe(0);
    expect(help.stdout.match(/^Usage: boardctl/gm)).toHaveLength(1);
  }, 120_000);

  it('lists the macros in --help and refuses a self-calling one', async () => {
    const help = await runIn(project, ['--help']);
    expect(help.stdout).toMatch(/Commands from .*config\.json and .*boardctl\.json:/);
    expect(help.stdout).toMatch(/times A B\s+multiply A by B/);
    const loop = await runIn(project, ['loop']);
    expect(loop.code).toBe(2);
    expect(loop.stderr).toMatch(/command "loop" calls itself \(loop → loop\)/);
  }, 60_000);
});

describe('a config read once per process', () => {
  it('a virtual command reads each config file once: the bin, the early start and the command line share it', async () => {
    // node's fs, watched from a preload: how often the process reads each config file.
    const reads = join(work, 'reads.json');
    const preload = join(work, 'count-reads.cjs');
    writeFileSync(preload, `
const fs = require('node:fs');
const { isMainThread } = require('node:worker_threads');
const counts = {};
const read = fs.readFileSync;
fs.readFileSync = function (file, ...rest) {
  if (/(config|boardctl)\\.json$/.test(String(file))) counts[String(file)] = (counts[String(file)] ?? 0) + 1;
  return read.call(this, file, ...rest);
};
if (isMainThread) process.on('exit', () => fs.writeFileSync(${JSON.stringify(reads)}, JSON.stringify(counts)));
`);
    const { stdout } = await promisify(execFile)(process.execPath, ['--require', preload, MAIN, '-p', 'bench', 'answer'], {
      cwd: join(project, 'src'),
      env: { ...process.env, BOARDCTL_PORT: '', ...env },
      timeout: 60_000,
    });
    expect(stdout).toBe('42\n');
    expect(JSON.parse(readFileSync(reads, 'utf8'))).toEqual({
      [join(xdg, 'boardctl', 'config.json')]: 1,
      [join(project, 'boardctl.json')]: 1,
    });
  }, 60_000);
});

describe('output for scripts', () => {
  it('$(boardctl -p virtual eval 6*7) is exactly 42', async () => {
    const { stdout } = await promisify(execFile)('sh', ['-c', `x=$("${process.execPath}" "${MAIN}" -p virtual eval '6*7'); printf '[%s]' "$x"`], {
      env: { ...process.env, ...env, XDG_CONFIG_HOME: join(work, 'none') },
      timeout: 60_000,
    });
    expect(stdout).toBe('[42]');
  }, 60_000);

  it('writes LF line ends off a terminal, and CR LF with --raw', async () => {
    const plain = await boardctl(['-p', 'virtual', 'exec', "print('a')\nprint('b')"], { ...env, XDG_CONFIG_HOME: join(work, 'none') }, [], 60_000);
    expect(plain.stdout).toBe('a\nb\n');
    const raw = await boardctl(['-p', 'virtual', 'exec', '--raw', "print('a')"], { ...env, XDG_CONFIG_HOME: join(work, 'none') }, [], 60_000);
    expect(raw.stdout).toBe('a\r\n');
  }, 60_000);
});
