// Driver modules the firmware freezes next to machine (neopixel, dht) and the port modules common code touches.

export const NEOPIXEL_PY = String.raw`
from machine import bitstream


class NeoPixel:
    ORDER = (1, 0, 2, 3)

    def __init__(self, pin, n, bpp=3, timing=1):
        self.pin = pin
        self.n = n
        self.bpp = bpp
        self.buf = bytearray(n * bpp)
        self.pin.init(pin.OUT)
        self.timing = timing

    def __len__(self):
        return self.n

    def __setitem__(self, i, v):
        base = i * self.bpp
        for k in range(self.bpp):
            self.buf[base + self.ORDER[k]] = v[k]

    def __getitem__(self, i):
        base = i * self.bpp
        return tuple(self.buf[base + self.ORDER[k]] for k in range(self.bpp))

    def fill(self, v):
        for i in range(self.n):
            self[i] = v

    def write(self):
        bitstream(self.pin, 0, self.timing, self.buf)
`;

export const DHT_PY = String.raw`
import _hw


class DHTBase:
    def __init__(self, pin):
        self.pin = pin
        self._t = 0
        self._h = 0

    def measure(self):
        r = _hw.dht(self.pin._id)
        if not r:
            raise OSError(110)  # ETIMEDOUT: nothing answered on the pin
        t, h = r.split(',')
        self._t = float(t)
        self._h = float(h)


class DHT11(DHTBase):
    def humidity(self):
        return int(self._h)

    def temperature(self):
        return int(self._t)


class DHT22(DHTBase):
    def humidity(self):
        return round(self._h * 10) / 10

    def temperature(self):
        return round(self._t * 10) / 10
`;

export const ESP32_PY = String.raw`
import _hw

WAKEUP_ALL_LOW = False
WAKEUP_ANY_HIGH = True


def wake_on_ext0(pin, level):
    pass


def wake_on_ext1(pins, level):
    pass


def wake_on_touch(wake):
    pass


def gpio_deep_sleep_hold(enable):
    pass


class NVS:
    # Values live in the board (outside the VM), so they survive resets as flash does.
    def __init__(self, namespace):
        self._ns = namespace

    def _get(self, key, kind):
        v = _hw.nvs_get(self._ns + '/' + key)
        if not v.startswith(kind):
            raise OSError(-4354)  # ESP_ERR_NVS_NOT_FOUND
        return v[2:]

    def set_i32(self, key, value):
        _hw.nvs_set(self._ns + '/' + key, 'i:%d' % value)

    def get_i32(self, key):
        return int(self._get(key, 'i:'))

    def set_blob(self, key, value):
        _hw.nvs_set(self._ns + '/' + key, 'b:' + (bytes(value).hex() if len(value) else ''))

    def get_blob(self, key, buffer):
        data = bytes.fromhex(self._get(key, 'b:'))
        buffer[:len(data)] = data
        return len(data)

    def erase_key(self, key):
        if _hw.nvs_set(self._ns + '/' + key, None) < 0:
            raise OSError(-4354)

    def commit(self):
        pass


def raw_temperature():
    return 120


def mcu_temperature():
    return 42
`;

export const ESP_PY = String.raw`
LOG_NONE = 0


def osdebug(uart, level=None):
    pass


def flash_size():
    return 4 * 1024 * 1024


def flash_id():
    return 0x1640ef
`;

export const RP2_PY = String.raw`
import _hw


def bootsel_button():
    return _hw.bootsel()


def country(code=None):
    return None
`;
