// The built CLI (dist/cli/boardctl.cjs, the bin) for tests that run it as a process. `npm test` builds first (pretest); a test
// file run alone builds only when a source is newer than the build. Rebuilding while other test files run the CLI
// would rewrite dist/ under their feet (tsc writes files in place), so an up-to-date build is left alone.
import { execFile } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';

export const ROOT = join(import.meta.dirname, '..', '..');
export const MAIN = join(ROOT, 'dist/cli/boardctl.cjs');
const SOURCES = ['cli', 'protocol', 'emulator', 'flash'];

function newestSource(dir: string): number {
  let newest = 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) newest = Math.max(newest, newestSource(p));
    else if (/\.(ts|tsx|py)$/.test(e.name)) newest = Math.max(newest, statSync(p).mtimeMs);
  }
  return newest;
}

export async function ensureBuilt(): Promise<string> {
  const stale = !existsSync(MAIN) || SOURCES.some((d) => newestSource(join(ROOT, d)) > statSync(MAIN).mtimeMs);
  // Without blocking this worker (a long synchronous build starves vitest's own messages).
  if (stale) await promisify(execFile)('npm', ['run', '--silent', 'build'], { cwd: ROOT }).catch(() => undefined);
  if (!existsSync(MAIN)) throw new Error(`build produced no ${MAIN}`);
  return MAIN;
}
