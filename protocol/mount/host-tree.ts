// The host side of a mount: answers the board's requests (frames.ts) from one local folder. Every path is
// resolved inside that folder: `..` past its root and, unless unsafe links are allowed, any symlink on the
// way are refused with EACCES, so a program on the board cannot reach the rest of the host.
import { closeSync, fstatSync, lstatSync, mkdirSync, openSync, readSync, readdirSync, renameSync, rmdirSync, statSync, statfsSync, unlinkSync, writeSync, type Stats } from 'node:fs';
import { join, resolve } from 'node:path';
import { errorAnswer, okAnswer, type Request } from './frames.js';
import { errnoOf } from './host-errno.js';

const S_IFDIR = 0x4000;
const S_IFREG = 0x8000;
const EBADF = 9;
const EACCES = 13;
const EISDIR = 21;
const EINVAL = 22;
/** Longest line one readline answer carries (a longer one comes back in pieces, as a stream's readline may). */
const MAX_LINE = 64 * 1024;

class Refused extends Error {
  constructor(readonly errno: number) {
    super(`errno ${errno}`);
  }
}

interface OpenFile {
  fd: number;
  pos: number;
  append: boolean;
}

export interface MountStats {
  requests: number;
  bytesRead: number;
  bytesWritten: number;
}

const FLAGS: Record<string, string> = { r: 'r', 'r+': 'r+', w: 'w', 'w+': 'w+', a: 'a', 'a+': 'a+', x: 'wx', 'x+': 'wx+' };

export class HostTree {
  readonly root: string;
  private readonly files = new Map<number, OpenFile>();
  private nextId = 1;
  readonly stats: MountStats = { requests: 0, bytesRead: 0, bytesWritten: 0 };

  constructor(
    root: string,
    private readonly unsafeLinks = false,
  ) {
    this.root = resolve(root);
  }

  /** The answer to one request (never throws: a failure is an errno for the board). */
  answer(req: Request): Buffer {
    this.stats.requests++;
    try {
      return this.run(req);
    } catch (err) {
      return errorAnswer(err instanceof Refused ? err.errno : errnoOf(err));
    }
  }

  /** Close every file the board had open (it was reset, or unmounted). */
  closeAll(): void {
    for (const f of this.files.values()) closeSync(f.fd);
    this.files.clear();
  }

  get openFiles(): number {
    return this.files.size;
  }

  /** The host path for a board path inside the mount (`/pkg/x.py`, already joined with the board's cwd). */
  resolve(boardPath: string): { abs: string; rel: string } {
    const parts: string[] = [];
    for (const seg of boardPath.split('/')) {
      if (!seg || seg === '.') continue;
      if (seg === '..') {
        if (!parts.length) throw new Refused(EACCES);
        parts.pop();
      } else parts.push(seg);
    }
    if (!this.unsafeLinks) {
      let at = this.root;
      for (const seg of parts) {
        at = join(at, seg);
        let st: Stats;
        try {
          st = lstatSync(at);
        } catch {
          break; // not there (yet): the operation itself reports it or creates it
        }
        if (st.isSymbolicLink()) throw new Refused(EACCES);
      }
    }
    return { abs: join(this.root, ...parts), rel: `/${parts.join('/')}` };
  }

  private file(field: Buffer | undefined): OpenFile {
    const f = this.files.get(Number(field?.toString()));
    if (!f) throw new Refused(EBADF);
    return f;
  }

  private path(field: Buffer | undefined): string {
    return this.resolve(field?.toString('utf8') ?? '').abs;
  }

  private run(req: Request): Buffer {
    const [a, b, c] = req.fields;
    switch (req.cmd) {
      case 'S': {
        const st = statSync(this.path(a));
        return okAnswer(`${st.isDirectory() ? S_IFDIR : S_IFREG} ${st.isDirectory() ? 0 : st.size} ${Math.floor(st.mtimeMs / 1000)}`);
      }
      case 'P': {
        const { abs, rel } = this.resolve(a?.toString('utf8') ?? '');
        if (!statSync(abs).isDirectory()) throw new Refused(20);
        return okAnswer(rel);
      }
      case 'V': {
        const s = statfsSync(this.path(a));
        return okAnswer([s.bsize, s.bsize, s.blocks, s.bfree, s.bavail, s.files, s.ffree, s.ffree, 0, 255].join(' '));
      }
      case 'D':
        return okAnswer(Buffer.from(this.list(this.path(a)).join('\0'), 'utf8'));
      case 'O':
        return okAnswer(String(this.open(a?.toString() ?? 'r', this.path(b))));
      case 'R': {
        const f = this.file(a);
        const buf = Buffer.alloc(Math.max(0, Number(b?.toString())));
        const got = readSync(f.fd, buf, 0, buf.length, f.pos);
        f.pos += got;
        this.stats.bytesRead += got;
        return okAnswer(buf.subarray(0, got));
      }
      case 'L':
        return okAnswer(this.readline(this.file(a)));
      case 'W': {
        const f = this.file(a);
        const data = req.body.subarray(req.body.indexOf(0) + 1);
        const put = writeSync(f.fd, data, 0, data.length, f.append ? null : f.pos);
        f.pos = f.append ? fstatSync(f.fd).size : f.pos + put;
        this.stats.bytesWritten += put;
        return okAnswer(String(put));
      }
      case 'K': {
        const f = this.file(a);
        const base = [0, f.pos, fstatSync(f.fd).size][Number(c?.toString())];
        const pos = (base ?? NaN) + Number(b?.toString());
        if (!Number.isSafeInteger(pos) || pos < 0) throw new Refused(EINVAL);
        f.pos = pos;
        return okAnswer(String(pos));
      }
      case 'C': {
        const f = this.file(a);
        this.files.delete(Number(a!.toString()));
        closeSync(f.fd);
        return okAnswer();
      }
      case 'M':
        mkdirSync(this.path(a));
        return okAnswer();
      case 'X':
        rmdirSync(this.path(a));
        return okAnswer();
      case 'Z': {
        const p = this.path(a);
        if (lstatSync(p).isDirectory()) throw new Refused(EISDIR);
        unlinkSync(p);
        return okAnswer();
      }
      case 'N':
        renameSync(this.path(a), this.path(b));
        return okAnswer();
      case 'U':
        this.closeAll();
        return okAnswer();
      default:
        throw new Refused(EINVAL);
    }
  }

  /** name, type, size triples; symlinks are left out unless they may be followed. */
  private list(dir: string): string[] {
    const out: string[] = [];
    for (const e of readdirSync(dir, { withFileTypes: true })) {
      if (e.isSymbolicLink() && !this.unsafeLinks) continue;
      let st: Stats;
      try {
        st = statSync(join(dir, e.name));
      } catch {
        continue; // a dangling link, or gone meanwhile
      }
      out.push(e.name, String(st.isDirectory() ? S_IFDIR : S_IFREG), String(st.isDirectory() ? 0 : st.size));
    }
    return out;
  }

  private open(mode: string, abs: string): number {
    const key = mode.replace(/[bt]/g, '');
    const flags = FLAGS[key];
    if (!flags) throw new Refused(EINVAL);
    if (statSync(abs, { throwIfNoEntry: false })?.isDirectory()) throw new Refused(EISDIR);
    const fd = openSync(abs, flags);
    const id = this.nextId++;
    this.files.set(id, { fd, pos: 0, append: key.startsWith('a') });
    return id;
  }

  private readline(f: OpenFile): Buffer {
    const parts: Buffer[] = [];
    let total = 0;
    while (total < MAX_LINE) {
      const buf = Buffer.alloc(Math.min(4096, MAX_LINE - total));
      const got = readSync(f.fd, buf, 0, buf.length, f.pos);
      if (!got) break;
      const nl = buf.subarray(0, got).indexOf(0x0a);
      const take = nl < 0 ? got : nl + 1;
      parts.push(buf.subarray(0, take));
      total += take;
      f.pos += take;
      if (nl >= 0) break;
    }
    this.stats.bytesRead += total;
    return Buffer.concat(parts);
  }
}
