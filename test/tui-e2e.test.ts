// The TUI as users run it: `node dist/cli/main.js` with no arguments in a real pseudo-terminal, on the
// default virtual board.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pty from '@lydell/node-pty';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const ROOT = join(import.meta.dirname, '..');
const MAIN = join(ROOT, 'dist/cli/main.js');
const F = { repl: '\x1bOQ', files: '\x1bOR', flash: '\x1bOS', board: '\x1b[15~' };
const QUIT = '\x1d' + 'q';

// eslint-disable-next-line no-control-regex
const strip = (s: string) => s.replace(/\x1b\[[0-9;?]*[ -/]*[@-~]|\x1b[()][0-9A-Za-z]|\x1b[=>]/g, '');

let tmp: string;

/** The environment of a person at a terminal: CI markers removed (boardctl and ink both check them). */
function interactiveEnv(extra: Record<string, string>): Record<string, string> {
  const env = { ...process.env, ...extra } as Record<string, string>;
  delete env.CI;
  delete env.CONTINUOUS_INTEGRATION;
  return env;
}

beforeAll(() => {
  tmp = mkdtempSync(join(tmpdir(), 'boardctl-tui-'));
  spawnSync('npm', ['run', '--silent', 'build'], { cwd: ROOT, stdio: 'ignore' });
  if (!existsSync(MAIN)) throw new Error(`build produced no ${MAIN}`);
}, 120_000);

afterAll(() => rmSync(tmp, { recursive: true, force: true }));

/** The TUI in a pty, with helpers that wait for text to appear on the screen after a given point. */
function openTui(name: string) {
  const home = join(tmp, name, 'home');
  const project = join(tmp, name, 'project');
  mkdirSync(home, { recursive: true });
  mkdirSync(project, { recursive: true });
  writeFileSync(join(project, 'hello.py'), 'print("hello from the TUI")\n');
  const proc = pty.spawn(process.execPath, [MAIN], {
    name: 'xterm-256color',
    cols: 100,
    rows: 30,
    cwd: project,
    env: interactiveEnv({ BOARDCTL_HOME: home, BOARDCTL_PORT: '' }),
  });
  let raw = '';
  proc.onData((d) => (raw += d));
  const exited = new Promise<number>((resolve) => proc.onExit((e) => resolve(e.exitCode)));
  let mark = 0;
  return {
    proc,
    exited,
    get raw() {
      return raw;
    },
    /** Start looking for output from here on (so text from earlier frames cannot match). */
    mark() {
      mark = raw.length;
    },
    async waitFor(pattern: RegExp, timeoutMs = 15_000): Promise<string> {
      const deadline = Date.now() + timeoutMs;
      while (Date.now() < deadline) {
        const m = pattern.exec(strip(raw.slice(mark)));
        if (m) return m[0];
        await new Promise((r) => setTimeout(r, 50));
      }
      throw new Error(`timed out waiting for ${pattern}; screen so far:\n${strip(raw.slice(mark)).slice(-3000)}`);
    },
    write(keys: string) {
      proc.write(keys);
    },
    kill() {
      try {
        proc.kill();
      } catch {
        // already gone
      }
    },
  };
}

describe('boardctl TUI in a terminal', () => {
  it('runs code in the REPL pane, uploads a file, drives the virtual hardware, flashes, and restores the terminal on quit', async () => {
    const tui = openTui('full');
    try {
      await tui.waitFor(/friendly +virtual:default 115200 │ Generic ESP32 module with ESP32 · MicroPython 1\.27\.0/);
      await tui.waitFor(/>>> /);

      tui.mark();
      tui.write('print(1+1)\r');
      await tui.waitFor(/>>> print\(1\+1\)\s+2\s+>>>/);

      // Files: the local folder is selected; the first entry is "..", then hello.py.
      tui.write(F.files);
      await tui.waitFor(/local .*project/);
      await tui.waitFor(/│boot\.py 139 +│/); // the board's tree has been read
      await new Promise((r) => setTimeout(r, 300));
      tui.mark();
      tui.write('\x1b[B');
      await new Promise((r) => setTimeout(r, 200));
      tui.write('u');
      await tui.waitFor(/│ uploaded/);
      await tui.waitFor(/│hello\.py 28 +│/); // the board's side of the files pane, with its size

      // The uploaded file runs on the board.
      tui.write(F.repl);
      tui.mark();
      tui.write('exec(open("hello.py").read())\r');
      await tui.waitFor(/hello from the TUI/);

      // A tiny program mirrors the boot button (pin 0, pressed = low) onto the LED (pin 2), by IRQ.
      tui.write('from machine import Pin\r');
      tui.write('led = Pin(2, Pin.OUT); btn = Pin(0, Pin.IN, Pin.PULL_UP)\r');
      tui.write('btn.irq(lambda p: led.value(1 - p.value()), Pin.IRQ_FALLING | Pin.IRQ_RISING)\r');
      tui.mark();
      tui.write('print("ready", led.value())\r');
      await tui.waitFor(/ready 0/);
      tui.write(F.board);
      await tui.waitFor(/○ led \(pin 2\) off/);
      tui.mark();
      tui.write('1');
      await tui.waitFor(/\[1\] boot \(pin 0\) PRESSED/);
      await tui.waitFor(/● led \(pin 2\) ON/);
      await tui.waitFor(/pin  2 ▔/);
      tui.mark();
      tui.write('1');
      await tui.waitFor(/○ led \(pin 2\) off/);
      await tui.waitFor(/pin  2 ▔▁/); // the timeline shows both changes

      // Flash the board's generated firmware through its ROM bootloader, with progress and the MD5 check.
      tui.write(F.flash);
      await tui.waitFor(/image: +none/);
      tui.write('g');
      await tui.waitFor(/micropython-esp32\.bin \(merged/);
      tui.mark();
      tui.write('w');
      await tui.waitFor(/bootloader +virtual:default/);
      await tui.waitFor(/\d+%/);
      await tui.waitFor(/Wrote \d+ bytes at 0x0 to ESP32; hash of data verified/, 60_000);
      await tui.waitFor(/friendly +virtual:default/);

      tui.mark();
      tui.write(QUIT);
      expect(await tui.exited).toBe(0);
      // The last thing written gives the terminal back: normal screen, visible cursor.
      const tail = tui.raw.slice(tui.raw.lastIndexOf('\x1b[?1049l'));
      expect(tail.startsWith('\x1b[?1049l')).toBe(true);
      expect(strip(tail).trim()).toBe('');
      expect(tui.raw.lastIndexOf('\x1b[?25h')).toBeGreaterThan(tui.raw.lastIndexOf('\x1b[?25l'));
    } finally {
      tui.kill();
    }
  }, 120_000);

  it('gives the terminal back when killed by a signal', async () => {
    const tui = openTui('signal');
    try {
      await tui.waitFor(/>>> /);
      expect(tui.raw).toContain('\x1b[?1049h');
      tui.proc.kill('SIGTERM');
      expect(await tui.exited).toBe(143);
      expect(tui.raw.lastIndexOf('\x1b[?1049l')).toBeGreaterThan(tui.raw.lastIndexOf('\x1b[?1049h'));
      expect(tui.raw.lastIndexOf('\x1b[?25h')).toBeGreaterThan(tui.raw.lastIndexOf('\x1b[?25l'));
    } finally {
      tui.kill();
    }
  }, 60_000);
});
