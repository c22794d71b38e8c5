// The acceptance programs and machine API facts, on the real virtual board (worker, link, resets) with its
// simulated parts, steered from outside through the control channel as `sim set` does.

import { afterEach, describe, expect, it } from 'vitest';
import type { PROFILES } from '../emulator/profiles.js';
import { eventsToVcd, type PartSpec, type TimelineEvent } from '../emulator/peripherals/index.js';
import { inMs } from './helpers/in-ms.js';
import { TestBoard } from './helpers/test-board.js';

let board: TestBoard | undefined;
afterEach(async () => {
  await board?.close();
  board = undefined;
});

async function open(profile: keyof typeof PROFILES = 'esp32', parts?: PartSpec[]) {
  board = await TestBoard.open({ profile, parts });
  return board;
}

async function trace(b: TestBoard): Promise<TimelineEvent[]> {
  return ((await b.control('trace')) as { events: TimelineEvent[] }).events;
}

describe('Pin', () => {
  it('blinks the LED on Pin 2 and records each edge', async () => {
    const b = await open();
    await b.run(`
from machine import Pin
import time
led = Pin(2, Pin.OUT)
for i in range(6):
    led.value(not led.value())
    time.sleep_ms(10)
`);
    const edges = (await trace(b)).filter((e) => e.kind === 'pin' && e.pin === 2);
    expect(edges.map((e) => (e as { level: number }).level)).toEqual([1, 0, 1, 0, 1, 0]);
    // Five 10 ms sleeps between the first and last edge; the VM's clock counts whole milliseconds, so each
    // sleep can end up to 1 ms early in timeline (microsecond) terms.
    expect(edges[5].t - edges[0].t).toBeGreaterThanOrEqual(45_000);
    await b.run('led.on()');
    expect(await b.control('get', { what: 'leds' })).toMatchObject({ leds: [{ id: 'led', pin: 2, on: true }] });
  });

  it('prints reprs and rejects pins the port rejects', async () => {
    const b = await open();
    expect(await b.run(`
from machine import Pin
print(Pin(2), Pin(4, Pin.OUT, value=1).value(), Pin(34, Pin.IN).value())
for args in ((6,), (40,), (34, Pin.OUT)):
    try:
        Pin(*args)
    except ValueError as e:
        print('ValueError', e)
`)).toBe('Pin(2) 1 0\nValueError invalid pin\nValueError invalid pin\nValueError pin can only be input\n');
  });

  it('reads pulls, open drain, Signal and toggle', async () => {
    const b = await open();
    expect(await b.run(`
from machine import Pin, Signal
print(Pin(4, Pin.IN, Pin.PULL_UP).value(), Pin(5, Pin.IN, Pin.PULL_DOWN).value())
od = Pin(12, Pin.OPEN_DRAIN, value=0)
print(od.value(), end=' ')
od(1)
print(od())
s = Signal(13, Pin.OUT, invert=True)
s.on()
print(Pin(13).value(), s.value())
p = Pin(14, Pin.OUT, value=0)
p.toggle()
print(p.value())
`)).toBe('1 0\n0 1\n0 1\n1\n');
  });

  it('follows rp2 reprs, names and BOOTSEL', async () => {
    const b = await open('rp2-pico');
    expect(await b.run(`
from machine import Pin
import rp2
print(Pin("LED", Pin.OUT), Pin(0, Pin.IN, Pin.PULL_UP), rp2.bootsel_button())
try:
    Pin(30)
except ValueError as e:
    print(e)
`)).toBe('Pin(GPIO25, mode=OUT) Pin(GPIO0, mode=IN, pull=PULL_UP) 0\ninvalid pin\n');
    await b.control('set', { what: 'button', id: 'bootsel', pressed: true });
    expect(await b.run('print(rp2.bootsel_button())')).toBe('1\n');
  });

  it('runs a button IRQ through the scheduler while the program sleeps', async () => {
    const b = await open();
    expect(await b.run(`
import machine, micropython, time
pressed = False
seen = []
def report(level):
    seen.append(level)
def on_press(pin):
    global pressed
    pressed = True
    micropython.schedule(report, pin.value())
btn = machine.Pin(0, machine.Pin.IN, machine.Pin.PULL_UP)
print(btn.value())
btn.irq(handler=on_press, trigger=machine.Pin.IRQ_FALLING)
`)).toBe('1\n');
    // The press comes while the program waits (up to 20 s: a loaded host may deliver it late).
    const [out] = await Promise.all([
      b.run(`
t = time.ticks_ms()
while not (pressed and seen) and time.ticks_diff(time.ticks_ms(), t) < 20000:
    time.sleep_ms(5)
print(pressed, seen, btn.value())
`),
      inMs(30, () => b.control('set', { what: 'button', id: 'boot', pressed: true })),
    ]);
    expect(out).toBe('True [0] 0\n');
  });

  it('measures a pulse with time_pulse_us', async () => {
    const b = await open();
    await b.run('import machine\np = machine.Pin(15, machine.Pin.IN)');
    // The pulse starts once the program says it calls time_pulse_us, and lasts 200 ms after the board took the
    // rising edge (a loaded host may run the VM's polling loop late by a few time slices, not by 100 ms).
    const pulse = async () => {
      await b.control('set', { what: 'pin', pin: 15, level: 1 });
      await new Promise((r) => setTimeout(r, 200));
      await b.control('set', { what: 'pin', pin: 15, level: 0 });
    };
    const [out] = await Promise.all([
      b.run("print('waiting')\nprint(machine.time_pulse_us(p, 1, 20_000_000))"),
      b.printed('waiting').then(pulse),
    ]);
    const us = Number(out.replace('waiting\n', ''));
    expect(us).toBeGreaterThanOrEqual(100_000);
    expect(us).toBeLessThan(20_000_000);
    expect(await b.run('print(machine.time_pulse_us(machine.Pin(15), 1, 2000))')).toBe('-2\n');
  });
});

describe('I2C and sensors', () => {
  it('scans the bus, reads the TMP102 at 0x48 and converts to degrees C', async () => {
    const b = await open();
    await b.control('set', { what: 'temp', value: 31.5 });
    const program = `
from machine import I2C, Pin
i2c = I2C(0, scl=Pin(22), sda=Pin(21), freq=100000)
print(i2c.scan())
data = i2c.readfrom(0x48, 2)
raw = (data[0] << 8 | data[1]) >> 4
if raw & 0x800:
    raw -= 4096
print(raw * 0.0625)
`;
    expect(await b.run(program)).toBe('[60, 72, 80]\n31.5\n');
    await b.control('set', { what: 'temp', value: -10.25 });
    expect(await b.run(program)).toBe('[60, 72, 80]\n-10.25\n');
    const reads = (await trace(b)).filter((e) => e.kind === 'i2c' && e.addr === 0x48);
    expect(reads).toHaveLength(2);
  });

  // I2C(0) again is the same bus, on the pins it was given (the port keeps one object a bus).
  it('raises ENODEV for a missing device, on I2C and SoftI2C alike', async () => {
    const b = await open();
    expect(await b.run(`
from machine import I2C, SoftI2C, Pin
for bus in (I2C(0, scl=Pin(22), sda=Pin(21)), SoftI2C(scl=Pin(22), sda=Pin(21))):
    try:
        bus.writeto(0x11, b'x')
    except OSError as e:
        print(e.errno, end=' ')
    print(bus.readfrom_mem(0x48, 1, 2))
print(I2C(0), I2C(0).scan())
print(SoftI2C(scl=Pin(4), sda=Pin(5)).scan())
`)).toBe("19 b'`\\xa0'\n19 b'`\\xa0'\nI2C(0, scl=22, sda=21, freq=400000, timeout=50000) [60, 72, 80]\n[]\n");
  });

  it('stores data in the 24C32 EEPROM with 16-bit addresses', async () => {
    const b = await open();
    expect(await b.run(`
from machine import I2C, Pin
i2c = I2C(0, scl=Pin(22), sda=Pin(21))
i2c.writeto_mem(0x50, 0x0123, b'hello', addrsize=16)
buf = bytearray(5)
i2c.readfrom_mem_into(0x50, 0x0123, buf, addrsize=16)
print(buf, i2c.readfrom_mem(0x50, 0x0122, 1, addrsize=16))
`)).toBe("bytearray(b'hello') b'\\xff'\n");
  });

  it('decodes SSD1306 commands and data into the framebuffer', async () => {
    const b = await open();
    await b.run(`
from machine import I2C, Pin
import framebuf
i2c = I2C(0, scl=Pin(22), sda=Pin(21))
for c in (0xae, 0x20, 0x00, 0x81, 0xcf, 0xa6, 0xaf, 0x21, 0, 127, 0x22, 0, 7):
    i2c.writeto(0x3c, bytes((0x80, c)))
fb = framebuf.FrameBuffer(bytearray(1024), 128, 64, framebuf.MONO_VLSB)
fb.pixel(0, 0, 1)
fb.hline(10, 63, 20, 1)
i2c.writevto(0x3c, (b'\\x40', fb))
`);
    const [oled] = (await b.control('get', { what: 'oled' })) as { on: boolean; contrast: number; rows: string[] }[];
    expect(oled.on).toBe(true);
    expect(oled.contrast).toBe(0xcf);
    expect(oled.rows[0].indexOf('#')).toBe(0);
    expect(oled.rows[63]).toBe('.'.repeat(10) + '#'.repeat(20) + '.'.repeat(98));
    expect(oled.rows.slice(1, 63).join('')).not.toContain('#');
  });
});

describe('PWM, ADC, UART, SPI', () => {
  it('fades with PWM and records every duty change', async () => {
    const b = await open();
    expect(await b.run(`
from machine import Pin, PWM
import time
pwm = PWM(Pin(2), freq=1000)
for duty in range(0, 65536, 8192):
    pwm.duty_u16(duty)
    time.sleep_ms(2)
print(pwm, pwm.duty_ns())
pwm.deinit()
`)).toBe('PWM(Pin(2), freq=1000, duty_u16=57344) 875013\n');
    const duties = (await trace(b)).flatMap((e) => (e.kind === 'pwm' ? [e.duty] : []));
    expect(duties).toEqual([32768, 0, 8192, 16384, 24576, 32768, 40960, 49152, 57344, 0]);
  });

  it('reads the settable voltage through the ADC with esp32 attenuation, on both ADC units', async () => {
    const b = await open();
    await b.control('set', { what: 'voltage', pin: 34, value: 1.2 });
    await b.control('set', { what: 'voltage', pin: 25, value: 0.5 });
    expect(await b.run(`
from machine import ADC, Pin
adc = ADC(Pin(34), atten=ADC.ATTN_11DB)
print(adc.read_uv(), adc.read_u16(), adc.read())
adc.atten(ADC.ATTN_0DB)
print(adc.read_uv(), ADC(Pin(25)).read_uv(), ADC(Pin(4)))
try:
    ADC(Pin(5))
except ValueError as e:
    print(e)
`)).toBe('1200000 21845 1365\n1000000 500000 ADC(Pin(4), atten=0)\ninvalid pin\n');
    // The ESP32's DAC on GPIO25/26 puts out value/255 of 3.3 V, which the ADC on that pin reads back.
    expect(await b.run(`
from machine import DAC
dac = DAC(Pin(26))
dac.write(128)
print(dac, ADC(Pin(26), atten=ADC.ATTN_11DB).read_uv())
for f in (lambda: DAC(Pin(27)), lambda: dac.write(256), lambda: dac.write(1.5)):
    try:
        f()
    except (ValueError, TypeError) as e:
        print(e)
`)).toBe("DAC(Pin(26)) 1656471\ninvalid Pin for DAC\nvalue out of range\ncan't convert float to int\n");
    await b.close();
    // The C3's second unit has one channel, GPIO5.
    const c3 = await open('esp32c3');
    expect(await c3.run("import machine\nfrom machine import ADC, Pin\nprint(ADC(Pin(5)), hasattr(machine, 'DAC'))\ntry:\n    ADC(Pin(6))\nexcept ValueError as e:\n    print(e)"))
      .toBe('ADC(Pin(5), atten=0) False\ninvalid pin\n');
  });

  it('reads touch pads as the sensor counts: the ESP32 lower when touched, the S3 higher; none on the C3 or rp2', async () => {
    const b = await open();
    const pads = `
from machine import TouchPad, Pin
t = TouchPad(Pin(4))
print(t.read())
for f in (lambda: TouchPad(Pin(5)), lambda: TouchPad(4), lambda: t.config('x')):
    try:
        f()
    except (ValueError, TypeError) as e:
        print(type(e).__name__, e)
print(t.config(500))
`;
    expect(await b.run(pads)).toBe("1100\nValueError invalid pin for touchpad\nValueError expecting a pin\nTypeError can't convert str to int\nNone\n");
    await b.control('set', { what: 'touch', pin: 4, value: 'press' });
    expect(await b.run('print(t.read(), TouchPad(Pin(32)).read())')).toBe('40 1100\n');
    await b.control('set', { what: 'touch', pin: 4, value: 612 });
    expect(await b.run('print(t.read())')).toBe('612\n');
    await expect(b.control('set', { what: 'touch', pin: 5, value: 'press' })).rejects.toThrow('GPIO5 is no touch pad');
    await b.close();

    const s3 = await open('esp32s3');
    await s3.control('set', { what: 'touch', pin: 14, value: 'press' });
    expect(await s3.run("from machine import TouchPad, Pin\nprint(TouchPad(Pin(1)).read(), TouchPad(Pin(14)).read(), TouchPad(Pin(1)).config('x'))\ntry:\n    TouchPad(Pin(0))\nexcept ValueError as e:\n    print(e)"))
      .toBe('25000 40000 None\ninvalid pin for touchpad\n');
    await s3.close();
    for (const profile of ['esp32c3', 'rp2-pico'] as const) {
      const other = await open(profile);
      expect(await other.run("import machine\nprint(hasattr(machine, 'TouchPad'))")).toBe('False\n');
      await expect(other.control('set', { what: 'touch', pin: 1, value: 'press' })).rejects.toThrow('has no touch pads');
      await other.close();
    }
    board = undefined;
  });

  it('reads ADC(26) and the temperature channel on rp2', async () => {
    const b = await open('rp2-pico');
    expect(await b.run('from machine import ADC\nprint(ADC(26).read_u16(), ADC(0).read_u16(), ADC(4).read_u16())')).toBe('32767 32767 14020\n');
    // The rp2 port's ADC is read_u16() and CORE_TEMP alone, made from one argument (ports/rp2/machine_adc.c).
    const api = "print([n for n in ('read_uv', 'read', 'atten', 'width', 'init', 'ATTN_11DB', 'WIDTH_12BIT') if hasattr(ADC, n)], ADC.CORE_TEMP)";
    const refused = "for f in (lambda: ADC(Pin(5)), lambda: ADC(26, atten=3)):\n try:\n  f()\n except Exception as e:\n  print(type(e).__name__)";
    expect(await b.run(`from machine import ADC, Pin\n${api}\n${refused}`)).toBe('[] 4\nValueError\nTypeError\n');
    expect(await b.run('from machine import I2C\nprint(I2C(0), I2C(0).scan())'))
      .toBe('I2C(0, freq=400000, scl=5, sda=4, timeout=50000) [60, 72, 80]\n');
  });

  it('loops UART TX back to RX and SPI MOSI to MISO', async () => {
    const b = await open();
    expect(await b.run(`
from machine import UART, SPI
u = UART(2, 9600)
u.write('ping\\n')
print(u.any(), u.readline(), u.read())
s = SPI(1)
buf = bytearray(3)
s.write_readinto(b'abc', buf)
print(buf, s.read(2, 0x55))
`)).toBe("5 b'ping\\n' None\nbytearray(b'abc') b'UU'\n");
  });
});

describe('Timer, RTC, WDT, resets', () => {
  it('fires periodic and one-shot timers', async () => {
    const b = await open();
    const out = await b.run(`
from machine import Timer
import time
ticks = []
once = []
t1 = Timer(0)
t0 = time.ticks_ms()
t1.init(period=10, mode=Timer.PERIODIC, callback=lambda t: ticks.append(t))
t2 = Timer(1, period=5, mode=Timer.ONE_SHOT, callback=lambda t: once.append(1))
time.sleep_ms(100)
t1.deinit()
ran = time.ticks_diff(time.ticks_ms(), t0)
n = len(ticks)
time.sleep_ms(30)
print(n, ran, len(ticks) == n, once, ticks[0] is t1)
`);
    const [n, ran, ...rest] = out.trim().split(' ').map((w, i) => (i < 2 ? Number(w) : w));
    // A period every 10 ms while it ran (over 100 ms when the host is loaded); a loaded host may run the timer late
    // (missed periods are skipped, not bunched), never early.
    expect(n).toBeGreaterThanOrEqual(1);
    expect(n).toBeLessThanOrEqual(Math.floor(Number(ran) / 10));
    expect(rest.join(' ')).toBe('True [1] True');
  });

  it('prints a traceback for a failing IRQ handler and keeps running', async () => {
    const b = await open();
    const out = await b.run(`
from machine import Timer
import time
Timer(0, period=1, mode=Timer.ONE_SHOT, callback=lambda t: 1 / 0)
time.sleep_ms(20)
print('still running')
`);
    expect(out).toContain('Uncaught exception in IRQ callback handler');
    expect(out).toContain('ZeroDivisionError');
    expect(out.endsWith('still running\n')).toBe(true);
  });

  it('keeps the RTC across a soft reset', async () => {
    const b = await open();
    expect(await b.run('import machine\nprint(machine.RTC().datetime()[:3])')).toBe('(2000, 1, 1)\n');
    await b.run('machine.RTC().datetime((2024, 2, 29, 3, 23, 59, 58, 0))');
    await b.runToReset('machine.soft_reset()', 'soft');
    // After a soft reset reset_cause() is SOFT_RESET, as the port's machine_deinit() makes it.
    expect(await b.run('import machine\nprint(machine.RTC().datetime()[:6], machine.reset_cause() == machine.SOFT_RESET)'))
      .toMatch(/^\(2024, 2, 29, 3, 23, 59\) True\n$|^\(2024, 3, 1, 4, 0, 0\) True\n$/);
  });

  it('keeps GPIO levels across a soft reset and stops PWM, as machine_pins_deinit and machine_pwm_deinit_all do', async () => {
    const b = await open();
    await b.run("from machine import Pin, PWM\nPin(4, Pin.OUT, value=1)\nPWM(Pin(2), freq=1000, duty_u16=30000)");
    await b.runToReset('import machine\nmachine.soft_reset()', 'soft');
    const pins = (await b.control('get', { what: 'pins' })) as { pin: number; mode: string; level: number; pwm: unknown }[];
    expect(pins.filter((p) => p.pin === 2 || p.pin === 4)).toEqual([
      { pin: 2, mode: 'unset', pull: 'none', level: 0, pwm: null },
      { pin: 4, mode: 'out', pull: 'none', level: 1, pwm: null },
    ]);
    expect(await b.run('from machine import Pin\nprint(Pin(4).value())')).toBe('1\n');
  });

  it('lets a fed watchdog live and resets the board when it is not fed', async () => {
    const b = await open();
    expect(await b.run(`
from machine import WDT
import time
wdt = WDT(timeout=1000)
for i in range(10):
    wdt.feed()
    time.sleep_ms(20)
print('fed')
`)).toBe('fed\n');
    expect(await b.runToReset('time.sleep_ms(3000)\nprint("not reached")', 'wdt')).not.toContain('not reached');
    expect(await b.run('import machine\nprint(machine.reset_cause() == machine.WDT_RESET)')).toBe('True\n');
  });

  it('wakes from deep sleep with DEEPSLEEP_RESET, the timer wake reason and RTC memory kept', async () => {
    const b = await open();
    const program = `
import machine
if machine.reset_cause() == machine.DEEPSLEEP_RESET:
    print('woke', machine.wake_reason() == machine.TIMER_WAKE, machine.RTC().memory())
else:
    machine.RTC().memory(b'count=1')
    machine.deepsleep(50)
`;
    await b.runToReset(program, 'deepsleep');
    expect(await b.run(program)).toBe("woke True b'count=1'\n");
  });

  it('maps reset, soft_reset and bootloader to host resets; reports board identity', async () => {
    const b = await open();
    await b.runToReset('import machine\nmachine.reset()', 'hard');
    expect(await b.run('import machine\nprint(machine.reset_cause() == machine.HARD_RESET, len(machine.unique_id()), machine.freq())'))
      .toBe('True 6 160000000\n');
    await b.runToReset('machine.soft_reset()', 'soft');
    expect(await b.run('import machine\nprint(machine.reset_cause() == machine.SOFT_RESET)')).toBe('True\n');
    await b.runToReset('machine.bootloader()', 'bootloader');
  });
});

describe('sleep and port modules', () => {
  it('wakes lightsleep() on a pin IRQ', async () => {
    const b = await open();
    await b.run('import machine\nhits = []\nmachine.Pin(0, machine.Pin.IN).irq(lambda p: hits.append(p.value()), machine.Pin.IRQ_FALLING)');
    // Press the button once the board sleeps, and again every 200 ms until it wakes: a loaded host may take a
    // while from the marker to the sleep, and a press before it would leave lightsleep() waiting for the next.
    // (machine.sleep is the esp32 port's older name of lightsleep.)
    await b.con.send("print('sleeping')\nmachine.lightsleep()\nmachine.sleep(5)\nprint(hits[0], machine.sleep is machine.lightsleep, machine.SLEEP, machine.DEEPSLEEP)\x04");
    await b.con.expect('sleeping\r\n');
    let pressed = false;
    const presser = setInterval(() => {
      pressed = !pressed;
      void b.control('set', { what: 'button', id: 'boot', pressed }).catch(() => undefined);
    }, 100);
    try {
      expect(await b.con.expect('\x04', 20_000)).toBe('0 True 2 4\r\n\x04');
    } finally {
      clearInterval(presser);
    }
    await b.con.expect('\x04>');
  });

  it('sets the CPU clock in whole MHz the chip has, as the esp32 port does (the C3 tops out at 160 MHz), kept over a soft reset', async () => {
    const clock = `
import machine
for hz in (240_500_000, 100_000_000, 80_000_000):
    try:
        machine.freq(hz)
        print(machine.freq())
    except ValueError as e:
        print(e)
`;
    const b = await open();
    expect(await b.run(clock)).toBe('240000000\nfrequency must be 20MHz, 40MHz, 80Mhz, 160MHz or 240MHz\n80000000\n');
    // The clock set stays over a soft reset, as the chip's does; a reset starts at the port's default again.
    await b.runToReset('import machine\nmachine.soft_reset()', 'soft');
    expect(await b.run('import machine\nprint(machine.freq())')).toBe('80000000\n');
    await b.runToReset('import machine\nmachine.reset()', 'hard');
    expect(await b.run('import machine\nprint(machine.freq())')).toBe('160000000\n');
    await b.close();
    const c3 = await open('esp32c3');
    expect(await c3.run(clock)).toBe('frequency must be 20MHz, 40MHz, 80Mhz or 160MHz\n'.repeat(2) + '80000000\n');
  });

  it('takes esp32.wake_on_ext0 on the C3, which has no ext0 wake: the pin at its level ends no sleep', async () => {
    const b = await open('esp32c3');
    await b.control('set', { what: 'pin', pin: 4, level: 1 });
    expect(await b.run(
      'import esp32, machine, time\nfrom machine import Pin\nesp32.wake_on_ext0(Pin(4, Pin.IN), esp32.WAKEUP_ANY_HIGH)\n' +
        't = time.ticks_ms()\nmachine.lightsleep(300)\nprint(time.ticks_diff(time.ticks_ms(), t) >= 300, machine.wake_reason() == machine.TIMER_WAKE)',
    )).toBe('True True\n');
  });

  // Its errors are the port's check_esp_err: OSError(-code, the IDF's name of the code).
  it('keeps esp32.NVS values across a hard reset', async () => {
    const b = await open();
    await b.run(`
import esp32
nvs = esp32.NVS('app')
nvs.set_i32('boots', 41)
nvs.set_blob('key', b'secret')
`);
    await b.runToReset('import machine\nmachine.reset()', 'hard');
    expect(await b.run(`
import esp32
nvs = esp32.NVS('app')
buf = bytearray(10)
n = nvs.get_blob('key', buf)
print(nvs.get_i32('boots') + 1, buf[:n])
nvs.erase_key('boots')
try:
    nvs.get_i32('boots')
except OSError as e:
    print(e.errno, e.args[1])
try:
    nvs.get_blob('key', bytearray(3))
except OSError as e:
    print(e.args)
print(nvs)
`)).toBe("42 bytearray(b'secret')\n-4354 ESP_ERR_NVS_NOT_FOUND\n(-4364, 'ESP_ERR_NVS_INVALID_LENGTH')\n<NVS>\n");
  });
});

describe('state across worker restarts', () => {
  it('carries RTC, RTC memory, NVS, EEPROM, sensor values and held buttons through deep sleep', async () => {
    const b = await open();
    await b.control('set', { what: 'temp', value: 40.0625 });
    await b.control('set', { what: 'button', id: 'boot', pressed: true });
    await b.run(`
import machine, esp32
machine.RTC().datetime((2030, 6, 1, 5, 12, 0, 0, 0))
machine.I2C(0, scl=machine.Pin(22), sda=machine.Pin(21)).writeto_mem(0x50, 0, b'kept', addrsize=16)
esp32.NVS('app').set_i32('n', 7)
machine.RTC().memory(b'mem')
`);
    // Deep sleep ends the worker; the next one starts from the state the last one handed over.
    await b.runToReset('machine.deepsleep(10)', 'deepsleep');
    expect(await b.run(`
import machine, esp32
i2c = machine.I2C(0, scl=machine.Pin(22), sda=machine.Pin(21))
d = i2c.readfrom(0x48, 2)
print(machine.reset_cause() == machine.DEEPSLEEP_RESET, machine.wake_reason() == machine.TIMER_WAKE)
print(machine.RTC().datetime()[:4], machine.RTC().memory(), esp32.NVS('app').get_i32('n'))
print(i2c.readfrom_mem(0x50, 0, 4, addrsize=16), ((d[0] << 8 | d[1]) >> 4) * 0.0625, machine.Pin(0).value())
`)).toBe("True True\n(2030, 6, 1, 5) b'mem' 7\nb'kept' 40.0625 0\n");
  });
});

describe('neopixel and dht', () => {
  it('shows NeoPixel colours and DHT22 readings', async () => {
    const b = await open('esp32', [
      { type: 'neopixel', id: 'strip', pin: 5, count: 2 },
      { type: 'dht22', id: 'dht', pin: 4, celsius: 23.4, humidity: 51.2 },
    ]);
    expect(await b.run(`
import machine, neopixel, dht
np = neopixel.NeoPixel(machine.Pin(5), 2)
np[0] = (255, 0, 0)
np[1] = (0, 16, 32)
np.write()
d = dht.DHT22(machine.Pin(4))
d.measure()
print(d.temperature(), d.humidity())
try:
    dht.DHT11(machine.Pin(2)).measure()
except OSError as e:
    print(e.errno)
`)).toBe('23.4 51.2\n110\n');
    expect(await b.control('get', { what: 'leds' })).toMatchObject({ neopixels: [{ pin: 5, pixels: [[255, 0, 0], [0, 16, 32]] }] });
  });
});

describe('VCD export', () => {
  it('turns the timeline into a VCD with one wire per pin and ordered timestamps', async () => {
    const b = await open();
    await b.run('from machine import Pin, I2C\np = Pin(2, Pin.OUT)\np.on()\np.off()\nI2C(0, scl=Pin(22), sda=Pin(21)).readfrom(0x48, 2)');
    const vcd = (await b.control('vcd', {})) as string;
    expect(vcd).toContain('$timescale 1us $end');
    expect(vcd).toMatch(/\$var wire 1 (\S+) gpio2 \$end/);
    const id = /\$var wire 1 (\S+) gpio2 \$end/.exec(vcd)![1];
    const body = vcd.split('$enddefinitions $end\n')[1].trim().split('\n');
    expect(body.filter((l) => l.endsWith(id) && !l.startsWith('b'))).toEqual([`1${id}`, `0${id}`]);
    const times = body.filter((l) => l.startsWith('#')).map((l) => Number(l.slice(1)));
    expect(times).toEqual([...times].sort((x, y) => x - y));
    expect(vcd).toMatch(/\$var wire 7 \S+ i2c_22_21_addr \$end/);
    expect(vcd).toContain('b1001000 ');
  });

  it('is a pure function of the events', () => {
    const events: TimelineEvent[] = [
      { t: 5, kind: 'pin', pin: 0, level: 1 },
      { t: 5, kind: 'pwm', pin: 2, freq: 1000, duty: 32768 },
      { t: 9, kind: 'pin', pin: 0, level: 0 },
    ];
    const date = new Date(0);
    expect(eventsToVcd(events, { date })).toBe([
      '$date 1970-01-01T00:00:00.000Z $end', '$version boardctl virtual board $end', '$timescale 1us $end',
      '$scope module board $end', '$var wire 1 ! gpio0 $end', '$var real 64 " pwm2_duty $end',
      '$var real 64 # pwm2_freq $end', '$upscope $end', '$enddefinitions $end',
      '#5', '1!', 'r0.5000076295109483 "', 'r1000 #', '#9', '0!', '',
    ].join('\n'));
  });
});
