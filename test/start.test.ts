// Start-up: the BOARDCTL_DEBUG=timing trace, the bundled CLI, and what a command loads. (Speed goals live in
// bench/cli, not here.)
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, sep } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { execFile, spawn } from 'node:child_process';
import pty from '@lydell/node-pty';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { boardsDir, createBoard } from '../emulator/board-store.js';
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

/** The modules esbuild wraps in the CommonJS bundle, each in an init function named by its path (run once, on first use). */
const WRAPPED = /__(?:esm|commonJS)\(\{"([^"]+)"\(/g;

/**
 * The sources a run of boardctl loaded. A command runs the CommonJS bundle dist/cli/main.cjs: V8's coverage
 * (NODE_V8_COVERAGE) tells which of the bundle's module init functions ran, and the bundle's metafile (esbuild's
 * record of its sources) gives the few it does not wrap (they run whenever the bundle does). The TUI's ES modules
 * (dist/cli/main.js, dist/chunks): a module-resolution hook logs every URL the process resolves, and their
 * metafile turns the bundle's files back into sources. Also returns the raw URLs, the CommonJS files loaded
 * (relative to ROOT) and the built-in modules Node loaded for it (process.moduleLoadList at exit), and those a
 * board's worker thread had loaded when its board was ready (the preload runs in the thread too).
 */
async function loaded(
  args: string[],
  env: Record<string, string> = {},
): Promise<{ sources: string[]; urls: string[]; cjs: string[]; builtins: string[]; workerBuiltins: string[]; run: Awaited<ReturnType<typeof boardctl>> }> {
  const id = Math.random().toString(36).slice(2);
  const log = join(tmp, `resolved-${id}.log`);
  const coverage = join(tmp, `coverage-${id}`);
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
  // CommonJS modules (what the bundles' require loads) are not resolved through the hooks: the process lists
  // require.cache as it exits, as `cjs:` lines, and the built-in modules as `builtin:` lines.
  const preload = join(tmp, 'preload.mjs');
  writeFileSync(
    preload,
    `import { appendFileSync } from 'node:fs';
import { createRequire, register } from 'node:module';
import { isMainThread, parentPort } from 'node:worker_threads';
register(${JSON.stringify(pathToFileURL(hooks).href)});
const cache = createRequire(import.meta.url).cache;
const builtins = (tag) => process.moduleLoadList.filter((m) => /^NativeModule (?!internal\\/)/.test(m)).map((m) => tag + m.slice('NativeModule '.length));
if (isMainThread) {
  process.on('exit', () => {
    appendFileSync(process.env.RESOLVE_LOG, [...Object.keys(cache).map((f) => 'cjs:' + f), ...builtins('builtin:')].map((l) => l + '\\n').join(''));
  });
} else {
  // A board's thread is terminated, which runs no exit handler: it lists them as it reports its board ready.
  const post = parentPort.postMessage.bind(parentPort);
  parentPort.postMessage = (m, transfer) => {
    if (m?.type === 'ready') appendFileSync(process.env.RESOLVE_LOG, builtins('worker-builtin:').map((l) => l + '\\n').join(''));
    return post(m, transfer);
  };
}
`,
  );
  const run = await boardctl(args, { ...env, RESOLVE_LOG: log, NODE_V8_COVERAGE: coverage }, ['--import', preload]);
  const lines = [...new Set(readFileSync(log, 'utf8').trim().split('\n'))];
  const tagged = (tag: string) => lines.filter((l) => l.startsWith(tag)).map((l) => l.slice(tag.length));
  // With --import, Node resolves the main file (the CommonJS bin) through the hooks too.
  const urls = lines.filter((l) => !/^(cjs|builtin|worker-builtin):/.test(l) && l !== pathToFileURL(MAIN).href);
  const cjs = tagged('cjs:').map((f) => f.slice(ROOT.length + 1).split(sep).join('/'));
  const meta = (file: string) => JSON.parse(readFileSync(join(ROOT, file), 'utf8')) as { outputs: Record<string, { inputs: Record<string, unknown> }> };
  const esm = meta('dist/chunks/meta.json');
  const sources = urls.flatMap((url) => {
    if (!url.startsWith('file:')) return [url];
    const rel = fileURLToPath(url).slice(ROOT.length + 1);
    return esm.outputs[rel] ? Object.keys(esm.outputs[rel].inputs) : [rel];
  });
  // The early start's CommonJS files (the bin requires them before the bundle compiles) run whole when loaded.
  const early = meta('dist/cli/early.cjs.json');
  for (const file of cjs) if (early.outputs[file]) sources.push(...Object.keys(early.outputs[file].inputs));
  const bundleUrl = pathToFileURL(join(ROOT, 'dist/cli/main.cjs')).href;
  const scripts = readdirSync(coverage).flatMap(
    (f) => (JSON.parse(readFileSync(join(coverage, f), 'utf8')) as { result: Array<{ url: string; functions: Array<{ functionName: string; ranges: Array<{ count: number }> }> }> }).result,
  );
  const bundle = scripts.find((s) => s.url === bundleUrl);
  if (bundle) {
    const wrapped = new Set([...readFileSync(join(ROOT, 'dist/cli/main.cjs'), 'utf8').matchAll(WRAPPED)].map((m) => m[1]!));
    sources.push(...Object.keys(meta('dist/cli/main.cjs.json').outputs['dist/cli/main.cjs']!.inputs).filter((s) => !wrapped.has(s)));
    sources.push(...bundle.functions.filter((f) => wrapped.has(f.functionName) && f.ranges[0]!.count > 0).map((f) => f.functionName));
  }
  return { sources: [...new Set(sources)], urls, cjs, builtins: tagged('builtin:'), workerBuiltins: tagged('worker-builtin:'), run };
}

describe('the bundled CLI', () => {
  // The registrations of the other parts' commands (files, flashing, virtual boards, ...) and what they pull in.
  const EXTENSION_CODE = /^cli\/commands\/(sim|share|mip|mount|watch|devloop|test|flash|fs)|^protocol\/(fs|esp)\/|^flash\/|fflate/;

  it('--help and --version are the bin alone: the text the build stored, no CLI bundle, commander or command module', async () => {
    for (const flag of ['--help', '-V']) {
      const { sources, urls, cjs, builtins, run } = await loaded([flag]);
      expect(run).toMatchObject({ code: 0, stderr: '' });
      // No ES module, no other CommonJS file, and no module of the CLI bundle (or the early start's) ran.
      expect(urls).toEqual([]);
      expect(cjs).toEqual(['dist/cli/boardctl.cjs']);
      expect(sources).toEqual([]);
      // (net, stream and worker_threads are loaded for the test's own module hooks.)
      expect(builtins.filter((b) => /^(child_process|crypto|zlib|readline|dgram)$/.test(b))).toEqual([]);
    }
    expect((await boardctl(['-V'])).stdout).toBe(`${(JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string }).version}\n`);
  });

  it('--help to a reader that has gone (`| head`) ends quietly with a SIGPIPE status, as commands do, without a stack trace', async () => {
    const child = spawn(process.execPath, [MAIN, '--help'], { env: { ...process.env, BOARDCTL_HOME: tmp }, stdio: ['ignore', 'pipe', 'pipe'] });
    child.stdout.destroy(); // closed long before node has started: the help's write meets EPIPE
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d));
    const code = await new Promise((resolve) => child.on('close', resolve));
    expect({ code, stderr }).toEqual({ code: 128 + 13, stderr: '' });
  });

  it('a --help that commander renders loads commander from the bundle, but no command implementation, serial port, emulator or TUI', async () => {
    // `-p x --help` is not the plain --help the stored text answers.
    const { sources, urls, builtins, run } = await loaded(['-p', 'x', '--help']);
    expect(run.code).toBe(0);
    expect(run.stdout).toContain('Usage: boardctl');
    expect(run.stdout).toMatch(/^ {2}sync \[options\] <local> <remote> +upload what changed/m); // listed from the table
    expect(urls).toEqual([]); // no ES module: commander and the command line come from the CommonJS bundle
    expect(sources).toContain('cli/command-line.ts');
    expect(sources).toContainEqual(expect.stringMatching(/^node_modules\/commander\//));
    expect(sources.filter((s) => EXTENSION_CODE.test(s) || /serialport|^emulator\/|micropython-webassembly|\/ink\/|\/react\/|raw-repl|^cli\/tui\//.test(s))).toEqual([]);
    // Small, and kept small: about 100 KB of the bundle's code runs (commander is 55 KB of it, cli/early-start 1.3 KB), and no
    // child_process (commander requires it at load for executable subcommands, which boardctl has none of: the
    // build gives it protocol/lazy-child-process.ts). An import of anything heavier at the top of the CLI fails here.
    const inputs = (JSON.parse(readFileSync(join(ROOT, 'dist/cli/main.cjs.json'), 'utf8')) as { outputs: Record<string, { inputs: Record<string, { bytesInOutput: number }> }> })
      .outputs['dist/cli/main.cjs']!.inputs;
    expect(sources.reduce((n, s) => n + (inputs[s]?.bytesInOutput ?? 0), 0)).toBeLessThan(104_000);
    expect(builtins.filter((b) => /^(child_process|crypto|zlib|readline)$/.test(b))).toEqual([]);
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
    const { sources, urls, cjs, builtins, run } = await loaded(['-p', servedPty, 'exec', 'print(6*7)']);
    expect(run).toMatchObject({ code: 0, stdout: '42\n', stderr: '' });
    expect(sources).toEqual(expect.arrayContaining(['protocol/raw-repl.ts', 'protocol/transports/serial.ts']));
    // (node:net cannot be told from the test's own hooks' use: no module of ours that imports it runs.)
    expect(sources.filter((s) => /^protocol\/(transports\/(tcp|network-link|rfc2217|webrepl)|telnet|ports|port-server|rfc2217-server)\.ts|\/ws\/|^emulator\/|^cli\/(virtual|tui\/)/.test(s))).toEqual([]);
    // serialport's JavaScript comes from the bundle: this platform's binding only, the addon at the place the
    // build's node-gyp-build search recorded, and neither node-gyp-build nor debug (DEBUG is not set).
    const platformFile = { linux: 'linux', darwin: 'darwin', win32: 'win32' }[process.platform as string] ?? 'linux';
    expect(sources).toEqual(expect.arrayContaining(['node_modules/@serialport/stream/dist/index.js', `node_modules/@serialport/bindings-cpp/dist/${platformFile}.js`]));
    const otherBindings = ['linux', 'darwin', 'win32'].filter((p) => p !== platformFile).map((p) => `node_modules/@serialport/bindings-cpp/dist/${p}.js`);
    expect(sources.filter((s) => otherBindings.includes(s) || /bindings-cpp\/dist\/index\.js|^node_modules\/serialport\/|\/debug\//.test(s))).toEqual([]);
    expect(urls.filter((u) => /\/node_modules\//.test(u))).toEqual([]);
    expect(cjs.filter((f) => /^node_modules\/(node-gyp-build|debug|serialport|@serialport\/(?!bindings-cpp\/(prebuilds|build)\/))/.test(f))).toEqual([]);
    expect(cjs).toContainEqual(expect.stringMatching(/^node_modules\/@serialport\/bindings-cpp\/(prebuilds|build)\/.*\.node$/));
    // Nothing on this command line, in the environment or in a config names a virtual board: the early start's
    // module is not loaded at all (cli/may-be-virtual.ts).
    expect(cjs.filter((f) => f.startsWith('dist/'))).toEqual(['dist/cli/boardctl.cjs']);
    // A pty gets no stty (no child process: commander's and the port listing's child_process are lazy), and a
    // local file is read without node:fs/promises (which loads readline's modules).
    expect(builtins.filter((b) => /^(child_process|fs\/promises)$/.test(b))).toEqual([]);
  });

  it("serial port: a copy of bindings-cpp nearer to the bundle than the recorded one is the one loaded, as require.resolve would", async () => {
    // A package beside this one's node_modules, with a bindings-cpp of its own in dist/node_modules that has no
    // native build: taking the recorded folder would load ours; resolve takes the copy, which fails to load.
    const pkg = mkdtempSync(join(tmp, 'layout-'));
    const copy = join(pkg, 'dist', 'node_modules', '@serialport', 'bindings-cpp');
    mkdirSync(join(pkg, 'dist', 'cli'), { recursive: true });
    mkdirSync(copy, { recursive: true });
    for (const f of ['boardctl.cjs', 'main.cjs']) copyFileSync(join(ROOT, 'dist', 'cli', f), join(pkg, 'dist', 'cli', f));
    copyFileSync(join(ROOT, 'package.json'), join(pkg, 'package.json'));
    copyFileSync(join(ROOT, 'node_modules', '@serialport', 'bindings-cpp', 'package.json'), join(copy, 'package.json'));
    symlinkSync(join(ROOT, 'node_modules'), join(pkg, 'node_modules'));
    const env = { ...process.env, BOARDCTL_PORT: '', BOARDCTL_HOME: join(pkg, 'home') };
    const exec = () => new Promise<{ code: number | null; stderr: string }>((resolve) => {
      execFile(process.execPath, [join(pkg, 'dist', 'cli', 'boardctl.cjs'), '-p', servedPty, 'exec', 'print(6*7)'], { env }, (err, _out, stderr) => resolve({ code: err ? (err.code as number) : 0, stderr }));
    });
    const nearer = await exec();
    expect(nearer.code).not.toBe(0);
    expect(nearer.stderr).toContain(`No native build was found`);
    expect(nearer.stderr).toContain(copy);
    rmSync(join(pkg, 'dist', 'node_modules'), { recursive: true });
    expect(await exec()).toEqual({ code: 0, stderr: '' });
  });

  it('a virtual board known only by its name in a config still has its VM thread started before the bundle compiles', async () => {
    const config = mkdtempSync(join(tmp, 'config-'));
    mkdirSync(join(config, 'boardctl'));
    writeFileSync(join(config, 'boardctl', 'config.json'), JSON.stringify({ boards: { kitchen: 'virtual' } }));
    const env = { BOARDCTL_HOME: mkdtempSync(join(tmp, 'home-')), XDG_CONFIG_HOME: config, BOARDCTL_DEBUG: 'timing' };
    const run = await boardctl(['-p', 'kitchen', 'exec', 'print(6*7)'], env, [], 60_000);
    expect(run).toMatchObject({ code: 0, stdout: expect.stringMatching(/^42\r?\n$/) });
    const labels = trace(run.stderr).map(([, label]) => label);
    expect(labels).toContain('board VM thread started');
    expect(labels.indexOf('board VM thread started')).toBeLessThan(labels.findIndex((l) => l.startsWith('code cache')));
  }, 90_000);

  it("serial port: where node-gyp-build's search may differ from the build's, it searches as stock; DEBUG loads the real debug", async () => {
    // PREBUILDS_ONLY is one of node-gyp-build's own overrides; DEBUG turns on serialport's loggers as stock.
    const { cjs, run } = await loaded(['-p', servedPty, 'exec', 'print(6*7)'], { PREBUILDS_ONLY: '1', DEBUG: 'serialport/stream' });
    expect(run).toMatchObject({ code: 0, stdout: '42\n' });
    expect(run.stderr).toMatch(/serialport\/stream opening path: /);
    expect(run.stderr).not.toMatch(/serialport\/bindings-cpp/);
    expect(cjs).toEqual(expect.arrayContaining(['node_modules/node-gyp-build/index.js', 'node_modules/debug/src/index.js']));
    expect(cjs).toContainEqual(expect.stringMatching(/^node_modules\/@serialport\/bindings-cpp\/prebuilds\/.*\.node$/));
  });

  it('a virtual board loads the emulator and its VM worker, still no TUI; of the emulator only what a boot and an exec use', async () => {
    const home = mkdtempSync(join(tmp, 'home-'));
    const { sources, urls, workerBuiltins, run } = await loaded(['-p', 'virtual', 'exec', 'print(6*7)'], { BOARDCTL_HOME: home });
    expect(run).toMatchObject({ code: 0, stdout: expect.stringMatching(/^42\r?\n$/) });
    // Its boot loads no hashing, compression or heap statistics (each 1-3 ms of the thread's start): checksums and
    // CRCs are ours, and the memory watch first looks after 250 ms.
    expect(workerBuiltins).toContain('worker_threads');
    expect(workerBuiltins.filter((b) => /^(crypto|zlib|v8|child_process|net)$/.test(b))).toEqual([]);
    // The worker runs its compiled entry, which runs the worker bundle; the MicroPython package's JavaScript is in
    // that bundle (no ES module of its own: the worker never starts Node's ES module loader).
    expect(urls).toContainEqual(expect.stringMatching(/\/dist\/emulator\/vm\/worker-entry\.cjs$/));
    expect(urls.filter((u) => /micropython-webassembly-pyscript/.test(u))).toEqual([]);
    const workerInputs = Object.keys((JSON.parse(readFileSync(join(ROOT, 'dist/emulator/vm/worker.cjs.json'), 'utf8')) as { inputs: object }).inputs);
    expect(workerInputs).toContainEqual('node_modules/@micropython/micropython-webassembly-pyscript/micropython.mjs');
    expect(sources.filter((s) => /\/ink\/|\/react\/|^cli\/tui\//.test(s))).toEqual([]);
    // The main thread's part of the board (the worker's is its own bundle; the main thread warms the VM's wasm for
    // it, emulator/vm/early-tier-up.ts): no ROM loader (esptool's sessions load
    // it), no host sockets beyond the radio's (the board's first socket loads them), no link servers. The SD card's
    // layout (storage/sdcard.ts, fat-volume.ts) is there for a board's creation, which writes its blank card
    // (interleaved A/B of exec pass with and without them: 143.5 vs 145.0 ms).
    expect(sources.filter((s) => s.startsWith('emulator/')).sort()).toEqual([
      'emulator/board-config.ts', 'emulator/board-store.ts', 'emulator/board.ts', 'emulator/flash-store.ts', 'emulator/link/uart-pacer.ts',
      'emulator/littlefs/errors.ts',
      'emulator/net/config.ts', 'emulator/net/errno.ts', 'emulator/net/host.ts', 'emulator/net/ntp.ts', 'emulator/net/policy.ts',
      'emulator/net/protocol.ts', 'emulator/net/wlan.ts', 'emulator/peripherals/board-pins.ts', 'emulator/peripherals/parts.ts', 'emulator/peripherals/snapshot.ts',
      'emulator/peripherals/touch.ts',
      'emulator/port-modules.ts', 'emulator/profiles.ts', 'emulator/rom/app-facts.ts', 'emulator/rom/boot.ts', 'emulator/rom/firmware.ts',
      'emulator/rom/ota.ts', 'emulator/rom/sync-detector.ts', 'emulator/storage/fat-volume.ts', 'emulator/storage/sdcard.ts',
      'emulator/vm/early-tier-up.ts', 'emulator/vm/memory.ts', 'emulator/vm/ring.ts',
      'emulator/vm/shared-state.ts', 'emulator/vm/wasm-file.ts', 'emulator/vm/worker-build.ts', 'emulator/worker-thread.ts',
    ]);
    expect(urls.filter((u) => /^node:(tls|https?|dgram|dns)/.test(u))).toEqual([]);
  });
});

describe('the end of an in-process command', () => {
  it("powers its virtual board off: the lock released, the files on the flash, the exit status and output the command's", async () => {
    const home = mkdtempSync(join(tmp, 'end-'));
    const lock = join(boardsDir(home), 'end', 'lock');
    const file = join(home, 'data.txt');
    writeFileSync(file, `${'x'.repeat(5000)}end`);
    createBoard('end', { home });
    const env = { BOARDCTL_HOME: home, BOARDCTL_DEBUG: 'timing' };
    const copied = await boardctl(['-p', 'virtual:end', 'cp', file, ':data.txt', '+', 'exec', "print(len(open('data.txt').read()))"], env, [], 60_000);
    expect(copied).toMatchObject({ code: 0, stdout: expect.stringMatching(/^5003\r?\n$/) });
    const labels = trace(copied.stderr).map(([, label]) => label);
    expect(labels.findIndex((l) => l.startsWith('link closed'))).toBeLessThan(labels.indexOf('virtual boards closed'));
    // A process that exits with its board open leaves its lock behind (for the next to find stale, or held by a
    // process that got its PID since).
    expect(existsSync(lock)).toBe(false);
    const failed = await boardctl(['-p', 'virtual:end', 'exec', "print(open('data.txt').read()[-3:])\nraise ValueError('no')"], { BOARDCTL_HOME: home }, [], 60_000);
    expect(failed).toMatchObject({ code: 1, stdout: expect.stringMatching(/^end\r?\n$/), stderr: expect.stringMatching(/ValueError: no\s*$/) });
    expect(existsSync(lock)).toBe(false);
  }, 120_000);
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
    // A new data directory: no code cache yet, the process writes it as it exits.
    const run = await boardctl(['-p', server.url, 'exec', "print('hi')"], { BOARDCTL_DEBUG: 'timing', BOARDCTL_HOME: mkdtempSync(join(tmp, 'trace-')) });
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/^hi\r?\n$/);
    const lines = trace(run.stderr);
    // Nothing else on stderr: the trace is the only addition.
    expect(run.stderr.trim().split('\n')).toHaveLength(lines.length);
    expect(lines.map(([, label]) => label)).toEqual([
      'code cache not used (none yet)',
      'node started, CLI modules loaded',
      'connection modules loaded',
      expect.stringMatching(/^port open \(socket socket:\/\/127\.0\.0\.1:\d+\)$/),
      'raw REPL entered (1 attempt)',
      'soft reset',
      'exec',
      expect.stringMatching(/^link closed \(\d+ bytes sent, \d+ received\)$/),
      'code cache written',
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

describe('the code cache of the CLI bundle (protocol/code-cache.ts)', () => {
  const cacheLines = (stderr: string) => trace(stderr).map(([, label]) => label).filter((l) => l.startsWith('code cache'));
  const run = (args: string[], home: string, main = MAIN) =>
    new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve, reject) => {
      execFile(process.execPath, [main, ...args], { env: { ...process.env, BOARDCTL_PORT: '', BOARDCTL_HOME: home, BOARDCTL_DEBUG: 'timing' } }, (err, stdout, stderr) =>
        err && typeof err.code !== 'number' ? reject(err) : resolve({ code: err ? (err.code as number) : 0, stdout, stderr }),
      );
    });
  const cacheOf = (home: string) => join(home, 'cache', `cli-${process.version}-${process.arch}.code`);

  it('is written by the first run, used by the next, grows with a new kind of command, and a damaged file is ignored and replaced', async () => {
    const home = mkdtempSync(join(tmp, 'cache-'));
    const first = await run(['-p', 'x', '--help'], home);
    expect(first.code).toBe(0);
    expect(cacheLines(first.stderr)).toEqual(['code cache not used (none yet)', 'code cache written']);
    const second = await run(['-p', 'x', '--help'], home);
    expect(second).toMatchObject({ code: 0, stdout: first.stdout });
    expect(cacheLines(second.stderr)).toEqual(['code cache used']);
    const size = readFileSync(cacheOf(home)).length;
    // exec --help runs code the cache did not hold yet: it is written again, with that code too.
    expect(cacheLines((await run(['exec', '--help'], home)).stderr)).toEqual(['code cache used', 'code cache written']);
    expect(readFileSync(cacheOf(home)).length).toBeGreaterThan(size);
    expect(cacheLines((await run(['exec', '--help'], home)).stderr)).toEqual(['code cache used']);
    // One flipped byte in V8's data (V8 itself would run it and crash); then a cut file; then no cache at all.
    const bytes = readFileSync(cacheOf(home));
    bytes[bytes.length - 1000]! ^= 0xff;
    writeFileSync(cacheOf(home), bytes);
    const damaged = await run(['-p', 'x', '--help'], home);
    expect(damaged).toMatchObject({ code: 0, stdout: first.stdout });
    expect(cacheLines(damaged.stderr)).toEqual(['code cache not used (damaged)', 'code cache written']);
    writeFileSync(cacheOf(home), readFileSync(cacheOf(home)).subarray(0, 30));
    expect(cacheLines((await run(['-p', 'x', '--help'], home)).stderr)).toEqual(['code cache not used (damaged)', 'code cache written']);
    writeFileSync(cacheOf(home), 'not bytecode');
    expect(cacheLines((await run(['-p', 'x', '--help'], home)).stderr)).toEqual(['code cache not used (not a code cache)', 'code cache written']);
    expect(cacheLines((await run(['-p', 'x', '--help'], home)).stderr)).toEqual(['code cache used']);
  });

  it('is kept apart for commands that run a virtual board here: a serial or socket command loads none of theirs', async () => {
    const home = mkdtempSync(join(tmp, 'cache-'));
    const files = () => readdirSync(join(home, 'cache')).filter((f) => f.startsWith('cli')).sort();
    expect((await run(['-p', 'virtual', 'exec', 'pass'], home)).code).toBe(0);
    expect(files()).toEqual([`cli-virtual-${process.version}-${process.arch}.code`]);
    const socket = await run(['-p', server.url, 'exec', 'pass'], home);
    expect(socket.code).toBe(0);
    expect(cacheLines(socket.stderr)).toEqual(['code cache not used (none yet)', 'code cache written']);
    expect(files()).toEqual([`cli-${process.version}-${process.arch}.code`, `cli-virtual-${process.version}-${process.arch}.code`]);
    expect(cacheLines((await run(['-p', 'virtual', 'exec', 'pass'], home)).stderr)).toEqual(['code cache used']);
    // Another program is the same kind of run: the program's text is not a command word.
    expect(cacheLines((await run(['-p', server.url, 'exec', 'print'], home)).stderr)).toEqual(['code cache used']);
  }, 60_000);

  it('is not used for a bundle that changed, even by bytes of the same length (V8 checks only the length)', async () => {
    // A copy of the bin and its bundle, beside a package.json and a packagf.json of another version: the changed
    // bundle reads the other one. Run with the old bundle's cache, it would print the old version. (Not a plain -V:
    // the bin answers that without the bundle.)
    const pkg = mkdtempSync(join(tmp, 'pkg-'));
    mkdirSync(join(pkg, 'dist', 'cli'), { recursive: true });
    for (const f of ['boardctl.cjs', 'main.cjs', 'early-start.cjs', 'worker-thread.cjs']) copyFileSync(join(ROOT, 'dist', 'cli', f), join(pkg, 'dist', 'cli', f));
    writeFileSync(join(pkg, 'package.json'), JSON.stringify({ version: '1.0.0' }));
    writeFileSync(join(pkg, 'packagf.json'), JSON.stringify({ version: '2.0.0' }));
    const main = join(pkg, 'dist', 'cli', 'boardctl.cjs');
    const home = mkdtempSync(join(tmp, 'cache-'));
    expect((await run(['-p', 'x', '-V'], home, main)).stdout).toBe('1.0.0\n');
    expect(await run(['-p', 'x', '-V'], home, main)).toMatchObject({ stdout: '1.0.0\n', stderr: expect.stringContaining('code cache used') });
    const bundle = join(pkg, 'dist', 'cli', 'main.cjs');
    const code = readFileSync(bundle, 'utf8');
    expect(code).toContain('"../../package.json"');
    writeFileSync(bundle, code.replace('"../../package.json"', '"../../packagf.json"'));
    const changed = await run(['-p', 'x', '-V'], home, main);
    expect(changed.stdout).toBe('2.0.0\n');
    expect(cacheLines(changed.stderr)).toEqual(['code cache not used (made for another bundle)', 'code cache written']);
    expect(cacheLines((await run(['-p', 'x', '-V'], home, main)).stderr)).toEqual(['code cache used']);
  });
});

describe("the code cache of a board's worker thread (emulator/vm/worker-entry.ts)", () => {
  const cacheLines = (stderr: string) => trace(stderr).map(([, label]) => label).filter((l) => l.startsWith('board: code cache'));
  const exec = async (home: string) => {
    const run = await boardctl(['-p', 'virtual', 'exec', 'print(6*7)'], { BOARDCTL_HOME: home, BOARDCTL_DEBUG: 'timing' }, [], 60_000);
    expect(run).toMatchObject({ code: 0, stdout: expect.stringMatching(/^42\r?\n$/) });
    return cacheLines(run.stderr);
  };
  const cacheOf = (home: string, name: string) => join(home, 'cache', `${name}-${process.version}-${process.arch}.code`);

  it("is written after the first boot, used by the next, and a damaged or foreign one is ignored and replaced, the board running as ever", async () => {
    const home = mkdtempSync(join(tmp, 'worker-cache-'));
    expect(await exec(home)).toEqual(['board: code cache not used (none yet)', 'board: code cache written']);
    expect(await exec(home)).toEqual(['board: code cache used']);
    // One flipped byte in V8's data: run as it is, it could crash the thread or run other code.
    const bytes = readFileSync(cacheOf(home, 'worker'));
    bytes[bytes.length - 1000]! ^= 0xff;
    writeFileSync(cacheOf(home, 'worker'), bytes);
    expect(await exec(home)).toEqual(['board: code cache not used (damaged)', 'board: code cache written']);
    // A whole cache of another bundle (the CLI's), sound in itself.
    copyFileSync(cacheOf(home, 'cli-virtual'), cacheOf(home, 'worker'));
    expect(await exec(home)).toEqual(['board: code cache not used (made for another bundle)', 'board: code cache written']);
    expect(await exec(home)).toEqual(['board: code cache used']);
  }, 120_000);
});
