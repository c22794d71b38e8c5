# machine.I2S, in a module of its own that machine loads at first use (machine.py's __getattr__): the
# firmware's machine module is in flash, ours takes the board's heap, so what a program does not use must not.
import _hw, io as _io, time as _time, uctypes as _uctypes
from machine import _B, _RP2, _PINS, _hex, _int, _pin, _port_pin, _protected, _timer_keys, _wait_until_us

_I2S_ARGS = ('sck', 'ws', 'sd', 'mode', 'bits', 'format', 'rate', 'ibuf')
_I2S_BLOCKING, _I2S_NON_BLOCKING, _I2S_ASYNCIO = range(3)
_i2s = {}  # id -> the I2S object using that peripheral


def _raw(buf):
    # The bytes of a writable buffer (bytearray, memoryview, array), as the C side's mp_get_buffer_raise sees them.
    if isinstance(buf, (bytes, str)):
        raise TypeError('object with buffer protocol required')
    return _uctypes.bytearray_at(_uctypes.addressof(buf), len(bytes(buf)))


class I2S(_io.IOBase):
    # The DMA moves samples between the internal buffer and the bus at rate * channels * bits/8 bytes a second,
    # on the board's clock. What TX plays goes to the host as written (little-endian frames, left first); RX reads
    # what the host queued for that id, then silence.
    if _RP2:
        RX = 0
        TX = 1
    else:  # ESP-IDF's i2s_dir_t bits
        RX = 1
        TX = 2
    MONO = 0
    STEREO = 1

    def __init__(self, id, *args, **kw):
        id = _int(id)
        # The ESP32 and S3 have two I2S controllers, the C3 one; rp2 runs two on PIO.
        if not 0 <= id < (1 if _B['chip'] == 'ESP32C3' else 2):
            raise ValueError('invalid id')
        if id in _i2s:
            _i2s[id].deinit()  # the port keeps one object an id, which a new constructor reinitialises
        _i2s[id] = self
        self._id = id
        self._pending = set()
        self._init(args, kw)

    def init(self, *args, **kw):
        self.deinit()
        self._init(args, kw)

    def _init(self, args, kw):
        # mp_arg_parse_all's checks, then the port's: every argument keyword-only and required.
        for k in _I2S_ARGS:
            if k not in kw:
                raise TypeError("'%s' argument required" % k)
        if args:
            raise TypeError('extra positional arguments given')
        for k in kw:
            if k not in _I2S_ARGS:
                raise TypeError("unexpected keyword argument '%s'" % k)
        mode, bits, fmt, rate, ibuf = (_int(kw[k]) for k in _I2S_ARGS[3:])
        pins = [_pin(kw[k])._id if _RP2 else _port_pin(kw[k], _PINS, 'invalid pin') for k in ('sck', 'ws', 'sd')]
        if _RP2 and pins[1] != pins[0] + 1:
            raise ValueError('invalid ws (must be sck+1)')  # SCK and WS are the PIO program's side-set pair
        if mode not in (I2S.RX, I2S.TX):
            raise ValueError('invalid mode')
        if bits not in (16, 32):
            raise ValueError('invalid bits')
        if fmt not in (I2S.MONO, I2S.STEREO):
            raise ValueError('invalid format')
        if _RP2 and ibuf <= 0:
            raise ValueError('invalid ibuf')
        if rate <= 0:
            raise ValueError('invalid rate')  # the ports leave it to the clock set-up; a bus needs a clock
        self._cfg = pins + [mode, bits, fmt, rate, ibuf]
        self._frame = bits // 8 * (2 if fmt == I2S.STEREO else 1)
        self._bps = rate * self._frame
        # RX moves 32-bit stereo frames through DMA. rp2: a ring buffer of ibuf bytes; esp32: ibuf in whole DMA
        # buffers of 256 frames, at least two (ESP-IDF's minimum).
        dma = self._frame if mode == I2S.TX else 8
        size = ibuf * self._frame // dma if _RP2 else max(ibuf // (256 * dma), 2) * 256 * self._frame
        self._buf_us = self._us(size)
        self._t = _time.ticks_us()  # TX: when what is queued has played; RX: when the next unread sample came in
        self._io = _I2S_BLOCKING
        self._cb = None

    def _us(self, n):
        return n * 1000000 // self._bps

    def deinit(self):
        for key in self._pending:
            _hw.timer_stop(key)
        self._pending.clear()

    def irq(self, handler):
        if handler is not None and not callable(handler):
            raise ValueError('invalid callback')
        self._cb = handler
        self._io = _I2S_BLOCKING if handler is None else _I2S_NON_BLOCKING

    def _room(self, now):
        # TX: bytes the buffer can take now; RX: bytes it holds (what came in while unread, up to its size).
        queued = _time.ticks_diff(self._t, now)
        left = self._buf_us - max(0, queued) if self._cfg[3] == I2S.TX else min(-queued, self._buf_us)
        return max(0, left) * self._bps // 1000000 // self._frame * self._frame

    def _direction(self, mode):
        if self._cfg[3] != mode:
            raise OSError(1)  # EPERM

    def write(self, buf):
        self._direction(I2S.TX)
        data = bytes(buf)
        now = _time.ticks_us()
        if self._io == _I2S_ASYNCIO:
            data = data[:self._room(now)]  # what fits; the stream writer comes back for the rest
        if not data:
            return 0
        start = self._t if _time.ticks_diff(self._t, now) > 0 else now
        self._t = _time.ticks_add(start, self._us(len(data)))
        _hw.i2s_write(self._id, _hex(data))
        # The write is over once the last byte is in the buffer, a buffer's play time before it has played.
        done = _time.ticks_add(self._t, -self._buf_us)
        if self._io == _I2S_NON_BLOCKING:
            self._done_at(done, None)
        elif self._io == _I2S_BLOCKING:
            _wait_until_us(done)
        return len(data)

    def readinto(self, buf):
        self._direction(I2S.RX)
        raw = _raw(buf)
        n = len(raw)
        if n % self._frame:
            raise OSError(22)  # EINVAL
        now = _time.ticks_us()
        if self._io == _I2S_ASYNCIO:
            n = min(n, self._room(now))
        if not n:
            return 0
        # Samples older than a buffer's worth were overwritten while nobody read them.
        start = self._t if _time.ticks_diff(now, self._t) < self._buf_us else _time.ticks_add(now, -self._buf_us)
        self._t = _time.ticks_add(start, self._us(n))

        def fill():
            raw[:n] = bytes.fromhex(_hw.i2s_read(self._id, n))

        if self._io == _I2S_NON_BLOCKING:
            self._done_at(self._t, fill)
            return n
        if self._io == _I2S_BLOCKING:
            _wait_until_us(self._t)
        fill()
        return n

    def _done_at(self, t, then):
        # Non-blocking mode: the handler is scheduled once the buffer is emptied (TX) or filled (RX), on a
        # one-shot soft timer of the host's, as machine.Timer's.
        _timer_keys[0] += 1
        key = _timer_keys[0]
        handler = self._cb
        self._pending.add(key)

        def done(i2s):
            self._pending.discard(key)
            if then:
                then()
            handler(i2s)

        wait_ms = -(-_time.ticks_diff(t, _time.ticks_us()) // 1000)
        _hw.timer_start(key, max(0, wait_ms), True, _protected(done), self, False)

    def ioctl(self, op, arg):
        # A poll is the sign that asyncio drives the stream: from then on write and readinto move only what fits.
        self._io = _I2S_ASYNCIO
        if op != 3:  # MP_STREAM_POLL
            raise OSError(22)
        ret = 0
        now = _time.ticks_us()
        if arg & 1:
            self._direction(I2S.RX)
            ret |= 1 if self._room(now) else 0
        if arg & 4:
            self._direction(I2S.TX)
            ret |= 4 if self._room(now) else 0
        return ret

    @staticmethod
    def shift(*, buf, bits, shift):
        # Each little-endian signed sample shifted left (positive) or right, kept to its width: a volume control.
        if bits not in (16, 32):
            raise ValueError('invalid bits')
        raw = _raw(buf)
        size = bits // 8
        top = 1 << (bits - 1)
        for i in range(0, len(raw) - size + 1, size):
            v = int.from_bytes(raw[i:i + size], 'little')
            v = (v ^ top) - top
            v = v << shift if shift >= 0 else v >> -shift
            raw[i:i + size] = (v & ((1 << bits) - 1)).to_bytes(size, 'little')

    def __repr__(self):
        return 'I2S(id=%d,\nsck=%d,\nws=%d,\nsd=%d,\nmode=%d,\nbits=%d, format=%d,\nrate=%d, ibuf=%d)' % (
            (self._id,) + tuple(self._cfg))
