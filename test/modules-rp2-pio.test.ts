// Issue 16 item 3 (rp2): @rp2.asm_pio assembles PIO programs into the RP2040's instruction words, and a
// StateMachine runs them on the host so the pins show what the docs' examples do (rp2 quickref: blink, PWM).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TimelineEvent } from '../emulator/peripherals/index.js';
import { TestBoard } from './helpers/test-board.js';

const BLINK = `
import rp2, time
from machine import Pin

@rp2.asm_pio(set_init=rp2.PIO.OUT_LOW)
def blink():
    wrap_target()
    set(pins, 1)   [31]
    nop()          [31]
    nop()          [31]
    nop()          [31]
    nop()          [31]
    set(pins, 0)   [31]
    nop()          [31]
    nop()          [31]
    nop()          [31]
    nop()          [31]
    wrap()
`;

const PWM = `
from machine import Pin
from rp2 import PIO, StateMachine, asm_pio

@asm_pio(sideset_init=PIO.OUT_LOW)
def pwm_prog():
    pull(noblock) .side(0)
    mov(x, osr)
    mov(y, isr)
    label("pwmloop")
    jmp(x_not_y, "skip")
    nop()         .side(1)
    label("skip")
    jmp(y_dec, "pwmloop")
`;

let board: TestBoard;
beforeAll(async () => {
  board = await TestBoard.open({ profile: 'rp2-pico' });
});
afterAll(async () => {
  await board?.close();
});

const edges = async (pin: number) => {
  const { events } = (await board.control('trace', { clear: true })) as { events: TimelineEvent[] };
  return events.filter((e): e is Extract<TimelineEvent, { kind: 'pin' }> => e.kind === 'pin' && e.pin === pin);
};

describe('rp2 PIO', () => {
  it('assembles the blink and PWM programs into RP2040 instruction words', async () => {
    const out = await board.run(
      BLINK + PWM + 'print([hex(w) for w in blink[0]], hex(blink[3]))\nprint([hex(w) for w in pwm_prog[0]], hex(pwm_prog[3]))\n' +
        'print(hex(rp2.asm_pio_encode("mov(isr, osr)", 0)), hex(rp2.asm_pio_encode("in_(pins, 8) [3]", 1)))\n' +
        'try:\n    rp2.asm_pio()(lambda: jmp("nowhere"))\nexcept rp2.PIOASMError as e:\n    print(e)',
    );
    expect(out).toBe(
      "['0xff01', '0xbf42', '0xbf42', '0xbf42', '0xbf42', '0xff00', '0xbf42', '0xbf42', '0xbf42', '0xbf42'] 0x9000\n" +
        "['0x9080', '0xa027', '0xa046', '0xa5', '0xb842', '0x83'] 0x40005000\n" +
        '0xa0c7 0x4308\n' +
        'unknown label nowhere\n',
    );
  });

  it('blinks the LED from a state machine at 2 kHz: 80 ms per half period on the pin timeline', async () => {
    await board.control('trace', { clear: true });
    await board.run(BLINK + 'sm = rp2.StateMachine(0, blink, freq=2000, set_base=Pin(25))\nsm.active(1)\ntime.sleep_ms(900)\nsm.active(0)\nprint(sm.active())');
    const e = await edges(25);
    expect(e.length).toBeGreaterThanOrEqual(8);
    const gaps = e.slice(1).map((x, i) => x.t - e[i]!.t);
    for (const g of gaps) expect(Math.abs(g - 80_000)).toBeLessThan(50);
    expect(e.map((x) => x.level).slice(0, 4)).toEqual(e[0]!.level ? [1, 0, 1, 0] : [0, 1, 0, 1]);
  });

  it('drives the PWM example with the duty cycle put into its FIFO', async () => {
    await board.control('trace', { clear: true });
    const out = await board.run(
      PWM +
        'import time\nsm = StateMachine(0, pwm_prog, freq=200000, sideset_base=Pin(15))\n' +
        'sm.put(99)\nsm.exec("pull()")\nsm.exec("mov(isr, osr)")\nsm.active(1)\nsm.put(25)\ntime.sleep_ms(300)\nsm.active(0)\n' +
        'print(sm.tx_fifo(), sm.rx_fifo())',
    );
    expect(out).toBe('0 0\n');
    const e = await edges(15);
    const highs = e.flatMap((x, i) => (x.level === 1 && e[i + 1] ? [e[i + 1]!.t - x.t] : []));
    const periods = e.flatMap((x, i) => (x.level === 1 && e[i + 2] ? [e[i + 2]!.t - x.t] : []));
    expect(highs.length).toBeGreaterThan(50);
    // 100 counts of 2 cycles at 200 kHz: a 1 ms period, high for 26 % of it (counts 25..0 of 99..0). Medians:
    // the periods before sm.put(25) reaches the FIFO have the first duty, and on a loaded host that takes longer.
    const median = (a: number[]) => [...a].sort((x, y) => x - y)[a.length >> 1]!;
    expect(Math.abs(median(periods) - 1010)).toBeLessThan(30);
    expect(Math.abs(median(highs) / median(periods) - 0.26)).toBeLessThan(0.02);
  });
});
