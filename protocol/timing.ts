// BOARDCTL_DEBUG=timing (alone or in a comma list, e.g. BOARDCTL_DEBUG=1,timing): one stderr line as each phase of
// a command ends (modules loaded, port open, raw REPL entry, soft reset, exec, close), with the time since the
// process started and since the previous phase. A start-up trace in the spirit of node's --trace-*: it costs one
// string compare when off. Written synchronously, so lines from a board's worker thread come in order and none
// is lost when the command exits.
import { writeSync } from 'node:fs';

const enabled = (process.env.BOARDCTL_DEBUG ?? '').split(',').includes('timing');
let last = 0;

/** Mark the end of a phase (a board's worker thread starts its labels with "board: "). */
export function phase(label: string): void {
  if (!enabled) return;
  // Node's clock counts from the process start in worker threads too; the step is from this thread's last line.
  const now = performance.now();
  const line = `boardctl timing: ${now.toFixed(1).padStart(8)} ms ${`+${(now - last).toFixed(1)}`.padStart(8)} ms  ${label}\n`;
  last = now;
  try {
    writeSync(2, line);
  } catch {
    // a full stderr pipe loses a trace line, never the command
  }
}
