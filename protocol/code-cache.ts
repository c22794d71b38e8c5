// A CommonJS bundle run through V8 with a code cache: the CLI's (dist/cli/main.cjs) and a board's worker thread's
// (dist/emulator/vm/worker.cjs). Node 20 compiles all of their JavaScript on every start and its ESM loader keeps
// no compile cache, which is most of what a quick command costs beyond `node -e 0`, and most of a worker's CPU to
// its board's 'ready' (the lazy compiles of the boot's functions). vm.Script takes the bytecode an earlier run
// made (cachedData); the runner saves it when there was none or this kind of run had not happened yet (the cache
// holds what a run compiled: --help's functions are not exec's): the CLI at exit, a worker after its board's
// 'ready' (a terminated worker runs no exit handlers). The file, $BOARDCTL_HOME/cache/NAME-NODEVERSION-ARCH.code:
//   "BCC1", checksum of the bundle (8 bytes), checksum of the data (8), length of the kinds list (4),
//   the kinds (JSON), the data.
// V8 checks its own version and flags but neither the source (only its length) nor the data: a cache made for
// another bundle, or damaged, would run the wrong code or crash, so both are checked here first. The checksum
// is a Fletcher sum of 32-bit words in a few bytes of WebAssembly (node:crypto alone takes ~8 ms CPU to load, a
// JavaScript loop over the data ~5 ms cold; this ~0.5 ms).
import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { Script } from 'node:vm';
import { dataHome } from './data-home.js';
import { makeDirs } from './fs/make-dirs.js';
import { phase } from './timing.js';

const MAGIC = 'BCC1';
const HEADER = 24;
/** Kinds of command a cache may gather before it stops growing (each new kind costs one write at exit). */
const MAX_KINDS = 16;

// (func (param $len i32) (result i64)): a = 1 + sum of the words, s = sum of the a's; returns s << 32 | a.
const FLETCHER_WASM = Uint8Array.from(
  (
    '0061736d01000000' + // magic, version
    '01060160017f017e' + // type: (i32) -> i64
    '03020100' + // function 0 has type 0
    '0503010000' + // memory 0, at least 0 pages
    '070902016d020001660000' + // exports: "m" memory 0, "f" function 0
    '0a3b0139' + // code: one body of 57 bytes
    '01037f' + // locals $i $a $s: i32
    '41012102' + // a = 1
    '02400340' + // block, loop
    '200120004f0d01' + // if i >= len: break
    '200220012802006a2102' + // a += mem[i]
    '200320026a2103' + // s += a
    '200141046a2101' + // i += 4
    '0c000b0b' + // continue; end, end
    '2003ad4220862002ad840b' // s << 32 | a
  )
    .match(/../g)!
    .map((h) => parseInt(h, 16)),
);

// The little of WebAssembly used here (its types are in TypeScript's DOM library, which this project leaves out).
declare namespace WebAssembly {
  class Module {
    constructor(bytes: Uint8Array);
  }
  class Instance {
    constructor(module: Module);
    readonly exports: unknown;
  }
  interface Memory {
    readonly buffer: ArrayBuffer;
    grow(pages: number): number;
  }
}

let fletcher: { m: WebAssembly.Memory; f: (len: number) => bigint } | undefined;

/** A checksum of bytes that any change of one 32-bit word changes (with the length in it). */
export function checksum(bytes: Uint8Array): bigint {
  fletcher ??= new WebAssembly.Instance(new WebAssembly.Module(FLETCHER_WASM)).exports as typeof fletcher & object;
  const len = (bytes.length + 3) & ~3;
  const more = Math.ceil(len / 65536) - fletcher.m.buffer.byteLength / 65536;
  if (more > 0) fletcher.m.grow(more);
  const view = new Uint8Array(fletcher.m.buffer, 0, len);
  view.set(bytes);
  view.fill(0, bytes.length);
  return fletcher.f(len) ^ BigInt(bytes.length);
}

/** The cache called `name` ('cli', 'cli-virtual', 'worker'). */
export function cacheFile(name: string, env: NodeJS.ProcessEnv = process.env): string {
  return join(dataHome(env), 'cache', `${name}-${process.version}-${process.arch}.code`);
}

interface Cache {
  data: Buffer;
  kinds: string[];
}

/** The cache in `file` made for a bundle of checksum `bundleSum`, or why there is none to use. */
function readCache(file: string, bundleSum: bigint): Cache | string {
  let bytes: Buffer;
  try {
    bytes = readFileSync(file);
  } catch {
    return 'none yet';
  }
  if (bytes.length < HEADER || bytes.toString('latin1', 0, 4) !== MAGIC) return 'not a code cache';
  if (bytes.readBigInt64LE(4) !== bundleSum) return 'made for another bundle';
  const kindsEnd = HEADER + bytes.readUInt32LE(20);
  if (kindsEnd > bytes.length) return 'damaged';
  const data = bytes.subarray(kindsEnd);
  if (checksum(data) !== bytes.readBigInt64LE(12)) return 'damaged';
  try {
    return { data, kinds: JSON.parse(bytes.toString('utf8', HEADER, kindsEnd)) as string[] };
  } catch {
    return 'damaged';
  }
}

function writeCache(file: string, bundleSum: bigint, cache: Cache, label: string): void {
  // A temp file renamed into place: a process reading the cache meanwhile sees the old one or the new one (and
  // worker threads of one process each write their own: they share the pid).
  const temp = `${file}.${process.pid}.${Math.random().toString(36).slice(2)}.tmp`;
  try {
    const kinds = Buffer.from(JSON.stringify(cache.kinds));
    const header = Buffer.alloc(HEADER);
    header.write(MAGIC, 0, 'latin1');
    header.writeBigInt64LE(bundleSum, 4);
    header.writeBigInt64LE(checksum(cache.data), 12);
    header.writeUInt32LE(kinds.length, 20);
    makeDirs(dirname(file)); // not mkdirSync's recursive: it loops forever under /proc
    writeFileSync(temp, Buffer.concat([header, kinds, cache.data]));
    renameSync(temp, file);
    phase(`${label} written`);
  } catch {
    // a data directory we cannot write: every run compiles, as without a cache
  }
}

/** What a bundle's runner gets back: the bundle's exports, and the saving of its cache (a no-op where not needed). */
export interface BundleRun {
  exports: unknown;
  save: () => void;
}

/**
 * Run the CommonJS bundle at `bundle` (its code sees CommonJS's five names, plus `__boardctlImport` for the ES
 * modules it loads and `__boardctlUrl` for import.meta.url) with the cache in `file`. `kind` names the kind of run
 * (see cli/boardctl.ts): save() writes the cache when it was not used, or had not seen this kind yet. `label`
 * starts the BOARDCTL_DEBUG=timing lines ("code cache used", "board: code cache written").
 */
export function runBundle(bundle: string, file: string, kind: string, label = 'code cache'): BundleRun {
  const source = readFileSync(bundle);
  const bundleSum = checksum(source);
  // Under NODE_V8_COVERAGE (what test/start.test.ts reads to tell which modules ran) V8 counts calls in the code
  // it compiles: no bytecode from, or for, other runs.
  const cache = process.env.NODE_V8_COVERAGE ? 'coverage on' : readCache(file, bundleSum);
  const wrapped = `(function (exports, require, module, __filename, __dirname, __boardctlImport, __boardctlUrl) {${source.toString()}\n})`;
  const script = new Script(wrapped, { filename: bundle, cachedData: typeof cache === 'string' ? undefined : cache.data });
  const used = typeof cache !== 'string' && !script.cachedDataRejected;
  phase(used ? `${label} used` : `${label} not used (${typeof cache === 'string' ? cache : 'rejected by V8'})`);
  const kinds = used ? cache.kinds : [];
  let needed = cache !== 'coverage on' && !kinds.includes(kind) && kinds.length < MAX_KINDS;
  const save = () => {
    if (needed) writeCache(file, bundleSum, { data: script.createCachedData(), kinds: [...kinds, kind] }, label);
    needed = false;
  };
  const url = pathToFileURL(bundle).href;
  const importEsm = (specifier: string) => import(specifier.startsWith('.') ? new URL(specifier, url).href : specifier);
  const module = { exports: {} };
  (script.runInThisContext() as (...args: unknown[]) => void)(module.exports, createRequire(bundle), module, bundle, dirname(bundle), importEsm, url);
  return { exports: module.exports, save };
}
