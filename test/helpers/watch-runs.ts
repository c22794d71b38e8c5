// Two watch runs in one session, as cli/watch-loop.ts runs them (runProgram), for the virtual board and real
// firmware alike: between them the project's module (helper.py, changed by the first run) loads afresh, and a
// module imported from / before the watch (as boot.py would: its file name is relative, as a frozen module's is
// on firmware) stays imported, though the runs' cwd is the project's folder where no such file is.
import { runProgram } from '../../cli/watch-loop.js';

const run = (code: string) => runProgram('/wapp', ['helper.py', 'main.py'], { code });

export const WATCH_RUNS = {
  chain: [
    'exec', "import os\ndef W(p,t):\n with open(p,'w') as f:f.write(t)\nos.mkdir('/wapp')\nW('/wcfg.py','V = 5\\n')\nW('/wapp/helper.py','X = 1\\n')\nimport wcfg",
    '+', 'exec', run("import wcfg, helper\nprint(wcfg.V, helper.X)\nwith open('helper.py','w') as f:f.write('X = 2\\n')"),
    '+', 'exec', run('import wcfg, helper\nprint(wcfg.V, helper.X)'),
  ],
  stdout: '5 1\n5 2\n',
};
