// The TUI as users run it: `node dist/cli/main.js` with no arguments in a real pseudo-terminal, on the
// default virtual board.
import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import pty from '@lydell/node-pty';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureBuilt, MAIN } from './helpers/built-cli.js';

const F = { help: '\x1bOP', boards: '\x1bOQ', repl: '\x1bOR', files: '\x1bOS', flash: '\x1b[15~', board: '\x1b[17~', quit: '\x1b[21~' };
const QUIT = '\x1d' + 'q';
/** A new board's first boot (its flash image made, the VM started) in a TUI process: slow on a loaded machine. */
const BOOT_MS = 45_000;

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

const run = promisify(execFile);

beforeAll(async () => {
  tmp = mkdtempSync(join(tmpdir(), 'boardctl-tui-'));
  await ensureBuilt();
}, 180_000);

/** The CLI as a separate process on the same data home (to set up and check the board around a TUI session). */
async function cli(home: string, ...args: string[]): Promise<string> {
  const { stdout } = await run(process.execPath, [MAIN, ...args], { env: { ...process.env, BOARDCTL_HOME: home, BOARDCTL_PORT: '' } });
  return stdout;
}

afterAll(() => rmSync(tmp, { recursive: true, force: true }));

/**
 * Just enough of a terminal to replay what ink writes (cursor moves, erases, line feeds, autowrap), so a test
 * can look at the screen as the user sees it, and count what a real terminal would have had to fix up:
 * characters written past the right edge (wrapped onto the next row) and rows scrolled off the top.
 */
class Screen {
  rows: string[][] = [];
  row = 0;
  col = 0;
  overflows = 0;
  scrolls = 0;

  constructor(readonly width: number, readonly height: number) {
    this.clear();
  }

  feed(data: string): void {
    // eslint-disable-next-line no-control-regex
    for (const m of data.matchAll(/\x1b\[([0-9;?]*)[ -/]*([@-~])|\x1b[()][0-9A-Za-z]|\x1b[=>78]|[^\x1b]/gu)) {
      if (m[2]) this.csi(m[1]!, m[2]);
      else if (m[0] === '\r') this.col = 0;
      else if (m[0] === '\n') this.lineFeed();
      else if (m[0] >= ' ') this.put(m[0]);
    }
  }

  /** The screen's rows, trailing blanks removed. */
  text(): string[] {
    return this.rows.map((r) => r.join('').trimEnd());
  }

  private clear(): void {
    this.rows = Array.from({ length: this.height }, () => Array<string>(this.width).fill(' '));
  }

  private put(ch: string): void {
    if (this.col >= this.width) {
      this.overflows++;
      this.col = 0;
      this.lineFeed();
    }
    this.rows[this.row]![this.col++] = ch;
  }

  private lineFeed(): void {
    if (this.row < this.height - 1) return void this.row++;
    this.scrolls++;
    this.rows.shift();
    this.rows.push(Array<string>(this.width).fill(' '));
  }

  private csi(params: string, final: string): void {
    if (params.startsWith('?')) {
      if (params === '?1049h') this.clear();
      return;
    }
    const [a, b] = params.split(';').map((n) => Number.parseInt(n, 10) || 0);
    const n = Math.max(1, a ?? 0);
    const line = this.rows[this.row]!;
    if (final === 'A') this.row = Math.max(0, this.row - n);
    else if (final === 'B') this.row = Math.min(this.height - 1, this.row + n);
    else if (final === 'C') this.col = Math.min(this.width - 1, this.col + n);
    else if (final === 'D') this.col = Math.max(0, Math.min(this.width - 1, this.col) - n);
    else if (final === 'G') this.col = Math.min(this.width, n) - 1;
    else if (final === 'H') [this.row, this.col] = [Math.max(1, a ?? 1) - 1, Math.max(1, b ?? 1) - 1];
    else if (final === 'K') line.fill(' ', a === 0 ? this.col : 0, a === 1 ? this.col + 1 : this.width);
    else if (final === 'J' && a === 2) this.clear();
    if (final !== 'm' && final !== 'K' && final !== 'J') this.col = Math.min(this.col, this.width - 1);
  }
}

/** The TUI in a pty, with helpers that wait for text to appear on the screen after a given point. */
function openTui(name: string, size = { cols: 100, rows: 30 }, args: string[] = []) {
  const home = join(tmp, name, 'home');
  const project = join(tmp, name, 'project');
  mkdirSync(home, { recursive: true });
  mkdirSync(project, { recursive: true });
  writeFileSync(join(project, 'hello.py'), 'print("hello from the TUI")\n');
  const proc = pty.spawn(process.execPath, [MAIN, ...args], {
    name: 'xterm-256color',
    ...size,
    cwd: project,
    env: interactiveEnv({ BOARDCTL_HOME: home, BOARDCTL_PORT: '' }),
  });
  let raw = '';
  const screen = new Screen(size.cols, size.rows);
  proc.onData((d) => {
    raw += d;
    screen.feed(d);
  });
  const exited = new Promise<number>((resolve) => proc.onExit((e) => resolve(e.exitCode)));
  let mark = 0;
  return {
    proc,
    home,
    exited,
    screen,
    /** Wait until the screen as drawn shows `pattern` (rows joined by newlines). */
    async waitForScreen(pattern: RegExp, timeoutMs = 15_000): Promise<string[]> {
      const deadline = Date.now() + timeoutMs;
      while (!pattern.test(screen.text().join('\n'))) {
        if (Date.now() > deadline) throw new Error(`timed out waiting for ${pattern}; the screen:\n${screen.text().join('\n')}`);
        await new Promise((r) => setTimeout(r, 50));
      }
      return screen.text();
    },
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
      await tui.waitFor(/friendly +virtual:default 115200 │ Generic ESP32 module with ESP32 · MicroPython 1\.27\.0/, BOOT_MS);
      await tui.waitFor(/>>> /);

      tui.mark();
      tui.write('print(1+1)\r');
      await tui.waitFor(/>>> print\(1\+1\)\s+2\s+>>>/);

      // Files: the local folder is selected; the first entry is "..", then hello.py. Its header loses its start
      // to an ellipsis where the temporary folder's path is long (a TMPDIR of its own, macOS's /var/folders).
      tui.write(F.files);
      await tui.waitFor(/(?:local |…)\S*\/full\/project *│/);
      await tui.waitFor(/│boot\.py 139 +│/); // the board's tree has been read
      tui.mark();
      tui.write('\x1b[Bu');
      await tui.waitFor(/uploaded \/hello\.py/); // the status message, on its own row above the status line when long
      await tui.waitFor(/│hello\.py 28 +│/); // the board's side of the files pane, with its size
      tui.mark();
      tui.write('u');
      await tui.waitFor(/\/hello\.py is up to date/); // not sent again: the board holds its bytes (cp's check)

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
      // As with `flash write-flash`, a region the flash already holds is skipped by default (a release image goes to 0x1000 on ESP32).
      tui.mark();
      tui.write('w');
      await tui.waitFor(/bootloader +virtual:default/);
      await tui.waitFor(/\d+ bytes at 0x1000 on ESP32: skipped, already in flash/, 60_000);
      await tui.waitFor(/friendly +virtual:default/);
      // Always write: progress, the MD5 check, and the result kept while another view has the focus.
      tui.write('a');
      await tui.waitFor(/write: +always/);
      tui.mark();
      tui.write('w');
      await tui.waitFor(/bootloader +virtual:default/);
      await tui.waitFor(/\d+%/);
      tui.mark();
      tui.write(F.repl);
      // The REPL view says it is paused while the flash runs, and its status line how the flash went. Where the
      // flash ended before the key came (a fast run, or a loaded host), the switch cleared that message (it
      // belongs to the Flash view, which keeps the result: checked below) and the header says friendly again.
      const seen = await tui.waitFor(/REPL paused: flashing|friendly +virtual:default/, 60_000);
      if (seen.startsWith('REPL')) await tui.waitFor(/Wrote \d+ bytes at 0x1000 to ESP32; hash of data verified/, 60_000);
      await tui.waitFor(/friendly +virtual:default/);
      tui.mark();
      tui.write(F.flash);
      await tui.waitFor(/image: +micropython-esp32\.bin[\s\S]*write: +always[\s\S]*Wrote \d+ bytes at 0x1000 to ESP32; hash of data verified/);

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

  it('fits an 80x24 terminal: every view within 80 columns, tab bar on top, status line at the bottom, REPL usable', async () => {
    const tui = openTui('small', { cols: 80, rows: 24 });
    /** Nothing drawn past the right edge or scrolled off so far, and the frame where it belongs. */
    const fits = (rows: string[]) => {
      expect({ overflows: tui.screen.overflows, scrolls: tui.screen.scrolls }, rows.join('\n')).toEqual({ overflows: 0, scrolls: 0 });
      expect(rows[0]).toMatch(/^ F1 Help {2}F2 Boards {2}F3 REPL {2}F4 Files {2}F5 Flash {2}F6 Virtual board {2}F10 quit$/);
      expect(rows[22]).toMatch(/^ (friendly|raw|bootloader|disconnected) /);
      expect(rows[23]).toBe('');
    };
    try {
      fits(await tui.waitForScreen(/friendly +virtual:default 115200 │ Generic ESP32 module/, BOOT_MS));
      fits(await tui.waitForScreen(/^>>>$/m));
      const views: Array<[string, RegExp]> = [
        [F.boards, /● virtual:default[\s\S]*Enter connect/],
        [F.files, /board :\/ \(.*free[\s\S]*boot\.py[\s\S]*hello\.py[\s\S]*u upload/],
        [F.flash, /image: +none[\s\S]*w write/],
        // LED and button state in full beside nothing that could cut them, the display below.
        [F.board, /^LEDs {5}○ led \(pin 2\) off$[\s\S]*^Buttons {2}\[1\] boot \(pin 0\) released$[\s\S]*oled 128x64[\s\S]*1-9 press/m],
        [F.help, /boardctl keys[\s\S]*F10 or Ctrl-\] q +quit[\s\S]*y goes on/],
        [F.help, /^LEDs/m], // F1 again closes the help
        [F.repl, /^>>>$/m],
      ];
      for (const [key, shown] of views) {
        tui.write(key);
        fits(await tui.waitForScreen(shown));
      }

      // The REPL pane at this size: a line longer than the pane wraps onto the next row instead of being cut.
      tui.write('print("x" * 100)\r');
      fits(await tui.waitForScreen(new RegExp(`^${'x'.repeat(80)}\n${'x'.repeat(20)}\n>>>$`, 'm')));
      tui.write('print(6 * 7)\r');
      fits(await tui.waitForScreen(/^42\n>>>$/m));
    } finally {
      tui.kill();
    }
  }, 60_000);

  it('acts on the entry the cursor is on when a key arrives, however fast keys come: Down x y, a pasted rename, q quits', async () => {
    // The board's files, set up by the CLI (a separate process on the same data home) before the TUI starts.
    const home = join(tmp, 'race', 'home');
    mkdirSync(home, { recursive: true });
    writeFileSync(join(tmp, 'race', 'a.txt'), 'A');
    writeFileSync(join(tmp, 'race', 'b.txt'), 'B');
    await cli(home, '-p', 'virtual', 'cp', join(tmp, 'race', 'a.txt'), join(tmp, 'race', 'b.txt'), ':');
    const tui = openTui('race');
    try {
      await tui.waitForScreen(/friendly +virtual:default 115200 │ Generic ESP32/, BOOT_MS);
      tui.write(`${F.files}\x1b[C`); // Files, board side
      await tui.waitForScreen(/│a\.txt 1 +│[\s\S]*│b\.txt 1 +│[\s\S]*│boot\.py 139/);
      // In one write, faster than any frame: the old TUI deleted a.txt, the entry Down had left, without asking.
      tui.write('\x1b[Bx');
      await tui.waitForScreen(/delete \/b\.txt on the board\? \(y\/N\)/);
      tui.write('y');
      await tui.waitForScreen(/deleted \/b\.txt/);
      await tui.waitForScreen(/│a\.txt 1 +│[^\n]*\n│boot\.py 139/);
      // A rename typed as a paste, Enter included (the old prompt took neither the paste nor the last key).
      tui.write('\x1b[Ar\x15abc.txt\r');
      await tui.waitForScreen(/renamed \/a\.txt to \/abc\.txt/);
      await tui.waitForScreen(/│abc\.txt 1 +│/);
      tui.write('q'); // quits outside the REPL, as the tab bar says
      expect(await tui.exited).toBe(0);
    } finally {
      tui.kill();
    }
    expect(await cli(home, '-p', 'virtual', 'ls', ':')).toMatch(/^ +1 abc\.txt\n +139 boot\.py\n$/);
  }, 120_000);

  it('boardctl -p PORT tui opens the TUI on that port; on an rp2 board Flash says the ESP ROM does not apply; F10 quits', async () => {
    const home = join(tmp, 'pico', 'home');
    mkdirSync(home, { recursive: true });
    await cli(home, 'sim', 'create', 'pico', '--profile', 'rp2-pico');
    const tui = openTui('pico', { cols: 100, rows: 30 }, ['-p', 'virtual:pico', 'tui']);
    try {
      await tui.waitForScreen(/friendly +virtual:pico 115200 │ Raspberry Pi Pico with RP2040/, BOOT_MS);
      tui.write(`${F.flash}d`);
      // At once (no 10 s of reset-and-sync attempts): the next frames already say so.
      await tui.waitForScreen(/Raspberry Pi Pico with RP2040 runs MicroPython's rp2 port: it has no ESP ROM bootloader/, 5_000);
      expect(tui.raw).not.toMatch(/bootloader +virtual:pico/);
      tui.write(F.quit);
      expect(await tui.exited).toBe(0);
    } finally {
      tui.kill();
    }
  }, 60_000);

  it('gives the terminal back when killed by a signal', async () => {
    const tui = openTui('signal');
    try {
      await tui.waitFor(/>>> /, BOOT_MS);
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
