# Mounts littlefs on the board's flash as the root filesystem, as the port's _boot.py mounts its VfsLfs2.
# Run by the host (not imported), with its own globals and the runtime's `bare` and `set_entries`: its top level
# once per VM, before the VM's snapshot (what it defines is the firmware's C code, there from reset), and boot() at
# every boot, soft resets included, as the port runs its _boot.py.
# The `_bfs` functions (emulator/storage/vm-fs.ts) do the work; they return a negative errno instead of raising,
# and chk() turns that into OSError.
import vfs, os, io, sys, _bfs, _vfs

# Read-ahead for small reads, and "the rest of the file" as a small int (the host reads what is there).
_CHUNK = 512
_ALL = 0x3FFFFFFF


def chk(r):
    if isinstance(r, int) and r < 0:
        raise OSError(-r)
    return r


# File bytes cross to the host through a character device of the VM's own filesystem (opened by boot()).
_dev = None
_target = [-1]


def put(fd, b):
    if _target[0] != fd:
        chk(_bfs.target(fd))
        _target[0] = fd
    if _dev.write(b) != len(b):
        chk(_bfs.lasterr())
    return len(b)


def get(fd, n):
    m = chk(_bfs.read(fd, n))
    b = bytearray(m)
    mv = memoryview(b)
    got = 0
    while got < m:
        got += _dev.readinto(mv[got:])
    return bytes(b)



class File(_vfs.FileIO):
    # A file on the flash; type, repr, ioctl and the closed-file ValueError are the user-device files' (_vfs).

    def __init__(self, fs, fd, text, w):
        super().__init__(fs, fd)
        self._text = text
        self._w = w
        self._rb = b''
        self._ri = 0

    def _dropr(self):
        n = len(self._rb) - self._ri
        self._rb = b''
        self._ri = 0
        if n:
            chk(_bfs.seek(self._fd, -n, 1))

    def _out(self, b):
        return str(b, 'utf-8') if self._text else bytes(b)

    def write(self, b):
        self._live()
        if not self._w:
            raise OSError(9)
        if isinstance(b, str):
            b = b.encode()
        self._dropr()
        return put(self._fd, b)

    def readinto(self, buf, nbytes=-1):
        # Fills buf (or its first nbytes) unless the file ends first: the VM's module reader takes a short read
        # for the end of the file. Small reads go through a buffer, large ones straight to the host.
        self._live()
        mv = memoryview(buf)
        if 0 <= nbytes < len(mv):
            mv = mv[:nbytes]
        want = len(mv)
        got = 0
        while got < want:
            avail = len(self._rb) - self._ri
            if not avail:
                if want - got >= _CHUNK:
                    d = get(self._fd, want - got)
                    mv[got:got + len(d)] = d
                    return got + len(d)
                self._rb = get(self._fd, _CHUNK)
                self._ri = 0
                if not self._rb:
                    break
                continue
            m = min(want - got, avail)
            mv[got:got + m] = self._rb[self._ri:self._ri + m]
            self._ri += m
            got += m
        return got

    def _raw(self, n):
        head = self._rb[self._ri:self._ri + n]
        self._ri += len(head)
        return head + get(self._fd, n - len(head)) if len(head) < n else head

    def read(self, n=-1):
        self._live()
        if n is None or n < 0:
            n = _ALL
        d = self._raw(n)
        if not self._text:
            return d
        # In text mode n counts characters: finish a split UTF-8 sequence, then top up.
        while True:
            more = 0
            i = len(d) - 1
            while i >= 0 and len(d) - i <= 4 and d[i] & 0xC0 == 0x80:
                i -= 1
            if i >= 0 and d[i] >= 0xC0:
                more = 2 + (d[i] >= 0xE0) + (d[i] >= 0xF0) - (len(d) - i)
            if more <= 0:
                more = n - len(str(d, 'utf-8'))
            if more <= 0:
                break
            extra = self._raw(more)
            if not extra:
                break
            d += extra
        return str(d, 'utf-8')

    def readline(self, limit=-1):
        self._live()
        out = bytearray()
        while limit < 0 or len(out) < limit:
            if self._ri >= len(self._rb):
                self._rb = get(self._fd, _CHUNK)
                self._ri = 0
                if not self._rb:
                    break
            i = self._rb.find(b'\n', self._ri)
            end = len(self._rb) if i < 0 else i + 1
            if limit >= 0:
                end = min(end, self._ri + limit - len(out))
            out.extend(self._rb[self._ri:end])
            self._ri = end
            if i >= 0 and end == i + 1:
                break
        return self._out(out)

    def seek(self, off, whence=0):
        self._live()
        if whence == 1:
            off -= len(self._rb) - self._ri
        self._rb = b''
        self._ri = 0
        return chk(_bfs.seek(self._fd, off, whence))

    def flush(self):
        self._live()
        chk(_bfs.flush(self._fd))

    def close(self):
        if self._fd >= 0:
            fd = self._fd
            self._fd = -1
            chk(_bfs.close(fd))


class FileIO(File):
    pass


class TextIOWrapper(File):
    pass


class VfsLfs2(_vfs.VfsLfs2):
    # The root: littlefs on the board's flash through `_bfs` (a vfs.VfsLfs2, repr <VfsLfs2>, as on the firmware).

    def __init__(self):
        self._cwd = '/'

    def _p(self, p):
        return p if p.startswith('/') else self._cwd.rstrip('/') + '/' + p

    def mount(self, readonly, mkfs):
        pass

    def umount(self):
        # Open files are committed and closed on the JS side.
        _bfs.umount()

    def ilistdir(self, path):
        s = chk(_bfs.ilistdir(self._p(path)))
        f = s.split('/') if s else []
        return iter([(f[i], int(f[i + 1]), 0, int(f[i + 2])) for i in range(0, len(f), 3)])

    def stat(self, path):
        m, s, t = chk(_bfs.stat(self._p(path))).split()
        t = int(t) - _vfs.EPOCH if int(t) else 0
        return (int(m), 0, 0, 0, 0, 0, int(s), t, t, t)

    def statvfs(self, path):
        b, n, f, nm = [int(x) for x in chk(_bfs.statvfs()).split()]
        return (b, b, n, f, f, 0, 0, 0, 0, nm)

    def chdir(self, path):
        self._cwd = chk(_bfs.chdir(self._p(path)))

    def getcwd(self):
        return self._cwd

    def mkdir(self, path):
        chk(_bfs.mkdir(self._p(path)))

    def remove(self, path):
        chk(_bfs.remove(self._p(path)))

    def rmdir(self, path):
        chk(_bfs.remove(self._p(path)))

    def rename(self, old, new):
        chk(_bfs.rename(self._p(old), self._p(new)))

    def open(self, path, mode='r'):
        fd = chk(_bfs.open(self._p(path), mode))
        text = 'b' not in mode
        return (TextIOWrapper if text else FileIO)(self, fd, text, any(c in mode for c in 'wax+'))


# What the filesystem raises comes from the firmware's C code on a board: no frames of this file.
for _cls, _names in (
    (File, ('write', 'readinto', 'read', 'readline', 'seek', 'tell', 'flush', 'close')),
    (VfsLfs2, ('umount', 'ilistdir', 'stat', 'statvfs', 'chdir', 'mkdir', 'remove', 'rmdir', 'rename', 'open')),
):
    for _n in _names:
        setattr(_cls, _n, bare(getattr(_cls, _n)))

# esp32's inisetup message for a filesystem it cannot mount.
_CORRUPT = """The filesystem appears to be corrupted. If you had important data there, you
may want to make a flash snapshot to try to recover it. Otherwise, perform
factory reprogramming of MicroPython firmware (completely erase flash, followed
by firmware programming).
"""

_vfs.wrap(bare)
del sys.modules['_vfs']  # a runtime module: not the user's to see


def boot():
    global _dev
    # The device is opened while the VM's own filesystem is still the root.
    _dev = open(chk(_bfs.attach()), 'r+b')
    _target[0] = -1
    try:
        vfs.umount('/')
    except OSError:
        pass
    r = _bfs.mount()
    if r < 0:
        # esp32's inisetup repeats this until Ctrl-C; the virtual board says it once and boots on without a
        # filesystem, so no tool waits on it (see the difference table).
        print(_CORRUPT)
        print(_bfs.repair_hint())
    elif r == 1:
        print('Performing initial setup')
    if r >= 0:
        vfs.mount(VfsLfs2(), '/')
        os.chdir('/')
        _vfs.install(set_entries)
