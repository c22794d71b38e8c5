// Whether a command line can name a virtual board at all: the bin and cli/main.ts ask this before they load the
// early start (cli/early-start.ts, whose module, config parse and chain rules cost ~1.5 ms), which then answers
// exactly. Every virtual port is spelled "virtual…" (protocol/port-spec.ts), and the early start takes a port
// from the arguments (-p, connect, a macro's words), $BOARDCTL_PORT or a config file (its port, a board name's
// port, a macro): one of them holds the word, or no board of the command line is virtual. On Linux a command
// line that names no port may get the virtual board by auto-detection: the early start looks for USB ports.
import { existsSync } from 'node:fs';
import { configText, projectConfigPath, userConfigPath } from './config.js';

const WORD = 'virtual';

/** False only where no board of `argv` can be virtual; true where the early start has to decide. */
export function mayBeVirtual(argv: string[], opts: { env?: NodeJS.ProcessEnv; cwd?: string } = {}): boolean {
  const env = opts.env ?? process.env;
  if (argv.some((a) => a.includes(WORD)) || env.BOARDCTL_PORT?.includes(WORD)) return true;
  if (process.platform === 'linux' && !env.BOARDCTL_PORT && !argv.some((a) => /^(-p|--port(=.*)?|connect)$/.test(a))) return true;
  return [userConfigPath(env), projectConfigPath(opts.cwd)].some((file) => file !== undefined && existsSync(file) && mentions(file));
}

/** A config file that holds the word, or could (a JSON \u escape; unreadable: the early start reports it). */
function mentions(file: string): boolean {
  try {
    const text = configText(file);
    return text.includes(WORD) || text.includes('\\u');
  } catch {
    return true;
  }
}
