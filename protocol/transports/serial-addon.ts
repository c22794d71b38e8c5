// bindings-cpp's native addon, for the bundled CLI: the bundle step puts this module in place of bindings-cpp's
// serialport-bindings.js (which calls node-gyp-build with its own __dirname). node-gyp-build searches build/ and
// prebuilds/ on every start; the build ran that search once and recorded the file it found, and where the package
// lay from the bundle (require.resolve's walk costs ~0.5 ms). The record is used only where node-gyp-build would
// find the same file; anything else (another machine, platform, architecture or Node ABI, another layout of
// node_modules, a package rebuilt from source, node-gyp-build's overrides in the environment, a file that does not
// load) goes through require.resolve and node-gyp-build as bindings-cpp does.
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { addonRoot, addonTarget, nodeGypBuild, searchOverridden, type AddonRecord } from './serial-addon-search.js';

/** Set by the bundle step (an esbuild define); absent in the tsc build. */
declare const BOARDCTL_SERIAL_ADDON: AddonRecord | null | undefined;

/**
 * The recorded package folder, where require.resolve from here would find the package there: it exists, and no
 * node_modules on the way up to the one that holds it has a copy of its own (resolve would take that one).
 */
function recordedRoot(record: AddonRecord): string | undefined {
  const here = dirname(fileURLToPath(import.meta.url));
  const root = join(here, record.root);
  if (!existsSync(join(root, 'package.json'))) return undefined;
  const holder = dirname(dirname(dirname(root))); // the folder of node_modules/@serialport/bindings-cpp
  for (let dir = here; dir !== holder; dir = dirname(dir)) {
    if (dir === dirname(dir) || existsSync(join(dir, 'node_modules', '@serialport', 'bindings-cpp'))) return undefined;
  }
  return root;
}

function recordedAddon(): string | undefined {
  const record = typeof BOARDCTL_SERIAL_ADDON === 'object' ? BOARDCTL_SERIAL_ADDON : undefined;
  if (!record || record.target !== addonTarget() || searchOverridden()) return undefined;
  const root = recordedRoot(record);
  // A build/ folder made after the record (a rebuild from source) comes first in node-gyp-build's search.
  if (!root || (!record.file.startsWith('build/') && existsSync(join(root, 'build')))) return undefined;
  const file = join(root, record.file);
  return existsSync(file) ? file : undefined;
}

function loadAddon(): unknown {
  const file = recordedAddon();
  if (file) {
    try {
      return createRequire(import.meta.url)(file);
    } catch {
      // another libc's build, say: node-gyp-build picks the one that fits
    }
  }
  const root = addonRoot();
  return nodeGypBuild(root)(root);
}

/** What serialport-bindings.js exports. */
export const binding = loadAddon();
