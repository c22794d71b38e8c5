// Virtual fleets in one process: `sim serve a b c` starts every board, one line each with its link, on ptys
// (with --link-dir, one symlink each) or on TCP ports.
import { afterAll, describe, expect, it } from 'vitest';
import { execFile } from 'node:child_process';
import { mkdtempSync, readlinkSync, rmSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { cliPath, startCli, stopAllCli, stopCli } from './helpers/serve-cli.js';
import { fleetAddresses } from '../emulator/link/serve.js';

const home = mkdtempSync(join(tmpdir(), 'boardctl-fleet-'));
const env = { ...process.env, BOARDCTL_HOME: home };
const run = promisify(execFile);
afterAll(async () => {
  await stopAllCli();
  rmSync(home, { recursive: true, force: true });
});

const exec = async (port: string, code: string) => (await run(process.execPath, [cliPath, '-p', port, 'exec', code], { env })).stdout.trim();

/** Each link reaches a board of its own: a file written through one is not seen through another. */
async function distinctBoards(ports: string[]): Promise<void> {
  for (const [i, p] of ports.entries()) await exec(p, `open('who.txt', 'w').write('${i}')`);
  const seen = await Promise.all(ports.map((p) => exec(p, "print(open('who.txt').read())")));
  expect(seen).toEqual(ports.map((_, i) => String(i)));
}

describe('sim serve with several boards', () => {
  it('serves each on its own pty with a symlink per board in --link-dir, and says which line is which', async () => {
    const dir = join(home, 'links');
    const { child, lines } = await startCli(['sim', 'serve', '--create', 'f1', 'f2', 'f3', '--link-dir', dir], env, 3);
    try {
      const byName = Object.fromEntries(lines.map((l) => /^pty: (\/dev\/pts\/\d+) (f\d)$/.exec(l)!.slice(1).reverse()));
      expect(Object.keys(byName).sort()).toEqual(['f1', 'f2', 'f3']);
      for (const n of ['f1', 'f2', 'f3']) expect(readlinkSync(join(dir, n))).toBe(byName[n]);
      await distinctBoards(['f1', 'f2', 'f3'].map((n) => join(dir, n)));
    } finally {
      expect(await stopCli(child)).toBe(0);
    }
    expect(existsSync(join(dir, 'f1'))).toBe(false);
  }, 60_000);

  it('serves each on its own TCP port', async () => {
    const { child, lines } = await startCli(['sim', 'serve', '--create', 't1', 't2', '--tcp', '127.0.0.1:0'], env, 2);
    try {
      const ports = lines.map((l) => /^tcp: 127\.0\.0\.1:(\d+) t\d$/.exec(l)![1]);
      expect(new Set(ports).size).toBe(2);
      await distinctBoards(ports.map((p) => `socket://127.0.0.1:${p}`));
    } finally {
      expect(await stopCli(child)).toBe(0);
    }
  }, 60_000);

  it('gives consecutive ports for PORT+, and refuses one fixed port for several boards', async () => {
    expect(fleetAddresses('127.0.0.1:5000+', 3)).toEqual(['127.0.0.1:5000', '127.0.0.1:5001', '127.0.0.1:5002']);
    expect(fleetAddresses('0', 2)).toEqual(['127.0.0.1:0', '127.0.0.1:0']);
    expect(() => fleetAddresses('127.0.0.1:5000', 2)).toThrow(/need a port each: use 127\.0\.0\.1:5000\+/);
    const err = await run(process.execPath, [cliPath, 'sim', 'serve', 't1', 't2', '--tcp', '127.0.0.1:5000'], { env }).catch((e) => e);
    expect(err.code).toBe(2);
    expect(err.stderr).toMatch(/2 boards need a port each/);
    const missing = await run(process.execPath, [cliPath, 'sim', 'serve', 't1', 'nosuch'], { env }).catch((e) => e);
    expect(missing.code).toBe(3);
    expect(missing.stderr).toMatch(/no virtual board named 'nosuch'.*--create/s);
  }, 60_000);
});
