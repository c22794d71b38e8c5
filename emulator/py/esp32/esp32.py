import _hw, _part, json as _json, time as _time

_B = _json.loads(_hw.board())
_CHIP = _B['chip']

WAKEUP_ALL_LOW = False
WAKEUP_ANY_HIGH = True
_KEEP = object()


def _rtc_pin(pin):
    from machine import _port_pin

    return _port_pin(pin, _B['rtcPins'], 'invalid pin')


def _sources():
    return _json.loads(_hw.wake_sources())


def wake_on_ext0(pin=_KEEP, level=_KEEP):
    # As the port: None turns it off, a pin must be an RTC one, and touch wake holds the resource.
    sources = _sources()
    if sources.get('touch'):
        raise ValueError('no resources')
    ext0 = sources.get('ext0') or [-1, 0, 0]
    if pin is not _KEEP:
        ext0[0] = -1 if pin is None else _rtc_pin(pin)
    if level is not _KEEP:
        ext0[1] = 1 if level else 0
    _hw.wake_on('ext0', ext0[0], ext0[1], 6)  # it wakes both sleeps (machine.SLEEP | machine.DEEPSLEEP)


def wake_on_ext1(pins=_KEEP, level=_KEEP):
    ext1 = _sources().get('ext1') or [[], 0]
    if pins is not _KEEP:
        ext1[0] = [] if pins is None else [_rtc_pin(p) for p in pins]
    if level is not _KEEP:
        ext1[1] = 1 if level else 0
    _hw.wake_on('ext1', _json.dumps(ext1[0]), ext1[1])


def wake_on_touch(wake):
    if _sources().get('ext0'):
        raise ValueError('no resources')
    _hw.wake_on('touch', 1 if wake else 0, 0)


def gpio_deep_sleep_hold(enable):
    pass


class NVS:
    # Values live in the board (outside the VM), so they survive resets as flash does. IDF errors raise as the
    # port's check_esp_err does: OSError(-code, the code's name).
    def __init__(self, namespace):
        self._ns = namespace

    def __repr__(self):
        return '<NVS>'  # the port's type has no print function

    def _get(self, key, kind):
        v = _hw.nvs_get(self._ns + '/' + key)
        if not v.startswith(kind):
            raise OSError(-0x1102, 'ESP_ERR_NVS_NOT_FOUND')  # the IDF finds a key by its type as well
        return v[2:]

    def set_i32(self, key, value):
        if not -0x80000000 <= value <= 0x7fffffff:
            raise OverflowError('overflow converting long int to machine word')
        _hw.nvs_set(self._ns + '/' + key, 'i:%d' % value)

    def get_i32(self, key):
        return int(self._get(key, 'i:'))

    def set_blob(self, key, value):
        _hw.nvs_set(self._ns + '/' + key, 'b:' + (bytes(value).hex() if len(value) else ''))

    def get_blob(self, key, buffer):
        data = bytes.fromhex(self._get(key, 'b:'))
        if len(data) > len(buffer):
            raise OSError(-0x110c, 'ESP_ERR_NVS_INVALID_LENGTH')
        buffer[:len(data)] = data
        return len(data)

    def erase_key(self, key):
        if _hw.nvs_set(self._ns + '/' + key, None) < 0:
            raise OSError(-0x1102, 'ESP_ERR_NVS_NOT_FOUND')

    def commit(self):
        pass


class RMT:
    # Transmit only, as the firmware: the host plays each train on the pin (emulator/peripherals/rmt.ts).
    _SOURCE_FREQ = 80000000
    _CHANNELS = 8
    _used = set()
    _bitstream = 7

    def __init__(self, channel=-1, *, pin=None, resolution_hz=None, clock_div=None, idle_level=False,
                 num_symbols=None, tx_carrier=None):
        # Checked as the port's esp32_rmt_make_new checks, in its order and with its messages.
        if pin is None:
            raise TypeError("'pin' argument required")
        if channel is None or channel < 0:
            free = [c for c in range(RMT._CHANNELS) if c not in RMT._used]
            if not free:
                raise OSError(-259, 'ESP_ERR_NOT_FOUND')
            channel = free[0]
        elif channel >= RMT._CHANNELS:
            raise ValueError('invalid channel')
        if resolution_hz is not None and clock_div is not None:
            raise ValueError('resolution_hz and clock_div are mutually exclusive')
        if clock_div is not None:
            if not 1 <= clock_div <= 255:
                raise ValueError('clock_div must be between 1 and 255')
            resolution_hz = RMT._SOURCE_FREQ // clock_div
        elif resolution_hz is None:
            resolution_hz = 10000000
        elif resolution_hz <= 0:
            raise ValueError('resolution_hz must be positive')
        if resolution_hz > RMT._SOURCE_FREQ:
            raise ValueError('resolution_hz out of range')
        # One memory block: SOC_RMT_MEM_WORDS_PER_CHANNEL symbols, 64 on the ESP32, 48 on the C3 and S3.
        block = 64 if _CHIP == 'ESP32' else 48
        if num_symbols is None:
            num_symbols = block
        if num_symbols < block or num_symbols % 2:
            raise ValueError('num_symbols must be even and at least %d' % block)
        if tx_carrier is not None:
            freq, duty, _ = tx_carrier
            if freq == 0:
                raise ValueError('tx_carrier frequency must be >0')
            if not 0 <= duty <= 100:
                raise ValueError('tx_carrier duty must be 0..100')
        self._ch = channel
        self._pin = getattr(pin, '_id', pin)
        self._res = resolution_hz
        self._idle = 1 if idle_level else 0
        self._loop = False
        RMT._used.add(channel)
        _hw.rmt_init(channel, self._pin, self._idle)

    def __repr__(self):
        return 'RMT(pin=%d, source_freq=%d, resolution_hz=%d, idle_level=%d)' % (
            self._pin, RMT._SOURCE_FREQ, self._res, self._idle)

    def source_freq(self):
        return RMT._SOURCE_FREQ

    def clock_div(self):
        return RMT._SOURCE_FREQ // self._res

    def active(self):
        return _hw.rmt_state(self._ch) != 0

    def wait_done(self, *, timeout=0):
        start = _time.ticks_ms()
        while _hw.rmt_state(self._ch):
            if _time.ticks_diff(_time.ticks_ms(), start) >= timeout:
                return False
            _time.sleep_ms(1)
        return True

    def loop(self, enable_loop):
        self._loop = bool(enable_loop)
        if not self._loop:
            _hw.rmt_loop(self._ch, False)

    def write_pulses(self, duration, data=True):
        if isinstance(duration, int):
            if not isinstance(data, (list, tuple)):
                raise TypeError('data must be a list or tuple')
            items = [(1 if d else 0, duration) for d in data]
        elif isinstance(duration, (list, tuple)):
            if isinstance(data, (list, tuple)):
                if len(data) != len(duration):
                    raise ValueError('duration and data must have same length')
                items = [(1 if l else 0, d) for l, d in zip(data, duration)]
            else:
                level = 1 if data else 0
                items = []
                for d in duration:
                    items.append((level, d))
                    level ^= 1
        else:
            raise TypeError('duration must be an int or a list or tuple')
        for _, d in items:
            if not isinstance(d, int):
                raise TypeError("can't convert %s to int" % type(d).__name__)
            if not 0 < d <= 32767:
                raise ValueError('duration must be between 1 and 32767')
        if self._loop and len(items) > 126:
            raise ValueError('looping sequences longer than 126 pulses are not supported')
        # An earlier train plays out first; a looping one switches to the new train at the end of its iteration.
        self._settle(2 if self._loop else 1)
        _hw.rmt_write(self._ch, _json.dumps(items), self._res, self._loop)
        self._settle(2)

    def _settle(self, busy):
        while _hw.rmt_state(self._ch) >= busy:
            _time.sleep_ms(1)

    def deinit(self):
        _hw.rmt_deinit(self._ch)
        RMT._used.discard(self._ch)

    @staticmethod
    def bitstream_channel(value=0x7FFFFFFF):
        if value != 0x7FFFFFFF:
            if value is not None and not 0 <= value < RMT._CHANNELS:
                raise ValueError('invalid channel')
            RMT._bitstream = value
        return RMT._bitstream


def raw_temperature():
    return 120


def mcu_temperature():
    return 42


HEAP_DATA = 4
HEAP_EXEC = 1


def idf_heap_info(capabilities):
    return [(113840, 0, 0, 0)] if capabilities == HEAP_EXEC else [(79912, 35712, 35512, 35108)]


def _esp_check(r):
    if r < 0:
        raise OSError(r, _part.err_name(-r))
    return r


class Partition:
    # The partitions of the flashed partition table, on the board's flash (emulator/storage/partitions.ts).
    BOOT = 0
    RUNNING = 1
    TYPE_APP = 0
    TYPE_DATA = 1

    def __init__(self, id, block_size=4096):
        if isinstance(id, list):  # a row of the table, from find()
            self._set(id, block_size)
            return
        rows = _json.loads(_part.table())
        if id == Partition.BOOT or id == Partition.RUNNING:
            addr = _esp_check(_part.boot() if id == Partition.BOOT else _part.running())
            row = [r for r in rows if r[2] == addr]
        else:
            row = [r for r in rows if r[4] == id]
        if not row:
            raise ValueError('partition not found')
        self._set(row[0], block_size)

    def _set(self, row, block_size):
        self._type, self._subtype, self._addr, self._size, self._label, self._enc = row
        self._bs = block_size

    @classmethod
    def find(cls, type=TYPE_APP, subtype=0xFF, label=None, block_size=4096):
        out = []
        for r in _json.loads(_part.table()):
            if r[0] == type and subtype in (0xFF, r[1]) and label in (None, r[4]):
                out.append(cls(r, block_size))
        return out

    def info(self):
        return (self._type, self._subtype, self._addr, self._size, self._label, bool(self._enc))

    def _at(self, block_num, offset, n):
        a = block_num * self._bs + offset
        if a < 0 or a + n > self._size:
            raise OSError(22)
        return self._addr + a

    def readblocks(self, block_num, buf, offset=0):
        a = self._at(block_num, offset, len(buf))
        buf[:] = bytes.fromhex(_esp_check_s(_part.read(a, len(buf))))

    def writeblocks(self, block_num, buf, offset=None):
        # Without an offset the blocks are erased first (the simple protocol); with one, bits are only programmed.
        a = self._at(block_num, offset or 0, len(buf))
        if offset is None:
            _esp_check(_part.erase(a, (len(buf) + self._bs - 1) // self._bs * self._bs))
        _esp_check(_part.write(a, bytes(buf).hex() if len(buf) else ''))

    def ioctl(self, cmd, arg):
        if cmd == 4:
            return self._size // self._bs
        if cmd == 5:
            return self._bs
        if cmd == 6:
            _esp_check(_part.erase(self._at(arg, 0, self._bs), self._bs))
            return 0
        return 0 if cmd in (1, 2, 3) else None

    def set_boot(self):
        _esp_check(_part.set_boot(self._addr))

    def get_next_update(self):
        addr = _esp_check(_part.next_update(self._addr))
        return [p for p in Partition.find(Partition.TYPE_APP) if p._addr == addr][0]

    @staticmethod
    def mark_app_valid_cancel_rollback():
        _esp_check(_part.mark_valid())

    def __eq__(self, other):
        return isinstance(other, Partition) and other._addr == self._addr

    def __repr__(self):
        return '<Partition type=%d, subtype=%d, address=%d, size=%d, label=%s, encrypted=%d>' % (
            self._type, self._subtype, self._addr, self._size, self._label, self._enc)


def _esp_check_s(r):
    if isinstance(r, int):
        _esp_check(r)
    return r
