// Global options versus command options, and Ctrl-C on a link paced at a real baud rate.
import { afterAll, describe, expect, it } from 'vitest';
import { execFile, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { splitChain, hoistJsonFlag } from '../cli/chain.js';

const cli = join(new URL('..', import.meta.url).pathname, 'dist/cli/boardctl.cjs');
const home = mkdtempSync(join(tmpdir(), 'boardctl-opts-'));
const env = { ...process.env, BOARDCTL_HOME: home };
const run = promisify(execFile);
afterAll(() => rmSync(home, { recursive: true, force: true }));

describe('option placement', () => {
  it('reads -p after a command as that command\'s option, and --json anywhere', () => {
    expect(splitChain(['-p', 'virtual', 'mkdir', '-p', ':a/b', '+', 'ls'])).toEqual([['-p', 'virtual', 'mkdir', '-p', ':a/b'], ['ls']]);
    expect(hoistJsonFlag(['exec', 'print(1)', '--json'])).toEqual(['--json', 'exec', 'print(1)']);
  });

  it('makes parent directories with mkdir -p on the board', async () => {
    await run(process.execPath, [cli, '-p', 'virtual', 'mkdir', '-p', ':x/y/z'], { env });
    const { stdout } = await run(process.execPath, [cli, '-p', 'virtual', 'ls', ':x/y', '--json'], { env });
    expect(JSON.parse(stdout).paths[0].value.entries.map((e: { name: string }) => e.name)).toEqual(['z']);
  });
});

describe("mpremote's option spellings", () => {
  it('takes exec/run -f and --follow, rtc -s and --no-set, mip install -m, and the version verb', async () => {
    const prog = join(home, 'prog.py');
    writeFileSync(prog, 'print(3)\n');
    const chain = ['-p', 'virtual', 'exec', '-f', 'print(1)', '+', 'exec', '--follow', 'print(2)', '+', 'run', '-f', prog, '+', 'rtc', '-s', '+', 'rtc', '--no-set'];
    const { stdout } = await run(process.execPath, [cli, ...chain], { env });
    expect(stdout).toMatch(/^1\n2\n3\n\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\n$/);
    // -m parses as mpremote's (the default); the install then fails at the index nobody serves.
    const mip = await run(process.execPath, [cli, '-p', 'virtual', 'mip', 'install', '-m', '--index', 'http://127.0.0.1:9', 'pkg'], { env }).catch((e: { stderr: string; code: number }) => e);
    expect(mip).toMatchObject({ code: 1, stderr: 'boardctl: mip install: mip: cannot fetch http://127.0.0.1:9/package/6/pkg/latest.json: fetch failed\n' });
    expect((await run(process.execPath, [cli, 'version'], { env })).stdout).toMatch(/^\d+\.\d+\.\d+\n$/);
  });
});

describe('Ctrl-C on a paced link', () => {
  it('reaches a program printing faster than the baud rate without waiting out its queued output', async () => {
    const child = spawn(process.execPath, [cli, '-p', 'virtual?baud=115200', 'exec', 'for i in range(1000000): print(i)'], { env });
    let out = '';
    let afterInterrupt = -1;
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      if (afterInterrupt < 0 && out.split('\n').length > 2000) {
        afterInterrupt = out.length;
        child.kill('SIGINT');
      }
    });
    let err = '';
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
    expect(code).toBe(130);
    expect(err).toContain('KeyboardInterrupt');
    // The UART-sized queue (about 1 KB) and what the 115200 baud line carries until the Ctrl-C lands (11.5 KB a
    // second: 2.8 s of a loaded host's latency fit) follow the interrupt, not a 64 KB ring.
    expect(out.length - afterInterrupt).toBeLessThan(32 * 1024);
  }, 60_000);
});
