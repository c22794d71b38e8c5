// `boardctl` with no arguments off a terminal (a pipe, CI): no TUI, a short demo on the default virtual
// board through the library API instead: what it runs, and the files on it.
import { openBoard } from '../api.js';
import { listPaths } from '../../protocol/fs/operations.js';

const DEMO = 'import sys, os\nprint(sys.implementation)\nprint(os.uname())';

export async function runHeadlessDemo(out: (text: string) => void = (t) => process.stdout.write(t)): Promise<number> {
  out('boardctl: not on a terminal, so no TUI; a short demo on the virtual board instead (boardctl --help for commands)\n');
  const board = await openBoard('virtual');
  try {
    out(`>>> ${DEMO.split('\n').slice(1).join('; ')}\n`);
    out((await board.exec(DEMO)).stdout);
    const [root] = await listPaths(board, ['/']);
    const names = root?.ok ? root.value.entries.map((e) => (e.kind === 'dir' ? `${e.name}/` : `${e.name} (${e.size} bytes)`)) : [];
    out(`files on the board: ${names.length ? names.join(', ') : '(none)'}\n`);
  } finally {
    await board.close();
  }
  return 0;
}
