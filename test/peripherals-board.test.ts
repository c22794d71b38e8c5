// Issue 7 acceptance on the real virtual board (worker, link, resets): the programs users write first run
// unchanged, and the hardware is steerable from outside while they run.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { VirtualBoard } from '../emulator/board.js';
import { createBoard } from '../emulator/board-store.js';
import { BoardConsole } from './helpers/board-console.js';

const home = mkdtempSync(join(tmpdir(), 'boardctl-hw-'));
let board: VirtualBoard;
let con: BoardConsole;

beforeAll(async () => {
  createBoard('hw', { home });
  board = await VirtualBoard.open('hw', { home });
  await board.whenReady();
  const t = board.attach();
  con = new BoardConsole({ write: (d) => t.write(d), onData: (l) => t.onData(l), close: () => t.close() });
});
afterAll(async () => {
  await board.close();
  rmSync(home, { recursive: true, force: true });
});

const leds = async () => ((await board.controlRequest({ plugin: 'hw', op: 'get', args: { what: 'leds' } })) as { leds: { pin: number; on: boolean }[] }).leds;

describe('machine on the virtual board', () => {
  it('blinks the LED on Pin 2, visible from outside', async () => {
    await con.rawRepl();
    const [, err] = await con.rawExec('from machine import Pin\nled = Pin(2, Pin.OUT)\nled.on()');
    expect(err).toBe('');
    expect((await leds()).find((l) => l.pin === 2)?.on).toBe(true);
    await con.rawExec('led.off()');
    expect((await leds()).find((l) => l.pin === 2)?.on).toBe(false);
  });

  it('runs a button IRQ handler through micropython.schedule while the program sleeps', async () => {
    await con.send(
      'from machine import Pin\nimport micropython, time\npressed = []\n' +
        'def later(p):\n    pressed.append(p)\n' +
        'btn = Pin(0, Pin.IN, Pin.PULL_UP)\n' +
        'btn.irq(lambda p: micropython.schedule(later, 1), Pin.IRQ_FALLING)\nprint("armed")\n' +
        'for i in range(2000):\n    time.sleep_ms(10)\n    if pressed: break\nprint("pressed", pressed)\x04',
    );
    // Pressed once the IRQ is armed (a press before it would be missed, as on the board).
    await con.expect('OK');
    await con.expect('armed\r\n');
    await board.controlRequest({ plugin: 'hw', op: 'set', args: { what: 'pin', pin: 0, level: 0 } });
    expect(await con.expect('\x04')).toBe('pressed [1]\r\n\x04');
    await con.expect('\x04>');
    await board.controlRequest({ plugin: 'hw', op: 'set', args: { what: 'pin', pin: 0, level: null } });
  });

  it('reads the TMP102 at 0x48 over I2C and follows the temperature set from outside', async () => {
    await board.controlRequest({ plugin: 'hw', op: 'set', args: { what: 'temp', value: 31.5 } });
    const [out, err] = await con.rawExec(
      'from machine import I2C, Pin\ni2c = I2C(0, scl=Pin(22), sda=Pin(21))\nprint(i2c.scan())\n' +
        'd = i2c.readfrom(0x48, 2)\nraw = ((d[0] << 8) | d[1]) >> 4\nprint(raw * 0.0625)',
    );
    expect(err).toBe('');
    expect(out).toContain('72'); // 0x48
    expect(out).toContain('31.5\r\n');
    const [, missing] = await con.rawExec('i2c.readfrom(0x21, 1)');
    expect(missing).toContain('OSError: [Errno 19] ENODEV');
  });

  it('fades a PWM duty cycle', async () => {
    const [out, err] = await con.rawExec(
      'from machine import PWM, Pin\npwm = PWM(Pin(2), freq=1000)\nfor d in range(0, 65536, 8192):\n    pwm.duty_u16(d)\nprint(pwm.freq(), pwm.duty_u16())\npwm.deinit()',
    );
    expect(err).toBe('');
    expect(out).toBe('1000 57344\r\n');
  });

  it('resets on an unfed WDT and reports WDT_RESET; a fed one keeps running', async () => {
    const [fed] = await con.rawExec(
      'from machine import WDT\nimport time\nw = WDT(timeout=1000)\nfor i in range(10):\n    time.sleep_ms(50)\n    w.feed()\nprint("fed ok")',
    );
    expect(fed).toBe('fed ok\r\n');
    await con.send('import time\nwhile True: time.sleep_ms(10)\x04');
    await con.expect('MicroPython v1.27.0'); // the watchdog reset the board
    await con.rawRepl();
    const [cause] = await con.rawExec('import machine\nprint(machine.reset_cause() == machine.WDT_RESET)');
    expect(cause).toBe('True\r\n');
  });

  it('wakes from deepsleep with DEEPSLEEP_RESET, keeping RTC memory', async () => {
    await con.send('import machine\nmachine.RTC().memory(b"cycle1")\nmachine.deepsleep(200)\x04');
    const text = await con.expect('MicroPython v1.27.0');
    expect(text).toContain('DEEPSLEEP_RESET');
    expect(text).not.toContain('Traceback'); // the board just stops, as silicon does
    await con.rawRepl();
    const [out] = await con.rawExec('import machine\nprint(machine.reset_cause() == machine.DEEPSLEEP_RESET, machine.RTC().memory())');
    expect(out).toBe("True b'cycle1'\r\n");
  });

  const setPin = (pin: number, level: 0 | 1 | null) => board.controlRequest({ plugin: 'hw', op: 'set', args: { what: 'pin', pin, level } });
  const touch = (pin: number, value: number | 'press' | 'release') => board.controlRequest({ plugin: 'hw', op: 'set', args: { what: 'touch', pin, value } });
  /** Once the board sleeps there is no VM to ask (its hardware answers again when it wakes). */
  const asleep = async () => {
    for (const deadline = Date.now() + 10_000; Date.now() < deadline; await new Promise((r) => setTimeout(r, 20))) {
      const answered = await board.controlRequest({ plugin: 'hw', op: 'get', args: { what: 'pins' } }).then(() => true, () => false);
      if (!answered) return;
    }
    throw new Error('the board did not go to sleep');
  };
  const wokeBy = async (what: string) => {
    const text = await con.expect('MicroPython v1.27.0');
    expect(text).toContain('DEEPSLEEP_RESET');
    await con.rawRepl();
    const [out] = await con.rawExec(`import machine\nprint(machine.reset_cause() == machine.DEEPSLEEP_RESET, machine.wake_reason() == machine.${what})`);
    expect(out).toBe('True True\r\n');
  };

  it('sleeps until the pin esp32.wake_on_ext0 watches reaches its level, driven from outside meanwhile', async () => {
    await con.send('import esp32, machine\nfrom machine import Pin\nesp32.wake_on_ext0(Pin(4, Pin.IN, Pin.PULL_DOWN), esp32.WAKEUP_ANY_HIGH)\nmachine.deepsleep()\x04');
    await con.expect('OK');
    await asleep();
    // A pin it does not watch wakes nothing; other settings wait for the board to wake.
    await expect(board.controlRequest({ plugin: 'hw', op: 'set', args: { what: 'temp', value: 30 } })).rejects.toThrow(/deep sleep/);
    await setPin(5, 1);
    await new Promise((r) => setTimeout(r, 300));
    expect(con.take()).not.toContain('MicroPython');
    await setPin(4, 1);
    await wokeBy('EXT0_WAKE');
    await setPin(4, null);
    await setPin(5, null);
  });

  it('with esp32.wake_on_ext1 wakes when all its pins are low (WAKEUP_ALL_LOW), or at once when they are already', async () => {
    const sleep = 'import esp32, machine\nfrom machine import Pin\n' +
      'esp32.wake_on_ext1((Pin(12, Pin.IN, Pin.PULL_UP), Pin(13, Pin.IN, Pin.PULL_UP)), esp32.WAKEUP_ALL_LOW)\nmachine.deepsleep()\x04';
    await con.send(sleep);
    await con.expect('OK');
    await asleep();
    await setPin(12, 0);
    await new Promise((r) => setTimeout(r, 300));
    expect(con.take()).not.toContain('MicroPython');
    await setPin(13, 0);
    await wokeBy('EXT1_WAKE');
    // Both still low: the next deep sleep ends as it begins, as the RTC's level trigger does.
    await con.send(sleep);
    await wokeBy('EXT1_WAKE');
    await setPin(12, null);
    await setPin(13, null);
  });

  it('ends a lightsleep() early when a watched pin reaches its level; wake_reason() tells what ended it', async () => {
    await con.send(
      'import esp32, machine, time\nfrom machine import Pin\nesp32.wake_on_ext0(Pin(4, Pin.IN, Pin.PULL_DOWN), esp32.WAKEUP_ANY_HIGH)\n' +
        "t = time.ticks_ms()\nprint('sleeping')\nmachine.lightsleep(20000)\n" +
        "print('woke', time.ticks_diff(time.ticks_ms(), t) < 15000, machine.wake_reason() == machine.EXT0_WAKE)\n" +
        'esp32.wake_on_ext0(None)\nmachine.lightsleep(5)\nprint(machine.wake_reason() == machine.TIMER_WAKE)\x04',
    );
    await con.expect('sleeping\r\n');
    await setPin(4, 1);
    expect(await con.expect('\x04')).toBe('woke True True\r\nTrue\r\n\x04');
    await con.expect('\x04>');
    await setPin(4, null);
  });

  it('sleeps until a pad esp32.wake_on_touch watches reads below its config() threshold, touched meanwhile', async () => {
    await con.send('import esp32, machine\nfrom machine import TouchPad, Pin\nTouchPad(Pin(4)).config(500)\nTouchPad(Pin(13))\n' +
      'esp32.wake_on_touch(True)\nmachine.deepsleep()\x04');
    await con.expect('OK');
    await asleep();
    await touch(13, 'press'); // its threshold is 0: it never triggers
    await touch(4, 600);
    await new Promise((r) => setTimeout(r, 300));
    expect(con.take()).not.toContain('MicroPython');
    await touch(4, 'press');
    await wokeBy('TOUCHPAD_WAKE');
    // The finger is still there after the wake, as a held button is.
    const [out] = await con.rawExec('from machine import TouchPad, Pin\nprint(TouchPad(Pin(4)).read(), TouchPad(Pin(13)).read())');
    expect(out).toBe('40 40\r\n');
    await touch(4, 'release');
    await touch(13, 'release');
  });

  it('ends a lightsleep() on a watched touch, TOUCHPAD_WAKE', async () => {
    await con.send(
      'import esp32, machine\nfrom machine import TouchPad, Pin\nt = TouchPad(Pin(27))\nt.config(300)\nesp32.wake_on_touch(True)\n' +
        "print('sleeping')\nmachine.lightsleep(20000)\nprint(machine.wake_reason() == machine.TOUCHPAD_WAKE, t.read())\nesp32.wake_on_touch(False)\x04",
    );
    await con.expect('sleeping\r\n');
    await touch(27, 250);
    expect(await con.expect('\x04')).toBe('True 250\r\n\x04');
    await con.expect('\x04>');
    await touch(27, 'release');
  });

  it('wakes only the sleeps Pin.irq(trigger=WAKE_HIGH, wake=machine.DEEPSLEEP) names, the port\'s other way to ext0', async () => {
    await con.send(
      'import machine, time\nfrom machine import Pin\nPin(4, Pin.IN, Pin.PULL_DOWN).irq(trigger=Pin.WAKE_HIGH, wake=machine.DEEPSLEEP)\n' +
        "print('sleeping')\nt = time.ticks_ms()\nmachine.lightsleep(1500)\n" +
        'print(time.ticks_diff(time.ticks_ms(), t) >= 1500, machine.wake_reason() == machine.TIMER_WAKE)\nmachine.deepsleep()\x04',
    );
    await con.expect('sleeping\r\n');
    await setPin(4, 1); // the lightsleep runs its time; the deep sleep then ends at once, the pin being high
    expect(await con.expect('\r\n')).toBe('True True\r\n');
    await wokeBy('EXT0_WAKE');
    await setPin(4, null);
  });

  it('refuses a wake IRQ as the port does, and a plain IRQ on the pin takes it back; irq() alone changes nothing', async () => {
    const [out] = await con.rawExec(
      'import esp32, machine\nfrom machine import Pin\n' +
        'def tries(*fs):\n    for f in fs:\n        try:\n            f()\n        except ValueError as e:\n            print(e)\n' +
        'tries(lambda: Pin(4).irq(trigger=Pin.WAKE_LOW, wake=1), lambda: Pin(5).irq(trigger=Pin.WAKE_LOW, wake=machine.SLEEP))\n' +
        'Pin(4).irq(trigger=Pin.WAKE_LOW, wake=machine.SLEEP)\n' +
        'tries(lambda: Pin(2).irq(trigger=Pin.WAKE_LOW, wake=machine.SLEEP), lambda: esp32.wake_on_touch(True))\n' +
        'Pin(4).irq(lambda p: None, Pin.IRQ_FALLING)\nesp32.wake_on_touch(True)\n' +
        'tries(lambda: Pin(4).irq(trigger=Pin.WAKE_LOW, wake=machine.SLEEP))\nesp32.wake_on_touch(False)\n' +
        'p = Pin(4)\np.irq()\nprint(p.irq().trigger() == Pin.IRQ_FALLING)\np.irq(None)',
    );
    expect(out).toBe('bad wake value\r\ninvalid pin for wake\r\nno resources\r\nno resources\r\nno resources\r\nTrue\r\n');
  });

  it('takes only RTC pins, as Pin objects, and one of ext0 and touch, as the port does', async () => {
    const [out] = await con.rawExec(
      'import esp32\nfrom machine import Pin\n' +
        'for f in (lambda: esp32.wake_on_ext0(Pin(5), 1), lambda: esp32.wake_on_ext0(4, 1), lambda: esp32.wake_on_ext1([Pin(16)], 1)):\n' +
        '    try:\n        f()\n    except ValueError as e:\n        print(e)\n' +
        'esp32.wake_on_ext0(Pin(4), 1)\ntry:\n    esp32.wake_on_touch(True)\nexcept ValueError as e:\n    print(e)\n' +
        'esp32.wake_on_ext0(None)\nesp32.wake_on_touch(True)\nesp32.wake_on_touch(False)\nprint("ok")',
    );
    expect(out).toBe('invalid pin\r\nexpecting a pin\r\ninvalid pin\r\nno resources\r\nok\r\n');
  });
});
