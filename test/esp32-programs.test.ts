// Multi-file ESP32 programs (test/fixtures/programs) put on a served virtual ESP32 as users put them on a board:
// `boardctl cp -r PACKAGE :` and `cp main.py :main.py` over its TCP link, then Ctrl-D on the board's terminal
// boots main.py. What each prints, and how the board's parts end up, is what the ESP32 docs and the port's
// source say: RTC weekday and localtime, I2C scan and repr, littlefs files, PWM/Timer/IRQ/asyncio, esp32.NVS,
// deep sleep with its reset cause, wake reason and RTC memory.
import { afterAll, expect, it } from 'vitest';
import { mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect } from 'node:net';
import { once } from 'node:events';
import { boardctl } from './helpers/boardctl.js';
import { startCli, stopAllCli, stopCli } from './helpers/serve-cli.js';

const home = mkdtempSync(join(tmpdir(), 'boardctl-programs-'));
const env = { BOARDCTL_HOME: home };
const programs = join(new URL('.', import.meta.url).pathname, 'fixtures/programs');
/** Long enough for a loaded 2-core host to boot and run a program; the output is waited for, not timed. */
const WAIT = { timeout: 30_000, interval: 50 };
const REBOOT = 'MPY: soft reboot\r\n';

afterAll(async () => {
  await stopAllCli();
  rmSync(home, { recursive: true, force: true });
});

/**
 * Serve a fresh esp32 board named after `program`, copy the program onto it with the CLI, set its parts
 * (`boardctl sim set` arguments), open a terminal on its UART and press Ctrl-D there: main.py runs while
 * `body` watches it; the terminal and the server are closed after it, also when it fails.
 */
async function boot(program: string, parts: string[][], body: (board: Booted) => Promise<void>): Promise<void> {
  expect((await boardctl(['sim', 'create', program, '--profile', 'esp32'], env)).code).toBe(0);
  const started = await startCli(['sim', 'serve', program, '--tcp', '127.0.0.1:0'], { ...process.env, ...env });
  try {
    await watch(program, started.lines[0]!, parts, body);
  } finally {
    await stopCli(started.child);
  }
}

interface Booted {
  /** What the terminal got since the soft reboot, with the UART's CR LF as LF. */
  text(): string;
  /** `boardctl sim set PROGRAM WHAT…` */
  set(...what: string[]): ReturnType<typeof boardctl>;
}

async function watch(program: string, served: string, parts: string[][], body: (board: Booted) => Promise<void>): Promise<void> {
  const [host, port] = /^tcp: (127\.0\.0\.1):(\d+)$/.exec(served)!.slice(1);
  const dir = join(programs, program);
  const pkg = readdirSync(dir).find((f) => statSync(join(dir, f)).isDirectory())!;
  const cp = await boardctl(['-p', `socket://${host}:${port}`, 'cp', '-r', join(dir, pkg), ':', '+', 'cp', join(dir, 'main.py'), ':main.py'], env, [], 60_000);
  expect(cp.code, cp.stderr).toBe(0);
  for (const what of parts) expect((await boardctl(['sim', 'set', program, ...what], env)).code).toBe(0);
  const sock = connect(Number(port), host);
  await once(sock, 'connect');
  let text = '';
  sock.on('data', (d: Buffer) => (text += d.toString('latin1')));
  sock.write('\r');
  await expect.poll(() => text, WAIT).toContain('>>> ');
  sock.write('\x04');
  try {
    await body({
      text: () => (text.includes(REBOOT) ? text.slice(text.indexOf(REBOOT) + REBOOT.length).replace(/\r\n/g, '\n') : ''),
      set: (...what) => boardctl(['sim', 'set', program, ...what], env),
    });
  } finally {
    sock.destroy();
  }
}

/** main.py's output: up to the banner the friendly REPL prints when it ends. */
const BANNER = /MicroPython v1\.27\.0 on \S+; Generic ESP32 module with ESP32\nType "help\(\)" for more information\.\n>>> $/;
const programOutput = (text: string) => text.replace(BANNER, '');

it('sensor-logger: a TMP102 on I2C, the RTC, a rotating CSV log on flash', async () => {
  // Below zero: the driver's two's complement of the 12-bit reading.
  await boot('sensor-logger', [['temp', '-7.25']], async (board) => {
    await expect.poll(board.text, WAIT).toMatch(BANNER);
    expect(programOutput(board.text())).toBe([
      // 17 May 2024 is a Friday: the RTC gives weekday 4 whatever was set; localtime's yearday is 138.
      'weekday 4 localtime (2024, 5, 17) (4, 138)',
      "I2C(0, scl=22, sda=21, freq=100000, timeout=50000) ['0x3c', '0x48', '0x50']",
      // Five samples kept three a file: the first three rotated into temps.1.csv, the last two in temps.csv.
      "temps.1.csv ['-7.2500', '-7.2500', '-7.2500']",
      "temps.csv ['-7.2500', '-7.2500']",
      'size 56 bytes; filesystem blocks free True',
      '',
    ].join('\n'));
  });
}, 120_000);

it('blinker: PWM breathing on a Timer, the BOOT button waking an asyncio task through a debounced IRQ', async () => {
  await boot('blinker', [], async (board) => {
    await expect.poll(board.text, WAIT).toMatch(/^ready PWM\(Pin\(2\), freq=1000, duty_u16=\d+\)\n$/);
    for (const n of [1, 2, 3]) {
      expect((await board.set('button', 'boot', 'press')).code).toBe(0);
      expect((await board.set('button', 'boot', 'release')).code).toBe(0);
      await expect.poll(board.text, WAIT).toContain(`press ${n}\n`);
    }
    await expect.poll(board.text, WAIT).toMatch(BANNER);
    expect(programOutput(board.text())).toMatch(/^ready PWM\(Pin\(2\), freq=1000, duty_u16=\d+\)\npress 1\npress 2\npress 3\nstopped after some steps; PWM\(Pin\(2\)\)\n$/);
  });
}, 120_000);

it('boot-counter: esp32.NVS counts boots through two deep sleeps, with reset cause, wake reason and RTC memory', async () => {
  await boot('boot-counter', [], async (board) => {
    await expect.poll(board.text, WAIT).toMatch(BANNER);
    const out = programOutput(board.text());
    expect(out.split('\n').filter((l) => /^(boot|sleeping|done)/.test(l))).toEqual([
      // Booted by Ctrl-D: a soft reset; RTC memory is empty until the program writes it.
      "boot 1 - soft reset - RTC memory b''",
      'sleeping 300 ms',
      "boot 2 - deep sleep, woken by timer - RTC memory b'slept after boot 1'",
      'sleeping 300 ms',
      "boot 3 - deep sleep, woken by timer - RTC memory b'slept after boot 2'",
      'done after 3 boots',
    ]);
    // Each wake-up is a fresh boot through the ROM, which names the cause.
    expect(out.match(/^rst:0x5 \(DEEPSLEEP_RESET\),boot:0x13 \(SPI_FAST_FLASH_BOOT\)$/gm)).toHaveLength(2);
  });
}, 120_000);
