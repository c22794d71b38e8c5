// The test console's searches, which look at each piece of text once: a match must be found wherever the pieces
// split it, as a search of the whole text would find it.
import { describe, expect, it } from 'vitest';
import { BoardConsole } from './helpers/board-console.js';

/** A console whose received text is fed by the test, piece by piece, each after the console has looked. */
function fed(): { con: BoardConsole; feed: (...pieces: string[]) => Promise<void> } {
  let listener!: (chunk: Uint8Array) => void;
  const con = new BoardConsole({ write: async () => {}, onData: (l) => (listener = l), close: async () => {} });
  return {
    con,
    async feed(...pieces) {
      for (const p of pieces) {
        listener(Buffer.from(p, 'latin1'));
        await new Promise((r) => setImmediate(r));
      }
    },
  };
}

describe('BoardConsole.expect', () => {
  it('finds a string split at every place, and leaves what follows it', async () => {
    const { con, feed } = fed();
    const done = con.expect('raw REPL; CTRL-B');
    await feed(...'> raw REPL; CTRL-B to exit'.split(''));
    expect(await done).toBe('> raw REPL; CTRL-B');
    expect(con.take()).toBe(' to exit');
  });

  it('finds a regex whose last character comes after megabytes of text, in its own piece', async () => {
    const { con, feed } = fed();
    const done = con.expect(/\x04[^\x04]*\x04>/);
    await feed('OK', 'out\x04', ...Array<string>(100).fill('e'.repeat(20_000)), '\x04', '>', 'more');
    expect(await done).toBe(`OKout\x04${'e'.repeat(2_000_000)}\x04>`);
    expect(con.take()).toBe('more');
  });

  it('finds a regex that ends at the end of the text, or in an escape', async () => {
    const { con, feed } = fed();
    let done = con.expect(/\x04>$/);
    await feed('x\x04>y', '\x04', '>');
    expect(await done).toBe('x\x04>y\x04>');
    done = con.expect(/\\x04/);
    await feed('a\\x0', '4');
    expect(await done).toBe('a\\x04');
    done = con.expect(/A\u0042/);
    await feed('A', 'B');
    expect(await done).toBe('AB');
  });

  it('finds a regex whose matches may end in more than one character', async () => {
    const { con, feed } = fed();
    let done = con.expect(/ab|cd/);
    await feed('a', 'b');
    expect(await done).toBe('ab');
    done = con.expect(/a[bc]/);
    await feed('a', 'c');
    expect(await done).toBe('ac');
  });

  it('finds a match while another wait consumes text before it', async () => {
    const { con, feed } = fed();
    const late = con.expect('long one');
    await feed('aaaa ', 'long ');
    const first = con.expect('a ');
    await feed('one');
    expect(await first).toBe('aaaa ');
    expect(await late).toBe('long one');
  });

  it('times out with the end of what came', async () => {
    const { con, feed } = fed();
    await feed('x'.repeat(1000), 'tail');
    await expect(con.expect('never', 50)).rejects.toThrow(/timed out waiting for "never"; got "x+tail"$/);
  });
});
