// Where boardctl keeps its data (virtual boards, VM boot images, the CLI's code cache): $BOARDCTL_HOME, else
// $XDG_DATA_HOME/boardctl, else ~/.local/share/boardctl. Light on purpose: the CLI's bin loads it first.
import { homedir } from 'node:os';
import { join } from 'node:path';

export function dataHome(env: NodeJS.ProcessEnv = process.env): string {
  if (env.BOARDCTL_HOME) return env.BOARDCTL_HOME;
  const xdg = env.XDG_DATA_HOME || join(homedir(), '.local', 'share');
  return join(xdg, 'boardctl');
}
