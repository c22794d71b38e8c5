// A host file operation's failure as the errno MicroPython would raise for it (its numbers follow Linux's).
const BY_NAME: Record<string, number> = {
  EPERM: 1,
  ENOENT: 2,
  EIO: 5,
  EBADF: 9,
  EACCES: 13,
  EBUSY: 16,
  EEXIST: 17,
  EXDEV: 18,
  ENOTDIR: 20,
  EISDIR: 21,
  EINVAL: 22,
  EFBIG: 27,
  ENOSPC: 28,
  EROFS: 30,
  ENAMETOOLONG: 36,
  ENOTEMPTY: 39,
  ELOOP: 40,
};

export function errnoOf(err: unknown): number {
  return BY_NAME[String((err as { code?: unknown })?.code)] ?? 5;
}
