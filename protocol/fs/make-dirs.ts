// `mkdir -p` on the host that always ends. Node's own recursive mkdirSync loops forever where mkdir(2) answers
// ENOENT although the parent exists (/proc, some FUSE mounts): it keeps "creating the parent" and retrying.
import { mkdirSync, statSync } from 'node:fs';
import { dirname, resolve } from 'node:path';

/** Create `path` and its missing parents; throws the failing step's system error (ENOENT, ENOTDIR, EACCES…). */
export function makeDirs(path: string): void {
  const abs = resolve(path);
  const missing: string[] = [];
  for (let p = abs; ; p = dirname(p)) {
    let isDir: boolean;
    try {
      isDir = statSync(p).isDirectory();
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT' || dirname(p) === p) throw err;
      missing.push(p);
      continue;
    }
    if (!isDir) throw Object.assign(new Error(`ENOTDIR: not a directory, mkdir '${missing.at(-1) ?? p}'`), { code: 'ENOTDIR', errno: -20, syscall: 'mkdir', path: missing.at(-1) ?? p });
    break;
  }
  for (const p of missing.reverse()) {
    try {
      mkdirSync(p);
    } catch (err) {
      // Made meanwhile by someone else: fine, as mkdir -p.
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST' || !statSync(p).isDirectory()) throw err;
    }
  }
}
