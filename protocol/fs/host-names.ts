// Names that come from the board (directory listings) decide where files land on the host, so each one
// must be a plain single component: a hostile or corrupted filesystem must not write outside the target.
import { isAbsolute, relative, resolve, sep } from 'node:path';
import { BoardError } from '../errors.js';

/** Why a board-supplied name is unsafe as a host path component, or undefined when it is fine. */
export function unsafeNameReason(name: string): string | undefined {
  if (name === '') return 'empty name';
  if (name === '.' || name === '..') return `'${name}' is a relative path component`;
  if (name.includes('\0')) return 'contains NUL';
  if (name.includes('/')) return 'contains a slash';
  if (name.includes('\\')) return 'contains a backslash';
  if (/^[A-Za-z]:/.test(name)) return 'looks like a drive letter';
  return undefined;
}

/** Join board-supplied relative components under `root`, refusing anything that would escape it. */
export function safeHostJoin(root: string, components: string[], boardPath: string): string {
  for (const c of components) {
    const reason = unsafeNameReason(c);
    if (reason) {
      throw new BoardError('UNSAFE_PATH', `refusing board name ${JSON.stringify(c)} in :${boardPath}: ${reason}`, {
        path: boardPath,
        name: c,
      });
    }
  }
  const target = resolve(root, ...components);
  const rel = relative(resolve(root), target);
  // A `..` segment escapes; a name that merely starts with dots (`..bak`) does not.
  if (rel === '..' || rel.startsWith(`..${sep}`) || isAbsolute(rel)) {
    throw new BoardError('UNSAFE_PATH', `refusing :${boardPath}: it would land outside ${root}`, { path: boardPath });
  }
  return target;
}
