// machine.ADCBlock and ADC.block() (the esp32 port's) on the real VM: the blocks are the ADC units, connect() gives
// the same ADC objects machine.ADC does, over the same simulated voltages.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PY_ERRORS } from './helpers/py-errors.js';
import { TestBoard } from './helpers/test-board.js';

let esp: TestBoard;
let pico: TestBoard;
beforeAll(async () => {
  [esp, pico] = await Promise.all([TestBoard.open(), TestBoard.open({ profile: 'rp2-pico', name: 'pico' })]);
});
afterAll(async () => {
  await Promise.all([esp?.close(), pico?.close()]);
});


describe('machine.ADCBlock and ADC.block() on esp32', () => {
  it('connect() by channel, source or both gives the ADC of that pin, which reads the same voltage as machine.ADC', async () => {
    await esp.control('set', { what: 'voltage', pin: 34, value: 0.75 });
    await esp.control('set', { what: 'voltage', pin: 27, value: 0.25 });
    const out = await esp.run(`
from machine import ADC, ADCBlock, Pin
b1, b2 = ADCBlock(0), ADCBlock(1, bits=12)
a = b1.connect(6)
print(a, a is ADC(Pin(34)), b1.connect(Pin(34)) is a, b1.connect(6, Pin(34)) is a)
print(a.read_uv(), ADC(Pin(34)).read_uv(), b2.connect(7, atten=ADC.ATTN_11DB).read_uv(), ADC(Pin(27)))
print(b1, b2, a.block() is b1, ADC(Pin(4)).block() is b2, ADCBlock(0) is b1)
`);
    expect(out).toBe(
      'ADC(Pin(34), atten=0) True True True\n' +
        '750000 750000 250000 ADC(Pin(27), atten=3)\n' +
        'ADCBlock(0, bits=12) ADCBlock(1, bits=12) True True True\n',
    );
  });

  it("sets the unit's resolution for read(), with the port's errors; the S3 and C3 only take 12 bits", async () => {
    await esp.control('set', { what: 'voltage', pin: 34, value: 0.5 });
    const out = await esp.run(`${PY_ERRORS}
from machine import ADC, ADCBlock, Pin
a = ADC(Pin(34))
b = ADCBlock(0, bits=9)
print(b, a.read(), ADC(Pin(4)).block())
b.init(bits=12)
print(a.read())
errors(lambda: ADCBlock(2), lambda: ADCBlock(0, bits=13), lambda: ADCBlock(1, bits=8), lambda: b.connect(8), lambda: b.connect(Pin(4)),
       lambda: b.connect(1, Pin(34)), lambda: b.connect(1, 2, 3), lambda: b.connect(34), lambda: b.connect('x'))
`);
    // 0.5 V of the 1 V full scale at 0 dB: 2047 at 12 bits, 255 at 9.
    expect(out).toBe(
      'ADCBlock(0, bits=9) 255 ADCBlock(1, bits=12)\n2047\n' +
        'ValueError invalid block id\nValueError invalid bits\nValueError invalid bits\nValueError no matching ADC\nValueError no matching ADC\n' +
        'ValueError no matching ADC\nTypeError too many positional args\nValueError no matching ADC\nValueError expecting a pin\n',
    );
    const c3 = await TestBoard.open({ profile: 'esp32c3', name: 'c3' });
    try {
      expect(await c3.run(`${PY_ERRORS}
from machine import ADCBlock, Pin
errors(lambda: ADCBlock(0, bits=11), lambda: ADCBlock(1, bits=12))
print(ADCBlock(1).connect(0), ADCBlock(0).connect(Pin(4)))
`)).toBe('ValueError invalid bits\nok\nADC(Pin(5), atten=0) ADC(Pin(4), atten=0)\n');
    } finally {
      await c3.close();
    }
  });

  it('is absent on rp2, as the port has no ADCBlock', async () => {
    expect(await pico.run("import machine\nprint(hasattr(machine, 'ADCBlock'), hasattr(machine.ADC(26), 'block'))")).toBe('False False\n');
  });
});
