// The TUI's pieces on their own: the terminal model, the key router, and components rendered with
// ink-testing-library.
import { render } from 'ink-testing-library';
import { describe, expect, it } from 'vitest';
import { brailleRows } from '../cli/tui/braille.js';
import { BoardPanelView } from '../cli/tui/components/board-panel.js';
import { ReplPane } from '../cli/tui/components/repl-pane.js';
import { StatusLine } from '../cli/tui/components/status-line.js';
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
