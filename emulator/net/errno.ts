// The error numbers the ESP32 port raises from its sockets: the ESP-IDF's newlib <sys/errno.h> values (the port
// builds with MICROPY_USE_INTERNAL_ERRNO 0), which differ from Linux's for most socket errors (ETIMEDOUT is 116
// there, 110 on Linux), plus lwIP's getaddrinfo failure, which the port raises as OSError(-202).

export const E = {
  EPERM: 1,
  EINTR: 4,
  EIO: 5,
  EBADF: 9,
  EAGAIN: 11,
  ENOMEM: 12,
  EINVAL: 22,
  ENFILE: 23,
  EPIPE: 32,
  EOPNOTSUPP: 95,
  ECONNRESET: 104,
  ENOBUFS: 105,
  ENOTSOCK: 108,
  ECONNREFUSED: 111,
  EADDRINUSE: 112,
  ECONNABORTED: 113,
  ENETUNREACH: 114,
  ETIMEDOUT: 116,
  EHOSTUNREACH: 118,
  EINPROGRESS: 119,
  EALREADY: 120,
  EMSGSIZE: 122,
  EADDRNOTAVAIL: 125,
  EISCONN: 127,
  ENOTCONN: 128,
} as const;

/** lwIP's EAI_FAIL, raised by socket.getaddrinfo as OSError(-202) when a name does not resolve. */
export const EAI_FAIL = 202;

/** A host socket error (Node's err.code) as the errno lwIP would have given the board. */
export function boardErrno(err: unknown): number {
  switch ((err as NodeJS.ErrnoException | undefined)?.code) {
    case 'ECONNREFUSED': return E.ECONNREFUSED;
    case 'ETIMEDOUT': return E.ETIMEDOUT;
    case 'EHOSTUNREACH':
    case 'ENETUNREACH':
    case 'EHOSTDOWN':
    case 'ENETDOWN': return E.EHOSTUNREACH;
    case 'ECONNRESET':
    case 'EPIPE': return E.ECONNRESET;
    case 'ECONNABORTED': return E.ECONNABORTED;
    case 'EADDRINUSE': return E.EADDRINUSE;
    case 'EADDRNOTAVAIL': return E.EADDRNOTAVAIL;
    case 'EACCES':
    case 'EPERM': return E.EPERM;
    case 'EMSGSIZE': return E.EMSGSIZE;
    default: return E.EIO;
  }
}
