// Set up before every test file: a data home of its own unless the file sets one, so no test (nor a CLI it
// starts) writes boards, boot images or the CLI's code cache under the real $XDG_DATA_HOME, and two files
// running at once never share a board.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll } from 'vitest';

if (!process.env.BOARDCTL_HOME) {
  const home = mkdtempSync(join(tmpdir(), 'boardctl-test-home-'));
  process.env.BOARDCTL_HOME = home;
  afterAll(() => rmSync(home, { recursive: true, force: true }));
}
