// Start-up: the BOARDCTL_DEBUG=timing trace, the bundled CLI, and what a command loads. (Speed goals live in
// bench/cli, not here.)
import { mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, sep } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import pty from '@lydell/node-pty';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureBuilt, MAIN, ROOT } from './helpers/built-cli.js';
import { boardctl } from './helpers/boardctl.js';
import { runOnTerminal } from './helpers/cli-terminal.js';
import { servePeer, type PeerServer } from './helpers/scripted-peer.js';
import { startCli, stopAllCli } from './helpers/serve-cli.js';

const TRACE = /^boardctl timing: +(\d+\.\d) ms +\+(\d+\.\d) ms {2}(.+)$/;

/** The trace lines of a run's stderr, as [ms since start, label]. */
function trace(stderr: string): Array<[number, string]> {
  return stderr
    .split('\n')
    .map((l) => TRACE.exec(l))
    .filter((m) => m !== null)
    .map((m) => [Number(m[1]), m[3]]);
}

let server: PeerServer;
let tmp: string;
/** A virtual board served on a pseudo-terminal (`sim serve`), as a serial port. */
let servedPty: string;
beforeAll(async () => {
  tmp = mkdtempSync(join(tmpdir(), 'boardctl-start-'));
  await ensureBuilt();
  server = await servePeer();
  const served = await startCli(['sim', 'serve'], { ...process.env, BOARDCTL_HOME: join(tmp, 'served'), BOARDCTL_PORT: '' });
  servedPty = served.lines[0]!.slice('pty: '.length);
}, 180_000);
afterAll(async () => {
  await stopAllCli();
  await server?.close();
  rmSync(tmp, { recursive: true, force: true });
});

/**
 * The sources a run of boardctl loaded: a module-resolution hook logs every URL the process resolves, and the
 * bundle's metafile (esbuild's record of which sources went into which output file) turns the bundle's files
 * back into the sources they hold. Also returns the raw URLs, and the CommonJS files loaded (relative to ROOT).
 */
async function loaded(
  args: string[],
  env: Record<string, string> = {},
): Promise<{ sources: string[]; urls: string[]; cjs: string[]; run: Awaited<ReturnType<typeof boardctl>> }> {
  const log = join(tmp, `resolved-${Math.random().toString(36).slice(2)}.log`);
  const hooks = join(tmp, 'hooks.mjs');
  writeFileSync(
    hooks,
    `import { appendFileSync } from 'node:fs';
export async function resolve(specifier, context, next) {
  const r = await next(specifier, context);
  appendFileSync(process.env.RESOLVE_LOG, r.url + '\\n');
  return r;
}`,
  );
  // CommonJS modules (what the bundle's createRequire loads) are not resolved through the hooks: the process
  // lists require.cache as it exits, as `cjs:` lines.
  const preload = join(tmp, 'preload.mjs');
  writeFileSync(
    preload,
    `import { appendFileSync } from 'node:fs';
import { createRequire, register } from 'node:module';
register(${JSON.stringify(pathToFileURL(hooks).href)});
const cache = createRequire(import.meta.url).cache;
process.on('exit', () => appendFileSync(process.env.RESOLVE_LOG, Object.keys(cache).map((f) => 'cjs:' + f + '\\n').join('')));
`,
  );
  const run = await boardctl(args, { ...env, RESOLVE_LOG: log }, ['--import', preload]);
  const lines = [...new Set(readFileSync(log, 'utf8').trim().split('\n'))];
  const urls = lines.filter((l) => !l.startsWith('cjs:'));
  const cjs = lines.filter((l) => l.startsWith('cjs:')).map((l) => l.slice('cjs:'.length).slice(ROOT.length + 1).split(sep).join('/'));
  const meta = JSON.parse(readFileSync(join(ROOT, 'dist/chunks/meta.json'), 'utf8')) as { outputs: Record<string, { inputs: Record<string, unknown> }> };
  const sources = urls.flatMap((url) => {
    if (!url.startsWith('file:')) return [url];
    const rel = fileURLToPath(url).slice(ROOT.length + 1);
    return meta.outputs[rel] ? Object.keys(meta.outputs[rel].inputs) : [rel];
  });
  return { sources: [...new Set(sources)], urls, cjs, run };
}

describe('the bundled CLI', () => {
  // The registrations of the other parts' commands (files, flashing, virtual boards, ...) and what they pull in.
  const EXTENSION_CODE = /^cli\/commands\/(sim|share|mip|mount|watch|devloop|test|flash|fs)|^protocol\/(fs|esp)\/|^flash\/|fflate/;

  it('--help and --version load no commander and no command module: the text the build stored', async () => {
    for (const flag of ['--help', '-V']) {
      const { sources, urls, run } = await loaded([flag]);
      expect(run).toMatchObject({ code: 0, stderr: '' });
      expect(urls).toContainEqual(expect.stringMatching(/\/dist\/cli\/main\.js$/));
      // Bundled: no module of ours or of node_modules is resolved on its own, only the bundle's files.
      expect(urls.filter((u) => u.startsWith('file:') && !/\/dist\/(cli\/main|chunks\/[\w-]+)\.js$/.test(u))).toEqual([]);
      expect(sources).toContain('cli/quick-help.ts');
      expect(sources.filter((s) => /^node_modules\/|^cli\/(command-line|command-table|commands\/)|^protocol\/(?!errors)|^emulator\//.test(s))).toEqual([]);
      expect(urls.filter((u) => u.startsWith('node:')).sort()).toEqual(['node:fs', 'node:module', 'node:os', 'node:path', 'node:tty']);
    }
    expect((await boardctl(['-V'])).stdout).toBe(`${(JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string }).version}\n`);
  });

  it('a --help that commander renders loads commander from the bundle, but no command implementation, serial port, emulator or TUI', async () => {
    // `-p x --help` is not the plain --help the stored text answers.
    const { sources, urls, run } = await loaded(['-p', 'x', '--help']);
    expect(run.code).toBe(0);
    expect(run.stdout).toContain('Usage: boardctl');
    expect(run.stdout).toMatch(/^ {2}sync \[options\] <local> <remote> +upload what changed/m); // listed from the table
    expect(urls.filter((u) => u.startsWith('file:') && !/\/dist\/(cli\/main|chunks\/[\w-]+)\.js$/.test(u))).toEqual([]);
    expect(sources).toContain('cli/command-line.ts');
    expect(sources).toContainEqual(expect.stringMatching(/^node_modules\/commander\//));
    expect(sources.filter((s) => EXTENSION_CODE.test(s) || /serialport|^emulator\/|micropython-webassembly|\/ink\/|\/react\/|raw-repl|^cli\/tui\//.test(s))).toEqual([]);
    // Small, and kept small: a few files (esbuild's shared chunks), under 100 KB of code (commander is 55 KB of
    // it). An import of anything heavier at the top of the CLI fails here.
    const files = urls.filter((u) => u.startsWith('file:'));
    expect(files.length).toBeLessThanOrEqual(12);
    expect(files.reduce((n, u) => n + statSync(fileURLToPath(u)).size, 0)).toBeLessThan(100_000);
  });

  it('the stored --help is what commander prints, at its width on a pipe and on an 80-column terminal; other widths and macros go to commander', async () => {
    // `boardctl help` is not a command the table knows: commander renders it from every registration.
    const [stored, full] = await Promise.all([boardctl(['--help']), boardctl(['help'])]);
    expect(full).toMatchObject({ code: 0, stderr: '' });
    expect(full.stdout).toMatch(/^ {2}flash \[options\] +ESP serial bootloader/m);
    expect(stored).toMatchObject({ code: 0, stdout: full.stdout, stderr: '' });
    const onTerminal = async (args: string[], cols: number) => (await runOnTerminal(args, cols)).output;
    expect(await onTerminal(['--help'], 80)).toBe(full.stdout);
    const wide = await onTerminal(['--help'], 132);
    expect(wide).not.toBe(full.stdout);
    expect(wide).toBe(await onTerminal(['help'], 132));
    // A config's macros are listed after the stored text, as commander lists them.
    const config = mkdtempSync(join(tmp, 'config-'));
    mkdirSync(join(config, 'boardctl'));
    writeFileSync(join(config, 'boardctl', 'config.json'), JSON.stringify({ commands: { blink: { command: 'exec "print(1)"', args: ['pin=2'], help: 'blink a pin' } } }));
    const [macroStored, macroFull] = await Promise.all([boardctl(['-h'], { XDG_CONFIG_HOME: config }), boardctl(['help'], { XDG_CONFIG_HOME: config })]);
    expect(macroFull.stdout).toMatch(/^ {2}blink PIN +blink a pin$/m);
    expect(macroStored).toMatchObject({ code: 0, stdout: macroFull.stdout, stderr: '' });
  });

  it('a command of another part loads its registration only', async () => {
    const { sources, run } = await loaded(['ls', '--help']);
    expect(run.code).toBe(0);
    expect(run.stdout).toContain('list board directories');
    expect(sources).toContain('cli/commands/fs.ts');
    expect(sources.filter((s) => /^cli\/commands\/(sim|share|mip|mount|watch|devloop|test|flash)|^protocol\/esp\/|^flash\//.test(s))).toEqual([]);
  });

  it('exec on a socket loads the protocol client but no emulator, TUI or serial binding', async () => {
    const { sources, run } = await loaded(['-p', server.url, 'exec', 'pass']);
    expect(run).toMatchObject({ code: 0, stderr: '' });
    expect(sources).toContain('protocol/raw-repl.ts');
    expect(sources.filter((s) => EXTENSION_CODE.test(s) || /serialport|^emulator\/|micropython-webassembly|\/ink\/|\/react\/|^cli\/tui\//.test(s))).toEqual([]);
  });

  it('exec on a serial port loads its transport and serialport, but no socket, WebSocket, RFC 2217 or port-listing code', async () => {
    const { sources, urls, cjs, run } = await loaded(['-p', servedPty, 'exec', 'print(6*7)']);
    expect(run).toMatchObject({ code: 0, stdout: '42\n', stderr: '' });
    expect(sources).toEqual(expect.arrayContaining(['protocol/raw-repl.ts', 'protocol/transports/serial.ts']));
    expect(sources.filter((s) => /^protocol\/(transports\/(tcp|network-link|rfc2217|webrepl)|telnet|ports)\.ts|\/ws\/|^emulator\/|^cli\/(virtual|tui\/)/.test(s))).toEqual([]);
    expect(urls).not.toContain('node:net');
    // serialport's JavaScript comes from the bundle: this platform's binding only, the addon at the place the
    // build's node-gyp-build search recorded, and neither node-gyp-build nor debug (DEBUG is not set).
    const platformFile = { linux: 'linux', darwin: 'darwin', win32: 'win32' }[process.platform as string] ?? 'linux';
    expect(sources).toEqual(expect.arrayContaining(['node_modules/@serialport/stream/dist/index.js', `node_modules/@serialport/bindings-cpp/dist/${platformFile}.js`]));
    const otherBindings = ['linux', 'darwin', 'win32'].filter((p) => p !== platformFile).map((p) => `node_modules/@serialport/bindings-cpp/dist/${p}.js`);
    expect(sources.filter((s) => otherBindings.includes(s) || /bindings-cpp\/dist\/index\.js|^node_modules\/serialport\/|\/debug\//.test(s))).toEqual([]);
    expect(urls.filter((u) => /\/node_modules\//.test(u))).toEqual([]);
    expect(cjs.filter((f) => /^node_modules\/(node-gyp-build|debug|serialport|@serialport\/(?!bindings-cpp\/(prebuilds|build)\/))/.test(f))).toEqual([]);
    expect(cjs).toContainEqual(expect.stringMatching(/^node_modules\/@serialport\/bindings-cpp\/(prebuilds|build)\/.*\.node$/));
  });

  it("serial port: where node-gyp-build's search may differ from the build's, it searches as stock; DEBUG loads the real debug", async () => {
    // PREBUILDS_ONLY is one of node-gyp-build's own overrides; DEBUG turns on serialport's loggers as stock.
    const { cjs, run } = await loaded(['-p', servedPty, 'exec', 'print(6*7)'], { PREBUILDS_ONLY: '1', DEBUG: 'serialport/stream' });
    expect(run).toMatchObject({ code: 0, stdout: '42\n' });
    expect(run.stderr).toMatch(/serialport\/stream opening path: /);
    expect(run.stderr).not.toMatch(/serialport\/bindings-cpp/);
    expect(cjs).toEqual(expect.arrayContaining(['node_modules/node-gyp-build/index.js', 'node_modules/debug/src/index.js']));
    expect(cjs).toContainEqual(expect.stringMatching(/^node_modules\/@serialport\/bindings-cpp\/prebuilds\/.*\.node$/));
  });

  it('a virtual board loads the emulator and its VM worker, still no TUI', async () => {
    const home = mkdtempSync(join(tmp, 'home-'));
    const { sources, urls, run } = await loaded(['-p', 'virtual', 'exec', 'print(6*7)'], { BOARDCTL_HOME: home });
    expect(run).toMatchObject({ code: 0, stdout: expect.stringMatching(/^42\r?\n$/) });
    expect(sources).toContain('emulator/board.ts');
    // The worker runs the compiled modules (the MicroPython package finds its wasm next to itself).
    expect(urls).toContainEqual(expect.stringMatching(/\/dist\/emulator\/vm\/worker\.js$/));
    expect(urls).toContainEqual(expect.stringMatching(/micropython-webassembly-pyscript\/micropython\.mjs$/));
    expect(sources.filter((s) => /\/ink\/|\/react\/|^cli\/tui\//.test(s))).toEqual([]);
  });
});

describe('bare boardctl: the TUI on a terminal, a demo off one', () => {
  it('bare boardctl loads no commander and no command module (off a terminal: the headless demo)', async () => {
    const { sources, run } = await loaded([], { BOARDCTL_HOME: mkdtempSync(join(tmp, 'bare-')) });
    expect(run.code).toBe(0);
    expect(run.stdout).toContain("sysname='esp32'");
    expect(sources).toEqual(expect.arrayContaining(['cli/tui-start.ts', 'cli/tui/headless-demo.ts']));
    expect(sources.filter((s) => /^node_modules\/commander\/|^cli\/(command-line|command-table|commands\/)|\/ink\/|\/react\//.test(s))).toEqual([]);
  }, 60_000);

  it('starts opening its board before ink and React load: the board is loading before the TUI takes the screen', async () => {
    const env = { ...process.env, BOARDCTL_HOME: mkdtempSync(join(tmp, 'tui-')), BOARDCTL_PORT: '', BOARDCTL_DEBUG: 'timing' } as Record<string, string>;
    delete env.CI; // boardctl shows the TUI only to a person at a terminal
    const term = pty.spawn(process.execPath, [MAIN], { env, cols: 100, rows: 30 });
    let shown = '';
    term.onData((d) => (shown += d));
    const exited = new Promise((resolve) => term.onExit(resolve));
    try {
      await expect.poll(() => shown, { timeout: 60_000 }).toContain('>>> ');
    } finally {
      term.kill();
      await exited;
    }
    const loaded = shown.indexOf('virtual board modules loaded');
    expect(loaded).toBeGreaterThan(0);
    expect(shown.indexOf('\x1b[?1049h')).toBeGreaterThan(loaded); // the alternate screen: ink draws from here
  }, 90_000);
});

describe('BOARDCTL_DEBUG=timing', () => {
  it('prints each phase of a command, in order, with times that only grow', async () => {
    const run = await boardctl(['-p', server.url, 'exec', "print('hi')"], { BOARDCTL_DEBUG: 'timing' });
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/^hi\r?\n$/);
    const lines = trace(run.stderr);
    // Nothing else on stderr: the trace is the only addition.
    expect(run.stderr.trim().split('\n')).toHaveLength(lines.length);
    expect(lines.map(([, label]) => label)).toEqual([
      'node started, CLI modules loaded',
      'connection modules loaded',
      expect.stringMatching(/^port open \(socket socket:\/\/127\.0\.0\.1:\d+\)$/),
      'raw REPL entered (1 attempt)',
      'soft reset',
      'exec',
      expect.stringMatching(/^link closed \(\d+ bytes sent, \d+ received\)$/),
    ]);
    const times = lines.map(([ms]) => ms);
    expect(times).toEqual([...times].sort((a, b) => a - b));
  });

  it('is silent without it, and with other debug words', async () => {
    for (const env of [{}, { BOARDCTL_DEBUG: '1' }] as Array<Record<string, string>>) {
      const run = await boardctl(['-p', server.url, 'exec', 'pass'], env);
      expect(run).toMatchObject({ code: 0, stderr: '' });
    }
    const both = await boardctl(['-p', server.url, 'resume', 'exec', 'pass'], { BOARDCTL_DEBUG: '1,timing' });
    expect(trace(both.stderr).map(([, l]) => l)).not.toContain('soft reset');
    expect(trace(both.stderr).map(([, l]) => l)).toContain('exec');
  });
});
