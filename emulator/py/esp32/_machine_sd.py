# machine.SDCard of the esp32 port, in a module of its own that machine loads at first use (machine.py's
# __getattr__): the firmware's machine module is in flash, ours takes the board's heap.
import _sd
from machine import _B, _PINS, Pin, _hex, _int

# The ESP32 and S3 have the SD/MMC host (slots 0 and 1) and two SPI hosts for cards (slots 2 and 3); the C3 has
# no SD/MMC host and one SPI host a card can use.
_SD_SLOTS = (2,) if _B['chip'] == 'ESP32C3' else (0, 1, 2, 3)
_SD_DEFAULT_SLOT = 2 if _B['chip'] == 'ESP32C3' else 1
_ESP_ERR_INVALID_ARG = 258  # ESP-IDF's code, which the port's check_esp_err raises as it is


def _sd_pin(p):
    # The port's pin_or_int: an int as it is (ESP-IDF refuses a GPIO the chip lacks), else a Pin.
    if isinstance(p, int):
        if p not in _PINS:
            raise OSError(_ESP_ERR_INVALID_ARG)
        return p
    if not isinstance(p, Pin):
        raise ValueError('expecting a pin')
    return p._id


class SDCard:
    # The card is the board's sdcard.img (the host's `_sd`). As on the port, the constructor sets up the host
    # and slot only; the card is first spoken to at its first access (its "card init"), and without one
    # info() raises ETIMEDOUT, readblocks/writeblocks answer False and ioctl -1 (so VfsFat raises EBUSY).
    def __init__(self, *, slot=_SD_DEFAULT_SLOT, width=1, cd=None, wp=None, sck=None,
                 miso=None, mosi=None, cs=None, cmd=None, data=None, freq=20000000):
        slot, width, freq = _int(slot), _int(width), _int(freq)
        if slot not in _SD_SLOTS:
            raise ValueError('slot number must be 2' if len(_SD_SLOTS) == 1 else
                             'slot number must be between 0 and 3 inclusive')
        for p in (cd, wp, sck, miso, mosi, cs, cmd):
            if p is not None:
                _sd_pin(p)
        if slot < 2:
            if width not in (1, 4) and not (width == 8 and slot == 0):
                raise ValueError('width must be 1 or 4 (or 8 on slot 0)')
            if data is not None:
                if not isinstance(data, (tuple, list)):
                    raise TypeError("object '%s' isn't a tuple or list" % type(data).__name__)
                if len(data) < width:
                    raise ValueError('need %d data pins for width %d' % (width, width))
                for p in data:
                    _sd_pin(p)
        self._host = True
        self._sectors = 0  # the card's size once initialised, 0 before

    def _card(self):
        if not self._sectors:
            n = _sd.sectors()
            self._sectors = n if n > 0 else 0
        return self._sectors

    def info(self):
        if not self._card():
            raise OSError(110)
        return (self._sectors * 512, 512)

    def deinit(self):
        self._host = False

    def readblocks(self, block_num, buf):
        if not self._host or not self._card():
            return False
        r = _sd.read(block_num, len(buf) // 512)
        if isinstance(r, int):
            return False
        buf[:len(r) // 2] = bytes.fromhex(r)
        return True

    def writeblocks(self, block_num, buf):
        if not self._host or not self._card():
            return False
        return _sd.write(block_num, _hex(buf[:len(buf) // 512 * 512])) == 0

    def ioctl(self, op, arg):
        if op == 2:  # deinit: the next access initialises the card again (it may have been changed)
            self._sectors = 0
            return 0
        if op == 3:
            _sd.sync()
            return 0
        if op not in (1, 4, 5):
            return -1
        if not self._card():
            return -1
        return {1: 0, 4: self._sectors, 5: 512}[op]
