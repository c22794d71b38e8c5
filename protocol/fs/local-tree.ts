// Walking a host folder into `/`-separated relative paths (what board paths are built from), with optional
// ignore rules; ignored directories are not descended into.
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { IgnoreRules } from './ignore.js';

export interface LocalEntry {
  rel: string;
  abs: string;
  kind: 'file' | 'dir';
  size: number;
}

/** Entries under `root`, parents before children, sorted by name within a directory. */
export function walkLocal(root: string, ignore?: IgnoreRules): LocalEntry[] {
  const out: LocalEntry[] = [];
  const visit = (dir: string, prefix: string) => {
    for (const name of readdirSync(dir).sort()) {
      const abs = join(dir, name);
      const rel = prefix ? `${prefix}/${name}` : name;
      const st = statSync(abs);
      const isDir = st.isDirectory();
      if (!isDir && !st.isFile()) continue;
      if (ignore?.ignores(rel, isDir)) continue;
      out.push({ rel, abs, kind: isDir ? 'dir' : 'file', size: isDir ? 0 : st.size });
      if (isDir) visit(abs, rel);
    }
  };
  visit(root, '');
  return out;
}
