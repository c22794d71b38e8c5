// What the build of the worker bundle (cli/bundle.mjs) worked out from its inputs, so that a board's power-on
// does not: the port's frozen trees with their digests (one read instead of a folder's, no hashing), the facts
// of the VM package's wasm (no pass over its code), the package's version and the bundle's own digest (the boot
// image's key: no package.json read, no hash of the bundle). In a file beside the bundle: inside it, the frozen
// sources made its code cache half as large again, a slower load. The sources are in a second file, read when a
// frozen file is first made (frozen.ts; a board booted from its boot image reads none): ~1 ms of a boot. Outside
// the bundle (tests, tsc's output), or when a file cannot be read, each is found at run time, as the build finds it.
import { readFileSync } from 'node:fs';
import type { WasmFacts } from './memory.js';

export interface WorkerBuild {
  /**
   * The frozen trees: per port family its paths in frozenFiles' order, each with the index of its source in the
   * sources file (each source once: most are every family's), and the tree's digest (frozenDigest).
   */
  frozen: { families: Record<string, { files: Array<[string, number]>; digest: string }> };
  /**
   * The wasm the build found: its SHA-256 and facts, and code-cache.ts's checksum of it (hex), by which a loader
   * knows the bytes it was given (others get their digest and facts worked out); its file, as a URL relative to
   * the bundle.
   */
  wasm: { digest: string; sum: string; facts: WasmFacts; file: string };
  packageVersion: string;
  /** SHA-256 of the worker bundle. */
  hostDigest: string;
}

/** The files' names, beside the bundle: defined in the worker bundle alone. */
declare const BOARDCTL_WORKER_BUILD: string | undefined;
declare const BOARDCTL_WORKER_SOURCES: string | undefined;

function read<T>(name: string | undefined): T | undefined {
  if (name === undefined) return undefined;
  try {
    return JSON.parse(readFileSync(new URL(name, import.meta.url), 'utf8')) as T;
  } catch {
    return undefined;
  }
}

export const workerBuild = read<WorkerBuild>(typeof BOARDCTL_WORKER_BUILD === 'string' ? BOARDCTL_WORKER_BUILD : undefined);

let sources: string[] | undefined;

/** The frozen sources the build's paths index, or undefined (without the build, or the file unreadable). */
export function builtSources(): string[] | undefined {
  if (workerBuild && !sources) sources = read<string[]>(typeof BOARDCTL_WORKER_SOURCES === 'string' ? BOARDCTL_WORKER_SOURCES : undefined);
  return sources;
}
