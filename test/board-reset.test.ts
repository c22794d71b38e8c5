// A board that reboots under a running program (machine.reset(), the memory ceiling's watchdog reset) comes back
// at its friendly prompt and never closes the raw REPL exchange: the command ends with LINK_LOST (exit 6) saying
// so, instead of waiting forever, and the same connection goes on (issue 11 item 3, from the conformance lane).
import { describe, expect, it } from 'vitest';
import type { Board } from '../protocol/board.js';
import { rejection } from './helpers/rejection.js';
import { virtualClient } from './helpers/virtual-client.js';

let board: Board;
virtualClient('reset', (b) => (board = b));

describe('a board that resets mid-program', () => {
  it('machine.reset(): LINK_LOST naming the reset, the boot text as output, and the next command runs', async () => {
    const err = await rejection(board.exec('print("bye")\nimport machine\nmachine.reset()'));
    expect(err.code).toBe('LINK_LOST');
    expect(err.exitCode).toBe(6);
    expect(err.message).toMatch(/the board reset while the program ran/);
    expect(String(err.details.stdout)).toMatch(/^bye\r\n[\s\S]*MicroPython v/);
    expect(await board.eval('6 * 7')).toBe('42');
  });

  it('the memory ceiling (a watchdog reset) ends the same way', async () => {
    // In a method: the host steps the loops of top-level code and functions (a runaway one there ends in
    // MemoryError), not those of methods.
    const err = await rejection(board.exec('class G:\n    def grow(self):\n        lst = []\n        while 1: lst = [lst]\nG().grow()'));
    expect(err.code).toBe('LINK_LOST');
    expect(String(err.details.stdout)).toMatch(/resetting the board, as a watchdog would/);
    expect(await board.eval('1 + 1')).toBe('2');
  });

  it('a program that only prints the banner and goes on is not taken for a reset', async () => {
    const banner = 'MicroPython v1.27.0 on 2025-12-10; Generic ESP32 module with ESP32\\r\\nType "help()" for more information.\\r\\n>>> ';
    const out = await board.exec(`import sys, time\nsys.stdout.write('${banner}')\ntime.sleep_ms(150)\nprint("still here")`);
    expect(out.stdout).toMatch(/>>> still here\r\n$/);
  });
});
