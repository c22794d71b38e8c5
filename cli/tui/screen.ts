// Taking over the terminal and giving it back: alternate screen, hidden cursor, raw keys. Restored on
// every way out, including crashes and signals, so the user's shell is never left in raw mode.

const ENTER = '\x1b[?1049h\x1b[H\x1b[2J\x1b[?25l';
const LEAVE = '\x1b[?25h\x1b[?1049l';
const SIGNALS: NodeJS.Signals[] = ['SIGTERM', 'SIGHUP'];

/** Returns the restore function (safe to call more than once). */
export function enterScreen(stdin: NodeJS.ReadStream, stdout: NodeJS.WriteStream): () => void {
  let restored = false;
  const restore = () => {
    if (restored) return;
    restored = true;
    process.off('exit', restore);
    process.off('uncaughtException', crash);
    process.off('unhandledRejection', crash);
    for (const s of SIGNALS) process.off(s, onSignal);
    if (stdin.isTTY) stdin.setRawMode(false);
    stdout.write(LEAVE);
  };
  const crash = (err: unknown) => {
    restore();
    process.stderr.write(`boardctl: ${(err as Error)?.stack ?? String(err)}\n`);
    process.exit(1);
  };
  const onSignal = (signal: NodeJS.Signals) => {
    restore();
    process.exit(128 + (signal === 'SIGHUP' ? 1 : 15));
  };
  process.on('exit', restore);
  process.on('uncaughtException', crash);
  process.on('unhandledRejection', crash);
  for (const s of SIGNALS) process.on(s, onSignal);
  if (stdin.isTTY) stdin.setRawMode(true);
  stdout.write(ENTER);
  return restore;
}
