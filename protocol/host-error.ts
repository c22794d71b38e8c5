// Host file errors in boardctl's words: `what: path: reason` as LOCAL_IO, the errno name kept in the details.
import { BoardError } from './errors.js';

/** A failed host system call as Node reports it (`ENOENT: no such file or directory, open '/x'`). */
export interface SystemError extends Error {
  code: string;
  syscall: string;
  path?: string;
  dest?: string;
}

export function isSystemError(err: unknown): err is SystemError {
  const e = err as Partial<SystemError>;
  return err instanceof Error && typeof e.code === 'string' && /^E[A-Z0-9]+$/.test(e.code) && typeof e.syscall === 'string';
}

/** `no such file or directory`: the reason without the errno name and the call. */
export function systemErrorReason(e: SystemError): string {
  return /^E[A-Z0-9]+: ([^,]+)/.exec(e.message)?.[1] ?? e.code;
}

/** `PATH: reason`, the way cp and ls word it. */
export function systemErrorText(e: SystemError): string {
  const reason = systemErrorReason(e);
  return e.path === undefined ? `${e.syscall}: ${reason}` : `${e.path}${e.dest ? ` -> ${e.dest}` : ''}: ${reason}`;
}

/** LOCAL_IO `FILE: reason` for a failed read or write of a file the user named. */
export function fileError(file: string, err: unknown): BoardError {
  const reason = isSystemError(err) ? systemErrorReason(err) : (err as Error).message;
  return new BoardError('LOCAL_IO', `${file}: ${reason}`, { path: file, ...(isSystemError(err) ? { errno: err.code } : {}) }, { cause: err });
}

/** LOCAL_IO for a system error (`what: PATH: reason`); other errors pass through unchanged. */
export function hostError(what: string, err: unknown): unknown {
  if (!isSystemError(err)) return err;
  return new BoardError('LOCAL_IO', `${what ? `${what}: ` : ''}${systemErrorText(err)}`, { errno: err.code, path: err.path }, { cause: err });
}
