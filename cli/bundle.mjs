// The esbuild step of `npm run build`, five outputs:
// - dist/cli/boardctl.cjs, the bin (cli/boardctl.ts): prints the stored --help (cli/quick-help.ts), else runs
//   dist/cli/main.cjs with its code cache (protocol/code-cache.ts);
// - dist/cli/early-start.cjs and dist/cli/worker-thread.cjs: the early start of a virtual board's VM thread
//   (cli/early-start.ts, emulator/worker-thread.ts), which the bin runs before the CLI bundle compiles and the
//   bundle uses too (one rule, one early thread; metafile dist/cli/early.cjs.json);
// - dist/cli/main.cjs, the CLI as one CommonJS file (what a command runs; metafile dist/cli/main.cjs.json);
// - dist/cli/main.js and chunks loaded on use (dist/chunks), ES modules: the TUI (ink has top-level await), for
//   a bare `boardctl` and `boardctl tui` (dist/chunks/tui-start.js); metafile dist/chunks/meta.json;
// - dist/emulator/vm/worker.cjs, a board's worker thread as one CommonJS file, worker-build.json and
//   worker-sources.json beside it (what its build worked out: emulator/vm/worker-build.ts), and worker-entry.cjs, which every worker thread runs: the
//   bundle with its code cache (emulator/vm/worker-entry.ts).
// test/start.test.ts reads the metafiles. serialport's JavaScript is bundled too (fewer files for Node's loader),
// with two modules put in place for its own (see protocol/transports/serial-addon.ts and serial-debug.ts).
// Plain JavaScript: it runs the build. Needs tsc's output (dist/protocol) for the addon search.
import { createHash } from 'node:crypto';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire, isBuiltin } from 'node:module';
import { basename, dirname, relative, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { recordAddon } from '../dist/protocol/transports/serial-addon-search.js';
import { frozenDigest, frozenFiles } from '../dist/emulator/vm/frozen.js';
import { wasmFacts } from '../dist/emulator/vm/memory.js';
import { checksum } from '../dist/protocol/code-cache.js';
import { vmWasmFile } from '../dist/emulator/vm/wasm-file.js';

const here = (path) => fileURLToPath(new URL(path, import.meta.url));

/**
 * Our addon loader for bindings-cpp's serialport-bindings.js; our lazy `debug` for serialport's modules; our lazy
 * child_process for commander and serialport's port listing (protocol/lazy-child-process.ts).
 */
const moduleSwaps = {
  name: 'module-swaps',
  setup(b) {
    b.onResolve({ filter: /^(node:)?child_process$/ }, (args) =>
      /[\\/]node_modules[\\/](commander|@serialport[\\/]bindings-cpp)[\\/]/.test(args.importer) ? { path: here('../protocol/lazy-child-process.ts') } : undefined,
    );
    b.onResolve({ filter: /^\.\/serialport-bindings(\.js)?$/ }, (args) =>
      /[\\/]@serialport[\\/]bindings-cpp[\\/]dist$/.test(args.resolveDir) ? { path: here('../protocol/transports/serial-addon.ts') } : undefined,
    );
    b.onResolve({ filter: /^debug$/ }, (args) =>
      /[\\/]node_modules[\\/]@serialport[\\/]/.test(args.importer) ? { path: here('../protocol/transports/serial-debug.ts') } : undefined,
    );
  },
};

const common = {
  absWorkingDir: here('..'), // the metafiles' paths are relative to it
  bundle: true,
  platform: 'node',
  target: 'node20',
  minifyWhitespace: true,
  minifySyntax: true,
  define: { 'process.env.NODE_ENV': '"production"', BOARDCTL_SERIAL_ADDON: JSON.stringify(recordAddon(here('../dist/cli'))) },
  external: ['@lydell/node-pty', '@micropython/micropython-webassembly-pyscript', 'react-devtools-core'],
  metafile: true,
  logLevel: 'warning',
};

rmSync(here('../dist/chunks'), { recursive: true, force: true });
const esm = await build({
  ...common,
  entryPoints: [
    { in: 'cli/main.ts', out: 'cli/main' },
    { in: 'cli/tui-start.ts', out: 'chunks/tui-start' },
  ],
  splitting: true,
  format: 'esm',
  outdir: 'dist',
  chunkNames: 'chunks/[name]-[hash]',
  plugins: [moduleSwaps],
  banner: { js: "import { createRequire as __boardctlRequire } from 'node:module'; const require = __boardctlRequire(import.meta.url);" },
});
writeFileSync(here('../dist/chunks/meta.json'), JSON.stringify(esm.metafile));

/** In the CommonJS bundle, the TUI's start is the ES module bundle's (ink cannot be in a CommonJS file). */
const tuiFromEsm = {
  name: 'tui-from-esm',
  setup(b) {
    b.onResolve({ filter: /[\\/]tui-start\.js$/ }, () => ({ path: '../chunks/tui-start.js', external: true }));
  },
};

/** A CommonJS file run on its own (not through runBundle): import.meta.url is its own file's URL. */
const ownUrl = {
  define: { ...common.define, 'import.meta.url': '__chunkUrl' },
  banner: { js: "'use strict'; const __chunkUrl = require('node:url').pathToFileURL(__filename).href;" },
};

/** In the CLI bundle, the early start's two modules are the CommonJS files next to it (the bin requires one too). */
const earlyChunks = {
  name: 'early-chunks',
  setup(b) {
    b.onResolve({ filter: /[\\/](early-start|worker-thread)\.js$/ }, (args) =>
      args.kind === 'entry-point' ? undefined : { path: `./${basename(args.path, '.js')}.cjs`, external: true },
    );
  },
};

const early = await build({
  ...common,
  entryPoints: [
    { in: 'cli/early-start.ts', out: 'early-start' },
    { in: 'emulator/worker-thread.ts', out: 'worker-thread' },
  ],
  format: 'cjs',
  outdir: 'dist/cli',
  outExtension: { '.js': '.cjs' },
  ...ownUrl,
  plugins: [earlyChunks],
});
writeFileSync(here('../dist/cli/early.cjs.json'), JSON.stringify(early.metafile));

// protocol/code-cache.ts passes __boardctlImport and __boardctlUrl. V8 runs no import() in code compiled with a
// cache ("A dynamic import callback was not specified"): each import() esbuild leaves (the ES modules outside
// the bundle) becomes __boardctlImport(), one of a CommonJS file (the early start) a require, and a parse of the
// result proves none is left.
/** A CommonJS bundle for protocol/code-cache.ts's runBundle, with its metafile beside it (FILE.json). */
async function cacheableBundle(entry, outfile, plugins, external = common.external, define = {}) {
  const result = await build({ ...common, entryPoints: [entry], format: 'cjs', outfile, define: { ...common.define, 'import.meta.url': '__boardctlUrl', ...define }, plugins, external });
  const dynamic = result.metafile.outputs[outfile].imports.filter((i) => i.kind === 'dynamic-import');
  let code = readFileSync(here(`../${outfile}`), 'utf8').replace(/^#!.*\n/, ''); // main.ts's #! line: the file is a function's body
  for (const { path } of dynamic) {
    const to = path.endsWith('.cjs') ? `Promise.resolve().then(() => require(${JSON.stringify(path)}))` : `__boardctlImport(${JSON.stringify(path)})`;
    code = code.replaceAll(`import(${JSON.stringify(path)})`, to);
  }
  writeFileSync(here(`../${outfile}`), code);
  const check = await build({ ...common, entryPoints: [outfile], write: false, external: ['*'], define: {}, logLevel: 'error' });
  const left = Object.values(check.metafile.inputs).flatMap((i) => i.imports).filter((i) => i.kind === 'dynamic-import');
  if (left.length) throw new Error(`import() left in ${outfile}: ${left.map((i) => i.path).join(', ')}`);
  writeFileSync(here(`../${outfile}.json`), JSON.stringify(result.metafile));
}

await cacheableBundle('cli/main.ts', 'dist/cli/main.cjs', [moduleSwaps, tuiFromEsm, earlyChunks]);
/**
 * The VM package's JavaScript in the worker bundle, so its compile comes from the worker's code cache and the
 * thread never starts Node's ES module loader (the package's import() took 7 ms of a worker's boot). Its
 * imports of Node's modules (`await import("module")`, one of them at its top level: CommonJS has no top-level
 * await, and esbuild stops the build if one is left) become static imports of the same namespaces. Its
 * import.meta.url is the bundle's, so the loader names the wasm's file itself (vm-loader.ts).
 */
const vmPackageInBundle = {
  name: 'vm-package-in-bundle',
  setup(b) {
    b.onLoad({ filter: /[\\/]@micropython[\\/]micropython-webassembly-pyscript[\\/]micropython\.mjs$/ }, (args) => {
      const names = new Set();
      const code = readFileSync(args.path, 'utf8').replace(/await import\("([a-z]+)"\)/g, (all, name) => {
        if (!isBuiltin(name)) return all;
        names.add(name);
        return `__node_${name}`;
      });
      return { contents: [...names].map((n) => `import * as __node_${n} from "${n}";`).join('') + code, loader: 'js' };
    });
  },
};

// A board's worker thread: the bundle, and the entry that runs it with its cache (emulator/vm/worker-entry.ts).
// Beside it, what a power-on would otherwise work out from the bundle's inputs (emulator/vm/worker-build.ts).
const vmPackage = '@micropython/micropython-webassembly-pyscript';
const workerFile = 'dist/emulator/vm/worker.cjs';
const WORKER_BUILD = 'worker-build.json';
const WORKER_SOURCES = 'worker-sources.json';
await cacheableBundle('emulator/vm/worker.ts', workerFile, [vmPackageInBundle], common.external.filter((e) => e !== vmPackage), {
  BOARDCTL_WORKER_BUILD: JSON.stringify(WORKER_BUILD),
  BOARDCTL_WORKER_SOURCES: JSON.stringify(WORKER_SOURCES),
});
const sha256 = (bytes) => createHash('sha256').update(bytes).digest('hex');
const sources = [];
const sourceIndex = (src) => {
  const at = sources.indexOf(src);
  return at >= 0 ? at : sources.push(src) - 1;
};
const families = Object.fromEntries(
  ['esp32', 'rp2'].map((f) => [f, { files: [...frozenFiles(f)].map(([path, src]) => [path, sourceIndex(src)]), digest: frozenDigest(f) }]),
);
const wasm = readFileSync(vmWasmFile());
const workerBuild = {
  frozen: { families },
  wasm: { digest: sha256(wasm), sum: checksum(wasm).toString(16), facts: wasmFacts(wasm), file: relative(dirname(here(`../${workerFile}`)), vmWasmFile()).split(sep).join('/') },
  packageVersion: JSON.parse(readFileSync(createRequire(import.meta.url).resolve(`${vmPackage}/package.json`), 'utf8')).version,
  hostDigest: sha256(readFileSync(here(`../${workerFile}`))),
};
writeFileSync(here(`../dist/emulator/vm/${WORKER_BUILD}`), JSON.stringify(workerBuild));
writeFileSync(here(`../dist/emulator/vm/${WORKER_SOURCES}`), JSON.stringify(sources));
await build({
  ...common,
  entryPoints: ['emulator/vm/worker-entry.ts'],
  format: 'cjs',
  outfile: 'dist/emulator/vm/worker-entry.cjs',
  ...ownUrl,
  metafile: false,
});

await build({
  ...common,
  entryPoints: ['cli/boardctl.ts'],
  format: 'cjs',
  outfile: 'dist/cli/boardctl.cjs',
  ...ownUrl,
  define: { ...ownUrl.define, 'import.meta.dirname': '__dirname' },
  metafile: false,
});
