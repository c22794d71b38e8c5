import _hw, _part, json

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
        rows = json.loads(_part.table())
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
        for r in json.loads(_part.table()):
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
