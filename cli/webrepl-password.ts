// A ws:// port's WebREPL password when its URL has none: BOARDCTL_WEBREPL_PASSWORD, else a prompt on the
// terminal (never when stdin is not one: scripts get the one-line USAGE error instead of a hang).

export async function webreplPassword(): Promise<string | undefined> {
  const env = process.env.BOARDCTL_WEBREPL_PASSWORD;
  if (env) return env;
  if (!process.stdin.isTTY) return undefined;
  const { createInterface } = await import('node:readline/promises'); // only for a prompt: not on every start
  const rl = createInterface({ input: process.stdin, output: process.stderr, terminal: true });
  try {
    return await rl.question('WebREPL password: ');
  } finally {
    rl.close();
  }
}
