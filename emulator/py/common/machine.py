import _hw, io as _io, json as _json, micropython as _micropython, sys as _sys, time as _time

_B = _json.loads(_hw.board())
_RP2 = _B['platform'] == 'rp2'
_PINS = set(_B['pins'])
_INPUT_ONLY = set(_B['inputOnly'])


def _dispatch(cb, arg, hard):
    # Called from the host's poller: hard IRQs run at once, soft ones go through the scheduler, and the loop
    # below is a branch where the VM runs what is scheduled (as the firmware does inside its wait loops).
    # Callbacks arrive wrapped by _protected, so an exception never unwinds into the poller.
    if hard:
        cb(arg)
        return
    try:
        _micropython.schedule(cb, arg)
    except RuntimeError:
        pass  # queue full: the event is lost, as on a real board
    for _ in (0,):
        pass


_hw.set_dispatch(_dispatch)


def _protected(cb):
    def run(arg):
        try:
            cb(arg)
        except Exception as e:
            print('Uncaught exception in IRQ callback handler')
            _sys.print_exception(e)
    return run


def _hex(buf):
    return bytes(buf).hex() if len(buf) else ''  # b''.hex() gives b'' on this VM


def _int(x):
    # As the port's mp_obj_get_int: an int (or bool), else the TypeError it raises.
    if not isinstance(x, int):
        raise TypeError("can't convert %s to int" % type(x).__name__)
    return x


def _check(ret):
    if isinstance(ret, int) and ret < 0:
        raise OSError(-ret)
    return ret


if _RP2:
    PWRON_RESET = 1
    WDT_RESET = 3

    def reset_cause():
        # The chip's watchdog reason register: machine.reset() and deepsleep() reboot through the watchdog, and
        # a soft reset leaves the register as it was.
        return PWRON_RESET if _hw.chip_reset() == 'power-on' else WDT_RESET
else:
    PWRON_RESET = 1
    HARD_RESET = 2
    WDT_RESET = 3
    DEEPSLEEP_RESET = 4
    SOFT_RESET = 5
    SLEEP = 2  # the sleeps a wake source ends, for Pin.irq(wake=)
    DEEPSLEEP = 4
    PIN_WAKE = EXT0_WAKE = 2
    EXT1_WAKE = 3
    TIMER_WAKE = 4
    TOUCHPAD_WAKE = 5
    ULP_WAKE = 6
    _CAUSES = {'power-on': PWRON_RESET, 'hard': HARD_RESET, 'wdt': WDT_RESET, 'deepsleep': DEEPSLEEP_RESET,
               'soft': SOFT_RESET}

    def reset_cause():
        return _CAUSES[_hw.reset_cause()]

    _WAKES = {'timer': TIMER_WAKE, 'ext0': EXT0_WAKE, 'ext1': EXT1_WAKE, 'touch': TOUCHPAD_WAKE}

    def wake_reason():
        return _WAKES.get(_hw.wake_reason(), 0)


def _reset(kind, ms=-1):
    _hw.reset(kind, ms)
    while True:  # the host stops the VM at its next check
        _time.sleep_ms(1)


def reset():
    _reset('hard')


def soft_reset():
    _reset('soft')


def bootloader(value=None):
    _reset('bootloader')


def deepsleep(time_ms=None):
    _reset('deepsleep', -1 if time_ms is None else max(0, time_ms))


def lightsleep(time_ms=None):
    # Ends at its time, on a pin IRQ (with no time), once a pin esp32.wake_on_ext0/ext1 watches is at its level, or
    # on a touch esp32.wake_on_touch watches; wake_reason() then says which, as the chip's wakeup cause does ('' for
    # a pin IRQ: no constant of its own).
    if time_ms is not None and _hw.wake_pin() == '-':
        _time.sleep_ms(time_ms)
        _hw.light_woke('timer')
        return
    edges = _hw.irq_edges()
    end = None if time_ms is None else _time.ticks_add(_time.ticks_ms(), time_ms)
    while True:
        pin = _hw.wake_pin()
        if pin not in ('', '-'):
            return _hw.light_woke(pin)
        if end is None and _hw.irq_edges() != edges:
            return _hw.light_woke('')
        left = 5 if end is None else _time.ticks_diff(end, _time.ticks_ms())
        if left <= 0:
            return _hw.light_woke('timer')
        _time.sleep_ms(min(left, 5))


if not _RP2:
    sleep = lightsleep  # the esp32 port keeps the older name


def idle():
    _time.sleep_ms(0)


def unique_id():
    return bytes(_B['uniqueId'])


def freq(hz=None):
    # The clock lives in the board, so a soft reset keeps it, as the chip's does.
    if hz is None:
        return _hw.cpu_freq(0)
    if _RP2:
        _hw.cpu_freq(_int(hz))
        return
    # The esp32 port sets whole MHz (the C3 tops out at 160) and reads back the clock it got.
    mhz = _int(hz) // 1000000
    if _B['chip'] == 'ESP32C3':
        if mhz not in (20, 40, 80, 160):
            raise ValueError('frequency must be 20MHz, 40MHz, 80Mhz or 160MHz')
    elif mhz not in (20, 40, 80, 160, 240):
        raise ValueError('frequency must be 20MHz, 40MHz, 80Mhz, 160MHz or 240MHz')
    _hw.cpu_freq(mhz * 1000000)


def disable_irq():
    return _hw.irq_state(0)


def enable_irq(state=1):
    _hw.irq_state(1 if state else 0)


def time_pulse_us(pin, pulse_level, timeout_us=1000000):
    start = _time.ticks_us()
    while pin.value() != pulse_level:
        if _time.ticks_diff(_time.ticks_us(), start) >= timeout_us:
            return -2
    start = _time.ticks_us()
    while pin.value() == pulse_level:
        if _time.ticks_diff(_time.ticks_us(), start) >= timeout_us:
            return -1
    return _time.ticks_diff(_time.ticks_us(), start)


def bitstream(pin, encoding, timing, buf):
    _hw.bitstream(pin._id, _hex(buf))


class Pin:
    if _RP2:
        IN = 0
        OUT = 1
        OPEN_DRAIN = 2
        ALT = 3
        PULL_UP = 1
        PULL_DOWN = 2
        IRQ_LEVEL_LOW = 1
        IRQ_LEVEL_HIGH = 2
        IRQ_FALLING = 4
        IRQ_RISING = 8
    else:
        IN = 1
        OUT = 3
        OPEN_DRAIN = 7
        PULL_DOWN = 1
        PULL_UP = 2
        IRQ_RISING = 1
        IRQ_FALLING = 2
        WAKE_LOW = 4
        WAKE_HIGH = 5
        DRIVE_0 = 0
        DRIVE_1 = 1
        DRIVE_2 = 2
        DRIVE_3 = 3
    _MODES = {IN: 0, OUT: 1, OPEN_DRAIN: 2}
    _PULLS = {None: 0, PULL_UP: 1, PULL_DOWN: 2}

    def __init__(self, id, mode=-1, pull=-1, *, value=None, drive=None, alt=None):
        if isinstance(id, Pin):
            id = id._id
        if isinstance(id, str):
            n = _B['names'].get(id)
            if n is None and id.startswith('GPIO') and id[4:].isdigit():
                n = int(id[4:])
            if n is None:
                raise ValueError('unknown named pin "%s"' % id if _RP2 else 'invalid pin')
            id = n
        if not isinstance(id, int) or id not in _PINS:
            raise ValueError('invalid pin')
        self._id = id
        self.init(mode, pull, value=value)

    def init(self, mode=-1, pull=-1, *, value=None, drive=None, alt=None):
        if mode in (-1, None):
            m = -1
        elif mode in Pin._MODES:
            m = Pin._MODES[mode]
        else:
            raise ValueError('invalid pin mode')
        if m > 0 and self._id in _INPUT_ONLY:
            raise ValueError('pin can only be input')
        if pull == -1:
            p = -1
        elif pull in Pin._PULLS:
            p = Pin._PULLS[pull]
        else:
            raise ValueError('invalid pull')
        _hw.pin_init(self._id, m, p, -1 if value is None else (1 if value else 0))

    def value(self, x=None):
        if x is None:
            return _hw.pin_get(self._id)
        _hw.pin_set(self._id, 1 if x else 0)

    def __call__(self, x=None):
        return self.value(x)

    def on(self):
        _hw.pin_set(self._id, 1)

    def off(self):
        _hw.pin_set(self._id, 0)

    def low(self):
        _hw.pin_set(self._id, 0)

    def high(self):
        _hw.pin_set(self._id, 1)

    def toggle(self):
        _hw.pin_set(self._id, 1 - _hw.pin_get(self._id))

    def irq(self, *args, **kw):
        # With no arguments the port only returns the pin's IRQ object; anything else configures it.
        if args or kw:
            self._irq(*args, **kw)
        return _PinIRQ(self._id, _irq_triggers.get(self._id, 0))

    def _irq(self, handler=None, trigger=None, *, priority=1, wake=None, hard=False):
        if trigger is None:
            trigger = Pin.IRQ_FALLING | Pin.IRQ_RISING
        if not _RP2:
            sources = _json.loads(_hw.wake_sources())
            ext0 = sources.get('ext0')
            if trigger in (Pin.WAKE_LOW, Pin.WAKE_HIGH) and wake is not None:
                return self._wake_on(trigger, wake, sources, ext0)
            if ext0 and ext0[0] == self._id:
                _hw.wake_on('ext0', -1, 0, 0)  # a plain IRQ takes the pin back from waking, as the port's does
        _irq_triggers[self._id] = 0 if handler is None else trigger
        edges = (1 if trigger & Pin.IRQ_RISING else 0) | (2 if trigger & Pin.IRQ_FALLING else 0)
        if handler is None:
            _hw.pin_irq(self._id, None, 0, False, None)
        else:
            _hw.pin_irq(self._id, _protected(handler), edges, hard, self)

    def _wake_on(self, trigger, wake, sources, ext0):
        # The esp32 port: a level trigger with wake=machine.SLEEP/DEEPSLEEP (or both) makes the pin the chip's ext0
        # wake source for those sleeps, as esp32.wake_on_ext0 does for both; no handler is installed.
        if not isinstance(wake, int) or not 2 <= wake <= 7:
            raise ValueError('bad wake value')
        if sources.get('touch'):
            raise ValueError('no resources')
        _port_pin(self, _B['rtcPins'], 'invalid pin for wake')
        if ext0 and ext0[0] != self._id:
            raise ValueError('no resources')
        _hw.wake_on('ext0', self._id, 1 if trigger == Pin.WAKE_HIGH else 0, wake)

    def __eq__(self, other):
        return isinstance(other, Pin) and other._id == self._id

    def __hash__(self):
        return self._id

    def __repr__(self):
        if not _RP2:
            return 'Pin(%d)' % self._id
        mode, pull = _hw.pin_cfg(self._id).split(',')
        s = 'Pin(GPIO%d, mode=%s' % (self._id, {'in': 'IN', 'out': 'OUT', 'od': 'OPEN_DRAIN'}.get(mode, 'ALT'))
        if mode == 'unset':
            s += ', alt=31'
        if pull != 'none':
            s += ', pull=' + ('PULL_UP' if pull == 'up' else 'PULL_DOWN')
        return s + ')'


class _IRQ:
    # What irq() returns: the triggers it was given, and the flags of the event that last called the handler.
    def __init__(self, source, trigger):
        self._source = source
        self._trigger = trigger

    def trigger(self, *args):
        return self._trigger


class _PinIRQ(_IRQ):
    def __repr__(self):
        return '<irq>' if _RP2 else '<IRQ>'  # rp2's is mpirq.c's irq type, esp32's its own IRQ type

    def flags(self):
        f = _hw.pin_irq_flags(self._source)
        return (Pin.IRQ_RISING if f & 1 else 0) | (Pin.IRQ_FALLING if f & 2 else 0)


_irq_triggers = {}  # each pin's configured IRQ trigger (0: none), for Pin.irq().trigger()


def _pin(p):
    return p if isinstance(p, Pin) else Pin(p)


def _port_pin(pin, pins, message):
    # As the esp32 port's machine_pin_get_id and then its search of a peripheral's pin table.
    if not isinstance(pin, Pin):
        raise ValueError('expecting a pin')
    if pin._id not in pins:
        raise ValueError(message)
    return pin._id


class _Mem:
    # extmod/machine_mem.c over the host's register model (emulator/peripherals/registers.ts): little-endian
    # lanes of its aligned 32-bit words; an address it does not model raises instead of faulting the chip.
    def __init__(self, size):
        self._size = size

    def _addr(self, addr):
        addr = _int(addr) & 0xFFFFFFFF
        if addr & (self._size - 1):
            raise ValueError('address %08x is not aligned to %d bytes' % (addr, self._size))
        return addr

    def _missing(self, addr):
        return OSError('address %08x is not simulated' % addr)

    def __getitem__(self, addr):
        addr = self._addr(addr)
        word = _hw.mem_read(addr & ~3)
        if word is None:
            raise self._missing(addr)
        return (word >> (8 * (addr & 3))) & ((1 << 8 * self._size) - 1)

    def __setitem__(self, addr, value):
        addr = self._addr(addr)
        shift = 8 * (addr & 3)
        mask = ((1 << 8 * self._size) - 1) << shift
        if not _hw.mem_write(addr & ~3, (_int(value) << shift) & mask, mask):
            raise self._missing(addr)

    def __repr__(self):
        return '<%d-bit memory>' % (8 * self._size)


mem8 = _Mem(1)
mem16 = _Mem(2)
mem32 = _Mem(4)


class Signal:
    def __init__(self, pin, *args, invert=False, **kw):
        self._pin = pin if isinstance(pin, Pin) and not args and not kw else Pin(pin, *args, **kw)
        self._invert = invert

    def value(self, x=None):
        if x is None:
            return self._pin.value() ^ (1 if self._invert else 0)
        self._pin.value((1 if x else 0) ^ (1 if self._invert else 0))

    def __call__(self, x=None):
        return self.value(x)

    def on(self):
        self.value(1)

    def off(self):
        self.value(0)

    def __repr__(self):
        return '<Signal>'  # extmod/machine_signal.c's type has no print function


_ADC_UNITS = _B['adcUnits']


class ADC:
    if _RP2:
        CORE_TEMP = 4  # ports/rp2/machine_adc.c's one constant: the temperature sensor's channel
    else:
        ATTN_0DB = 0
        ATTN_2_5DB = 1
        ATTN_6DB = 2
        ATTN_11DB = 3
        if _B['chip'] == 'ESP32':  # the port defines the narrower widths only where the ADC has them
            WIDTH_9BIT = 9
            WIDTH_10BIT = 10
            WIDTH_11BIT = 11
        WIDTH_12BIT = 12
        # ESP32 full-scale input per attenuation (machine.ADC docs / esp32 quickref), in microvolts.
        _FULL = (1000000, 1340000, 2000000, 3600000)
        _channels = {}

        def __new__(cls, pin, **kw):
            # The esp32 port has one ADC object a channel (its madc_obj table): ADC(pin) and ADCBlock.connect()
            # give the same object, whose attenuation stays until set again.
            if not isinstance(pin, Pin):
                raise ValueError('expecting a pin')  # the port's machine_pin_get_id
            pin = pin._id
            if pin not in ADC._channels:
                ADC._channels[pin] = super().__new__(cls)
            return ADC._channels[pin]

    if _RP2:
        def __init__(self, source):
            # The rp2 port takes one argument, no keywords: a channel 0-4 (4: the temperature sensor) or a pin with
            # an ADC; its ADC has read_u16() only.
            if isinstance(source, int) and 0 <= source <= 4:
                self._id = -1 if source == 4 else 26 + source
            else:
                self._id = _pin(source)._id
                if self._id not in _ADC_UNITS[0]:
                    raise ValueError("Pin doesn't have ADC capabilities")

        def _full(self):
            return 3300000
    else:
        def __init__(self, pin, *, atten=None):
            self._id = pin._id
            self._unit = next((u for u, pins in enumerate(_ADC_UNITS) if self._id in pins), None)
            if self._unit is None:
                raise ValueError('invalid pin')
            if atten is not None or not hasattr(self, '_atten'):
                self._atten = ADC.ATTN_0DB if atten is None else atten

        def init(self, *, atten=None):
            if atten is not None:
                self._atten = atten

        def atten(self, a):
            self._atten = a

        def width(self, w):
            _adc_bits(self._unit, w)

        def block(self):
            return ADCBlock(self._unit)

        def _full(self):
            return ADC._FULL[self._atten]

        def read_uv(self):
            return self._uv()

        def read(self):
            return self.read_u16() >> (16 - _ADC_BITS[self._unit])

    def _uv(self):
        if self._id == -1:
            return 706000  # RP2040 temperature sensor at 27 degC
        return max(0, min(self._full(), _hw.adc_uv(self._id)))

    def read_u16(self):
        return min(65535, self._uv() * 65535 // self._full())

    def __repr__(self):
        if _RP2:
            return '<ADC channel=%d>' % (self._id - 26 if self._id >= 0 else 4)
        return 'ADC(Pin(%d), atten=%d)' % (self._id, self._atten)

if not _RP2:
    _ADC_BITS = [12] * len(_ADC_UNITS)  # each unit's resolution, which ADCBlock(bits=) and ADC.width() set

    def _adc_bits(unit, bits):
        # Only the ESP32's ADC takes 9 to 11 bits (the port's ADC_WIDTH_MIN/MAX); the S3 and C3 are fixed at 12.
        if not (9 if _B['chip'] == 'ESP32' else 12) <= _int(bits) <= 12:
            raise ValueError('invalid bits')
        _ADC_BITS[unit] = bits

    class ADCBlock:
        # The port's blocks are its ADC units, ADC_UNIT_1 and ADC_UNIT_2 (0 and 1), one static object each.
        _units = {}

        def __new__(cls, id, **kw):
            unit = _int(id)
            if not 0 <= unit < len(_ADC_UNITS):
                raise ValueError('invalid block id')
            if unit not in ADCBlock._units:
                ADCBlock._units[unit] = super().__new__(cls)
            return ADCBlock._units[unit]

        def __init__(self, id, *, bits=-1):
            self._id = _int(id)
            self.init(bits=bits)

        def init(self, *, bits=-1):
            if bits != -1:
                _adc_bits(self._id, bits)

        def connect(self, *args, **kw):
            # connect(channel), connect(source) or connect(channel, source): the unit's first channel that matches.
            if not args:
                raise TypeError('function missing 1 required positional arguments')
            if len(args) > 2:
                raise TypeError('too many positional args')
            channel, pin = -1, -1
            if len(args) == 2:
                channel, pin = _int(args[0]), _port_pin(args[1], _PINS, 'invalid pin')
            elif isinstance(args[0], int):
                channel = args[0]
            else:
                pin = _port_pin(args[0], _PINS, 'invalid pin')
            pins = _ADC_UNITS[self._id]
            for ch, gpio in enumerate(pins):
                if channel in (-1, ch) and pin in (-1, gpio):
                    return ADC(Pin(gpio), **kw)
            raise ValueError('no matching ADC')

        def __repr__(self):
            return 'ADCBlock(%d, bits=%d)' % (self._id, _ADC_BITS[self._id])


if _B['touchPins']:

    class TouchPad:
        # Where the chip has a touch sensor (not the C3). The port's type has no print function.
        def __init__(self, pin):
            self._id = _port_pin(pin, _B['touchPins'], 'invalid pin for touchpad')
            _hw.touch_config(self._id, 0)

        def config(self, value):
            # The ESP32's threshold: a reading below it is a touch (esp32.wake_on_touch), 0 never is. The S2/S3
            # port configures the pad again and takes no threshold.
            if _B['chip'] == 'ESP32':
                _hw.touch_config(self._id, _int(value) & 0xFFFF)

        def read(self):
            return _hw.touch_read(self._id)


if _B['dacPins']:

    class DAC:
        def __init__(self, pin):
            self._id = _port_pin(pin, _B['dacPins'], 'invalid Pin for DAC')
            _hw.dac(self._id, 0)

        def __repr__(self):
            return 'DAC(Pin(%d))' % self._id

        def write(self, value):
            if not 0 <= _int(value) <= 255:
                raise ValueError('value out of range')
            _hw.dac(self._id, value)


class PWM:
    def __init__(self, dest, *, freq=None, duty=None, duty_u16=None, duty_ns=None, invert=False, lightsleep=False):
        self._pin = _pin(dest)
        self._freq = 5000 if not _RP2 else 1000
        self._duty = 32768 if not _RP2 else 0
        self._scale = 'duty_u16'  # the unit the duty was last set in: the repr shows it in that one
        self._invert = invert
        self._lightsleep = lightsleep
        self._pin.init(Pin.OUT)
        self.init(freq=freq, duty=duty, duty_u16=duty_u16, duty_ns=duty_ns)

    def init(self, *, freq=None, duty=None, duty_u16=None, duty_ns=None, invert=None, lightsleep=None):
        if freq is not None:
            if not 0 < freq <= 40000000:
                raise ValueError('frequency must be from 1Hz to 40MHz')
            self._freq = freq
        # The port takes duty_u16 first, then duty_ns, then duty.
        if duty_u16 is not None:
            self._duty, self._scale = max(0, min(65535, duty_u16)), 'duty_u16'
        elif duty_ns is not None:
            self._duty, self._scale = max(0, min(65535, duty_ns * self._freq * 65535 // 1000000000)), 'duty_ns'
        elif duty is not None:
            self._duty, self._scale = min(65535, max(0, duty) << 6), 'duty'  # the port's 10-bit duty is the 16-bit one >> 6
        if invert is not None:
            self._invert = bool(invert)
        if lightsleep is not None:
            self._lightsleep = bool(lightsleep)
        self._active = True
        # An inverted output is high for the rest of each period.
        _hw.pwm(self._pin._id, self._freq, 65535 - self._duty if self._invert else self._duty)

    def freq(self, value=None):
        if value is None:
            return self._freq
        self.init(freq=value)

    def duty(self, value=None):
        if value is None:
            return self._duty >> 6
        self.init(duty=value)

    def duty_u16(self, value=None):
        if value is None:
            return self._duty
        self.init(duty_u16=value)

    def duty_ns(self, value=None):
        if value is None:
            return self._duty * 1000000000 // (self._freq * 65535)
        self.init(duty_ns=value)

    def deinit(self):
        self._active = False
        _hw.pwm(self._pin._id, 0, 0)

    def __repr__(self):
        if _RP2:
            return 'PWM(Pin(%d), freq=%d, duty_u16=%d)' % (self._pin._id, self._freq, self._duty)
        # mp_machine_pwm_print of ports/esp32/machine_pwm.c: a deinitialised PWM has no timer, and shows its pin only.
        if not self._active:
            return 'PWM(Pin(%d))' % self._pin._id
        return 'PWM(Pin(%d), freq=%d, %s=%d%s%s)' % (
            self._pin._id, self._freq, self._scale, getattr(self, self._scale)(),
            ', invert=True' if self._invert else '', ', lightsleep=True' if self._lightsleep else '')


class _I2CBase:
    def scan(self):
        return list(bytes.fromhex(_hw.i2c_scan(self._scl, self._sda)))

    def _xfer(self, addr, data, n):
        return bytes.fromhex(_check(_hw.i2c(self._scl, self._sda, addr, _hex(data), n)))

    def writeto(self, addr, buf, stop=True):
        self._xfer(addr, buf, 0)
        return len(buf)

    def writevto(self, addr, vector, stop=True):
        data = b''.join(bytes(b) for b in vector)
        self._xfer(addr, data, 0)
        return len(data)

    def readfrom(self, addr, nbytes, stop=True):
        return self._xfer(addr, b'', nbytes)

    def readfrom_into(self, addr, buf, stop=True):
        buf[:] = self._xfer(addr, b'', len(buf))

    @staticmethod
    def _mem(memaddr, addrsize):
        return memaddr.to_bytes(addrsize // 8, 'big')

    def readfrom_mem(self, addr, memaddr, nbytes, *, addrsize=8):
        self._xfer(addr, self._mem(memaddr, addrsize), 0)
        return self._xfer(addr, b'', nbytes)

    def readfrom_mem_into(self, addr, memaddr, buf, *, addrsize=8):
        buf[:] = self.readfrom_mem(addr, memaddr, len(buf), addrsize=addrsize)

    def writeto_mem(self, addr, memaddr, buf, *, addrsize=8):
        self._xfer(addr, self._mem(memaddr, addrsize) + bytes(buf), 0)

    # Bit-level primitives exist on the real class; a bus with whole transactions has no meaningful version.
    def start(self):
        pass

    def stop(self):
        pass


_i2cs = {}  # id -> (scl, sda, freq, timeout) of a bus made before: the port keeps one object a bus, settings and all


class I2C(_I2CBase):
    def __init__(self, id=0, *, scl=None, sda=None, freq=None, timeout=None):
        if not 0 <= id < len(_B['i2c']):
            raise ValueError('I2C(%d) doesn\'t exist' % id)
        d = _B['i2c'][id]
        self._id = id
        self._scl, self._sda, self._freq, self._timeout = _i2cs.get(id, (d['scl'], d['sda'], 400000, 50000))
        if scl is not None:
            self._scl = _pin(scl)._id
        if sda is not None:
            self._sda = _pin(sda)._id
        if freq is not None:
            self._freq = freq
        if timeout is not None:
            self._timeout = timeout
        _i2cs[id] = (self._scl, self._sda, self._freq, self._timeout)

    def init(self, **kw):
        self.__init__(self._id, **kw)

    def __repr__(self):
        if _RP2:
            return 'I2C(%d, freq=%d, scl=%d, sda=%d, timeout=%d)' % (self._id, self._freq, self._scl, self._sda, self._timeout)
        return 'I2C(%d, scl=%d, sda=%d, freq=%d, timeout=%d)' % (self._id, self._scl, self._sda, self._freq, self._timeout)


class SoftI2C(_I2CBase):
    def __init__(self, scl, sda, *, freq=400000, timeout=50000):
        self._scl = _pin(scl)._id
        self._sda = _pin(sda)._id
        # extmod's soft I2C waits a whole number of microseconds a half clock (at least one) and prints the
        # rate that gives: 400 kHz asked shows 500000.
        self._freq = 500000 // max(1, 500000 // freq)

    def __repr__(self):
        return 'SoftI2C(scl=%d, sda=%d, freq=%d)' % (self._scl, self._sda, self._freq)


def _wait_until_us(t):
    # A wire busy until ticks_us() reaches t, a deadline from the transfer's start: a long wait sleeps as
    # time.sleep does (timers and Ctrl-C are served), the last 20 ms block on the host, which wakes on time
    # more reliably than a Python spin on ticks_us on a loaded host.
    left = _time.ticks_diff(t, _time.ticks_us())
    if left > 30000:
        _time.sleep_ms(left // 1000 - 20)
    _hw.wire_wait(t)


def _spi_clock(hz):
    # The clock the controller runs for a requested rate. ESP32: the 80 MHz APB clock divided by pre * n (n 2..64,
    # pre 1..8192), the pair nearest the request (the larger n on a tie). RP2040: clk_peri divided by the smallest
    # even prescaler (2..254) that leaves the rate in a postdivider's range, and the smallest postdivider (1..256)
    # that does not exceed the request.
    if _RP2:
        f = _B['freq']
        pre = 2
        while pre < 254 and f >= pre * 256 * hz:
            pre += 2
        post = 1
        while post < 256 and f // (pre * post) > hz:
            post += 1
        return f // (pre * post)
    f = 80000000
    if hz > f * 3 // 4:
        return f
    best = None
    for n in range(2, 65):
        pre = min(8192, max(1, (f // n + hz // 2) // hz))
        got = f // (pre * n)
        if best is None or abs(got - hz) <= abs(best - hz):
            best = got
    return best


class _SPIBase:
    MSB = 0
    LSB = 1

    def _xfer(self, data):
        # The bus is busy for 8 clocks a byte: the call returns when the last one has gone, as the firmware's does.
        t = _time.ticks_add(_time.ticks_us(), len(data) * 8000000 // self._rate)
        out = bytes.fromhex(_hw.spi(self._bus, _hex(data)))
        _wait_until_us(t)
        return out

    def _config(self, baudrate, polarity, phase, bits, firstbit, sck, mosi, miso):
        self._rate = self._clock(baudrate)
        self._cfg = (polarity, phase, bits, firstbit)
        self._pins = tuple(q if p is None else _pin(p)._id for p, q in zip((sck, mosi, miso), self._pins))

    def read(self, nbytes, write=0):
        return self._xfer(bytes([write]) * nbytes)

    def readinto(self, buf, write=0):
        buf[:] = self._xfer(bytes([write]) * len(buf))

    def write(self, buf):
        self._xfer(buf)

    def write_readinto(self, write_buf, read_buf):
        read_buf[:] = self._xfer(write_buf)

    def deinit(self):
        pass


class SPI(_SPIBase):
    CONTROLLER = 0
    _first = 0 if _RP2 else 1  # esp32 numbers its buses by the IDF's host (SPI2_HOST is SPI(1))

    def __init__(self, id, baudrate=1000000, *, polarity=0, phase=0, bits=8, firstbit=0, sck=None, mosi=None, miso=None):
        if not 0 <= id - SPI._first < len(_B['spi']):
            raise ValueError('SPI(%d) doesn\'t exist' % id)
        d = _B['spi'][id - SPI._first]
        self._id = id
        self._bus = 'spi%d' % id
        self._pins = (d['sck'], d['mosi'], d['miso'])
        self._config(baudrate, polarity, phase, bits, firstbit, sck, mosi, miso)

    def init(self, baudrate=1000000, *, polarity=0, phase=0, bits=8, firstbit=0, sck=None, mosi=None, miso=None):
        self._config(baudrate, polarity, phase, bits, firstbit, sck, mosi, miso)

    _clock = staticmethod(_spi_clock)

    def __repr__(self):
        pol, pha, bits, first = self._cfg
        if _RP2:
            return 'SPI(%d, baudrate=%d, polarity=%d, phase=%d, bits=%d, sck=%d, mosi=%d, miso=%d)' % (
                (self._id, self._rate, pol, pha, bits) + self._pins)
        return 'SPI(id=%d, baudrate=%d, polarity=%d, phase=%d, bits=%d, firstbit=%d, sck=%d, mosi=%d, miso=%d)' % (
            (self._id, self._rate, pol, pha, bits, first) + self._pins)


class SoftSPI(_SPIBase):
    def __init__(self, baudrate=500000, *, polarity=0, phase=0, bits=8, firstbit=0, sck=None, mosi=None, miso=None):
        self._bus = 'softspi'
        self._pins = (-1, -1, -1)
        self._config(baudrate, polarity, phase, bits, firstbit, sck, mosi, miso)

    def init(self, baudrate=500000, *, polarity=0, phase=0, bits=8, firstbit=0, sck=None, mosi=None, miso=None):
        self._config(baudrate, polarity, phase, bits, firstbit, sck, mosi, miso)

    @staticmethod
    def _clock(hz):
        # Bit-banged with a whole number of microseconds per half clock, rounded up (never faster than asked).
        return 500000 // max(1, (500000 + hz - 1) // hz)

    def __repr__(self):
        pol, pha = self._cfg[:2]
        return 'SoftSPI(baudrate=%d, polarity=%d, phase=%d, sck=%d, mosi=%d, miso=%d)' % ((self._rate, pol, pha) + self._pins)


def _uart_baud(baud):
    # What uart_get_baudrate reads back after uart_set_baudrate: the source clock over a divider in 1/16 steps
    # (ESP32: the 80 MHz APB clock; C3/S3: the 40 MHz crystal, pre-divided so the divider's integer part fits 12
    # bits), 115200 reads 115201 on an ESP32. The RP2040's UART keeps the rate asked for.
    if _RP2:
        return baud
    f, pre = (80000000, 1) if _B['chip'] == 'ESP32' else (40000000, -(-40000000 // (4095 * baud)))
    return (f << 4) // ((f << 4) // (baud * pre) * pre)


_uarts = {}  # id -> settings of an initialised UART: the firmware keeps one object a port, settings and all
_UNSET = object()


class UART(_io.IOBase):
    # A stream, as the firmware's: select.poll and asyncio's streams wait on it through ioctl.
    if _RP2:
        INV_TX = 1
        INV_RX = 2
    else:  # the IDF's uart_signal_inv_t bits
        INV_TX = 32
        INV_RX = 4
        INV_RTS = 64
        INV_CTS = 8
        IRQ_RX = 1
        IRQ_RXIDLE = 0x1000
        IRQ_BREAK = 2
    RTS = 1
    CTS = 2

    def __init__(self, id, *args, **kw):
        if not 0 <= id < len(_B['uart']):
            raise ValueError(("UART(%d) doesn't exist" if _RP2 else 'UART(%d) does not exist') % id)
        self._id = id
        self.init(*args, **kw)

    def init(self, baudrate=0, bits=0, parity=_UNSET, stop=0, *, tx=None, rx=None, rts=None, cts=None, txbuf=-1,
             rxbuf=-1, timeout=-1, timeout_char=-1, invert=-1, flow=-1):
        # As the port's init helper: what is not given keeps its value, a port not yet initialised starts from
        # the defaults (8N1 at 115200, the port's default pins).
        s = _uarts.get(self._id)
        if s is None:
            pins = _B['uart'][self._id] if self._id or _RP2 else {'tx': -1, 'rx': -1}  # UART0: the REPL's, unchanged
            s = {'baud': _uart_baud(115200), 'bits': 8, 'parity': None, 'stop': 1, 'tx': pins['tx'], 'rx': pins['rx'],
                 'rts': -1, 'cts': -1, 'txbuf': 256, 'rxbuf': 256, 'timeout': 0, 'timeout_char': 0, 'invert': 0, 'flow': 0,
                 'irq': 0}
        if bits not in (0, 5, 6, 7, 8):
            raise ValueError('invalid data bits')
        if stop not in (0, 1, 2):
            raise ValueError('invalid stop bits')
        if invert != -1 and invert & ~(UART.INV_TX | UART.INV_RX | getattr(UART, 'INV_RTS', 0) | getattr(UART, 'INV_CTS', 0)):
            raise ValueError('invalid inversion mask')
        if flow != -1 and flow & ~(UART.RTS | UART.CTS):
            raise ValueError('invalid flow control mask')
        if baudrate > 0:
            s['baud'] = _uart_baud(baudrate)
        for k, v in (('tx', tx), ('rx', rx), ('rts', rts), ('cts', cts)):
            if v is not None:
                s[k] = _pin(v)._id
        for k, v, unset in (('bits', bits, 0), ('stop', stop, 0), ('txbuf', txbuf, -1), ('rxbuf', rxbuf, -1),
                            ('timeout', timeout, -1), ('timeout_char', timeout_char, -1), ('invert', invert, -1),
                            ('flow', flow, -1)):
            if v != unset:
                s[k] = v
        if parity is not _UNSET:
            s['parity'] = None if parity is None else parity & 1
        _uarts[self._id] = s
        self._s = s
        _hw.uart_read(self._id, -1)  # the port's init ends with uart_flush_input: what came before is dropped
        self._frame = 1 + s['bits'] + (s['parity'] is not None) + s['stop']  # bits a character takes on the wire
        self._sent = _time.ticks_us()  # when the last character queued has left

    def deinit(self):
        _uarts.pop(self._id, None)  # the driver is uninstalled: the next init starts from the defaults
        _hw.uart_irq(self._id, None, None, 0)

    def any(self):
        return _hw.uart_any(self._id)

    def read(self, nbytes=-1):
        data = bytes.fromhex(_hw.uart_read(self._id, nbytes))
        return data if data else None

    def readinto(self, buf, nbytes=None):
        data = self.read(len(buf) if nbytes is None else nbytes)
        if not data:
            return None
        buf[:len(data)] = data
        return len(data)

    def readline(self):
        data = b''
        while _hw.uart_any(self._id):
            c = bytes.fromhex(_hw.uart_read(self._id, 1))
            data += c
            if c == b'\n':
                break
        return data if data else None

    def write(self, buf):
        if isinstance(buf, str):
            buf = buf.encode()
        # The characters queue in the transmit buffer and leave at the baud rate; a write waits only for room.
        now = _time.ticks_us()
        start = now if _time.ticks_diff(self._sent, now) < 0 else self._sent
        self._sent = _time.ticks_add(start, self._wire_us(len(buf)))
        # IRQ_RXIDLE comes when the line has been quiet for 20 bit times (at least 500 us) after the last byte.
        idle_us = _time.ticks_diff(self._sent, now) + max(500, 20000000 // self._s['baud'])
        _hw.uart_write(self._id, _hex(buf), idle_us / 1000)
        _wait_until_us(_time.ticks_add(self._sent, -self._wire_us(self._s['txbuf'])))
        return len(buf)

    def _wire_us(self, n):
        return int(n * self._frame * 1000000 // self._s['baud'])

    def flush(self):
        _wait_until_us(self._sent)

    def txdone(self):
        return _time.ticks_diff(self._sent, _time.ticks_us()) <= 0

    def ioctl(self, op, arg):
        if op == 3:  # MP_STREAM_POLL: readable with bytes received, always writable
            return (arg & 1 if _hw.uart_any(self._id) else 0) | (arg & 4)
        return 0

    def sendbreak(self):
        pass

    if not _RP2:
        def irq(self, *args, **kw):
            # As the port's mp_machine_uart_irq: no arguments give the current IRQ object unchanged.
            if self._id == 0:
                raise ValueError('REPL UART does not support IRQs')
            if args or kw:
                self._irq(*args, **kw)
            return _UARTIRQ(self._id, self._s['irq'])

        def _irq(self, handler=None, trigger=0, hard=False):
            if handler is not None and not callable(handler):
                raise ValueError('handler must be None or callable')
            unsupported = trigger & ~(UART.IRQ_RX | UART.IRQ_RXIDLE | UART.IRQ_BREAK)
            if trigger and unsupported:
                raise ValueError('trigger 0x%04x unsupported' % unsupported)
            if hard:
                raise ValueError('hard IRQ is not supported')
            self._s['irq'] = trigger
            _hw.uart_irq(self._id, None if handler is None else _protected(handler), self, trigger)

    def __repr__(self):
        s = self._s
        if _RP2:
            return 'UART(%d, baudrate=%d)' % (self._id, s['baud'])
        # mp_machine_uart_print of ports/esp32/machine_uart.c: every setting, then the inverted lines and the
        # flow control when set; irq is the trigger mask of its IRQ.
        out = 'UART(%d, baudrate=%d, bits=%d, parity=%s, stop=%d, tx=%d, rx=%d, rts=%d, cts=%d, txbuf=%d, rxbuf=%d, timeout=%d, timeout_char=%d, irq=%d' % (
            self._id, s['baud'], s['bits'], {None: 'None', 1: '1', 0: '0'}[s['parity']], s['stop'], s['tx'], s['rx'],
            s['rts'], s['cts'], s['txbuf'], s['rxbuf'], s['timeout'], s['timeout_char'], s['irq'])
        for key, names in (('invert', (('INV_TX', 32), ('INV_RX', 4), ('INV_RTS', 64), ('INV_CTS', 8))),
                           ('flow', (('RTS', 1), ('CTS', 2)))):
            if s[key]:
                out += ', %s=%s' % (key, '|'.join(n for n, bit in names if s[key] & bit))
        return out + ')'


class _UARTIRQ(_IRQ):
    def __repr__(self):
        return '<irq>'  # shared/runtime/mpirq.c's type, which has no print function

    def flags(self):
        return _hw.uart_irq_flags(self._source)


_timer_keys = [0]


class Timer:
    ONE_SHOT = 0
    PERIODIC = 1

    def __init__(self, id=-1, *args, **kw):
        _timer_keys[0] += 1
        self._key = _timer_keys[0]
        self._id = id
        self._period = 0
        self._mode = Timer.ONE_SHOT
        self._ticks = 0  # the period in the port's 10 MHz timer ticks (the 80 MHz APB clock over 8)
        if args or kw:
            self.init(*args, **kw)

    def init(self, *, mode=PERIODIC, period=-1, freq=-1, tick_hz=1000, callback=None, hard=False):
        if freq > 0:
            period_ms = 1000 / freq
            self._ticks = int(10000000 / freq)
        elif period >= 0:
            period_ms = period * 1000 / tick_hz
            self._ticks = period * 10000000 // tick_hz
        else:
            period_ms = 1000
            self._ticks = 10000000
        self._mode = mode
        self._period = max(1, int(period_ms))
        _hw.timer_stop(self._key)
        if callback is not None:
            _hw.timer_start(self._key, self._period, mode == Timer.ONE_SHOT, _protected(callback), self, hard)

    def deinit(self):
        _hw.timer_stop(self._key)

    def __repr__(self):
        if _RP2:
            return 'Timer(mode=PERIODIC, period=%d, tick_hz=1000)' % self._period
        # machine_timer_print of ports/esp32/machine_timer.c: the period back in whole milliseconds.
        return 'Timer(%d, mode=%s, period=%d)' % (self._id, 'PERIODIC' if self._mode else 'ONE_SHOT', self._ticks // 10000)


class RTC:
    # The port's RTC and WDT types have no print function: MicroPython prints such an object as <TYPE>.
    def __repr__(self):
        return '<RTC>'

    def __init__(self, id=0, datetime=None):
        if datetime is not None:
            self.datetime(datetime)

    def init(self, datetime=None):
        if datetime is not None:
            self.datetime(datetime)

    def datetime(self, dt=None):
        if dt is None:
            return tuple(int(x) for x in _hw.rtc_get().split(','))
        f = tuple(dt) + (0,) * (8 - len(dt))
        _hw.rtc_set(f[0], f[1], f[2], f[4], f[5], f[6], f[7])

    def memory(self, data=None):
        if data is None:
            return bytes.fromhex(_hw.rtc_mem(None))
        if len(data) > 2048:
            raise ValueError('buffer too long')
        _hw.rtc_mem(_hex(data))


class WDT:
    def __repr__(self):
        return '<WDT>'

    def __init__(self, id=0, timeout=5000):
        if timeout < 1:
            raise ValueError('WDT timeout too short')
        _hw.wdt_start(timeout)

    def feed(self):
        _hw.wdt_feed()


# Classes few programs use are modules of their own, compiled at first use: the firmware's machine module is in
# flash, ours takes the board's heap (with them in here a Pico had under 190 KB free after boot).
_LAZY = {'I2S': '_machine_i2s'}
if not _RP2:
    _LAZY['SDCard'] = '_machine_sd'


def __getattr__(name):
    if name not in _LAZY:
        raise AttributeError(name)
    mod = __import__(_LAZY[name], globals())
    _sys.modules.pop(_LAZY[name], None)  # a runtime module: not the user's to see
    globals()[name] = getattr(mod, name)
    return globals()[name]
