// The two checks a board shared over the network must pass (issue 19): boardctl runs exec and cp through the
// port, and our flasher enters the ROM through it and writes 256 KiB.
import { expect } from 'vitest';
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { cliPath } from './serve-cli.js';

const run = promisify(execFile);
const boardctl = (env: NodeJS.ProcessEnv, ...args: string[]) =>
  run(process.execPath, [cliPath, ...args], { env, maxBuffer: 1 << 24 }).catch((err: { stderr?: string; code?: number }) => {
    throw new Error(`boardctl ${args.join(' ')} exited ${err.code}: ${err.stderr}`);
  });

export async function execAndCp(port: string, env: NodeJS.ProcessEnv, dir: string): Promise<void> {
  const { stdout } = await boardctl(env, '-p', port, 'exec', 'import sys; print(sys.platform, 6 * 7)');
  expect(stdout.trim()).toBe('esp32 42');
  const data = randomBytes(48 * 1024);
  writeFileSync(join(dir, 'up.bin'), data);
  await boardctl(env, '-p', port, 'cp', join(dir, 'up.bin'), ':shared.bin', '+', 'cp', ':shared.bin', join(dir, 'down.bin'));
  expect(readFileSync(join(dir, 'down.bin')).equals(data)).toBe(true);
}

export async function flash256k(port: string, env: NodeJS.ProcessEnv, dir: string): Promise<void> {
  const image = randomBytes(256 * 1024);
  writeFileSync(join(dir, 'image.bin'), image);
  const written = await boardctl(env, '-p', port, 'flash', 'write-flash', '0x300000', join(dir, 'image.bin'));
  expect(written.stdout + written.stderr).toMatch(/Wrote 262144 bytes[^]*Hash of data verified/);
  await boardctl(env, '-p', port, 'flash', 'read-flash', '0x300000', String(image.length), join(dir, 'back.bin'));
  expect(readFileSync(join(dir, 'back.bin')).equals(image)).toBe(true);
}
