// A boot image: the VM's state just after its runtime was installed (the snapshot of vm-snapshot.ts), kept on disk
// so that the first boot of every new process restores it instead of installing the runtime again (compiling and
// running its Python, the largest part of an in-process command's start).
//
// What a new process must make again, because it is not in linear memory:
// - the JavaScript objects the VM names by id (the package's proxy_js_ref table): the host's modules (`_board`,
//   `_hostloop`, the parts' modules) and the functions of theirs Python kept. They are this process's objects
//   now, so the image names each by its path from a module ('_board.ticks_us') and the new process puts its own
//   object of that name at the same id;
// - the runtime's functions the host calls (what install() handed to _board.connect): JavaScript handles on
//   Python objects are JavaScript objects too. The image keeps their ids in the VM's own table of Python objects
//   handed out, which is in memory, and the new process makes handles for the same ids.
// The image holds no board's state: install reads only the profile's facts, the frozen files and the VM, and
// every part keeps its state in JavaScript (flash, pins), which the names re-bind. So one image serves every
// board of a profile whose parts offer the same modules (the file name says which), and it is valid only for the
// same VM package, wasm, frozen files and host code (its key). Anything else is ignored and a fresh boot writes
// a new image. A boot from the bundle hashes nothing with node:crypto (~2-3 ms to load in a worker thread): the
// key is kept as its text and the file's checksum is code-cache.ts's.
import { readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { threadId } from 'node:worker_threads';
import { checksum } from '../../protocol/code-cache.js';
import { makeDirs } from '../../protocol/fs/make-dirs.js';
import { nodeCrypto } from '../../protocol/lazy-builtin.js';
import { installTables, stackMatches, writePages, type ProxyTables, type VmSnapshot } from './vm-snapshot.js';
import type { MicroPythonVm } from './vm-loader.js';
import { workerBuild } from './worker-build.js';

const MAGIC = Buffer.from('boardctl VM boot image 3\n');
const PAGE = 4096;
const ZERO_PAGE = Buffer.alloc(PAGE);
/** The file ends in the checksum of all before it (a bigint of up to 64 bits). */
const DIGEST_BYTES = 8;
/** The package's first slots of its JavaScript reference table (globalThis, undefined): this process's own. */
const STATIC_REFS = 2;
/** How deep below a module the image looks for the objects Python holds (a module's functions are one level). */
const NAME_DEPTH = 3;
/**
 * More than the host's calls right after a restore can allocate past the restored memory (the entry functions'
 * handles, the reseed: some hundreds of bytes, from the top of the malloc arena at worst).
 */
const RESTORE_SLACK = 256 * 1024;

/** What the image knows besides memory. */
interface Header {
  key: string;
  /** Linear memory's size when the image was taken, and the part of it the image covers (the rest was zero). */
  memoryBytes: number;
  usedBytes: number;
  /**
   * How far a VM of this build, just loaded, has written (past it, its memory is zero): what a restore must clear
   * of a fresh VM besides writing the image's pages. Measured by the boot that wrote the image.
   */
  freshBytes: number;
  stackPointer: number;
  /** Which PAGE-sized pages of the covered part are stored, in order (the others are zero). */
  pages: number[];
  /** The JavaScript reference table past its static slots: each object's name, null for a free slot. */
  refs: (string | null)[];
  refNext: number;
  /** Ids of the Python objects whose handles the host calls (the runtime's entry functions), in connect()'s order. */
  entry: number[];
}

export interface BootImage {
  header: Header;
  /** The stored pages, in the header's order. */
  pages: Uint8Array;
}

/** The host's JavaScript modules as Python sees them: name -> module object. */
export type JsModules = Record<string, object>;

interface Walk {
  names: Map<object, string>;
  /** Every member's path and type: what Python could have found at install. */
  shape: string[];
}

function walk(modules: JsModules): Walk {
  const names = new Map<object, string>();
  const shape: string[] = [];
  const visit = (obj: object, path: string, depth: number) => {
    if (names.has(obj)) return;
    names.set(obj, path);
    if (depth === NAME_DEPTH) return;
    for (const [k, v] of Object.entries(obj)) {
      shape.push(`${path}.${k}:${typeof v}`);
      if ((typeof v === 'object' && v !== null) || typeof v === 'function') visit(v as object, `${path}.${k}`, depth + 1);
    }
  };
  for (const [name, mod] of Object.entries(modules)) visit(mod, name, 0);
  return { names, shape };
}

const sum = (bytes: Uint8Array): Buffer => {
  const out = Buffer.alloc(DIGEST_BYTES);
  out.writeBigUInt64LE(BigInt.asUintN(64, checksum(bytes)));
  return out;
};

let hostFacts: string | undefined;

/** The VM package's version and the host code running now (the worker's bundle), once per worker: the build's when it has them. */
function hostCode(): string {
  if (hostFacts) return hostFacts;
  if (workerBuild) return (hostFacts = `package ${workerBuild.packageVersion}\nhost ${workerBuild.hostDigest}`);
  const require = createRequire(import.meta.url);
  const pkg = JSON.parse(readFileSync(require.resolve('@micropython/micropython-webassembly-pyscript/package.json'), 'utf8')) as { version: string };
  hostFacts = `package ${pkg.version}\nhost ${nodeCrypto().createHash('sha256').update(readFileSync(fileURLToPath(import.meta.url))).digest('hex')}`;
  return hostFacts;
}

/** Where a board's boot image lives and the key it must carry. */
export interface BootImageSlot {
  path: string;
  key: string;
}

/**
 * The slot for a VM just loaded, before anything is installed in it: its file in `dir`, one per profile and set
 * of module shapes, and the key of everything that shapes the installed heap (`runtime`: the frozen tree's digest). `extra` is one more key input
 * (BOARDCTL_BOOT_IMAGE_KEY), so that a test can make an image stale without changing the code.
 */
export function bootImageSlot(
  dir: string,
  vm: MicroPythonVm,
  facts: { profile: string; heapSize: number; runtime: string; modules: JsModules; extra?: string },
): BootImageSlot {
  const shape = walk(facts.modules).shape.join('\n');
  // The key as its text (the header holds it): digests already name the code, the modules' shape is a few KB.
  const key = `${hostCode()}\nwasm ${vm.wasmDigest}\nprofile ${facts.profile}\nheap ${facts.heapSize}\nruntime ${facts.runtime}\n${shape}\nextra ${facts.extra ?? ''}`;
  const name = `vm-${facts.profile}-${sum(Buffer.from(shape)).toString('hex')}.img`;
  return { path: join(dir, name), key };
}

/** The image in the slot, or why there is none to use (missing, cut short, damaged, stale). */
export function readBootImage(slot: BootImageSlot): BootImage | string {
  let buf: Buffer;
  try {
    buf = readFileSync(slot.path);
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'ENOENT' ? 'none yet' : `unreadable: ${(err as Error).message}`;
  }
  const body = buf.subarray(0, Math.max(0, buf.length - DIGEST_BYTES));
  if (buf.length < MAGIC.length + 4 + DIGEST_BYTES || !buf.subarray(0, MAGIC.length).equals(MAGIC)) return 'not an image';
  if (!sum(body).equals(buf.subarray(body.length))) return 'damaged (checksum)';
  const at = MAGIC.length + 4 + buf.readUInt32LE(MAGIC.length);
  try {
    const header = JSON.parse(buf.toString('utf8', MAGIC.length + 4, at)) as Header;
    if (header.key !== slot.key) return 'stale (made by another VM or runtime)';
    if (body.length !== at + header.pages.length * PAGE) return 'damaged (size)';
    return { header, pages: body.subarray(at) };
  } catch {
    // Not the header this code writes (the checksum held, so written so on purpose): not ours to use.
    return 'damaged (header)';
  }
}

/** The image of a VM just installed, written atomically (a process booting meanwhile reads the old or the new). */
export function writeBootImage(
  slot: BootImageSlot,
  snap: VmSnapshot,
  facts: { memoryBytes: number; freshBytes: number; modules: JsModules; entry: unknown[] },
): string | undefined {
  const { names } = walk(facts.modules);
  const refs: (string | null)[] = [];
  for (const obj of snap.tables.proxy_js_ref.slice(STATIC_REFS)) {
    if (obj === undefined) {
      refs.push(null);
      continue;
    }
    const name = names.get(obj as object);
    if (name === undefined) return 'Python holds a JavaScript object that is no module member';
    refs.push(name);
  }
  if (snap.tables.proxy_js_existing.some((v) => v !== undefined)) return 'a handle was in transit';
  const entry = facts.entry.map((f) => (f as { _ref?: unknown })._ref);
  if (!entry.every((r): r is number => typeof r === 'number')) return 'an entry function is no Python object';
  const mem = Buffer.from(snap.memory.buffer, snap.memory.byteOffset, snap.memory.byteLength);
  const pages: number[] = [];
  for (let p = 0; p * PAGE < mem.length; p++) {
    if (!mem.subarray(p * PAGE, (p + 1) * PAGE).equals(ZERO_PAGE)) pages.push(p);
  }
  const header: Header = {
    key: slot.key,
    memoryBytes: facts.memoryBytes,
    usedBytes: mem.length,
    freshBytes: facts.freshBytes,
    stackPointer: snap.stackPointer,
    pages,
    refs,
    refNext: snap.tables.proxy_js_ref_next,
    entry,
  };
  const json = Buffer.from(JSON.stringify(header));
  const len = Buffer.alloc(4);
  len.writeUInt32LE(json.length);
  const body = Buffer.concat([MAGIC, len, json, ...pages.map((p) => mem.subarray(p * PAGE, (p + 1) * PAGE))]);
  const tmp = `${slot.path}.${process.pid}-${threadId}.tmp`;
  try {
    makeDirs(join(slot.path, '..'));
    writeFileSync(tmp, Buffer.concat([body, sum(body)]), { mode: 0o600 });
    renameSync(tmp, slot.path);
  } catch (err) {
    rmSync(tmp, { force: true });
    return `cannot write ${slot.path}: ${(err as Error).message}`;
  }
  return undefined;
}

/**
 * Put a freshly loaded VM (nothing installed, nothing run) in the image's state, with this process's module
 * objects at the ids the image's heap names; returns the handles of the runtime's entry functions, or why the
 * image does not apply. After a failure the VM is spoiled: load another.
 */
export function applyBootImage(vm: MicroPythonVm, image: BootImage, modules: JsModules): unknown[] | string {
  const { header } = image;
  if (vm.wasmMemory.buffer.byteLength < header.memoryBytes && !vm.growMemory(header.memoryBytes)) return 'memory cannot grow';
  const { names } = walk(modules);
  const byName = new Map([...names].map(([obj, name]) => [name, obj]));
  const now = globalThis as unknown as { proxy_js_ref: unknown[]; proxy_js_ref_map: Map<unknown, number>; proxy_js_map: Map<number, unknown> };
  const refs: unknown[] = now.proxy_js_ref.slice(0, STATIC_REFS);
  for (const name of header.refs) {
    const obj = name === null ? undefined : byName.get(name);
    if (name !== null && obj === undefined) return `this host has no '${name}'`;
    refs.push(obj);
  }
  const tables: ProxyTables = {
    proxy_js_ref: refs,
    proxy_js_ref_next: header.refNext,
    proxy_js_ref_map: new Map([
      ...[...now.proxy_js_ref_map].filter(([, id]) => id < STATIC_REFS),
      ...refs.map((obj, id) => [obj, id] as const).filter(([obj, id]) => id >= STATIC_REFS && obj !== undefined),
    ]),
    // The handles this process made while loading (of __main__ and its dict) have the ids the same load gave
    // the image's process: they name the same objects in the image's heap.
    proxy_js_map: now.proxy_js_map,
    proxy_js_existing: [undefined],
  };
  if (!stackMatches(vm, header.stackPointer)) return 'the C stack is elsewhere';
  writePages(vm.wasmMemory.buffer, { pages: header.pages, bytes: image.pages, pageSize: PAGE }, header.freshBytes);
  installTables(tables);
  try {
    if (vm.globals.get('__name__') !== '__main__') return '__main__ is not where the image has it';
    // Each handle of the image's process is given up (as the package does when it finalises one) while Python
    // holds its object, and a handle of this process takes its place: the heap stays as the image has it. The
    // object passes through __main__'s __name__ entry, put back after: a new key would grow the dict.
    const entry = header.entry.map((ref) => {
      vm.globals.set('__name__', new vm.PyProxy(ref));
      vm._module._proxy_c_free_obj(ref);
      const handle = vm.globals.get('__name__');
      vm.globals.set('__name__', '__main__');
      return handle;
    });
    return entry.every((f) => typeof f === 'function') ? entry : 'an entry function is missing';
  } catch (err) {
    return `the restored VM failed: ${(err as Error).message}`;
  }
}

/**
 * Memory past this is zero in a VM just restored from the image and given its entry functions (for takeSnapshot's
 * limit): neither the image nor a fresh VM wrote past it.
 */
export function restoredExtent(image: BootImage): number {
  return Math.max(image.header.usedBytes, image.header.freshBytes) + RESTORE_SLACK;
}
