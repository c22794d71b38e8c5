# Dallas 1-Wire bus driver, written from the MicroPython docs (quickref "OneWire driver") and Maxim's application
# note on the ROM search. The firmware's C half (_onewire: reset, bit and byte slots) is the board's `_hw.ow_*`.
import _hw
from machine import Pin


class OneWireError(Exception):
    pass


def _crc8(data):
    crc = 0
    for b in data:
        for _ in range(8):
            mix = (crc ^ b) & 1
            crc >>= 1
            if mix:
                crc ^= 0x8C
            b >>= 1
    return crc


class OneWire:
    SEARCH_ROM = 0xF0
    MATCH_ROM = 0x55
    SKIP_ROM = 0xCC

    def __init__(self, pin):
        self.pin = pin
        pin.init(Pin.OPEN_DRAIN, Pin.PULL_UP)
        self._id = pin._id

    def reset(self, required=False):
        present = _hw.ow_reset(self._id) == 1
        if required and not present:
            raise OneWireError
        return present

    def readbit(self):
        return _hw.ow_bit(self._id, 1)

    def readbyte(self):
        return _hw.ow_byte(self._id, 0xFF)

    def readinto(self, buf):
        for i in range(len(buf)):
            buf[i] = _hw.ow_byte(self._id, 0xFF)

    def writebit(self, value):
        _hw.ow_bit(self._id, 1 if value else 0)

    def writebyte(self, value):
        _hw.ow_byte(self._id, value)

    def write(self, buf):
        if isinstance(buf, str):
            buf = buf.encode()
        for b in buf:
            _hw.ow_byte(self._id, b)

    def select_rom(self, rom):
        self.reset()
        self.writebyte(OneWire.MATCH_ROM)
        self.write(rom)

    def crc8(self, data):
        return _crc8(data)

    def scan(self):
        # Walk the ROM tree: each pass follows the previous path up to its last unexplored 0-branch, then takes 1.
        found = []
        rom = bytearray(8)
        last_fork = 65
        while last_fork:
            if not self.reset():
                return found
            self.writebyte(OneWire.SEARCH_ROM)
            fork = 0
            for i in range(64):
                bit = self.readbit()
                comp = self.readbit()
                if bit and comp:
                    return found  # nobody answered: the bus changed under us
                if bit == comp:
                    # Devices disagree here: 1 at the fork we are re-exploring, the old choice before it, 0 after.
                    if i + 1 == last_fork:
                        bit = 1
                    elif i + 1 < last_fork:
                        bit = (rom[i >> 3] >> (i & 7)) & 1
                    else:
                        bit = 0
                    if not bit:
                        fork = i + 1
                if bit:
                    rom[i >> 3] |= 1 << (i & 7)
                else:
                    rom[i >> 3] &= ~(1 << (i & 7))
                self.writebit(bit)
            if _crc8(rom) == 0 and rom[0]:
                found.append(bytearray(rom))
            last_fork = fork
        return found
