// Board-side Python: the .py files under emulator/py, installed into every VM as a port's frozen modules.
// emulator/py/common holds what every port has, emulator/py/<family> what differs: a file there replaces the
// common one of the same path. The folder sits next to this module's folder in the source tree and in dist/ (the
// build copies it), so the same relative URL finds it from vitest and tsc's output; the worker bundle's build
// packed them in one file (worker-build.ts).
import { nodeCrypto } from '../../protocol/lazy-builtin.js';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { MicroPythonVm } from './vm-loader.js';
import { builtSources, workerBuild } from './worker-build.js';

/** A folder of emulator/py besides common/: the port family of a profile (its sys.platform). */
export type PortFamily = 'esp32' | 'rp2';

const PY_ROOT = fileURLToPath(new URL('../py/', import.meta.url));
const cache = new Map<PortFamily, ReadonlyMap<string, string>>();
const digests = new Map<PortFamily, string>();

function collect(dir: string, prefix: string, into: Map<string, string>): void {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const rel = prefix + entry.name;
    if (entry.isDirectory()) collect(join(dir, entry.name), rel + '/', into);
    else if (entry.name.endsWith('.py')) into.set(rel, readFileSync(join(dir, entry.name), 'utf8'));
  }
}

/** Path inside the frozen tree ('machine.py', 'umqtt/simple.py') -> source, for one port family. */
export function frozenFiles(family: PortFamily): ReadonlyMap<string, string> {
  let files = cache.get(family);
  if (files) return files;
  const built = workerBuild?.frozen.families[family];
  const sources = built && builtSources();
  if (built && sources) {
    files = new Map(built.files.map(([path, source]) => [path, sources[source]!]));
    cache.set(family, files);
    return files;
  }
  if (!existsSync(join(PY_ROOT, 'common'))) {
    throw new Error(`board-side Python not found in ${PY_ROOT} (build with: npm run build)`);
  }
  const all = new Map<string, string>();
  collect(join(PY_ROOT, 'common'), '', all);
  collect(join(PY_ROOT, family), '', all);
  files = all;
  cache.set(family, files);
  return files;
}

const sha256 = (text: string) => nodeCrypto().createHash('sha256').update(text).digest('hex');

/** A digest of a family's frozen tree (its paths and sources): what the boot image's key holds of the runtime. */
export function frozenDigest(family: PortFamily): string {
  let digest = digests.get(family) ?? workerBuild?.frozen.families[family]?.digest;
  if (digest) return digest;
  digest = sha256([...frozenFiles(family)].map(([path, src]) => `${path}\n${sha256(src)}`).join('\n'));
  digests.set(family, digest);
  return digest;
}

/** A family's frozen paths, in frozenFiles' order (from the build's facts: no source read). */
export function frozenPaths(family: PortFamily): string[] {
  return workerBuild?.frozen.families[family]?.files.map(([path]) => path) ?? [...frozenFiles(family).keys()];
}

/** The importable names the frozen tree provides: its top-level modules and packages. */
export function frozenNames(paths: readonly string[]): string[] {
  return [...new Set(paths.map((p) => p.split('/')[0]!.replace(/\.py$/, '')))];
}

/** What this module uses of a directory node of the package's in-memory file system (MEMFS). */
interface DirNode {
  node_ops: { lookup(parent: DirNode, name: string): unknown; readdir(node: DirNode): string[] };
}

/**
 * Put the frozen tree into a fresh VM's file system at /rom, where the runtime's import hook finds it. A file or
 * folder is made when it is first looked up or its folder listed: a board restored from its boot image has the
 * runtime in its heap already and reads none of them at boot (writing the 31 files took 3-5 ms of each boot).
 * Each is made whole in one call on its folder (the package's path walks and string writes cost most).
 */
export function writeFrozenFiles(fs: MicroPythonVm['FS'], family: PortFamily): void {
  // Folder path -> the names in it still to make: a file's path in the tree, or null for a folder.
  const pending = new Map<string, Map<string, string | null>>([['/rom', new Map()]]);
  for (const path of frozenPaths(family)) {
    const parts = path.split('/');
    let dir = '/rom';
    for (const part of parts.slice(0, -1)) {
      pending.get(dir)!.set(part, null);
      dir += '/' + part;
      if (!pending.has(dir)) pending.set(dir, new Map());
    }
    pending.get(dir)!.set(parts.at(-1)!, path);
  }
  const make = (dir: string, name: string, file: string | null) => {
    pending.get(dir)!.delete(name); // first: making it looks the name up again (then not found, as it must be)
    const path = `${dir}/${name}`;
    if (file === null) {
      fs.mkdir(path);
      lazy(path);
      return;
    }
    // As bytes: the package converts a string through a JavaScript array a number per byte (tens of ms).
    fs.createDataFile(dir, name, Buffer.from(frozenFiles(family).get(file)!, 'utf8'), true, true);
    fs.chmod(path, 0o666); // as writeFile leaves a file (createDataFile adds the execute bits)
  };
  const lazy = (dir: string) => {
    const node = fs.lookupPath(dir).node as DirNode;
    const ops = node.node_ops;
    const names = pending.get(dir)!;
    node.node_ops = {
      ...ops,
      lookup(parent, name) {
        const file = names.get(name);
        if (file === undefined) return ops.lookup(parent, name);
        make(dir, name, file);
        return fs.lookupPath(`${dir}/${name}`).node;
      },
      readdir(n) {
        for (const [name, file] of names) make(dir, name, file);
        return ops.readdir(n);
      },
    };
  };
  fs.mkdir('/rom');
  lazy('/rom');
}
