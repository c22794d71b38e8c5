// bindings-cpp's native addon, for the bundled CLI: the bundle step puts this module in place of bindings-cpp's
// serialport-bindings.js (which calls node-gyp-build with its own __dirname). node-gyp-build searches build/ and
// prebuilds/ on every start; the build ran that search once and recorded the file it found. The record is used
// only where node-gyp-build would find the same file; anything else (another machine, platform, architecture or
// Node ABI, a package rebuilt from source, node-gyp-build's overrides in the environment, a file that does not
// load) goes through node-gyp-build as bindings-cpp does.
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { addonRoot, addonTarget, nodeGypBuild, searchOverridden, type AddonRecord } from './serial-addon-search.js';

/** Set by the bundle step (an esbuild define); absent in the tsc build. */
declare const BOARDCTL_SERIAL_ADDON: AddonRecord | null | undefined;

function recordedAddon(root: string): string | undefined {
  const record = typeof BOARDCTL_SERIAL_ADDON === 'object' ? BOARDCTL_SERIAL_ADDON : undefined;
  if (!record || record.target !== addonTarget() || searchOverridden()) return undefined;
  // A build/ folder made after the record (a rebuild from source) comes first in node-gyp-build's search.
  if (!record.file.startsWith('build/') && existsSync(join(root, 'build'))) return undefined;
  const file = join(root, record.file);
  return existsSync(file) ? file : undefined;
}

function loadAddon(): unknown {
  const root = addonRoot();
  const file = recordedAddon(root);
  if (file) {
    try {
      return createRequire(import.meta.url)(file);
    } catch {
      // another libc's build, say: node-gyp-build picks the one that fits
    }
  }
  return nodeGypBuild(root)(root);
}

/** What serialport-bindings.js exports. */
export const binding = loadAddon();
