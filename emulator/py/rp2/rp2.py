# The rp2 module: PIO programs assembled by @asm_pio into RP2040 instruction words (datasheet chapter 3.4) and
# run by the host's PIO interpreter (emulator/peripherals/pio.ts), written from the MicroPython rp2 docs
# (library/rp2.rst, rp2.PIO, rp2.StateMachine) and the datasheet's instruction encoding.
import _flash, _hw, json as _json
from array import array
from micropython import const

_DATA = const(0)
_EXECCTRL = const(3)
_SHIFTCTRL = const(4)
_BLOCK = const(4096)
_root = None


def _done(r):
    # The host's flash calls answer a negative errno for a range outside the region.
    if isinstance(r, int) and r < 0:
        raise OSError(-r)
    return r


class Flash:
    # The flash the port keeps its filesystem in, as a block device of 4096-byte blocks: Flash() is the one the
    # root is mounted from (one object), start= and len= (whole blocks) a part of it. Writing it under the mounted
    # filesystem corrupts that, as on the chip; unmount first (os.umount('/')) to format it anew.
    def __new__(cls, *, start=-1, len=-1):
        global _root
        total = _flash.size()
        if start == -1 and len == -1:
            if _root is None:
                _root = object.__new__(cls)
                _root._base, _root._size = 0, total
            return _root
        if start == -1:
            start = 0
        elif not (0 <= start < total and start % _BLOCK == 0):
            raise ValueError
        if len == -1:
            len = total - start
        elif not (0 < len and start + len <= total and len % _BLOCK == 0):
            raise ValueError
        f = object.__new__(cls)
        f._base, f._size = start, len
        return f

    def __init__(self, *, start=-1, len=-1):
        pass

    def _at(self, block_num, offset):
        return self._base + block_num * _BLOCK + offset

    def readblocks(self, block_num, buf, offset=0):
        buf[:] = bytes.fromhex(_done(_flash.read(self._at(block_num, offset), len(buf))))

    def writeblocks(self, block_num, buf, offset=None):
        # Without an offset the sectors are erased first; with one, bits are only programmed.
        at = self._at(block_num, offset or 0)
        if offset is None:
            _done(_flash.erase(at, (len(buf) + _BLOCK - 1) // _BLOCK * _BLOCK))
        _done(_flash.write(at, bytes(buf).hex()))

    def ioctl(self, cmd, arg):
        if cmd in (1, 2, 3):  # init, deinit, sync
            return 0
        if cmd == 4:
            return self._size // _BLOCK
        if cmd == 5:
            return _BLOCK
        if cmd == 6:
            _done(_flash.erase(self._at(arg, 0), _BLOCK))
            return 0
        return None


def bootsel_button():
    return _hw.bootsel()


def country(code=None):
    return None


class PIOASMError(Exception):
    pass


class PIO:
    IN_LOW = 0
    IN_HIGH = 1
    OUT_LOW = 2
    OUT_HIGH = 3
    SHIFT_LEFT = 0
    SHIFT_RIGHT = 1
    JOIN_NONE = 0
    JOIN_TX = 1
    JOIN_RX = 2
    IRQ_SM0 = 0x100
    IRQ_SM1 = 0x200
    IRQ_SM2 = 0x400
    IRQ_SM3 = 0x800

    def __init__(self, id):
        if id not in (0, 1):
            raise ValueError('invalid PIO %d' % id)
        self._id = id

    def state_machine(self, id, program=None, *args, **kw):
        if not 0 <= id <= 3:
            raise ValueError('invalid StateMachine')
        return StateMachine(self._id * 4 + id, program, *args, **kw)

    def add_program(self, program):
        pass

    def remove_program(self, program=None):
        pass

    def irq(self, handler=None, trigger=0xFFF, hard=False):
        return None

    def __repr__(self):
        return 'PIO(%d)' % self._id


class _Asm:
    # Two passes over the program function: the first counts instructions and places labels, the second emits.
    def __init__(self, out_init=None, set_init=None, sideset_init=None, side_pindir=False,
                 in_shiftdir=0, out_shiftdir=0, autopush=False, autopull=False,
                 push_thresh=32, pull_thresh=32, fifo_join=0):
        shift = (fifo_join << 30 | (pull_thresh & 31) << 25 | (push_thresh & 31) << 20 |
                 out_shiftdir << 19 | in_shiftdir << 18 | autopull << 17 | autopush << 16)
        self.prog = [array('H'), -1, -1, side_pindir << 29, shift, out_init, set_init, sideset_init]
        n = sideset_init
        self.side_pins = 0 if n is None else 1 if isinstance(n, int) else len(n)
        self.labels = {}
        self.wrapped = False

    def begin(self, emit):
        self.emit = emit
        self.count = 0
        self.sides = 0
        if emit:
            if not self.wrapped and self.total:
                self.prog[_EXECCTRL] |= (self.total - 1) << 12
            self.opt = 1 if self.side_pins and self.sides_seen != self.total else 0
            if self.opt:
                self.prog[_EXECCTRL] |= 1 << 30
            self.side_bits = self.side_pins + self.opt
            self.max_delay = 31 >> self.side_bits

    def end(self):
        self.total = self.count
        self.sides_seen = self.sides

    # Directives.
    def label(self, name):
        if not self.emit:
            if name in self.labels:
                raise PIOASMError('duplicate label %s' % name)
            self.labels[name] = self.count

    def wrap_target(self):
        if self.emit:
            self.prog[_EXECCTRL] |= self.count << 7

    def wrap(self):
        if self.emit:
            self.prog[_EXECCTRL] |= (self.count - 1) << 12
        self.wrapped = True

    # Modifiers, chained after an instruction: .side(v) and [delay].
    def side(self, value):
        self.sides += 1
        if self.emit:
            if not self.side_pins:
                raise PIOASMError('no sideset')
            if value >> self.side_pins:
                raise PIOASMError('sideset too large')
            self.prog[_DATA][-1] |= self.opt << 12 | value << (13 - self.side_bits)
        return self

    def __getitem__(self, delay):
        if self.emit:
            if delay > self.max_delay:
                raise PIOASMError('delay too large')
            self.prog[_DATA][-1] |= delay << 8
        return self

    # Instructions.
    def word(self, instr, label=None):
        self.count += 1
        if self.emit:
            if label is not None:
                if label not in self.labels:
                    raise PIOASMError('unknown label %s' % label)
                instr |= self.labels[label]
            self.prog[_DATA].append(instr)
        return self

    def nop(self):
        return self.word(0xA042)  # mov y, y

    def jmp(self, cond, label=None):
        if label is None:
            cond, label = 0, cond
        return self.word(cond << 5, label)

    def wait(self, polarity, src, index):
        src = 0 if src == 0 else 1 if src == 6 else 2  # gpio, pin, irq
        return self.word(0x2000 | polarity << 7 | src << 5 | index)

    def in_(self, src, bits):
        if not 0 < bits <= 32:
            raise PIOASMError('invalid bit count %d' % bits)
        return self.word(0x4000 | src << 5 | bits & 31)

    def out(self, dest, bits):
        if not 0 < bits <= 32:
            raise PIOASMError('invalid bit count %d' % bits)
        return self.word(0x6000 | (7 if dest == 8 else dest) << 5 | bits & 31)

    def _fifo(self, base, mods):
        if not mods & 1:
            mods |= 0x20  # blocking unless noblock
        return self.word(base | mods & 0x60)

    def push(self, a=0, b=0):
        return self._fifo(0x8000, a | b)

    def pull(self, a=0, b=0):
        return self._fifo(0x8080, a | b)

    def mov(self, dest, src):
        return self.word(0xA000 | (4 if dest == 8 else dest) << 5 | src)

    def irq(self, mod, index=None):
        if index is None:
            mod, index = 0, mod
        return self.word(0xC000 | mod & 0x60 | index)

    def set(self, dest, data):
        return self.word(0xE000 | dest << 5 | data)


# Names a program body sees besides the instructions: operands, conditions and modifiers.
_NAMES = {
    'gpio': 0, 'pins': 0, 'x': 1, 'y': 2, 'null': 3, 'pindirs': 4, 'pc': 5, 'status': 5, 'isr': 6, 'osr': 7,
    'exec': 8, 'not_x': 1, 'x_dec': 2, 'not_y': 3, 'y_dec': 4, 'x_not_y': 5, 'pin': 6, 'not_osre': 7,
    'noblock': 0x01, 'block': 0x21, 'iffull': 0x40, 'ifempty': 0x40, 'clear': 0x40,
    'invert': lambda v: v | 0x08, 'reverse': lambda v: v | 0x10, 'rel': lambda v: v | 0x10,
}
_METHODS = ('label', 'wrap_target', 'wrap', 'word', 'nop', 'jmp', 'wait', 'in_', 'out', 'push', 'pull', 'mov',
            'irq', 'set')


def _bind(asm, g):
    g.update(_NAMES)
    for name in _METHODS:
        g[name] = getattr(asm, name)


def asm_pio(**kw):
    asm = _Asm(**kw)

    def assemble(f):
        # The body runs with the instructions as its globals (twice: labels, then words), then gets its own back.
        g = f.__globals__
        saved = dict(g)
        g.clear()
        _bind(asm, g)
        try:
            asm.begin(False)
            f()
            asm.end()
            asm.begin(True)
            f()
        finally:
            g.clear()
            g.update(saved)
        return asm.prog

    return assemble


def asm_pio_encode(instr, sideset_count, sideset_opt=False):
    asm = _Asm()
    asm.emit = True
    asm.count = asm.sides = 0
    asm.side_pins = sideset_count
    asm.opt = 1 if sideset_opt else 0
    asm.side_bits = sideset_count + asm.opt
    asm.max_delay = 31 >> asm.side_bits
    g = {}
    _bind(asm, g)
    exec(instr, g)
    if len(asm.prog[_DATA]) != 1:
        raise PIOASMError('expecting exactly 1 instruction')
    return asm.prog[_DATA][0]


def _pin_id(p):
    return p if isinstance(p, int) else p._id


def _count(init):
    return 0 if init is None else 1 if isinstance(init, int) else len(init)


class StateMachine:
    def __init__(self, id, program=None, *args, **kw):
        if not 0 <= id <= 7:
            raise ValueError('invalid StateMachine')
        self._id = id
        if program is not None:
            self.init(program, *args, **kw)

    def init(self, program, freq=-1, *, in_base=None, out_base=None, set_base=None, jmp_pin=None,
             sideset_base=None, in_shiftdir=None, out_shiftdir=None, push_thresh=None, pull_thresh=None):
        shift = program[_SHIFTCTRL]
        if in_shiftdir is not None:
            shift = shift & ~(1 << 18) | in_shiftdir << 18
        if out_shiftdir is not None:
            shift = shift & ~(1 << 19) | out_shiftdir << 19
        if push_thresh is not None:
            shift = shift & ~(31 << 20) | (push_thresh & 31) << 20
        if pull_thresh is not None:
            shift = shift & ~(31 << 25) | (pull_thresh & 31) << 25
        bases = [_pin_id(b) if b is not None else 0 for b in (in_base, out_base, set_base, sideset_base, jmp_pin)]
        init_pins = []
        for base, init in ((bases[1], program[5]), (bases[2], program[6]), (bases[3], program[7])):
            levels = () if init is None else (init,) if isinstance(init, int) else init
            for i, mode in enumerate(levels):
                init_pins.append((base + i, 1 if mode >= PIO.OUT_LOW else 0, mode & 1))
        self._freq = 125000000 if freq <= 0 else freq
        _hw.pio_init(self._id, _json.dumps({
            'code': list(program[_DATA]), 'execctrl': program[_EXECCTRL], 'shiftctrl': shift, 'freq': self._freq,
            'inBase': bases[0], 'outBase': bases[1], 'outCount': _count(program[5]), 'setBase': bases[2],
            'setCount': _count(program[6]), 'sidesetBase': bases[3], 'sidesetCount': _count(program[7]),
            'jmpPin': bases[4], 'initPins': init_pins}))

    def active(self, value=None):
        return _hw.pio_active(self._id, -1 if value is None else 1 if value else 0) == 1

    def restart(self):
        _hw.pio_restart(self._id)

    def exec(self, instr):
        if isinstance(instr, str):
            instr = asm_pio_encode(instr, 0)
        _hw.pio_exec(self._id, instr)

    def put(self, value, shift=0):
        import time
        for v in (value,) if isinstance(value, int) else value:
            while _hw.pio_put(self._id, (v << shift) & 0xFFFFFFFF) == 0:
                time.sleep_ms(1)  # TX FIFO full: block, as the firmware does

    def get(self, buf=None, shift=0):
        import time
        while True:
            v = _hw.pio_get(self._id)
            if v is not None:
                return v >> shift
            time.sleep_ms(1)

    def rx_fifo(self):
        return int(_hw.pio_levels(self._id).split(',')[1])

    def tx_fifo(self):
        return int(_hw.pio_levels(self._id).split(',')[0])

    def irq(self, handler=None, trigger=0, hard=False):
        return None

    def __repr__(self):
        return 'StateMachine(%d)' % self._id
