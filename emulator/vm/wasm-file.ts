// Where the VM package's wasm is: its loader is told too (in the worker bundle, cli/bundle.mjs, the package's
// JavaScript is the bundle's, whose folder does not hold it).
import { createRequire } from 'node:module';

export function vmWasmFile(): string {
  return createRequire(import.meta.url).resolve('@micropython/micropython-webassembly-pyscript/micropython.wasm');
}
