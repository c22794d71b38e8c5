// What every command action gets: the shared session, the output channel, and host Ctrl-C.
import type { Output } from './output.js';
import type { Session } from './session.js';

export interface CliContext {
  readonly session: Session;
  readonly out: Output;
  /** Aborted by the host's Ctrl-C; commands pass it on so the board's program is interrupted first. */
  readonly signal: AbortSignal;
  /** Set once a board traceback has been streamed to stderr, so the error report does not repeat it. */
  tracebackShown: boolean;
}
