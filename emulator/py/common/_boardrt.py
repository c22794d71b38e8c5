import builtins, vfs
import sys as _rsys, os as _ros, time as _rtime
import _board
import _hostloop

_pending = 0
_frozen = _board.frozen.split(',') if _board.frozen else []
_imp = builtins.__import__
_depth = 0


def check():
    # A conditional jump: the VM raises a KeyboardInterrupt scheduled by the host right here.
    if _pending:
        pass


class _Module:
    def __init__(self, real, name):
        self._real = real
        self.__name__ = name

    def __getattr__(self, attr):
        return getattr(self._real, attr)

    def __repr__(self):
        return "<module '%s'>" % self.__name__


class _Impl:
    name = 'micropython'
    version = _rsys.implementation.version
    _machine = _board.machine
    _mpy = getattr(_rsys.implementation, '_mpy', 0)

    def __getitem__(self, i):
        return (self.name, self.version, self._machine, self._mpy)[i]

    def __repr__(self):
        return "(name='micropython', version=%r, _machine=%r, _mpy=%d)" % (self.version, self._machine, self._mpy)


class _Uname:
    _fields = ('sysname', 'nodename', 'release', 'version', 'machine')

    def __init__(self):
        self.sysname = _board.sysname
        self.nodename = _board.sysname
        self.release = _board.release
        self.version = _board.version
        self.machine = _board.machine

    def __getitem__(self, i):
        return getattr(self, self._fields[i])

    def __len__(self):
        return 5

    def __repr__(self):
        return '(' + ', '.join('%s=%r' % (f, getattr(self, f)) for f in self._fields) + ')'


def _chunk(n):
    # Block until at least one byte arrives from the link (host-side wait; Ctrl-C raises here).
    while True:
        d = bytes(_board.stdin_read(n))
        check()
        if d:
            return d


class _Stdin:
    def __init__(self, binary):
        self._binary = binary
        self.buffer = self if binary else _Stdin(True)

    def read(self, n=-1):
        out = bytearray()
        while n < 0 or len(out) < n:
            d = _chunk(4096 if n < 0 else n - len(out))
            if n < 0 and b'\x04' in d:
                out += d[: d.index(b'\x04')]
                break
            out += d
        return bytes(out) if self._binary else out.decode()

    def readinto(self, buf, n=-1):
        n = len(buf) if n < 0 else min(n, len(buf))
        d = _chunk(n)
        buf[: len(d)] = d
        return len(d)

    def readline(self):
        out = bytearray()
        while not out.endswith(b'\n') and not out.endswith(b'\r'):
            out += _chunk(1)
        return bytes(out) if self._binary else out.decode()

    def __iter__(self):
        return self

    def __next__(self):
        return self.readline()

    def fileno(self):
        return 0


def _input(prompt=''):
    out = _rsys.stdout
    if prompt:
        out.write(prompt)
    line = bytearray()
    while True:
        c = _chunk(1)[0]
        if c == 13 or c == 10:
            out.write('\r\n')
            return line.decode()
        if c == 8 or c == 127:
            if line:
                line.pop()
                out.write('\b \b')
        elif c == 4 and not line:
            raise EOFError
        elif c == 3:
            raise KeyboardInterrupt
        elif c >= 32:
            line.append(c)
            out.buffer.write(bytes((c,)))


class _Time(_Module):
    # The VM's own sleeps spin on the clock; these wait on the host instead (idle CPU, prompt Ctrl-C).
    def sleep(self, s):
        _board.sleep_ms(s * 1000)
        check()

    def sleep_ms(self, ms):
        _board.sleep_ms(ms)
        check()

    def sleep_us(self, us):
        if us >= 1000:
            _board.sleep_ms(us / 1000)
        else:
            _rtime.sleep_us(us)
        check()


def _import(name, *args):
    global _depth
    if name in _frozen and name not in _rsys.modules:
        if _depth == 0:
            vfs.mount(vfs.VfsPosix('/rom'), '/.frozen')
            _rsys.path.insert(0, '/.frozen')
        _depth += 1
        try:
            return _imp(name, *args)
        finally:
            _depth -= 1
            if _depth == 0:
                _rsys.path.remove('/.frozen')
                vfs.umount('/.frozen')
    return _imp(name, *args)


def run_file(path, g):
    # boot.py / main.py as pyexec_file_if_exists runs them; False when the file does not exist.
    try:
        f = open(path)
    except OSError:
        return False
    with f:
        src = f.read()
    # A program whose top-level asyncio runs the host drives is run by the host, once this call has returned.
    if not _hostloop.hand_over(src, path):
        exec(compile(src, path, 'exec'), g)
    return True


def install():
    s = _Module(_rsys, 'sys')
    s.platform = _board.platform
    s.implementation = _Impl()
    s.stdin = _Stdin(False)
    o = _Module(_ros, 'os')
    _u = _Uname()
    o.uname = lambda: _u
    t = _Time(_rtime, 'time')
    m = _rsys.modules
    m['sys'] = s
    m['os'] = m['uos'] = o
    m['time'] = m['utime'] = t
    builtins.input = _input
    builtins.__import__ = _import
    _rsys.path[:] = ['', '.frozen', '/lib']
