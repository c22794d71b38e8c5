# DS18S20/DS18B20/DS1822 thermometers on a onewire.OneWire bus, written from the MicroPython docs (quickref) and
# the parts' datasheets: CONVERT T (0x44) to all, then READ SCRATCHPAD (0xBE) per ROM.
from micropython import const

_CONVERT = const(0x44)
_RD_SCRATCH = const(0xBE)
_WR_SCRATCH = const(0x4E)
_FAMILIES = (0x10, 0x22, 0x28)


class DS18X20:
    def __init__(self, onewire):
        self.ow = onewire
        self.buf = bytearray(9)

    def scan(self):
        return [rom for rom in self.ow.scan() if rom[0] in _FAMILIES]

    def convert_temp(self):
        self.ow.reset(True)
        self.ow.writebyte(self.ow.SKIP_ROM)
        self.ow.writebyte(_CONVERT)

    def read_scratch(self, rom):
        self.ow.reset(True)
        self.ow.select_rom(rom)
        self.ow.writebyte(_RD_SCRATCH)
        self.ow.readinto(self.buf)
        if self.ow.crc8(self.buf):
            raise Exception('CRC error')
        return self.buf

    def write_scratch(self, rom, buf):
        self.ow.reset(True)
        self.ow.select_rom(rom)
        self.ow.writebyte(_WR_SCRATCH)
        self.ow.write(buf)

    def read_temp(self, rom):
        b = self.read_scratch(rom)
        if rom[0] == 0x10:
            # DS18S20: 0.5 degC steps, refined with COUNT_REMAIN / COUNT_PER_C.
            t = b[0] >> 1 if b[1] == 0 else -((~b[0] & 0xFF) >> 1) - 1
            return t - 0.25 + (b[7] - b[6]) / b[7]
        t = b[1] << 8 | b[0]
        if t & 0x8000:
            t -= 0x10000
        return t / 16
