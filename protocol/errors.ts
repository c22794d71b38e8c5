// One error type for everything boardctl reports, with stable codes (scripts match on them) and exit codes.

export const ERROR_CODES = {
  USAGE: { exit: 2, summary: 'bad command line or arguments' },
  NO_SUCH_PORT: { exit: 3, summary: 'the port does not exist' },
  PERMISSION_DENIED: { exit: 3, summary: 'no permission to open the port' },
  PORT_BUSY: { exit: 4, summary: 'another program holds the port' },
  BOARD_BUSY: { exit: 4, summary: 'the virtual board already has a client' },
  NO_REPL: { exit: 5, summary: 'no REPL answered before the deadline' },
  LINK_LOST: { exit: 6, summary: 'the link went away mid-command' },
  LINK_DAMAGED: { exit: 6, summary: 'the link damaged a command or its reply' },
  TIMEOUT: { exit: 5, summary: 'the board did not answer in time' },
  DEVICE_EXCEPTION: { exit: 1, summary: 'the code raised an exception on the board' },
  TESTS_FAILED: { exit: 1, summary: 'a test failed or raised an error (boardctl test)' },
  DEVICE_OSERROR: { exit: 1, summary: 'a file operation failed on the board' },
  LOCAL_IO: { exit: 1, summary: 'a file operation failed on the host' },
  UNSAFE_PATH: { exit: 1, summary: 'a path would escape its destination' },
  NO_SPACE: { exit: 1, summary: 'not enough free space' },
  PROTOCOL: { exit: 7, summary: 'the peer broke the protocol' },
  BOOTLOADER: { exit: 8, summary: 'the ROM bootloader reported an error' },
  NO_SYNC: { exit: 8, summary: 'no serial data received from the bootloader' },
  VERIFY_FAILED: { exit: 9, summary: 'data read back differs (MD5 mismatch)' },
  BAD_IMAGE: { exit: 10, summary: 'the image file is malformed or for another chip' },
  FS_CORRUPT: { exit: 11, summary: 'the filesystem image is corrupted' },
  AUTH_FAILED: { exit: 12, summary: 'the board refused the password (WebREPL)' },
  INTERRUPTED: { exit: 130, summary: 'stopped by Ctrl-C' },
  BAD_CONFIG: { exit: 78, summary: 'a configuration file (board.json) is invalid' },
  INTERNAL: { exit: 70, summary: 'a bug in boardctl' },
} as const;

export type ErrorCode = keyof typeof ERROR_CODES;

export class BoardError extends Error {
  readonly code: ErrorCode;
  readonly exitCode: number;
  /** Extra structured facts for --json output (bytes seen, candidate ports, errno …). */
  readonly details: Record<string, unknown>;

  constructor(code: ErrorCode, message: string, details: Record<string, unknown> = {}, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'BoardError';
    this.code = code;
    this.exitCode = ERROR_CODES[code].exit;
    this.details = details;
  }

  toJSON(): Record<string, unknown> {
    return { error: this.code, message: this.message, ...this.details };
  }
}

export function isBoardError(err: unknown, code?: ErrorCode): err is BoardError {
  return err instanceof BoardError && (code === undefined || err.code === code);
}
