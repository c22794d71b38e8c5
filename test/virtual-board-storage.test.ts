// The virtual board's files live in its flash image: they survive soft resets and restarts of the board, and
// boot.py/main.py run as on a real board.
import { afterAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { VirtualBoard } from '../emulator/board.js';
import { createBoard } from '../emulator/board-store.js';
import { BoardConsole } from './helpers/board-console.js';

const home = mkdtempSync(join(tmpdir(), 'boardctl-vbs-'));
afterAll(() => rmSync(home, { recursive: true, force: true }));

async function connect(name: string): Promise<{ board: VirtualBoard; con: BoardConsole }> {
  const board = await VirtualBoard.open(name, { home });
  await board.whenReady();
  const t = board.attach();
  return { board, con: new BoardConsole({ write: (d) => t.write(d), onData: (l) => t.onData(l), close: () => t.close() }) };
}

describe('virtual board storage through the REPL', () => {
  it('keeps files across a soft reset and runs boot.py then main.py', async () => {
    createBoard('st-soft', { home });
    const { board, con } = await connect('st-soft');
    try {
      await con.rawRepl();
      const [, err] = await con.rawExec(
        "import os\nprint(os.listdir('/'))\n" +
          "open('main.py', 'w').write('print(\"main ran\", open(\"data.txt\").read())\\n')\n" +
          "with open('data.txt', 'w') as f:\n    f.write('kept')\n",
      );
      expect(err).toBe('');
      await con.send('\x02');
      await con.expect('>>> ');
      await con.send('\x04');
      const text = await con.expect('>>> ', 10_000);
      expect(text).toMatch(/MPY: soft reboot\r\nmain ran kept\r\nMicroPython v1\.27\.0/);
    } finally {
      await board.close();
    }
  });

  it('does not run main.py after a soft reset from the raw REPL', async () => {
    createBoard('st-raw', { home });
    const { board, con } = await connect('st-raw');
    try {
      await con.rawRepl();
      await con.rawExec("open('main.py', 'w').write('print(\"main ran\")\\n')");
      await con.send('\x04');
      const text = await con.expect('raw REPL; CTRL-B to exit\r\n>', 10_000);
      expect(text).toContain('MPY: soft reboot');
      expect(text).not.toContain('main ran');
    } finally {
      await board.close();
    }
  });

  it('reads files back after the board process restarts, and json round-trips', async () => {
    createBoard('st-restart', { home });
    let { board, con } = await connect('st-restart');
    await con.rawRepl();
    await con.rawExec("import json\nwith open('config.json', 'w') as f:\n    json.dump({'ssid': 'lab', 'n': [1, 2.5]}, f)");
    await board.close();
    ({ board, con } = await connect('st-restart'));
    try {
      await con.rawRepl();
      const [out, err] = await con.rawExec("import json\nwith open('config.json') as f:\n    print(json.load(f))");
      expect(err).toBe('');
      expect(out).toBe("{'ssid': 'lab', 'n': [1, 2.5]}\r\n");
    } finally {
      await board.close();
    }
  });

  it('boots in safe mode, skipping a runaway main.py, when Ctrl-C cannot stop it', async () => {
    createBoard('st-runaway', { home });
    const { board, con } = await connect('st-runaway');
    try {
      await con.rawRepl();
      await con.rawExec("open('main.py', 'w').write('print(\\'spinning\\')\\nwhile True:\\n    pass\\n')");
      await con.send('\x02');
      await con.expect('>>> ');
      await con.send('\x04'); // soft reset: main.py now spins forever
      // Ctrl-C once main.py runs (one sent while the board still boots would be typed-ahead input).
      await con.expect('spinning\r\n', 30_000);
      await con.send('\x03');
      // 1 s for the stuck check, then a fresh worker boots: on a loaded host that may take many seconds.
      const text = await con.expect('>>> ', 30_000);
      expect(text).toContain('safe mode');
      await con.send("print(open('main.py').read().count('pass'))\r");
      expect(await con.expect('>>> ')).toContain('1\r\n');
    } finally {
      await board.close();
    }
  }, 90_000);
});
