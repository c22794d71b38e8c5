// The worker bundle's build writes beside it what a board's power-on would otherwise work out from the bundle's
// inputs (emulator/vm/worker-build.ts): the frozen trees and their digests, the wasm's facts, the package's
// version, the bundle's digest. A power-on trusts them, so each must be what the run-time code finds in the same
// inputs: a frozen .py changed since must change its tree's digest (and so the boot image's key), another wasm
// must not get this one's edits. Without the files (or with a damaged one) a board boots as before.
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { cpSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { beforeAll, describe, expect, it } from 'vitest';
import { frozenDigest, frozenFiles, type PortFamily } from '../emulator/vm/frozen.js';
import { wasmFacts } from '../emulator/vm/memory.js';
import { vmWasmFile } from '../emulator/vm/wasm-file.js';
import type { WorkerBuild } from '../emulator/vm/worker-build.js';
import { ensureBuilt, ROOT } from './helpers/built-cli.js';

const VM_DIR = join(ROOT, 'dist/emulator/vm');
const sha256 = (bytes: Uint8Array | string) => createHash('sha256').update(bytes).digest('hex');
let built: WorkerBuild;
let sources: string[];

beforeAll(async () => {
  await ensureBuilt();
  built = JSON.parse(readFileSync(join(VM_DIR, 'worker-build.json'), 'utf8')) as WorkerBuild;
  sources = JSON.parse(readFileSync(join(VM_DIR, 'worker-sources.json'), 'utf8')) as string[];
}, 180_000);

describe("the worker bundle's build facts", () => {
  it.each(['esp32', 'rp2'] as PortFamily[])('hold the %s frozen tree as the sources have it, in order, with its digest', (family) => {
    const tree = built.frozen.families[family]!;
    expect(tree.files.map(([path, source]) => [path, sources[source]])).toEqual([...frozenFiles(family)]);
    expect(tree.digest).toBe(frozenDigest(family));
  });

  it("hold the wasm's digest and the facts the loader finds in it", () => {
    const wasm = readFileSync(vmWasmFile());
    expect(built.wasm.digest).toBe(sha256(wasm));
    expect(built.wasm.facts).toEqual(wasmFacts(wasm));
    expect(built.wasm.facts.heapEdits).toBeDefined();
    // Its file, from the bundle, is the one the package resolves to.
    expect(fileURLToPath(new URL(built.wasm.file, pathToFileURL(join(VM_DIR, 'worker.cjs'))))).toBe(vmWasmFile());
  });

  it("hold the package's version and the bundle's digest, and the bundle reads them", () => {
    const pkg = createRequire(import.meta.url)('@micropython/micropython-webassembly-pyscript/package.json') as { version: string };
    expect(built.packageVersion).toBe(pkg.version);
    const bundle = readFileSync(join(VM_DIR, 'worker.cjs'));
    expect(built.hostDigest).toBe(sha256(bundle));
    expect(bundle.toString()).toContain('"worker-build.json"');
  });

  it.each(['worker-build.json', 'worker-sources.json'])('are not needed: with %s damaged, the worker finds them at run time and the board boots whole', { timeout: 90_000 }, async (file) => {
    // A copy of the build, so that the damage is no other test's.
    const copy = mkdtempSync(join(tmpdir(), 'boardctl-worker-build-'));
    try {
      cpSync(join(ROOT, 'dist'), join(copy, 'dist'), { recursive: true });
      cpSync(join(ROOT, 'package.json'), join(copy, 'package.json'));
      symlinkSync(join(ROOT, 'node_modules'), join(copy, 'node_modules'));
      writeFileSync(join(copy, 'dist/emulator/vm', file), '{"frozen": ');
      const program = "import sys, esp32, umqtt.simple\nprint('frozen', sys.platform, umqtt.simple.MQTTClient.__name__)";
      const run = await promisify(execFile)(process.execPath, [join(copy, 'dist/cli/boardctl.cjs'), '-p', 'virtual', 'exec', program], {
        env: { ...process.env, BOARDCTL_HOME: join(copy, 'home'), BOARDCTL_PORT: '' },
        timeout: 60_000,
      });
      expect(run.stdout.trim()).toBe('frozen esp32 MQTTClient');
    } finally {
      rmSync(copy, { recursive: true, force: true });
    }
  });
});
