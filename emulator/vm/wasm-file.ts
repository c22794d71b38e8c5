// Where the VM package's wasm is: its loader is told too (in the worker bundle, cli/bundle.mjs, the package's
// JavaScript is the bundle's, whose folder does not hold it). The worker bundle's build recorded the path from
// the bundle (worker-build.ts): there no package resolution (~1 ms of a boot) unless the file is not there.
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { workerBuild } from './worker-build.js';

export function vmWasmFile(): string {
  const built = workerBuild && fileURLToPath(new URL(workerBuild.wasm.file, import.meta.url));
  if (built && existsSync(built)) return built;
  return createRequire(import.meta.url).resolve('@micropython/micropython-webassembly-pyscript/micropython.wasm');
}
