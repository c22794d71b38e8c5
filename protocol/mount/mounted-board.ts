// A raw REPL client over a MountLink that keeps the host folder mounted: after any soft reset (ours, the
// program's machine.soft_reset(), Ctrl-D at the REPL) the board has lost /remote, so the helper runs again
// before the next program, and before the link is handed to the terminal.
import { existsSync, readFileSync } from 'node:fs';
import type { ExecOptions, ExecResult, RunningExec } from '../board.js';
import { HELPER_IDLE_MS } from '../fs/helper.js';
import { pyStr } from '../fs/wire.js';
import { RawReplClient, type RawReplOptions } from '../raw-repl.js';
import type { Transport } from '../transport.js';
import type { MountLink } from './mount-link.js';

export const MOUNT_POINT = '/remote';

let helperText: string | undefined;

/** remote_fs.py without its comments and blank lines (it travels at the baud rate). */
function helperSource(): string {
  // Beside this module in dist/protocol/mount (and the source tree); from the bundled CLI's dist/chunks, one level up.
  const at = ['../py/remote_fs.py', '../protocol/py/remote_fs.py'].map((p) => new URL(p, import.meta.url)).find((u) => existsSync(u));
  helperText ??= readFileSync(at ?? new URL('../py/remote_fs.py', import.meta.url), 'utf8')
    .split('\n')
    .filter((l) => l.trim() && !l.trimStart().startsWith('#'))
    .join('\n');
  return helperText;
}

/**
 * The program that mounts: the helper runs in a namespace of its own, so the user's globals stay clean. Its
 * requests are numbered from after `seq`, the last number the host answered.
 */
export function mountProgram(key: string, quietMs: number, seq: number): string {
  return `exec(${pyStr(helperSource().replace('@KEY@', key).replace('@QUIET@', String(quietMs)).replace('@SEQ@', String(seq)))},{})`;
}

export const UMOUNT_PROGRAM = [
  'import os,sys',
  `try:os.umount(${pyStr(MOUNT_POINT)})`,
  'except OSError:pass',
  `if os.getcwd().startswith(${pyStr(MOUNT_POINT)}):os.chdir('/')`,
  `if ${pyStr(MOUNT_POINT)} in sys.path:sys.path.remove(${pyStr(MOUNT_POINT)})`,
].join('\n');

export class MountedBoard extends RawReplClient {
  /** False after umount: the link still carries requests, but nothing is mounted again. */
  private wanted = true;
  private mountedAt = -1;

  constructor(
    readonly link: MountLink,
    opts: RawReplOptions = {},
  ) {
    super(link, opts);
  }

  /** Mount now, if the board does not have it mounted. */
  async ensureMounted(): Promise<void> {
    if (!this.wanted || (this.link.mounted && this.mountedAt === this.generation)) return;
    await super.exec(mountProgram(this.link.key, this.link.quietMs, this.link.seq), { idleTimeoutMs: HELPER_IDLE_MS });
    this.link.mounted = true;
    this.mountedAt = this.generation;
  }

  async umount(): Promise<void> {
    this.wanted = false;
    await super.exec(UMOUNT_PROGRAM, { idleTimeoutMs: HELPER_IDLE_MS });
    this.link.tree.closeAll();
    this.link.mounted = false;
  }

  override async exec(code: string, opts: ExecOptions = {}): Promise<ExecResult> {
    await this.ensureMounted();
    return super.exec(code, opts);
  }

  override async start(code: string, opts: ExecOptions = {}): Promise<RunningExec> {
    await this.ensureMounted();
    return super.start(code, opts);
  }

  override async release(): Promise<Transport> {
    await this.ensureMounted();
    return super.release();
  }
}
