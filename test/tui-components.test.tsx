// The TUI's pieces on their own: the terminal model, the key decoder and router, the views' models driven by keys
// typed back to back (no delay between keys: each must act on what the key before it left), and the views drawn
// with ink-testing-library at 80 columns.
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stripVTControlCharacters } from 'node:util';
import type { ReactNode } from 'react';
import { Box } from 'ink';
import { render } from 'ink-testing-library';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createBoard } from '../emulator/board-store.js';
import { closeAllVirtualBoards } from '../emulator/board.js';
import { AppModel } from '../cli/tui/app-model.js';
import { BoardLink } from '../cli/tui/board-link.js';
import { brailleRows } from '../cli/tui/braille.js';
import { BoardPanelView } from '../cli/tui/components/board-panel.js';
import { BoardsView } from '../cli/tui/components/boards-view.js';
import { FilesView } from '../cli/tui/components/files-view.js';
import { FlashView } from '../cli/tui/components/flash-view.js';
import { HelpView } from '../cli/tui/components/help-view.js';
import { ReplPane } from '../cli/tui/components/repl-pane.js';
import { StatusLine, statusHeight } from '../cli/tui/components/status-line.js';
import { TextPrompt } from '../cli/tui/components/text-prompt.js';
import { romAbsence } from '../cli/tui/flash-model.js';
import { KeyRouter } from '../cli/tui/key-router.js';
import { KeyDecoder } from '../cli/tui/keys.js';
import { editPrompt, openPrompt, type PromptState } from '../cli/tui/prompt.js';
import { TerminalBuffer } from '../cli/tui/terminal-buffer.js';
import type { HwSnapshot } from '../cli/tui/virtual-hw.js';

const F = { help: '\x1bOP', boards: '\x1bOQ', repl: '\x1bOR', files: '\x1bOS', flash: '\x1b[15~', board: '\x1b[17~', quit: '\x1b[21~' };
const KEY = { up: '\x1b[A', down: '\x1b[B', right: '\x1b[C', left: '\x1b[D', esc: '\x1b', ctrlU: '\x15' };

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

describe('keys', () => {
  it('router: passes Ctrl-A…Ctrl-E through and takes only F-keys and Ctrl-] sequences (F1 help, F2-F6 views, F10 quit)', () => {
    const r = new KeyRouter();
    expect(r.route(Buffer.from('\x01\x02\x03\x04\x05x'))).toEqual([{ to: 'keys', bytes: Buffer.from('\x01\x02\x03\x04\x05x') }]);
    expect(r.route(Buffer.from(`ab${F.files}cd`))).toEqual([
      { to: 'keys', bytes: Buffer.from('ab') },
      { to: 'tui', command: { kind: 'view', view: 'files' } },
      { to: 'keys', bytes: Buffer.from('cd') },
    ]);
    expect(r.route(Buffer.from(F.help + F.board + F.quit)).map((x) => x.to === 'tui' && x.command)).toEqual([
      { kind: 'help' },
      { kind: 'view', view: 'board' },
      { kind: 'quit' },
    ]);
    expect(r.route(Buffer.from('\x1b[[A'))).toEqual([{ to: 'tui', command: { kind: 'help' } }]); // Linux console F1
    expect(r.route(Buffer.from('\x1d'))).toEqual([]);
    expect(r.route(Buffer.from('q'))).toEqual([{ to: 'tui', command: { kind: 'quit' } }]);
    expect(r.route(Buffer.from('\x1d5\x1d?'))).toEqual([{ to: 'tui', command: { kind: 'view', view: 'board' } }, { to: 'tui', command: { kind: 'help' } }]);
  });

  it('decoder: one key at a time, a paste with Enter included, sequences split across reads', () => {
    const d = new KeyDecoder();
    expect(d.push('ab\r').map((k) => k.name + k.text)).toEqual(['chara', 'charb', 'return']);
    expect(d.push(`${KEY.down}x\x7f\x15é`).map((k) => [k.name, k.text, k.ctrl])).toEqual([
      ['down', '\x1b[B', false], ['char', 'x', false], ['backspace', '', false], ['char', 'u', true], ['char', 'é', false],
    ]);
    expect(d.push('\x1b[')).toEqual([]);
    expect(d.push('Cz').map((k) => k.name)).toEqual(['right', 'char']);
    expect(d.push('\x1b').map((k) => k.name)).toEqual(['escape']);
  });

  it('prompt: every key edits the value at once, Enter submits what is there', () => {
    const d = new KeyDecoder();
    let p: PromptState = openPrompt('name', '/a.txt');
    let submitted: string | undefined;
    for (const k of d.push(`${KEY.ctrlU}abx\x7fc\x1b[D\x1b[DZ\r`)) {
      const o = editPrompt(p, k);
      if ('prompt' in o) p = o.prompt;
      else if ('submit' in o) submitted = o.submit;
    }
    expect(submitted).toBe('aZbc');
    const r = render(<TextPrompt prompt={{ label: 'name', value: 'abc', at: 1 }} />);
    expect(stripVTControlCharacters(r.lastFrame()!)).toContain('name: abc');
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

  it('the Flash view knows where the ESP ROM does not apply', () => {
    expect(romAbsence('esp32', 'Generic ESP32 module with ESP32')).toBeUndefined();
    expect(romAbsence(undefined, undefined)).toBeUndefined(); // not identified: try
    expect(romAbsence('rp2', 'Raspberry Pi Pico with RP2040')).toMatch(/Raspberry Pi Pico with RP2040 runs MicroPython's rp2 port: it has no ESP ROM bootloader.*BOOTSEL.*\.uf2/);
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

const BODY = 21; // an 80x24 terminal's rows between the tab bar and the status line

/** A view in an 80-column body, and a check that it uses exactly its rows and no row is wider. */
function at80(view: ReactNode) {
  const r = render(<Box width={80} flexDirection="column">{view}</Box>);
  const rows = () => stripVTControlCharacters(r.lastFrame()!).split('\n');
  const fits = () => {
    expect(rows()).toHaveLength(BODY);
    for (const row of rows()) expect([...row].length, row).toBeLessThanOrEqual(80);
  };
  return { ...r, rows, fits };
}

describe('views drawn at 80x24', () => {
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

  it('Virtual board: LED and button state in full, the 128x64 display whole, the timeline beside it', () => {
    const history = [{ t: 1, kind: 'pin' as const, pin: 2, level: 1 as const }, { t: 2, kind: 'pin' as const, pin: 2, level: 0 as const }];
    const v = at80(<BoardPanelView hw={hw} history={history} pressed={new Set(['user-button'])} temperature={22.5} height={BODY} width={80} />);
    v.fits();
    const frame = v.rows().join('\n');
    expect(frame).toMatch(/^LEDs {5}● status-led \(pin 2\) ON$/m);
    expect(frame).toMatch(/^Buttons {2}\[1\] boot \(pin 0\) released {3}\[2\] user-button \(pin 15\) PRESSED$/m);
    expect(frame).toMatch(/^Sensors {2}temp 22\.50 °C \(\+\/-\) · pot pin 34: 0\.50 V \(<\/>\)$/m);
    expect(frame).toContain(`${brailleRows(hw.oleds[0]!.framebuffer, 128, 64)[0]} pin  2 ▔▁`);
    expect(frame).toContain('1-9 press/release a button');
  });

  it('help: every view\'s keys on one screen', () => {
    const v = at80(<HelpView height={BODY} />);
    v.fits();
    for (const row of v.rows()) expect(row).not.toMatch(/…$/); // nothing cut
    const frame = v.rows().join('\n');
    for (const key of ['F1 or Ctrl-] ?', 'F10 or Ctrl-] q', 'q quit · ? help', 'Enter open a folder', 'u upload the local file or folder', 's sync', 'ESP boards only', '1-9 press']) {
      expect(frame).toContain(key);
    }
  });
});

/** Board files as Python sees them. */
async function boardLs(link: BoardLink, dir = '/'): Promise<string[]> {
  const { stdout } = await link.withBoard('test', (b) => b.exec(`import os\nprint(sorted(os.listdir(${JSON.stringify(dir)})))`));
  return JSON.parse(stdout.trim().replace(/'/g, '"')) as string[];
}

async function boardWrite(link: BoardLink, files: Record<string, string>): Promise<void> {
  const code = Object.entries(files).map(([p, text]) => `with open(${JSON.stringify(p)}, 'w') as f: f.write(${JSON.stringify(text)})`);
  await link.withBoard('test', (b) => b.exec(code.join('\n')));
}

describe('the TUI on the virtual board, keys typed back to back', { timeout: 90_000 }, () => {
  const ENV_HOME = process.env.BOARDCTL_HOME;
  let home: string;
  let project: string;
  let link: BoardLink;
  let quits = 0;
  let app: AppModel;
  /** Keys as one chunk, the way a fast typist or a paste delivers them. */
  const type = (keys: string) => app.input(Buffer.from(keys));
  const names = () => app.files.boardEntries.map((e) => e.name);

  beforeAll(async () => {
    home = mkdtempSync(join(tmpdir(), 'boardctl-tui-views-'));
    process.env.BOARDCTL_HOME = home;
    project = join(home, 'project');
    mkdirSync(join(project, 'pkg'), { recursive: true });
    writeFileSync(join(project, 'hello.py'), 'print("hello")\n');
    writeFileSync(join(project, 'pkg', 'mod.py'), 'X = 1\n');
    link = new BoardLink();
    app = new AppModel({ link, localDir: project, onQuit: () => quits++ });
    await link.connect('virtual');
    await boardWrite(link, { '/a.txt': 'A', '/b.txt': 'B' });
  }, 120_000);

  afterAll(async () => {
    await link.disconnect();
    await closeAllVirtualBoards();
    if (ENV_HOME === undefined) delete process.env.BOARDCTL_HOME;
    else process.env.BOARDCTL_HOME = ENV_HOME;
    rmSync(home, { recursive: true, force: true });
  });

  it('REPL: keys typed while an operation holds the link wait for it, then reach the board (they were dropped)', async () => {
    let release!: () => void;
    const op = link.withBoard('holding the link', () => new Promise<void>((r) => (release = r)));
    await expect.poll(() => link.status.mode).toBe('raw');
    link.sendKeys(Buffer.from('print(6 * 7)\r'));
    release();
    await op;
    await expect.poll(() => link.terminal.tail(4).join('\n'), { timeout: 10_000 }).toMatch(/^42$/m);
  });

  it('REPL: a line typed but not entered when an operation takes the link is typed again after it (its raw REPL entry wiped it on the board)', async () => {
    link.sendKeys(Buffer.from('print(6'));
    await expect.poll(() => link.terminal.tail(1).join('')).toMatch(/>>> print\(6$/);
    await link.withBoard('an upload', (b) => b.exec('pass'));
    link.sendKeys(Buffer.from(' * 8)\r'));
    await expect.poll(() => link.terminal.tail(4).join('\n'), { timeout: 10_000 }).toMatch(/^48$/m);
  });

  it('Files: Down then x asks about the entry Down moved to, and y deletes that one', async () => {
    type(F.files);
    // The first read of the board (on a machine so loaded that it can miss the raw REPL deadline, f reads again).
    await expect
      .poll(async () => {
        await app.files.settled();
        if (!app.files.listing) type('f');
        return names();
      }, { timeout: 60_000, interval: 500 })
      .toEqual(['a.txt', 'b.txt', 'boot.py']);
    type(`${KEY.right}${KEY.down}x`); // the old TUI deleted a.txt here, without asking
    expect(app.files.state.question?.text).toBe('delete /b.txt on the board? (y/N)');
    type('n');
    await app.files.settled();
    expect(link.status.message).toBe('cancelled');
    expect(await boardLs(link)).toEqual(['a.txt', 'b.txt', 'boot.py']);
    type('xy');
    await app.files.settled();
    expect(link.status.message).toBe('deleted /b.txt');
    expect(await boardLs(link)).toEqual(['a.txt', 'boot.py']);
    expect(names()).toEqual(['a.txt', 'boot.py']);
  });

  it('Files: the rename prompt takes typed keys and a paste with Enter in one chunk', async () => {
    type(`${KEY.up}${KEY.up}r${KEY.ctrlU}abc.txt\r`); // on a.txt; the prompt opens with its path, cleared, retyped
    await app.files.settled();
    expect(await boardLs(link)).toEqual(['abc.txt', 'boot.py']);
    type('r');
    type(KEY.ctrlU);
    for (const c of 'abcd.txt') type(c); // one key per chunk, no time between them
    type('\r');
    await app.files.settled();
    expect(link.status.message).toBe('renamed /abc.txt to /abcd.txt');
    expect(await boardLs(link)).toEqual(['abcd.txt', 'boot.py']);
  });

  it('Files: u uploads a local folder, Enter opens board folders (.. goes back to where it came from)', async () => {
    type(`${KEY.left}${KEY.down}u`); // local: "..", then pkg/
    await app.files.settled();
    expect(link.status.message).toBe('uploaded pkg/ to /pkg (1 file)');
    expect(await boardLs(link, '/pkg')).toEqual(['mod.py']);
    type(`${KEY.right}${KEY.up}${KEY.up}\r`); // board: pkg/ comes first (folders before files)
    await app.files.settled();
    expect(app.files.state.boardDir).toBe('/pkg');
    expect(names()).toEqual(['..', 'mod.py']);
    type('\r'); // ".." is where the cursor starts
    await app.files.settled();
    expect(app.files.state.boardDir).toBe('/');
    expect(app.files.boardEntries[app.files.state.selBoard]?.name).toBe('pkg');
  });

  it('Files: g over an existing local file asks first; n keeps it, y overwrites it', async () => {
    await boardWrite(link, { '/hello.py': 'print("from the board")\n' });
    type('f');
    await app.files.settled();
    const at = names().indexOf('hello.py');
    type(`${KEY.up.repeat(9)}${KEY.down.repeat(at)}gn`);
    await app.files.settled();
    expect(readFileSync(join(project, 'hello.py'), 'utf8')).toBe('print("hello")\n');
    type('g');
    expect(app.files.state.question?.text).toBe(`${join(project, 'hello.py')} exists: overwrite it with /hello.py? (y/N)`);
    type('y');
    await app.files.settled();
    expect(readFileSync(join(project, 'hello.py'), 'utf8')).toBe('print("from the board")\n');
    writeFileSync(join(project, 'hello.py'), 'print("hello")\n');
  });

  it('Files: s shows the plan first; d adds the deletions; Esc leaves everything as it was; Enter runs it', async () => {
    type('s');
    expect(app.files.modal).toBe(true);
    type('y'); // before the plan is on screen there is nothing to agree to
    await app.files.settled();
    const plan = app.files.state.preview?.plan;
    expect(plan?.uploads).toEqual([{ rel: 'hello.py', reason: 'changed' }]);
    expect(plan?.deletes).toEqual([]);
    type('d');
    await app.files.settled();
    expect(app.files.state.preview?.plan?.deletes.map((d) => d.rel).sort()).toEqual(['abcd.txt']); // a sync to :/ keeps the board's boot.py
    const v = at80(<FilesView model={app.files} connected height={BODY} />);
    v.fits();
    expect(v.rows().join('\n')).toMatch(/project → :\/ --delete[\s\S]*1 to upload, 1 to delete, 1 unchanged[\s\S]*~ hello\.py \(changed\)[\s\S]*- abcd\.txt \(delete on the board\)[\s\S]*Enter run · d don't delete · Esc cancel/);
    v.unmount();
    type(KEY.esc);
    await app.files.settled();
    expect(link.status.message).toBe('sync cancelled');
    expect(await boardLs(link)).toEqual(['abcd.txt', 'boot.py', 'hello.py', 'pkg']);
    type('s');
    await app.files.settled();
    type('\r');
    await app.files.settled();
    expect(link.status.message).toMatch(/^synced .*project to :\/: 1 uploaded, 1 unchanged$/);
    expect(await boardLs(link)).toEqual(['abcd.txt', 'boot.py', 'hello.py', 'pkg']); // no --delete: kept
  });

  it('Files at 80 columns: both sides, the folder shown, the keys', async () => {
    const v = at80(<FilesView model={app.files} connected height={BODY} />);
    v.fits();
    expect(v.rows().join('\n')).toMatch(/board :\/ \(.* free of .*\)[\s\S]*pkg\/[\s\S]*boot\.py 139/);
    expect(v.lastFrame()).toContain('←→ side · Enter open · u upload · g download · x delete · r rename · s sync');
    v.unmount();
  });

  it('app keys: ? and F1 open the help (keys do not leak past it), q / F10 / Ctrl-] q quit, q in the REPL goes to the board', async () => {
    type('?');
    expect(app.state.help).toBe(true);
    type('x'); // not the Files view's delete
    expect(app.files.state.question).toBeUndefined();
    type(KEY.esc);
    expect(app.state.help).toBe(false);
    type('q');
    expect(quits).toBe(1);
    const other = new AppModel({ link, localDir: project, onQuit: () => quits++ });
    other.input(Buffer.from(`${F.help}print(1)${KEY.esc}`)); // in the REPL view, with the help open: not for the board
    expect(other.state.help).toBe(false);
    other.input(Buffer.from(F.quit));
    expect(quits).toBe(2);
    const third = new AppModel({ link, localDir: project, onQuit: () => quits++ });
    third.input(Buffer.from('q\x7f'));
    expect(quits).toBe(2); // q was typed at the board
    third.input(Buffer.from('\x1dq'));
    expect(quits).toBe(3);
  });

  it('the message clears when the view changes; typing in the REPL snaps the scrollback to the bottom', async () => {
    link.report('uploaded /x');
    type(F.flash);
    expect(link.status.message).toBeUndefined();
    type(F.repl);
    link.terminal.write('output\r\n'.repeat(60));
    app.command({ kind: 'scroll', lines: 10 });
    expect(app.state.scrolledBack).toBe(10);
    type('1');
    expect(app.state.scrolledBack).toBe(0);
    type('\x7f');
  });

  it('Virtual board: 1 1 typed together presses and releases; + + + raises the temperature three steps', async () => {
    type(F.board);
    await expect.poll(() => app.panel.state.snapshot, { timeout: 20_000 }).toBeDefined();
    type('1');
    expect([...app.panel.state.pressed]).toEqual(['boot']);
    type('1+++');
    expect([...app.panel.state.pressed]).toEqual([]);
    expect(app.panel.temperature).toBe(24);
  });

  it('Flash: with erase on, w asks first (n writes nothing); quitting while the link is busy asks too', async () => {
    type(`${F.flash}eg`);
    await expect.poll(() => app.flash.state.image?.name, { timeout: 30_000 }).toBe('micropython-esp32.bin');
    await expect.poll(() => app.flash.state.busy, { timeout: 30_000 }).toBe(false);
    type('w');
    expect(app.flash.state.question?.text).toBe("erase the whole flash (the board's files too), then write micropython-esp32.bin? (y/N)");
    type('n');
    expect(app.flash.state.result?.text).toBe('cancelled');
    expect(link.status.activity).toBeUndefined();
    type('e');
    const before = quits;
    const busy = link.withBoard('a long upload', (b) => b.exec('import time\ntime.sleep(1)'));
    await expect.poll(() => link.status.activity, { timeout: 20_000 }).toBe('a long upload');
    const other = new AppModel({ link, localDir: project, onQuit: () => quits++ });
    other.input(Buffer.from(F.quit));
    expect(other.state.confirmQuit).toBe('a long upload');
    other.input(Buffer.from('n'));
    expect(quits).toBe(before);
    other.input(Buffer.from(`${F.quit}y`));
    expect(quits).toBe(before + 1);
    await busy;
  });

  it('Boards: Enter connects to the board the cursor is on when Enter arrives; Files then shows that board, not the last one', async () => {
    createBoard('pico', { profile: 'rp2-pico' });
    type(F.boards);
    await expect.poll(() => app.boards.state.choices.map((c) => c.port).filter((p) => p.startsWith('virtual')), { timeout: 20_000 }).toEqual(['virtual:default', 'virtual:pico']);
    const v = at80(<BoardsView model={app.boards} height={BODY} connectedPort="virtual:default" />);
    v.fits();
    expect(v.lastFrame()).toMatch(/● virtual:default +virtual board 'default' \(esp32\)/);
    v.unmount();
    type(`${KEY.down}\r`);
    expect(app.state.view).toBe('repl');
    await expect.poll(() => link.status.sysname, { timeout: 30_000 }).toBe('rp2');
    await boardWrite(link, { '/pico.txt': 'P' });
    type(F.files);
    expect(app.files.listing).toBeUndefined(); // the default board's files are not shown for the pico
    await app.files.settled();
    expect(names()).toEqual(['pico.txt']);
  });

  it('Flash on an rp2 board says at once that the ESP ROM does not apply', async () => {
    type(F.flash);
    type('d');
    expect(app.flash.state.result?.text).toMatch(/runs MicroPython's rp2 port: it has no ESP ROM bootloader/);
    expect(link.status.activity).toBeUndefined(); // nothing tried
    const v = at80(<FlashView model={app.flash} status={link.status} height={BODY} />);
    v.fits();
    expect(v.lastFrame()).toMatch(/Raspberry Pi Pico.*rp2 port/);
    v.unmount();
  });
});
