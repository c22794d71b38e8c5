// Board paths are POSIX-like and always handled absolute on the host, resolved against the board's cwd,
// so `..`, `.`, doubled and trailing slashes never reach the board half-interpreted.

/** A `:`-prefixed argument names a board path (mpremote's convention). */
export function isBoardArg(arg: string): boolean {
  return arg.startsWith(':');
}

/** Strip the `:` marker if present (fs commands other than cp take board paths either way). */
export function stripBoardMarker(arg: string): string {
  return arg.startsWith(':') ? arg.slice(1) : arg;
}

/** True when the user wrote a trailing slash, which forces "this is a directory". */
export function hasTrailingSlash(path: string): boolean {
  return path.length > 1 && path.endsWith('/');
}

export function resolveBoardPath(cwd: string, path: string): string {
  const base = path.startsWith('/') ? '' : cwd;
  const parts: string[] = [];
  for (const part of `${base}/${path}`.split('/')) {
    if (part === '' || part === '.') continue;
    if (part === '..') parts.pop();
    else parts.push(part);
  }
  return `/${parts.join('/')}`;
}

export function joinBoardPath(dir: string, ...names: string[]): string {
  let out = dir;
  for (const name of names) {
    if (name === '') continue;
    out = out.endsWith('/') ? out + name : `${out}/${name}`;
  }
  return out;
}

export function boardDirname(path: string): string {
  const i = path.lastIndexOf('/');
  return i <= 0 ? '/' : path.slice(0, i);
}

export function boardBasename(path: string): string {
  return path.slice(path.lastIndexOf('/') + 1);
}
