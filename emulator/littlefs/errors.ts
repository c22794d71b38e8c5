// Filesystem errors carry MicroPython's errno numbers so the VM bridge can raise OSError(errno) unchanged.

export const LFS_ERRNO = {
  ENOENT: 2,
  EIO: 5,
  EBADF: 9,
  EACCES: 13,
  EEXIST: 17,
  ENODEV: 19,
  ENOTDIR: 20,
  EISDIR: 21,
  EINVAL: 22,
  ENOSPC: 28,
  ENAMETOOLONG: 36,
  ENOTEMPTY: 39,
  // littlefs's LFS_ERR_CORRUPT; MicroPython passes -84 through as OSError(84).
  ECORRUPT: 84,
} as const;

export type LfsErrorCode = keyof typeof LFS_ERRNO;

export class LfsError extends Error {
  readonly errno: number;
  constructor(readonly code: LfsErrorCode, detail?: string) {
    super(detail ? `${code}: ${detail}` : code);
    this.name = 'LfsError';
    this.errno = LFS_ERRNO[code];
  }
}
