// `npm start`: boardctl from this checkout, rebuilt first only when a source is newer than the build (a full
// build takes seconds; `npm install` has already built). Plain JavaScript because it runs before TypeScript is compiled.
import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const main = join(root, 'dist/cli/boardctl.cjs'); // the bin

function newest(path) {
  const st = statSync(path);
  if (!st.isDirectory()) return /\.(ts|tsx|py|json)$/.test(path) ? st.mtimeMs : 0;
  return Math.max(0, ...readdirSync(path).map((name) => newest(join(path, name))));
}

function built() {
  try {
    return statSync(main).mtimeMs;
  } catch {
    return -1;
  }
}

const sources = ['cli', 'protocol', 'emulator', 'flash', 'package.json', 'tsconfig.json'];
if (Math.max(...sources.map((s) => newest(join(root, s)))) > built()) {
  const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
  const r = spawnSync(npm, ['run', '--silent', 'build'], { cwd: root, stdio: 'inherit', shell: process.platform === 'win32' });
  if (r.status !== 0) process.exit(r.status ?? 1);
}
// The same process runs the CLI: its arguments are this script's (`npm start -- exec "print(1)"`).
createRequire(import.meta.url)(main);
