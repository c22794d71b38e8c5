// The TUI's pieces on their own: the terminal model, the key router, and components rendered with
// ink-testing-library.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stripVTControlCharacters } from 'node:util';
import type { ReactNode } from 'react';
import { Box } from 'ink';
import { render } from 'ink-testing-library';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BoardLink } from '../cli/tui/board-link.js';
import { brailleRows } from '../cli/tui/braille.js';
import { BoardPanelView } from '../cli/tui/components/board-panel.js';
import { BoardsView } from '../cli/tui/components/boards-view.js';
import { FilesView } from '../cli/tui/components/files-view.js';
import { FlashView } from '../cli/tui/components/flash-view.js';
import { ReplPane } from '../cli/tui/components/repl-pane.js';
import { StatusLine, statusHeight } from '../cli/tui/components/status-line.js';
import { TextPrompt } from '../cli/tui/components/text-prompt.js';
import { KeyRouter } from '../cli/tui/key-router.js';
import { TerminalBuffer } from '../cli/tui/terminal-buffer.js';
import type { HwSnapshot } from '../cli/tui/virtual-hw.js';

describe('terminal buffer', () => {
  it('interprets what MicroPython readline emits: CR, LF, backspace, cursor left, erase line', () => {
    const t = new TerminalBuffer();
    t.write('>>> prinx\b \bt(1)\r\n1\r\n>>> ');
    expect(t.tail(3)).toEqual(['>>> print(1)', '1', '>>> ']);
    t.write('abcdef\x1b[3D\x1b[KXY');
    expect(t.tail(1)).toEqual(['>>> abcXY']);
    expect(t.cursorColumn).toBe(9);
    t.write('\x1b[1;3'); // an escape sequence split across reads
    t.write('1mred\x1b[0m');
    expect(t.tail(1)).toEqual(['>>> abcXYred']);
  });

  it('keeps a bounded scrollback', () => {
    const t = new TerminalBuffer(10);
    for (let i = 0; i < 100; i++) t.write(`line ${i}\r\n`);
    expect(t.lineCount).toBe(10);
    expect(t.tail(2)).toEqual(['line 99', '']);
  });
});

describe('key router', () => {
  it('passes Ctrl-A…Ctrl-E through and takes only F-keys and Ctrl-] sequences', () => {
    const r = new KeyRouter();
    expect(r.route(Buffer.from('\x01\x02\x03\x04\x05x'))).toEqual([{ to: 'keys', bytes: Buffer.from('\x01\x02\x03\x04\x05x') }]);
    expect(r.route(Buffer.from('ab\x1bORcd'))).toEqual([
      { to: 'keys', bytes: Buffer.from('ab') },
      { to: 'tui', command: { kind: 'view', view: 'files' } },
      { to: 'keys', bytes: Buffer.from('cd') },
    ]);
    expect(r.route(Buffer.from('\x1d'))).toEqual([]);
    expect(r.route(Buffer.from('q'))).toEqual([{ to: 'tui', command: { kind: 'quit' } }]);
    expect(r.route(Buffer.from('\x1d5'))).toEqual([{ to: 'tui', command: { kind: 'view', view: 'board' } }]);
  });
});

describe('components', () => {
  it('status line shows port, baud, mode, board and version', () => {
    const { lastFrame } = render(
      <StatusLine status={{ mode: 'friendly', port: 'virtual:default', baud: 115200, board: 'ESP32 module', version: '1.27.0' }} />,
    );
    expect(lastFrame()).toContain('friendly  virtual:default 115200 │ ESP32 module · MicroPython 1.27.0');
    const busy = render(<StatusLine status={{ mode: 'bootloader', port: '/dev/ttyUSB0', activity: 'flashing', progress: { done: 50, total: 100 } }} />);
    expect(busy.lastFrame()).toMatch(/bootloader .*flashing.* 50%/);
  });

  it('REPL pane draws the last lines and the cursor, and says when it is paused', () => {
    const lines = Array.from({ length: 50 }, (_, i) => `out ${i}`).concat(['>>> pri']);
    const { lastFrame, rerender } = render(<ReplPane lines={lines} cursorColumn={7} height={5} scrolledBack={0} focused />);
    expect(lastFrame()!.split('\n').map((l) => l.trimEnd())).toEqual(['out 46', 'out 47', 'out 48', 'out 49', '>>> pri']);
    rerender(<ReplPane lines={lines} cursorColumn={7} height={5} scrolledBack={0} focused pausedFor="uploading main.py" />);
    expect(lastFrame()).toContain('REPL paused: uploading main.py');
  });

  it('board panel draws LEDs lit or unlit, buttons, sensors, the display and the pin timeline', () => {
    const fb = new Uint8Array((8 * 8) / 8 * 1);
    fb[0] = 0xff; // column 0, rows 0-7 lit
    const hw: HwSnapshot = {
      parts: [
        { type: 'led', id: 'led', pin: 2 },
        { type: 'button', id: 'boot', pin: 0, pressedLevel: 0 },
        { type: 'voltage', id: 'pot', pin: 34, volts: 0.5 },
      ],
      leds: [{ id: 'led', pin: 2, on: true }],
      oleds: [{ id: 'oled', width: 8, height: 8, on: true, inverted: false, framebuffer: fb }],
      pins: [],
      pinEvents: [],
    };
    const history = [{ t: 1, kind: 'pin' as const, pin: 2, level: 1 as const }, { t: 2, kind: 'pin' as const, pin: 2, level: 0 as const }];
    const { lastFrame } = render(<BoardPanelView hw={hw} history={history} pressed={new Set(['boot'])} temperature={22.5} height={20} />);
    const frame = lastFrame()!;
    expect(frame).toContain('● led (pin 2) ON');
    expect(frame).toContain('[1] boot (pin 0) PRESSED');
    expect(frame).toContain('temp 22.50 °C');
    expect(frame).toContain('pot pin 34: 0.50 V');
    expect(frame).toContain('pin  2 ▔▁');
    expect(frame).toContain(brailleRows(fb, 8, 8)[0]);
  });

  it('status line puts a message too long for it on rows of its own above it, word-wrapped, not cut', () => {
    const message = 'upload failed: ' + Array.from({ length: 12 }, (_, i) => `word${i}`).join(' ') + ' END';
    const status = { mode: 'friendly' as const, port: 'virtual:default', baud: 115200, board: 'ESP32 module', version: '1.27.0', message, error: true };
    expect(statusHeight(status, 80)).toBe(3);
    const { lastFrame } = render(<Box width={80}><StatusLine status={status} width={80} /></Box>);
    const rows = lastFrame()!.split('\n').map((r) => r.trimEnd());
    expect(rows).toHaveLength(3);
    expect(rows.slice(0, 2).join(' ')).toBe(message);
    expect(rows[2]).toMatch(/^ friendly  virtual:default 115200 │ ESP32 module · MicroPython 1\.27\.0$/);
    expect(statusHeight({ ...status, message: 'ok' }, 80)).toBe(1);
  });

  it('REPL pane wraps lines longer than its width and keeps the cursor where it is', () => {
    const { lastFrame } = render(<ReplPane lines={['a'.repeat(10), '>>> ' + 'b'.repeat(8)]} cursorColumn={12} width={5} height={6} scrolledBack={0} focused />);
    expect(lastFrame()!.split('\n').map((l) => l.trimEnd())).toEqual(['aaaaa', 'aaaaa', '>>> b', 'bbbbb', 'bb', '']);
  });

  it('text prompt edits and submits', async () => {
    let got = '';
    const { stdin, lastFrame } = render(<TextPrompt label="name" onSubmit={(v) => (got = v)} onCancel={() => {}} />);
    for (const key of ['a', 'b', 'x', '\x7f', 'c', '\r']) {
      stdin.write(key);
      await new Promise((r) => setTimeout(r, 10));
    }
    expect(lastFrame()).toContain('name: abc');
    expect(got).toBe('abc');
  });
});

describe('braille', () => {
  it('packs 2x4 pixels per cell in the SSD1306 page layout', () => {
    const fb = new Uint8Array(4);
    fb[0] = 0b1111; // x=0, y=0..3
    fb[1] = 0b0001; // x=1, y=0
    expect(brailleRows(fb, 4, 4)).toEqual([String.fromCharCode(0x2800 | 0x01 | 0x02 | 0x04 | 0x40 | 0x08) + '\u2800']);
  });
});

/** Keys to a rendered view, with time for ink to handle each. */
async function type(stdin: { write: (s: string) => void }, ...keys: string[]) {
  for (const key of keys) {
    stdin.write(key);
    await new Promise((r) => setTimeout(r, 20));
  }
}

async function until(frame: () => string | undefined, pattern: RegExp, timeoutMs = 20_000): Promise<string> {
  const deadline = Date.now() + timeoutMs;
  while (!pattern.test(frame() ?? '')) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${pattern}; frame:\n${frame()}`);
    await new Promise((r) => setTimeout(r, 25));
  }
  await new Promise((r) => setTimeout(r, 100)); // React's effects after the frame: the input handlers of that state
  return frame()!;
}

describe('views on the virtual board at 80 columns', () => {
  const BODY = 21; // an 80x24 terminal's rows between the tab bar and the status line
  const ENV_HOME = process.env.BOARDCTL_HOME;
  let home: string;
  let project: string;
  let link: BoardLink;

  beforeAll(async () => {
    home = mkdtempSync(join(tmpdir(), 'boardctl-tui-views-'));
    process.env.BOARDCTL_HOME = home;
    project = join(home, 'project');
    mkdirSync(project);
    writeFileSync(join(project, 'hello.py'), 'print("hello")\n');
    link = new BoardLink();
    await link.connect('virtual');
  }, 60_000);

  afterAll(async () => {
    await link.disconnect();
    if (ENV_HOME === undefined) delete process.env.BOARDCTL_HOME;
    else process.env.BOARDCTL_HOME = ENV_HOME;
    rmSync(home, { recursive: true, force: true });
  });

  /** A view in an 80-column body, and a check that it uses exactly its rows and no row is wider. */
  function at80(view: ReactNode) {
    const r = render(<Box width={80} flexDirection="column">{view}</Box>);
    const fits = () => {
      const rows = stripVTControlCharacters(r.lastFrame()!).split('\n');
      expect(rows).toHaveLength(BODY);
      for (const row of rows) expect([...row].length, row).toBeLessThanOrEqual(80);
    };
    return { ...r, fits, until: (pattern: RegExp, timeoutMs?: number) => until(r.lastFrame, pattern, timeoutMs) };
  }

  it('Boards lists the virtual boards, connects, and creates one', async () => {
    const connected: string[] = [];
    const v = at80(<BoardsView active height={BODY} connectedPort="virtual:default" onConnect={(p) => connected.push(p)} onDisconnect={() => {}} />);
    await v.until(/● virtual:default +virtual board 'default' \(esp32\)/);
    v.fits();
    expect(v.lastFrame()).toContain('↑↓ choose · Enter connect · d disconnect · n new virtual board · r refresh');
    await type(v.stdin, '\r');
    expect(connected).toEqual(['virtual:default']);
    await type(v.stdin, 'n', ...'lab esp32c3', '\r');
    await v.until(/virtual:lab +virtual board 'lab' \(esp32c3\)[\s\S]*created virtual board 'lab'/);
    v.fits();
    v.unmount();
  });

  it('Files shows both sides and uploads through the link', async () => {
    const v = at80(<FilesView link={link} active height={BODY} initialDir={project} />);
    await v.until(/board :\/ \(.* free of .*\)[\s\S]*boot\.py 139/);
    await v.until(/hello\.py/);
    v.fits();
    expect(v.lastFrame()).toContain('←→ side · u upload · g download · x delete · r rename · s sync · f refresh');
    await type(v.stdin, '\x1b[B', 'u');
    await v.until(/│hello\.py 15 +│/);
    expect(link.status.message).toBe('uploaded /hello.py');
    v.fits();
    v.unmount();
  }, 30_000);

  it('Flash skips what the flash already holds by default, and writes when told to always write', async () => {
    const v = at80(<FlashView link={link} active height={BODY} />);
    v.fits();
    expect(v.lastFrame()).toContain('write:  skip what the flash already holds');
    await type(v.stdin, 'g');
    await v.until(/image: +micropython-esp32\.bin \(merged/);
    await type(v.stdin, 'w');
    await v.until(/\d+ bytes at 0x0 on ESP32: skipped, already in flash/, 60_000);
    expect(link.status.message).toMatch(/skipped, already in flash/);
    v.fits();
    await type(v.stdin, 'a', 'w');
    await v.until(/write: +always[\s\S]*Wrote \d+ bytes at 0x0 to ESP32; hash of data verified/, 60_000);
    v.fits();
    v.unmount();
  }, 90_000);

  it('Virtual board keeps a 128x64 display whole beside its labels', () => {
    const hw: HwSnapshot = {
      parts: [
        { type: 'led', id: 'status-led', pin: 2 },
        { type: 'button', id: 'boot', pin: 0, pressedLevel: 0 },
        { type: 'button', id: 'user-button', pin: 15, pressedLevel: 0 },
        { type: 'voltage', id: 'pot', pin: 34, volts: 0.5 },
      ],
      leds: [{ id: 'status-led', pin: 2, on: true }],
      oleds: [{ id: 'oled', width: 128, height: 64, on: true, inverted: false, framebuffer: new Uint8Array(1024).fill(0x55) }],
      pins: [],
      pinEvents: [],
    };
    const v = at80(<BoardPanelView hw={hw} history={[]} pressed={new Set()} temperature={22.5} height={BODY} />);
    v.fits();
    const frame = v.lastFrame()!;
    expect(frame).toContain(brailleRows(hw.oleds[0]!.framebuffer, 128, 64)[0]);
    expect(frame).toContain('1-9 press/release a button');
  });
});
