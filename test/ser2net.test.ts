// Debian's ser2net (the standard RFC 2217 exporter, as labgrid's) in front of a served virtual board's pty: our
// rfc2217:// client runs exec and cp through it, and our flasher enters the ROM and writes 256 KiB.
import { afterAll, beforeAll, describe, it } from 'vitest';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import net from 'node:net';
import { startCli, stopAllCli, stopCli } from './helpers/serve-cli.js';
import { execAndCp, flash256k } from './helpers/remote-checks.js';

const SER2NET = ['/usr/sbin/ser2net', '/usr/bin/ser2net'].find((p) => existsSync(p));
if (!SER2NET) console.warn('ser2net interop tests skipped: ser2net is not installed (apt-get install ser2net; .ci/run installs it)');

const home = mkdtempSync(join(tmpdir(), 'boardctl-ser2net-'));
const env = { ...process.env, BOARDCTL_HOME: home };
let ser2net: ChildProcess | undefined;
afterAll(async () => {
  if (ser2net) await stopCli(ser2net);
  await stopAllCli();
  rmSync(home, { recursive: true, force: true });
});

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const srv = net.createServer().listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as net.AddressInfo;
      srv.close(() => resolve(port));
    });
  });
}

async function listening(port: number, timeoutMs: number): Promise<void> {
  for (const deadline = Date.now() + timeoutMs; ; ) {
    const ok = await new Promise<boolean>((resolve) => {
      const s = net.connect(port, '127.0.0.1', () => (s.destroy(), resolve(true))).on('error', () => resolve(false));
    });
    if (ok) return;
    if (Date.now() > deadline) throw new Error(`ser2net did not listen on ${port}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe.skipIf(!SER2NET)('ser2net (RFC 2217) in front of a served board\'s pty', () => {
  let address: string;
  beforeAll(async () => {
    const served = await startCli(['sim', 'serve'], env);
    const pty = served.lines[0]!.slice('pty: '.length);
    const port = await freePort();
    const config = join(home, 'ser2net.yaml');
    writeFileSync(config, [
      '%YAML 1.1',
      '---',
      'connection: &board',
      // nodelay and no chardelay, as README recommends for flashing: ser2net's defaults (Nagle, and waiting for
      // more characters before sending) cost some 50 ms on every command and answer of the ROM.
      `  accepter: telnet(rfc2217),tcp(nodelay),127.0.0.1,${port}`,
      `  connector: serialdev,${pty},115200n81,local`,
      '  options:',
      '    max-connections: 1',
      '    chardelay: false',
      '',
    ].join('\n'));
    // -n: stay in the foreground; -u: no UUCP lock files; -P: the pid file in our temp dir.
    ser2net = spawn(SER2NET!, ['-n', '-u', '-c', config, '-P', join(home, 'ser2net.pid')], { stdio: 'ignore' });
    await listening(port, 10_000);
    address = `rfc2217://127.0.0.1:${port}`;
  }, 60_000);

  it('runs exec and cp through rfc2217://', () => execAndCp(address, env, home), 60_000);

  it('lets our flasher enter the ROM through it and write 256 KiB', () => flash256k(address, env, home), 120_000);
});
