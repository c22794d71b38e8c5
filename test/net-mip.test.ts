// mip.install on the board and `boardctl mip install` on the host, both from a local index laid out as
// micropython-lib's (served here on 127.0.0.1, port 0): the package lands under /lib and imports.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import http from 'node:http';
import { createHash } from 'node:crypto';
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { AddressInfo } from 'node:net';
import { TestBoard } from './helpers/test-board.js';
import { ensureBuilt } from './helpers/built-cli.js';
import { mipFiles, rewriteUrl } from '../protocol/mip.js';

const SOURCES: Record<string, string> = {
  'greet/__init__.py': 'from greet.words import WORD\nimport helper\n\ndef hello():\n    return helper.shout(WORD)\n',
  'greet/words.py': "WORD = 'hello'\n",
  'helper.py': 'def shout(s):\n    return s.upper() + "!"\n',
};
const short = (text: string) => createHash('sha256').update(text).digest('hex').slice(0, 8);

/** The index's routes: package JSON per mpy version ('py' and 6, the VM's), files by short hash. */
function indexRoutes(): Map<string, string> {
  const routes = new Map<string, string>();
  const hashes = (paths: string[]) => paths.map((p) => [p, short(SOURCES[p]!)]);
  for (const mpy of ['py', '6']) {
    routes.set(`/package/${mpy}/greet/latest.json`, JSON.stringify({ hashes: hashes(['greet/__init__.py', 'greet/words.py']), deps: [['helper', 'latest']], version: '1.0' }));
    routes.set(`/package/${mpy}/helper/latest.json`, JSON.stringify({ hashes: hashes(['helper.py']), version: '0.1' }));
  }
  for (const [, text] of Object.entries(SOURCES)) routes.set(`/file/${short(text).slice(0, 2)}/${short(text)}`, text);
  // A package by URL: a relative file URL and a dependency from the index.
  routes.set('/pkgs/thing/package.json', JSON.stringify({ urls: [['thing.py', 'thing.py']], deps: [['helper', 'latest']] }));
  routes.set('/pkgs/thing/thing.py', 'import helper\nVALUE = helper.shout("thing")\n');
  return routes;
}

let server: http.Server;
let index = '';

beforeAll(async () => {
  const routes = indexRoutes();
  server = http.createServer((req, res) => {
    const body = routes.get(req.url ?? '');
    res.writeHead(body === undefined ? 404 : 200, { 'Content-Length': Buffer.byteLength(body ?? '') });
    res.end(body ?? '');
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  index = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(() => {
  server?.close();
});

describe('the URL forms', () => {
  it('github: and gitlab: short forms become raw-file URLs', () => {
    expect(rewriteUrl('github:org/repo/pkg/mod.py', 'main')).toBe('https://raw.githubusercontent.com/org/repo/main/pkg/mod.py');
    expect(rewriteUrl('gitlab:org/repo/mod.py')).toBe('https://gitlab.com/org/repo/-/raw/HEAD/mod.py');
  });

  it('a missing package is a clear error', async () => {
    const fetcher = async (url: string) => ({ status: url.includes('nope') ? 404 : 200, body: new Uint8Array() });
    await expect(mipFiles('nope', { index, mpy: 'py' }, fetcher)).rejects.toThrow(/package not found: .*nope/);
  });
});

describe('mip.install on the board', () => {
  let tb: TestBoard;
  beforeAll(async () => {
    tb = await TestBoard.open({ profile: 'esp32' });
  }, 60_000);
  afterAll(async () => {
    await tb?.close();
  });

  it('installs a package with its dependency from the index, and one by package.json URL', async () => {
    const out = await tb.run(`
import network, time, os
w = network.WLAN(network.STA_IF)
w.active(True)
w.connect('boardctl', 'micropython')
while not w.isconnected():
    time.sleep_ms(50)
import mip
mip.install('greet', index='${index}', mpy=False)
mip.install('${index}/pkgs/thing/package.json', index='${index}')
print(sorted(os.listdir('/lib')), sorted(os.listdir('/lib/greet')))
import greet, thing
print(greet.hello(), thing.VALUE)
mip.install('missing', index='${index}')
`, 30_000);
    const lines = out.split('\n');
    expect(lines[0]).toBe(`Installing greet (latest) from ${index} to /lib`);
    expect(lines).toContain(`Installing helper (latest) from ${index} to /lib`);
    expect(lines).toContain("['greet', 'helper.py', 'thing.py'] ['__init__.py', 'words.py']");
    expect(lines).toContain('HELLO! THING!');
    expect(lines.filter((l) => l === 'Done')).toHaveLength(2);
    expect(lines.slice(-3)).toEqual([`Package not found: ${index}/package/6/missing/latest.json`, 'Package may be partially installed', '']);
  });
});

describe('boardctl mip install on the host', () => {
  it('fetches on the host and copies to a board without network; the package imports', async () => {
    const main = await ensureBuilt();
    const home = mkdtempSync(join(tmpdir(), 'boardctl-mip-'));
    const cli = (...args: string[]) => promisify(execFile)(process.execPath, [main, ...args], {
      env: { ...process.env, BOARDCTL_HOME: home }, timeout: 60_000,
    });
    const run = (...args: string[]) => cli('-p', 'virtual:mip', ...args);
    try {
      await cli('sim', 'create', 'mip');
      const installed = await run('mip', 'install', 'greet', '--index', index);
      expect(installed.stdout).toContain('Installing: /lib/greet/__init__.py');
      expect(installed.stdout).toContain('Installing: /lib/helper.py');
      expect(installed.stdout.trim().endsWith('Done')).toBe(true);
      const ran = await run('exec', 'import greet; print(greet.hello())');
      expect(ran.stdout).toBe('HELLO!\n');
      await expect(run('mip', 'install', 'missing', '--index', index)).rejects.toMatchObject({ code: 1 });
    } finally {
      rmSync(home, { recursive: true, force: true });
    }
  }, 120_000);
});
