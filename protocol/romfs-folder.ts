// A host folder as ROMFS entries: the tree `romfs build` and `romfs deploy FOLDER` put in an image, with the
// same .boardignore rules as sync. Sources go in as they are (mpremote's --no-mpy): VfsRom imports .py too.
import { readFileSync, statSync } from 'node:fs';
import { resolve } from 'node:path';
import { BoardError } from './errors.js';
import { walkLocal } from './fs/local-tree.js';
import { syncIgnoreRules } from './fs/sync.js';
import type { RomfsDir, RomfsEntry } from './romfs-image.js';

export function romfsEntriesFromFolder(folder: string): RomfsEntry[] {
  const root = resolve(folder);
  if (!statSync(root, { throwIfNoEntry: false })?.isDirectory()) throw new BoardError('LOCAL_IO', `${folder}: not a folder`);
  const top: RomfsDir = { name: '', entries: [] };
  const dirs = new Map<string, RomfsDir>([['', top]]);
  // walkLocal lists parents before their children, so each entry's folder already exists.
  for (const e of walkLocal(root, syncIgnoreRules(root))) {
    const cut = e.rel.lastIndexOf('/');
    const parent = dirs.get(cut < 0 ? '' : e.rel.slice(0, cut))!;
    const name = e.rel.slice(cut + 1);
    if (e.kind === 'dir') {
      const dir: RomfsDir = { name, entries: [] };
      dirs.set(e.rel, dir);
      parent.entries.push(dir);
    } else parent.entries.push({ name, data: readFileSync(e.abs) });
  }
  return top.entries;
}
