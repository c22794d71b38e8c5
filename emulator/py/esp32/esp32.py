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
