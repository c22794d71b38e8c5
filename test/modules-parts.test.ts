// Issue 16 item 5: parts wired as the tutorials wire them. The ESP32 kit's I2C sensors sit on SCL 22 / SDA 21
// while I2C(0) without pins keeps the port's 18/19; a DS18B20 answers on its 1-Wire pin through the firmware's
// onewire and ds18x20 modules; values are set from outside.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TestBoard } from './helpers/test-board.js';

let board: TestBoard;
beforeAll(async () => {
  board = await TestBoard.open();
});
afterAll(async () => {
  await board?.close();
});

describe('esp32 kit wiring', () => {
  // The port keeps one object a bus: I2C(0) alone is on 18/19 until a program gives it pins.
  it('answers I2C(0, scl=Pin(22), sda=Pin(21)) as the tutorials open it; I2C(0) alone is on 18/19', async () => {
    await board.control('set', { what: 'temp', id: 'temp', value: 27.25 });
    const out = await board.run(
      'from machine import I2C, Pin\nprint(I2C(0), I2C(0).scan())\n' +
        'i2c = I2C(0, scl=Pin(22), sda=Pin(21))\nprint(i2c.scan())\n' +
        'd = i2c.readfrom_mem(0x48, 0, 2)\nprint(((d[0] << 8 | d[1]) >> 4) * 0.0625)',
    );
    expect(out).toBe('I2C(0, scl=18, sda=19, freq=400000, timeout=50000) []\n[60, 72, 80]\n27.25\n');
  });

  it('reads the DS18B20 with the quickref program (onewire + ds18x20), following sim set temp', async () => {
    await board.control('set', { what: 'temp', id: 'probe', value: -10.125 });
    const program = [
      'import time, machine, onewire, ds18x20',
      'ds = ds18x20.DS18X20(onewire.OneWire(machine.Pin(4)))',
      'roms = ds.scan()',
      "print(len(roms), hex(roms[0][0]), ds.ow.crc8(roms[0]))",
      'print(ds.read_temp(roms[0]))',  // before any conversion: the power-on +85 degC
      // The part holds read slots low while it converts (750 ms at 12 bits), from the command's end: timed from
      // before the command, so a host that keeps the board off its core after it cannot shorten what is seen.
      't0 = time.ticks_ms()',
      'ds.convert_temp()',
      'while not ds.ow.readbit(): pass',
      'print(time.ticks_diff(time.ticks_ms(), t0) >= 700)',
      'for rom in roms:',
      '    print(ds.read_temp(rom))',
    ].join('\n');
    expect(await board.run(program)).toBe('1 0x28 0\n85.0\nTrue\n-10.125\n');
  });

  it('finds nobody on a pin without a 1-Wire part, and a required reset raises OneWireError', async () => {
    const out = await board.run(
      'import onewire, machine\now = onewire.OneWire(machine.Pin(5))\nprint(ow.reset(), ow.scan())\n' +
        'try:\n    ow.reset(True)\nexcept onewire.OneWireError:\n    print("OneWireError")',
    );
    expect(out).toBe('False []\nOneWireError\n');
  });
});

describe('several DS18B20 on one bus', () => {
  let multi: TestBoard;
  afterAll(async () => {
    await multi?.close();
  });

  it('scans every ROM code and reads each probe by its own code', async () => {
    multi = await TestBoard.open({
      name: 'multi',
      parts: [
        { type: 'ds18b20', id: 'in', pin: 15, celsius: 19.5 },
        { type: 'ds18b20', id: 'out', pin: 15, celsius: 4.0625 },
        { type: 'ds18b20', id: 'tank', pin: 15, celsius: 55 },
      ],
    });
    const out = await multi.run(
      'import onewire, ds18x20, machine, time\nds = ds18x20.DS18X20(onewire.OneWire(machine.Pin(15)))\n' +
        'roms = ds.scan()\nds.convert_temp()\ntime.sleep_ms(750)\n' +
        'print(len(set(bytes(r) for r in roms)), sorted(ds.read_temp(r) for r in roms))',
    );
    expect(out).toBe('3 [4.0625, 19.5, 55.0]\n');
  });
});
