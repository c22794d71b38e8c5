// Real MicroPython firmware under qemu-system-arm (../shared/fixtures/micropython-qemu, see its README): one
// qemu per test file, its UART on a pseudo-terminal that the test holds open (an unheld pty is polled only
// about once a second), stopped by PID after the file, also when it fails.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { accessSync, closeSync, constants, existsSync, openSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import { ReadStream } from 'node:tty';
import { sharedFixture } from './shared-dir.js';

export type QemuImage = 'stock' | 'lfs' | 'lean';

export function qemuFixtureDir(): string {
  return sharedFixture('micropython-qemu');
}

function onPath(cmd: string): string | undefined {
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    const p = join(dir, cmd);
    try {
      accessSync(p, constants.X_OK);
      return p;
    } catch {
      // not here
    }
  }
  return undefined;
}

/** Why the lane cannot run here, or undefined when it can. */
export function qemuMissing(image: QemuImage): string | undefined {
  const elf = join(qemuFixtureDir(), `${image}.elf`);
  if (!existsSync(elf)) return `no firmware at ${elf} (set BOARDCTL_SHARED to the shared folder)`;
  if (!onPath('qemu-system-arm')) return 'qemu-system-arm is not installed (Debian package qemu-system-arm)';
  return undefined;
}

export interface Qemu {
  /** The pseudo-terminal the board's UART is on. */
  path: string;
  pid: number;
  stop(): Promise<void>;
}

const running = new Set<ChildProcess>();
// A test worker that dies still takes its qemu along.
process.once('exit', () => {
  for (const child of running) child.kill('SIGKILL');
});

export async function startQemu(image: QemuImage): Promise<Qemu> {
  const elf = join(qemuFixtureDir(), `${image}.elf`);
  const child = spawn('qemu-system-arm', ['-machine', 'mps2-an385', '-nographic', '-monitor', 'null', '-semihosting', '-serial', 'pty', '-kernel', elf], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  running.add(child);
  let holder: number | undefined;
  const stop = async () => {
    if (holder !== undefined) closeSync(holder);
    holder = undefined;
    if (child.exitCode === null && child.signalCode === null) {
      const gone = new Promise<void>((r) => child.once('exit', () => r()));
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 2000);
      await gone;
      clearTimeout(timer);
    }
    running.delete(child);
  };
  try {
    const path = await new Promise<string>((resolvePath, reject) => {
      let text = '';
      const timer = setTimeout(() => reject(new Error(`qemu printed no pty within 10 s: ${text}`)), 10_000);
      const onText = (d: Buffer) => {
        text += d.toString();
        const m = /char device redirected to (\/dev\/\S+)/.exec(text);
        if (m) {
          clearTimeout(timer);
          resolvePath(m[1]!);
        }
      };
      child.stdout!.on('data', onText);
      child.stderr!.on('data', onText);
      child.once('exit', (code) => reject(new Error(`qemu exited (${code}) before it had a pty: ${text}`)));
    });
    holder = openSync(path, constants.O_RDWR | constants.O_NOCTTY | constants.O_NONBLOCK);
    // Raw mode at once: with the default ECHO the line discipline would feed the board's output back to it
    // until the first client sets the mode (libuv works on its own copy of the fd; ours stays open).
    const tty = new ReadStream(holder);
    tty.setRawMode(true);
    tty.destroy();
    return { path, pid: child.pid!, stop };
  } catch (err) {
    await stop();
    throw err;
  }
}

/** `qemu-system-arm --version`'s first line, for the lane's report. */
export function qemuVersion(): string {
  return spawnSync('qemu-system-arm', ['--version'], { encoding: 'utf8' }).stdout.split('\n')[0] ?? '';
}
