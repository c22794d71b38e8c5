// A ws:// port's WebREPL password when its URL has none: BOARDCTL_WEBREPL_PASSWORD, else a prompt on the
// terminal that does not echo what is typed (never when stdin is not one: scripts get the one-line USAGE error
// instead of a hang). Ctrl-C or Ctrl-D at the prompt gives no password.

export async function webreplPassword(): Promise<string | undefined> {
  const env = process.env.BOARDCTL_WEBREPL_PASSWORD;
  if (env) return env;
  const stdin = process.stdin;
  if (!stdin.isTTY) return undefined;
  const wasRaw = stdin.isRaw;
  // Echo off before the prompt shows: what is typed as soon as it appears must not echo either.
  stdin.setRawMode(true);
  process.stderr.write('WebREPL password: ');
  stdin.resume();
  try {
    return await new Promise<string | undefined>((resolve) => {
      let typed = '';
      const onData = (chunk: Buffer) => {
        for (const ch of chunk.toString('utf8')) {
          if (ch === '\r' || ch === '\n' || ch === '\x03' || ch === '\x04') {
            stdin.off('data', onData);
            return resolve(ch === '\r' || ch === '\n' ? typed : undefined);
          }
          if (ch === '\x7f' || ch === '\b') typed = typed.slice(0, -1);
          else typed += ch;
        }
      };
      stdin.on('data', onData);
    });
  } finally {
    stdin.setRawMode(wasRaw);
    stdin.pause();
    process.stderr.write('\n');
  }
}
