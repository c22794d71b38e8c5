// `sim serve` for a board on the network: a listening socket on the board is printed with its host port (on
// 127.0.0.1), and reached there; --allow limits what the board may reach.
import { afterAll, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import net from 'node:net';
import { BoardConsole } from './helpers/board-console.js';
import { startCli, stopAllCli, stopCli } from './helpers/serve-cli.js';

const home = mkdtempSync(join(tmpdir(), 'boardctl-netserve-'));

afterAll(async () => {
  await stopAllCli();
  rmSync(home, { recursive: true, force: true });
});

it('prints the host port of a board server, which echoes from there; --allow refuses other hosts', async () => {
  const { child, lines } = await startCli(
    ['sim', 'serve', 'netb', '--create', '--tcp', '127.0.0.1:0', '--allow', '127.0.0.1:1'], { ...process.env, BOARDCTL_HOME: home },
  );
  const out: string[] = [];
  child.stdout!.on('data', (d: Buffer) => out.push(...d.toString().split('\n').filter(Boolean)));
  const link = net.connect(Number(/^tcp: 127\.0\.0\.1:(\d+)$/.exec(lines[0]!)![1]), '127.0.0.1');
  const con = new BoardConsole({
    write: (d) => new Promise((r) => link.write(Buffer.from(d), () => r())),
    onData: (l) => link.on('data', (d: Buffer) => l(d)),
    close: () => new Promise((r) => link.end(r)),
  });
  try {
    await con.friendlyPrompt();
    await con.send("import socket, network, time; w = network.WLAN(); w.active(True); w.connect('boardctl', 'micropython')\r");
    await con.expect('>>> ', 10_000);
    await con.send('while not w.isconnected(): time.sleep_ms(50)\r\r');
    await con.expect('>>> ', 10_000);
    await con.send("s = socket.socket(); s.bind(('0.0.0.0', 7007)); s.listen(1); c, a = s.accept(); c.write(c.recv(10)); c.close()\r");
    let published: RegExpExecArray | null = null;
    for (let i = 0; i < 200 && !published; i++) {
      published = out.map((l) => /^published: netb tcp port 7007 at 127\.0\.0\.1:(\d+)$/.exec(l)).find(Boolean) ?? null;
      if (!published) await new Promise((r) => setTimeout(r, 25));
    }
    expect(published).not.toBeNull();
    const echoed = await new Promise<string>((resolve, reject) => {
      const c = net.connect(Number(published![1]), '127.0.0.1', () => c.write('hi'));
      c.on('data', (d) => resolve(d.toString()));
      c.on('error', reject);
    });
    expect(echoed).toBe('hi');
    await con.expect('>>> ', 10_000);
    await con.send("t = socket.socket(); t.connect(('127.0.0.1', 2))\r");
    expect(await con.expect('>>> ', 10_000)).toMatch(/OSError: .*118/);
  } finally {
    await con.link.close();
    expect(await stopCli(child)).toBe(0);
  }
}, 60_000);
