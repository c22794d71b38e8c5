// How the CLI talks to the user: plain text or --json documents on stdout, one-line errors on stderr.
import { BoardError, isBoardError } from '../protocol/errors.js';
import { hostError, isSystemError } from '../protocol/host-error.js';

// process.stdout and stderr are taken when there is something to write: node makes each stream on first use (for
// a pipe a socket, loading net), and a command that prints nothing should not pay for it.
export class Output {
  constructor(readonly json: boolean) {}

  /** Program output and other plain text (suppressed in --json mode, where documents carry it). */
  text(text: string): void {
    if (!this.json && text) process.stdout.write(text);
  }

  /** Diagnostics and board tracebacks: always stderr. */
  error(text: string): void {
    if (text) process.stderr.write(text);
  }

  /** One JSON document (or one NDJSON event) on its own line. */
  doc(value: unknown): void {
    if (this.json) process.stdout.write(`${JSON.stringify(value)}\n`);
  }

  note(message: string): void {
    process.stderr.write(`boardctl: ${message}\n`);
  }
}

export function asBoardError(err: unknown): BoardError {
  if (isBoardError(err)) return err;
  const e = err as { code?: string; message?: string };
  // commander's own parse errors are usage errors
  if (typeof e?.code === 'string' && e.code.startsWith('commander.')) return new BoardError('USAGE', String(e.message ?? err).replace(/^error: /, ''));
  // A host file operation that a command did not word itself is still the user's file, not a bug of ours.
  if (isSystemError(err)) return hostError('', err) as BoardError;
  return new BoardError('INTERNAL', `internal error: ${err instanceof Error ? `${err.name}: ${err.message}` : String(err)}`, {}, { cause: err });
}

/**
 * Report a failed command: `boardctl: CMD: message` (`boardctl: message` when no command was recognised) on stderr (a device exception shows its traceback
 * instead, unless it was already streamed), a JSON error document with --json. Returns the exit code. A bug of
 * boardctl's own (INTERNAL) keeps to one line too; BOARDCTL_DEBUG=1 adds the stack for the report.
 */
export function reportError(out: Output, command: string, err: unknown, tracebackShown: boolean): number {
  const e = asBoardError(err);
  out.doc({ ...(command ? { command } : {}), ok: false, ...e.toJSON() });
  if (e.code === 'DEVICE_EXCEPTION') {
    if (!tracebackShown) out.error(String(e.details.traceback ?? `${e.message}\n`));
  } else {
    out.error(`boardctl: ${command ? `${command}: ` : ''}${e.message.replace(/\s*\n\s*/g, ' ')}\n`);
    if (e.code === 'INTERNAL') {
      const stack = e.cause instanceof Error ? e.cause.stack : undefined;
      if (process.env.BOARDCTL_DEBUG && stack) out.error(`${stack}\n`);
      else out.note('this is a bug in boardctl; please report it (BOARDCTL_DEBUG=1 shows where it happened)');
    }
  }
  return e.exitCode;
}
