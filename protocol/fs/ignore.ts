// gitignore-like matching for `.boardignore` and --exclude: `#` comments, `!` re-includes, a trailing `/`
// matches directories only, a `/` elsewhere anchors the pattern to the sync root, `*` and `?` stay within
// one name and `**` spans directories.

export const DEFAULT_IGNORES = ['.git/', '__pycache__/', '.boardignore'];

interface Rule {
  re: RegExp;
  negate: boolean;
  dirOnly: boolean;
}

function globToRegExp(glob: string, anchored: boolean): RegExp {
  let re = '';
  for (let i = 0; i < glob.length; i++) {
    const ch = glob[i]!;
    if (ch === '*' && glob[i + 1] === '*') {
      const slash = glob[i + 2] === '/';
      re += slash ? '(?:.*/)?' : '.*';
      i += slash ? 2 : 1;
    } else if (ch === '*') re += '[^/]*';
    else if (ch === '?') re += '[^/]';
    else re += ch.replace(/[.+^${}()|[\]\\]/g, '\\$&');
  }
  return new RegExp(`^${anchored ? '' : '(?:.*/)?'}${re}$`);
}

export class IgnoreRules {
  private readonly rules: Rule[] = [];

  constructor(patterns: string[] = []) {
    for (const p of patterns) this.add(p);
  }

  /** Add the lines of an ignore file. */
  addFile(text: string): this {
    for (const line of text.split(/\r?\n/)) this.add(line);
    return this;
  }

  add(line: string): this {
    let p = line.replace(/\s+$/, '');
    if (!p || p.startsWith('#')) return this;
    const negate = p.startsWith('!');
    if (negate) p = p.slice(1);
    const dirOnly = p.endsWith('/');
    if (dirOnly) p = p.slice(0, -1);
    const anchored = p.includes('/');
    if (p.startsWith('/')) p = p.slice(1);
    this.rules.push({ re: globToRegExp(p, anchored), negate, dirOnly });
    return this;
  }

  /** Is this `/`-separated path (relative to the root) ignored? The last matching rule wins. */
  ignores(rel: string, isDir: boolean): boolean {
    let ignored = false;
    for (const r of this.rules) {
      if (r.dirOnly && !isDir) continue;
      if (r.re.test(rel)) ignored = !r.negate;
    }
    return ignored;
  }
}
