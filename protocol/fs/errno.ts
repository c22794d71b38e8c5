// MicroPython's errno numbers (they follow Linux's) and how board-side failures become boardctl errors.
import { BoardError } from '../errors.js';

const ERRNO: Record<number, [name: string, text: string]> = {
  1: ['EPERM', 'Operation not permitted'],
  2: ['ENOENT', 'No such file or directory'],
  5: ['EIO', 'Input/output error'],
  9: ['EBADF', 'Bad file descriptor'],
  12: ['ENOMEM', 'Out of memory'],
  13: ['EACCES', 'Permission denied'],
  16: ['EBUSY', 'Device or resource busy'],
  17: ['EEXIST', 'File exists'],
  19: ['ENODEV', 'No such device'],
  20: ['ENOTDIR', 'Not a directory'],
  21: ['EISDIR', 'Is a directory'],
  22: ['EINVAL', 'Invalid argument'],
  27: ['EFBIG', 'File too large'],
  28: ['ENOSPC', 'No space left on device'],
  30: ['EROFS', 'Read-only file system'],
  36: ['ENAMETOOLONG', 'File name too long'],
  39: ['ENOTEMPTY', 'Directory not empty'],
};

export const ENOENT = 2;
export const EISDIR = 21;
export const ENOSPC = 28;

export function errnoName(errno: number): string {
  return ERRNO[errno]?.[0] ?? `E${errno}`;
}

export function errnoText(errno: number): string {
  return ERRNO[errno]?.[1] ?? `OS error ${errno}`;
}

/**
 * The errno of the last OSError in a traceback. MicroPython prints `OSError: [Errno 2] ENOENT` when it
 * knows the name and a bare `OSError: 2` when the port was built without errno names.
 */
export function parseOSError(traceback: string): number | undefined {
  const matches = [...traceback.matchAll(/OSError: (?:\[Errno (\d+)\]|(-?\d+)\s*$)/gm)];
  const last = matches.at(-1);
  if (!last) return undefined;
  return Math.abs(Number(last[1] ?? last[2]));
}

/** `:lib/x.py: No such file or directory` (the CLI prefixes the command), coded so scripts can tell full disks apart. */
export function boardFsError(boardPath: string, errno: number): BoardError {
  const code = errno === ENOSPC ? 'NO_SPACE' : 'DEVICE_OSERROR';
  return new BoardError(code, `:${boardPath}: ${errnoText(errno)}`, {
    path: boardPath,
    errno,
    errnoName: errnoName(errno),
  });
}

/**
 * A board program that died of an OSError we did not catch (a read failing mid-file, say) becomes the
 * same `:path: reason` error; anything else is returned as it was.
 */
export function mapBoardException(err: unknown, boardPath: string): unknown {
  if (!(err instanceof BoardError) || err.code !== 'DEVICE_EXCEPTION') return err;
  const errno = parseOSError(String(err.details.traceback ?? err.message));
  return errno === undefined ? err : boardFsError(boardPath, errno);
}
