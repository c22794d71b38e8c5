// A program that runs on an ESP32 runs unchanged on the virtual board: what the board's Python stand-ins for the
// firmware's C code show a program (reprs, timing, stdout bytes, clocks, errnos, tracebacks) is the firmware's.
// One esp32 board shared by the whole file (and a Pico for its SPI case).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TestBoard } from './helpers/test-board.js';

let board: TestBoard;
beforeAll(async () => {
  board = await TestBoard.open();
});
afterAll(() => board?.close());

describe('peripherals take the time their wire takes', () => {
  it('SPI prints the clock it runs and each transfer lasts 8 clocks a byte', async () => {
    const out = await board.run(`
import time
from machine import SPI
s = SPI(1, baudrate=100000)
print(s)
print(SPI(2, 8000000, sck=5).__repr__().split(', ')[1:2], SPI(1, 3000000).__repr__().split(', ')[1:2])
t = time.ticks_us()
s.write(bytes(500))
print(time.ticks_diff(time.ticks_us(), t) >= 40000)
buf = bytearray(250)
t = time.ticks_us()
s.write_readinto(b'x' * 250, buf)
print(time.ticks_diff(time.ticks_us(), t) >= 20000, buf == b'x' * 250)
`);
    expect(out).toBe(
      'SPI(id=1, baudrate=100000, polarity=0, phase=0, bits=8, firstbit=0, sck=14, mosi=13, miso=12)\n' +
        "['baudrate=8000000'] ['baudrate=2962962']\nTrue\nTrue True\n",
    );
  });

  it("rp2's SPI prints the clock clk_peri's dividers give", async () => {
    const pico = await TestBoard.open({ profile: 'rp2-pico', name: 'pico' });
    try {
      expect(await pico.run('from machine import SPI\nprint(SPI(0, 1000000))\nprint(SPI(1, 8000000, polarity=1))'))
        .toBe('SPI(0, baudrate=992063, polarity=0, phase=0, bits=8, sck=18, mosi=19, miso=16)\n' +
          'SPI(1, baudrate=7812500, polarity=1, phase=0, bits=8, sck=10, mosi=11, miso=8)\n');
    } finally {
      await pico.close();
    }
  });

  it('UART write queues, flush and txdone wait for the last stop bit at the baud rate', async () => {
    const out = await board.run(`
import time
from machine import UART
u = UART(1, baudrate=1200, tx=4, rx=5)
t = time.ticks_us()
u.write(b'x' * 60)
busy = not u.txdone()
u.flush()
print(busy, time.ticks_diff(time.ticks_us(), t) >= 500000, u.txdone(), len(u.read()))
u.init(baudrate=2400, bits=8, parity=0, stop=2)
t = time.ticks_us()
u.write('Hello World')
u.flush()
print(time.ticks_diff(time.ticks_us(), t) >= 11 * 12 * 1000000 // 2400)
`);
    expect(out).toBe('True True True 60\nTrue\n');
  });
});

/** Lines as the board prints them, each ended. */
const lines = (...each: string[]) => each.map((l) => `${l}\n`).join('');

describe("reprs are the port's print functions'", () => {
  it('UART prints every setting as machine_uart.c does, the baud rate the divider gives, and keeps settings across init', async () => {
    // The board is shared: an earlier case's UART(1) settings stay until deinit, as on the firmware.
    const out = await board.run(`
from machine import UART
UART(1).deinit()
print(UART(1))
u = UART(1)
u.init(9600, bits=7, parity=1, stop=2, invert=UART.INV_TX | UART.INV_RX, flow=UART.RTS | UART.CTS)
print(UART(1))
u.init(timeout=10)
print(u)
u.deinit()
print(UART(1, 57600, tx=4, rx=5))
print(UART(2, parity=0), UART.INV_TX, UART.INV_RX, UART.INV_RTS, UART.INV_CTS)
for args in ((3,), (1, 9600, 9), (1, 9600, 8, None, 3)):
    try:
        UART(*args)
    except ValueError as e:
        print('ValueError:', e)
`);
    const settings = (head: string, tail: string) =>
      `UART(${head}, rts=-1, cts=-1, txbuf=256, rxbuf=256, ${tail})`;
    expect(out).toBe(lines(
      settings('1, baudrate=115201, bits=8, parity=None, stop=1, tx=10, rx=9', 'timeout=0, timeout_char=0, irq=0'),
      settings('1, baudrate=9600, bits=7, parity=1, stop=2, tx=10, rx=9', 'timeout=0, timeout_char=0, irq=0, invert=INV_TX|INV_RX, flow=RTS|CTS'),
      settings('1, baudrate=9600, bits=7, parity=1, stop=2, tx=10, rx=9', 'timeout=10, timeout_char=0, irq=0, invert=INV_TX|INV_RX, flow=RTS|CTS'),
      settings('1, baudrate=57600, bits=8, parity=None, stop=1, tx=4, rx=5', 'timeout=0, timeout_char=0, irq=0'),
      settings('2, baudrate=115201, bits=8, parity=0, stop=1, tx=17, rx=16', 'timeout=0, timeout_char=0, irq=0') + ' 32 4 64 8',
      'ValueError: UART(3) does not exist',
      'ValueError: invalid data bits',
      'ValueError: invalid stop bits',
    ));
  });

  it("UART.irq calls its handler with the UART on IRQ_RX, then on IRQ_RXIDLE once the line is quiet; its checks are the port's", async () => {
    const out = await board.run(`
import time
from machine import UART
u = UART(1, 9600)
seen = []
def h(uart):
    seen.append((uart is u, uart.irq().flags(), uart.any()))
print(u.irq(), u.irq().trigger())
u.irq(h, UART.IRQ_RX | UART.IRQ_RXIDLE)
print(u.irq().trigger() == UART.IRQ_RX | UART.IRQ_RXIDLE, str(u).split(', ')[-1])
u.write(b'hello')
while len(seen) < 2:
    time.sleep_ms(1)
print(seen, u.read())
for args in ((h, 4), (h, 1, True), (5,)):
    try:
        u.irq(*args)
    except ValueError as e:
        print('ValueError:', e)
try:
    UART(0).irq(h)
except ValueError as e:
    print('ValueError:', e)
u.deinit()
`);
    expect(out).toBe(lines(
      '<irq> 0',
      'True irq=4097)',
      "[(True, 1, 5), (True, 4096, 5)] b'hello'",
      'ValueError: trigger 0x0004 unsupported',
      'ValueError: hard IRQ is not supported',
      'ValueError: handler must be None or callable',
      'ValueError: REPL UART does not support IRQs',
    ));
  });

  it('PWM, ADC, I2C, SoftI2C, Timer, RTC, socket and Signal print as the esp32 port prints them', async () => {
    const out = await board.run(`
from machine import Pin, PWM, ADC, I2C, SoftI2C, Timer, RTC
p = PWM(Pin(4))
print(p)
p.duty(512)
print(p, p.duty_u16())
p.init(freq=1000, duty_u16=1000, invert=True)
print(p)
p.deinit()
print(p)
print(ADC(Pin(34)), ADC(Pin(35), atten=ADC.ATTN_11DB))
print(I2C(0), I2C(1, freq=100000))
print(I2C(1))
print(SoftI2C(scl=22, sda=21), SoftI2C(scl=22, sda=21, freq=100000))
t = Timer(0)
print(t)
t.init(period=500, mode=Timer.ONE_SHOT, callback=lambda t: None)
print(t)
t.init(freq=3, callback=lambda t: None)
print(t)
t.deinit()
print(RTC())
import socket
from machine import Signal
s = socket.socket()
print(s, Signal(Pin(13, Pin.OUT)))
s.close()
`);
    expect(out).toBe(lines(
      'PWM(Pin(4), freq=5000, duty_u16=32768)',
      'PWM(Pin(4), freq=5000, duty=512) 32768',
      'PWM(Pin(4), freq=1000, duty_u16=1000, invert=True)',
      'PWM(Pin(4))',
      'ADC(Pin(34), atten=0) ADC(Pin(35), atten=3)',
      'I2C(0, scl=18, sda=19, freq=400000, timeout=50000) I2C(1, scl=25, sda=26, freq=100000, timeout=50000)',
      'I2C(1, scl=25, sda=26, freq=100000, timeout=50000)',
      'SoftI2C(scl=22, sda=21, freq=500000) SoftI2C(scl=22, sda=21, freq=100000)',
      'Timer(0, mode=ONE_SHOT, period=0)',
      'Timer(0, mode=ONE_SHOT, period=500)',
      'Timer(0, mode=PERIODIC, period=333)',
      '<RTC>',
      '<socket> <Signal>',
    ));
  });
});

describe('stand-ins for C functions print as C functions', () => {
  it('time, os and builtins replacements print as <function>', async () => {
    const out = await board.run(`
import time, os, builtins
print(time.sleep, time.sleep_ms, time.ticks_us, time.ticks_cpu, os.uname, os.urandom, builtins.__import__, input)
print(type(time.sleep), time.ticks_us() > 0)
`);
    expect(out).toBe(`${Array(8).fill('<function>').join(' ')}\n<class 'function'> True\n`);
  });
});

describe('stdout', () => {
  it('sys.stdout.buffer writes bytes as they are; text stdout turns LF into CR LF', async () => {
    await board.run('pass');
    await board.con.send("import sys\nsys.stdout.buffer.write(b'a\\nb\\r\\n')\nsys.stdout.write('c\\n')\nprint('d')\n" +
      "sys.stderr.buffer.write(b'e\\n')\nprint(sys.stdout.buffer.write(b'f\\n'), sys.stdout.buffer)\x04");
    await board.con.expect('OK');
    expect(await board.con.expect('\x04')).toBe('a\nb\r\nc\r\nd\r\ne\nf\n2 <io.FileIO 1>\r\n\x04');
    expect(await board.con.expect('\x04>')).toBe('\x04>');
  });
});

describe('the calendar clock is the RTC', () => {
  it('starts at 2000-01-01 with the RTC, and setting the RTC moves time.localtime/gmtime/time', async () => {
    const out = await board.run(`
import machine, time
r = machine.RTC()
print(r.datetime()[:3], time.localtime()[:3], time.gmtime()[:3])
r.datetime((2024, 1, 2, 1, 3, 4, 5, 0))
print(time.localtime()[:5], time.gmtime()[:4], abs(time.time() - time.mktime((2024, 1, 2, 3, 4, 5, 0, 0))) < 5)
print(time.localtime()[:4] == r.datetime()[:3] + (r.datetime()[4],))
`);
    expect(out).toBe('(2000, 1, 1) (2000, 1, 1) (2000, 1, 1)\n(2024, 1, 2, 3, 4) (2024, 1, 2, 3) True\nTrue\n');
  });
});

describe('errno', () => {
  it("esp32's errno values (ESP-IDF newlib) have their names in errorcode and in printed OSErrors", async () => {
    const out = await board.run(`
import errno
e = errno
print([(n, getattr(e, n), e.errorcode[getattr(e, n)]) for n in ('ETIMEDOUT', 'EHOSTUNREACH', 'EINPROGRESS', 'ENOTCONN')])
print(len(e.errorcode), 110 in e.errorcode, e.errorcode[113], e.errorcode[104])
for n in (118, 116, 5):
    try:
        raise OSError(n)
    except OSError as x:
        print(repr(x), x)
`);
    expect(out).toBe(
      "[('ETIMEDOUT', 116, 'ETIMEDOUT'), ('EHOSTUNREACH', 118, 'EHOSTUNREACH'), ('EINPROGRESS', 119, 'EINPROGRESS'), ('ENOTCONN', 128, 'ENOTCONN')]\n" +
        '22 False ECONNABORTED ECONNRESET\n' +
        'OSError(118,) [Errno 118] EHOSTUNREACH\nOSError(116,) [Errno 116] ETIMEDOUT\nOSError(5,) [Errno 5] EIO\n',
    );
    await expect(board.run('import errno\nraise OSError(errno.EHOSTUNREACH)')).rejects.toThrow(/\nOSError: \[Errno 118\] EHOSTUNREACH\n$/);
  });
});

describe('tracebacks', () => {
  it('name frozen modules by their frozen path, and keep user frames exact', async () => {
    const err = await board.run(
      'import asyncio\nasync def boom():\n    raise ValueError(1)\n\nasync def main():\n    await asyncio.wait_for(boom(), 1)\n' +
        'def go():\n    asyncio.run(main())\ngo()',
    ).then(() => '', (e: Error) => e.message);
    const files = [...err.matchAll(/File "([^"]+)", line (\d+), in (\S+)/g)].map((m) => `${m[1]}:${m[2]}:${m[3]}`);
    expect(files.filter((f) => f.startsWith('<stdin>'))).toEqual(['<stdin>:9:<module>', '<stdin>:8:go', '<stdin>:6:main', '<stdin>:3:boom']);
    expect(files.filter((f) => !f.startsWith('<stdin>')).every((f) => /^asyncio\/(core|funcs)\.py:\d+:/.test(f)), err).toBe(true);
    expect(files).toContainEqual(expect.stringMatching(/^asyncio\/core\.py:\d+:run$/));
    expect(err).toMatch(/\nValueError: 1\n$/);
  });

  it('show no frames of the modules that are C on the firmware (machine, socket), whose functions print as C functions', async () => {
    const out = await board.run(`
import machine, socket, sys
print(machine.reset, machine.Pin.value, socket.socket.connect)
for f in (lambda: machine.Pin(99), lambda: machine.SPI(7), lambda: socket.socket().connect(('10.9.9.9', 80))):
    try:
        f()
    except Exception as e:
        sys.print_exception(e)
`);
    const frames = [...out.matchAll(/File "([^"]+)", line (\d+), in (\S+)/g)].map((m) => `${m[1]}:${m[2]}:${m[3]}`);
    expect(out.split('\n')[0]).toBe('<function> <function> <function>');
    expect(frames).toEqual(['<stdin>:6:<module>', '<stdin>:4:<lambda>', '<stdin>:6:<module>', '<stdin>:4:<lambda>', '<stdin>:6:<module>', '<stdin>:4:<lambda>']);
    expect(out).toContain('ValueError: invalid pin\n');
    expect(out).toMatch(/OSError: \[Errno \d+\] E[A-Z]+\n$/);
  });
});

describe("reset_cause() and wake_reason() are the port's", () => {
  const causes = 'import machine\nprint(machine.reset_cause(), machine.wake_reason())';

  it('esp32: EN is a power-on reset (ESP_RST_POWERON), and a soft reset keeps the wake cause it does not report', async () => {
    const esp = await TestBoard.open({ name: 'causes' });
    try {
      expect(await esp.run(causes)).toBe('1 0\n'); // PWRON_RESET
      await esp.runToReset('import machine\nmachine.reset()', 'hard');
      expect(await esp.run(causes)).toBe('2 0\n'); // HARD_RESET: esp_restart()
      await esp.reset();
      expect(await esp.run(causes)).toBe('1 0\n');
      await esp.runToReset('import machine\nmachine.deepsleep(10)', 'deepsleep');
      expect(await esp.run(causes)).toBe('4 4\n'); // DEEPSLEEP_RESET, TIMER_WAKE
      await esp.runToReset('import machine\nmachine.soft_reset()', 'soft');
      expect(await esp.run(causes)).toBe('5 4\n'); // SOFT_RESET; the chip's wake-up cause stays
      await esp.reset();
      expect(await esp.run(causes)).toBe('1 0\n');
    } finally {
      await esp.close();
    }
  });

  it('rp2: the watchdog reason register, which machine.reset() and deepsleep() set and a soft reset leaves', async () => {
    let pico = await TestBoard.open({ profile: 'rp2-pico', name: 'pico-causes' });
    const cause = 'import machine\nprint(machine.reset_cause(), machine.PWRON_RESET, machine.WDT_RESET)';
    try {
      expect(await pico.run(cause)).toBe('1 1 3\n');
      await pico.runToReset('import machine\nmachine.soft_reset()', 'soft');
      expect(await pico.run(cause)).toBe('1 1 3\n');
      await pico.runToReset('import machine\nmachine.reset()', 'hard');
      expect(await pico.run(cause)).toBe('3 1 3\n');
      await pico.runToReset('import machine\nmachine.soft_reset()', 'soft');
      expect(await pico.run(cause)).toBe('3 1 3\n');
      // Its USB serial has no reset line: a client's EN pulse (what resets an ESP dev board) changes nothing.
      await pico.run('kept = 42');
      await pico.transport.setSignals({ dtr: false, rts: true });
      await pico.transport.setSignals({ rts: false });
      expect(await pico.run('print(kept, machine.reset_cause())')).toBe('42 3\n');
      pico = await pico.powerCycle();
      expect(await pico.run(cause)).toBe('1 1 3\n');
      await pico.runToReset('import machine\nmachine.deepsleep(10)', 'deepsleep');
      expect(await pico.run(cause)).toBe('3 1 3\n');
    } finally {
      await pico.close();
    }
  });
});
