// The real virtual board (worker, rings, resets) in a temporary BOARDCTL home, driven over its in-process link as
// a client would: for tests and benches that exercise board-side code.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { VirtualBoard } from '../../emulator/board.js';
import { createBoard, loadBoard, type StoredBoard } from '../../emulator/board-store.js';
import type { PartSpec } from '../../emulator/peripherals/index.js';
import type { ProfileName } from '../../emulator/profiles.js';
import type { Transport } from '../../protocol/transport.js';
import { BoardConsole } from './board-console.js';

export interface TestBoardOptions {
  profile?: ProfileName;
  /** Parts wired to the board (board.json `parts`); the profile's defaults when absent. */
  parts?: PartSpec[];
  /** Put the board in this home instead of a fresh temporary one (the caller removes it); an existing board
   * of that name there is powered on as it is. */
  home?: string;
  name?: string;
}

/** What each reset prints first on its way back to a prompt (the ESP ROM's reset line, or the soft reboot). */
export const RESET_TEXT = {
  hard: 'rst:0xc (', // a CPU software reset: SW_CPU_RESET on ESP32, RTC_SW_CPU_RST on C3 and S3
  soft: 'MPY: soft reboot',
  wdt: 'rst:0xc (',
  deepsleep: 'DEEPSLEEP_RESET',
  bootloader: 'waiting for download',
} as const;

export class TestBoard {
  private raw = false;

  private constructor(
    /** The BOARDCTL home the board lives in. */
    readonly home: string,
    readonly board: VirtualBoard,
    readonly stored: StoredBoard,
    readonly transport: Transport,
    readonly con: BoardConsole,
    private readonly ownHome: string | undefined,
  ) {}

  static async open(opts: TestBoardOptions = {}): Promise<TestBoard> {
    const ownHome = opts.home ? undefined : mkdtempSync(join(tmpdir(), 'boardctl-tb-'));
    const home = opts.home ?? ownHome!;
    const name = opts.name ?? 'tb';
    const stored = existing(name, home) ?? createBoard(name, { home, profile: opts.profile });
    if (opts.parts) {
      const json = join(stored.dir, 'board.json');
      writeFileSync(json, JSON.stringify({ ...JSON.parse(readFileSync(json, 'utf8')), parts: opts.parts }));
    }
    const board = await VirtualBoard.open(name, { home });
    await board.whenReady();
    const transport = board.attach();
    const con = new BoardConsole({
      write: (d) => transport.write(d),
      onData: (l) => transport.onData(l),
      close: () => transport.close(),
    });
    return new TestBoard(home, board, stored, transport, con, ownHome);
  }

  /** Run code in the raw REPL; resolves with its stdout (LF line ends), rejects with its traceback. */
  async run(code: string, timeoutMs = 20_000): Promise<string> {
    await this.enterRaw();
    await this.con.send(Buffer.from(code + '\x04', 'utf8'));
    await this.con.expect('OK', timeoutMs);
    const out = text(await this.con.expect('\x04', timeoutMs)).slice(0, -1);
    const err = text(await this.con.expect('\x04', timeoutMs)).slice(0, -1);
    await this.con.expect('>', timeoutMs);
    if (err) throw new Error(`${out}${err}`);
    return out;
  }

  /** Run code that resets the board; resolves with what the board printed up to its next prompt. */
  async runToReset(code: string, reset: keyof typeof RESET_TEXT, timeoutMs = 20_000): Promise<string> {
    await this.enterRaw();
    await this.con.send(code + '\x04');
    await this.con.expect('OK', timeoutMs);
    this.raw = false;
    // A board without an ESP ROM prints no reset line: its hard resets show first the banner.
    const first = this.board.profile.espChip || reset === 'soft' ? RESET_TEXT[reset] : 'MicroPython v';
    const log = await this.con.expect(first, timeoutMs);
    if (reset === 'bootloader') return text(log);
    // A soft reset keeps the REPL's mode, as pyexec does: this one started in the raw REPL.
    this.raw = reset === 'soft';
    return text(log + (await this.con.expect(this.raw ? 'raw REPL; CTRL-B to exit\r\n>' : '>>> ', timeoutMs)));
  }

  /**
   * Press reset as the dev board's EN line does (RTS), run `whileHeld` (e.g. edit flash.bin, as a flasher would),
   * release it, and resolve with the boot log up to `prompt`. The first boot of open() happens before the link
   * is attached, so this is how a test sees what a boot prints.
   */
  async reset(whileHeld?: () => void, prompt = '>>> '): Promise<string> {
    await this.transport.setSignals({ dtr: false, rts: true });
    this.con.take();
    whileHeld?.();
    await this.transport.setSignals({ rts: false });
    this.raw = false;
    return text(await this.con.expect(prompt, 10_000));
  }

  /**
   * Resolves once the board prints `marker` (the console still gets everything): how a test acts at a point in
   * a running program, however late a loaded host runs it.
   */
  printed(marker: string, timeoutMs = 20_000): Promise<void> {
    return new Promise((resolve, reject) => {
      let seen = '';
      const done = (err?: Error) => {
        off();
        clearTimeout(timer);
        if (err) reject(err);
        else resolve();
      };
      const off = this.transport.onData((d) => {
        seen += Buffer.from(d).toString('latin1');
        if (seen.includes(marker)) done();
      });
      const timer = setTimeout(() => done(new Error(`the board did not print ${JSON.stringify(marker)} within ${timeoutMs} ms`)), timeoutMs);
    });
  }

  /** A request to the board's simulated hardware, as `sim set/get` sends it. */
  control(op: string, args: unknown = {}): Promise<unknown> {
    return this.board.controlRequest({ plugin: 'hw', op, args });
  }

  async close(): Promise<void> {
    await this.powerOff();
    if (this.ownHome) rmSync(this.ownHome, { recursive: true, force: true });
  }

  /**
   * Unplug the board, run `whileOff` (e.g. edit flash.bin), plug it in again: the board that comes up, powered on
   * (a Pico's only hard reset from the host, whose USB serial has no reset line). Use it instead of this one.
   */
  async powerCycle(whileOff?: () => void): Promise<TestBoard> {
    await this.powerOff();
    whileOff?.();
    const again = await TestBoard.open({ home: this.home, name: this.board.name });
    // The home goes with the board that is closed last.
    return new TestBoard(again.home, again.board, again.stored, again.transport, again.con, this.ownHome);
  }

  private async powerOff(): Promise<void> {
    await this.transport.close().catch(() => {});
    await this.board.close();
  }

  private async enterRaw(): Promise<void> {
    if (this.raw) return;
    await this.con.rawRepl();
    this.raw = true;
  }
}

/** BoardConsole text (bytes as latin1) as the UTF-8 the board printed, with LF line ends. */
const text = (s: string) => Buffer.from(s, 'latin1').toString('utf8').replace(/\r\n/g, '\n');

function existing(name: string, home: string): StoredBoard | undefined {
  try {
    return loadBoard(name, home);
  } catch {
    return undefined;
  }
}
