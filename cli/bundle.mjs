// The esbuild step of `npm run build`: the CLI as dist/cli/main.js and chunks loaded on use (dist/chunks), with
// the metafile test/start.test.ts reads. serialport's JavaScript is bundled too (fewer files for Node's loader),
// with two modules put in place for its own (see protocol/transports/serial-addon.ts and serial-debug.ts).
// Plain JavaScript: it runs the build. Needs tsc's output (dist/protocol) for the addon search.
import { rmSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { recordAddon } from '../dist/protocol/transports/serial-addon-search.js';

const here = (path) => fileURLToPath(new URL(path, import.meta.url));

/** Our addon loader for bindings-cpp's serialport-bindings.js; our lazy `debug` for serialport's modules. */
const serialportModules = {
  name: 'serialport-modules',
  setup(b) {
    b.onResolve({ filter: /^\.\/serialport-bindings(\.js)?$/ }, (args) =>
      /[\\/]@serialport[\\/]bindings-cpp[\\/]dist$/.test(args.resolveDir) ? { path: here('../protocol/transports/serial-addon.ts') } : undefined,
    );
    b.onResolve({ filter: /^debug$/ }, (args) =>
      /[\\/]node_modules[\\/]@serialport[\\/]/.test(args.importer) ? { path: here('../protocol/transports/serial-debug.ts') } : undefined,
    );
  },
};

rmSync(here('../dist/chunks'), { recursive: true, force: true });
const { metafile } = await build({
  absWorkingDir: here('..'), // the metafile's paths are relative to it
  entryPoints: ['cli/main.ts'],
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  outdir: 'dist',
  outbase: '.',
  chunkNames: 'chunks/[name]-[hash]',
  minifyWhitespace: true,
  minifySyntax: true,
  define: { 'process.env.NODE_ENV': '"production"', BOARDCTL_SERIAL_ADDON: JSON.stringify(recordAddon()) },
  external: ['@lydell/node-pty', '@micropython/micropython-webassembly-pyscript', 'react-devtools-core'],
  plugins: [serialportModules],
  metafile: true,
  logLevel: 'warning',
  banner: { js: "import { createRequire as __boardctlRequire } from 'node:module'; const require = __boardctlRequire(import.meta.url);" },
});
writeFileSync(here('../dist/chunks/meta.json'), JSON.stringify(metafile));
