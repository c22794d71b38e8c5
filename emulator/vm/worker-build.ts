// What the build of the worker bundle (cli/bundle.mjs) worked out from its inputs, so that a board's power-on
// does not: the port's frozen trees with their digests (one read instead of a folder's, no hashing), the facts
// of the VM package's wasm (no pass over its code), the package's version and the bundle's own digest (the boot
// image's key: no package.json read, no hash of the bundle). In a file beside the bundle: inside it, the frozen
// sources made its code cache half as large again, a slower load. Outside the bundle (tests, tsc's output), or
// when the file cannot be read, each is found at run time, as the build finds it.
import { readFileSync } from 'node:fs';
import type { WasmFacts } from './memory.js';

export interface WorkerBuild {
  /**
   * The frozen trees: each source once (most are every family's); per port family its paths in frozenFiles'
   * order, each with its source's index, and the tree's digest (frozenDigest).
   */
  frozen: { sources: string[]; families: Record<string, { files: Array<[string, number]>; digest: string }> };
  /** The wasm the build found, by its SHA-256: a loader given other bytes works their facts out itself. */
  wasm: { digest: string; facts: WasmFacts };
  packageVersion: string;
  /** SHA-256 of the worker bundle. */
  hostDigest: string;
}

/** The file's name, beside the bundle: defined in the worker bundle alone. */
declare const BOARDCTL_WORKER_BUILD: string | undefined;

function readBuild(): WorkerBuild | undefined {
  if (typeof BOARDCTL_WORKER_BUILD !== 'string') return undefined;
  try {
    return JSON.parse(readFileSync(new URL(BOARDCTL_WORKER_BUILD, import.meta.url), 'utf8')) as WorkerBuild;
  } catch {
    return undefined;
  }
}

export const workerBuild = readBuild();
