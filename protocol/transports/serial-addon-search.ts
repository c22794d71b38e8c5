// Where node-gyp-build finds bindings-cpp's native addon, and when that answer may be recorded and reused: the
// bundle step records it (cli/bundle.mjs), serial-addon.ts uses the record.
import { createRequire } from 'node:module';
import { dirname, join, relative, sep } from 'node:path';

export interface AddonRecord {
  /** addonTarget() where the search ran. */
  target: string;
  /** node-gyp-build's answer, relative to @serialport/bindings-cpp's folder, with '/' separators. */
  file: string;
  /** That folder, relative to the bundles' folder `bundleDir` (dist/cli; dist/chunks is beside it), with '/' separators. */
  root: string;
}

type NodeGypBuild = ((dir: string) => unknown) & { path(dir: string): string };

/** What node-gyp-build's choice depends on, besides the environment and the files. */
export const addonTarget = (): string => `${process.platform}-${process.arch}-${process.versions.modules}`;

/** Environment variables that change node-gyp-build's search. */
export const searchOverridden = (): boolean =>
  Object.keys(process.env).some((k) => /^(PREBUILDS_ONLY|npm_config_arch|npm_config_platform|LIBC|ARM_VERSION)$|_PREBUILD$/.test(k));

/** @serialport/bindings-cpp's folder. */
export const addonRoot = (): string => dirname(createRequire(import.meta.url).resolve('@serialport/bindings-cpp/package.json'));

/** node-gyp-build as bindings-cpp itself resolves it. */
export const nodeGypBuild = (root: string): NodeGypBuild => createRequire(join(root, 'package.json'))('node-gyp-build') as NodeGypBuild;

/** node-gyp-build's search, done now, as a record for bundles in `bundleDir`; null where there is nothing to record. */
export function recordAddon(bundleDir: string): AddonRecord | null {
  if (searchOverridden()) return null;
  const slashed = (path: string) => path.split(sep).join('/');
  try {
    const root = addonRoot();
    return { target: addonTarget(), file: slashed(relative(root, nodeGypBuild(root).path(root))), root: slashed(relative(bundleDir, root)) };
  } catch {
    return null; // no addon here: the CLI searches (and reports) at run time
  }
}
