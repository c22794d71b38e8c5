// machine.mem8/mem16/mem32 over the virtual board's register model: GPIO registers drive the pins machine.Pin does,
// eFuse words are the ROM emulator's, the rp2's SIO; alignment, masking and unmodelled addresses as documented.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TimelineEvent } from '../emulator/peripherals/index.js';
import { efuseFromMac } from '../protocol/esp/chips.js';
import { PY_ERRORS } from './helpers/py-errors.js';
import { TestBoard } from './helpers/test-board.js';

let esp: TestBoard;
let s3: TestBoard;
let pico: TestBoard;
beforeAll(async () => {
  [esp, s3, pico] = await Promise.all([
    TestBoard.open(), TestBoard.open({ profile: 'esp32s3', name: 's3' }), TestBoard.open({ profile: 'rp2-pico', name: 'pico' }),
  ]);
});
afterAll(async () => {
  await Promise.all([esp?.close(), s3?.close(), pico?.close()]);
});


const pinEdges = async (board: TestBoard, pin: number) => {
  const { events } = (await board.control('trace', { clear: true })) as { events: TimelineEvent[] };
  return events.flatMap((e) => (e.kind === 'pin' && e.pin === pin ? [e.level] : []));
};

describe('machine.mem32 GPIO on esp32', () => {
  it('W1TS/W1TC toggle a pin that Pin.value() and the timeline see; OUT1 reaches GPIO 32+', async () => {
    await esp.control('trace', { clear: true });
    const out = await esp.run(`
from machine import Pin, mem32
p = Pin(5, Pin.IN)
mem32[0x3ff44024] = 1 << 5
mem32[0x3ff44008] = 1 << 5
a = p.value()
mem32[0x3ff4400c] = 1 << 5
print(a, p.value(), hex(mem32[0x3ff44020] & (1 << 5)))
mem32[0x3ff44030] = 1 << 1
mem32[0x3ff44010] = 1 << 1
print(Pin(33).value(), mem32[0x3ff44040] >> 1 & 1)
`);
    expect(out).toBe('1 0 0x20\n1 1\n');
    expect((await pinEdges(esp, 5)).slice(-2)).toEqual([1, 0]);
  });

  it('a pin set by Pin.value() reads back through GPIO_OUT and GPIO_IN', async () => {
    const out = await esp.run(`
from machine import Pin, mem32
p = Pin(4, Pin.OUT)
p.value(1)
print(mem32[0x3ff44004] >> 4 & 1, mem32[0x3ff4403c] >> 4 & 1, mem32[0x3ff44008])
p.value(0)
print(mem32[0x3ff44004] >> 4 & 1, mem32[0x3ff4403c] >> 4 & 1)
`);
    expect(out).toBe('1 1 0\n0 0\n');
  });

  it('reads the eFuse MAC words the ROM emulator answers for the board MAC', async () => {
    const mac = Uint8Array.from(esp.stored.config.mac.split(':'), (h) => parseInt(h, 16));
    const { low, high } = efuseFromMac(mac);
    expect(await esp.run('from machine import mem32\nprint(mem32[0x3ff5a004], mem32[0x3ff5a008], hex(mem32[0x3ff5a00c]))'))
      .toBe(`${low} ${high} 0xa200\n`);
  });

  it('mem8/mem16 take their lanes of a word and mask what they write; alignment and unmodelled addresses raise', async () => {
    const out = await esp.run(PY_ERRORS + `
from machine import Pin, mem8, mem16, mem32
Pin(2, Pin.OUT).value(0)
Pin(18, Pin.OUT).value(0)
mem8[0x3ff44004] = 0x104
mem16[0x3ff44006] = 0x4
print(hex(mem32[0x3ff44004] & 0x40004), mem8[0x3ff44006], mem16[0x3ff44004] & 4, Pin(2).value(), Pin(18).value())
print(mem8, mem16, mem32)
errors(lambda: mem32[0x3ff44006], lambda: mem16.__setitem__(0x3ff44005, 1), lambda: mem32[0x3ff00000],
       lambda: mem32.__setitem__(0x12345678, 0), lambda: mem32['x'])
`);
    expect(out).toBe(
      '0x40004 4 4 1 1\n<8-bit memory> <16-bit memory> <32-bit memory>\n' +
        'ValueError address 3ff44006 is not aligned to 4 bytes\nValueError address 3ff44005 is not aligned to 2 bytes\n' +
        'OSError address 3ff00000 is not simulated\nOSError address 12345678 is not simulated\n' +
        "TypeError can't convert str to int\n",
    );
  });
});

describe('machine.mem32 on esp32s3 and ADC fidelity', () => {
  it('drives GPIO at 0x60004000 and reads the S3 MAC words; its ADC has only WIDTH_12BIT', async () => {
    const mac = Uint8Array.from(s3.stored.config.mac.split(':'), (h) => parseInt(h, 16));
    const { low, high } = efuseFromMac(mac);
    const out = await s3.run(`
from machine import ADC, Pin, mem32
mem32[0x60004024] = 1 << 6
mem32[0x60004008] = 1 << 6
print(Pin(6).value(), mem32[0x60007044], mem32[0x60007048])
print([n for n in dir(ADC) if n.startswith('WIDTH')])
`);
    expect(out).toBe(`1 ${low} ${high}\n['WIDTH_12BIT']\n`);
  });

  it('esp32 ADC needs a Pin object as the port does, and keeps the narrower widths', async () => {
    const out = await esp.run(PY_ERRORS + `
from machine import ADC, Pin
errors(lambda: ADC(34), lambda: ADC(Pin(34)))
print(ADC.WIDTH_9BIT, ADC.WIDTH_11BIT)
`);
    expect(out).toBe('ValueError expecting a pin\nok\n9 11\n');
  });
});

describe('machine.mem32 on rp2 (SIO)', () => {
  it('CPUID is core 0; OE/OUT set, clear and xor drive pins that GPIO_IN reads back', async () => {
    await pico.control('trace', { clear: true });
    const out = await pico.run(`
from machine import Pin, mem32
print(mem32[0xd0000000])
mem32[0xd0000024] = 1 << 15
mem32[0xd0000014] = 1 << 15
a = Pin(15).value()
mem32[0xd000001c] = 1 << 15
b = Pin(15).value()
mem32[0xd000001c] = 1 << 15
print(a, b, Pin(15).value(), mem32[0xd0000004] >> 15 & 1, mem32[0xd0000020] >> 15 & 1)
mem32[0xd0000018] = 1 << 15
p = Pin(16, Pin.OUT, value=1)
print(mem32[0xd0000010] >> 15 & 3, Pin(15).value())
`);
    expect(out).toBe('0\n1 0 1 1 1\n2 0\n');
    expect((await pinEdges(pico, 15)).slice(-4)).toEqual([1, 0, 1, 0]);
  });
});
