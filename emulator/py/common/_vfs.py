# vfs.VfsLfs2 and vfs.VfsFat on user block devices (a RAM disk class as in the MicroPython docs' filesystem
# guide, an esp32.Partition), and vfs.mount() of a block device with the filesystem detected, as the firmware
# does. The filesystems run on the host (`_bdfs`, emulator/storage/blockdev-fs.ts); their blocks come from the
# Python object's readblocks/writeblocks/ioctl, called back from the host.
import io, os, sys, vfs as _rvfs, _bdfs


def _chk(r):
    if isinstance(r, int) and r < 0:
        raise OSError(-r)
    return r


class _BlockIo:
    # The host asks for byte ranges of blocks; the extended protocol (offset argument) passes them through,
    # the simple one reads and rewrites whole blocks.
    def __init__(self, bdev, bs, ext):
        self._dev = bdev
        self._bs = bs
        self._ext = ext

    def read(self, block, off, n):
        try:
            if self._ext:
                buf = bytearray(n)
                self._dev.readblocks(block, buf, off)
            else:
                full = bytearray(self._bs)
                self._dev.readblocks(block, full)
                buf = full[off:off + n]
            return bytes(buf).hex() if n else ''
        except Exception:
            return -5

    def write(self, block, off, hexdata):
        try:
            data = bytes.fromhex(hexdata)
            if self._ext:
                self._dev.writeblocks(block, data, off)
            elif off == 0 and len(data) == self._bs:
                self._dev.writeblocks(block, data)
            else:
                full = bytearray(self._bs)
                self._dev.readblocks(block, full)
                full[off:off + len(data)] = data
                self._dev.writeblocks(block, full)
            return 0
        except Exception:
            return -5

    def erase(self, block):
        try:
            if self._ext:
                self._dev.ioctl(6, block)
            return 0
        except Exception:
            return -5


def _geometry(bdev):
    bs = bdev.ioctl(5, 0) or 512
    return bs, bdev.ioctl(4, 0)


class _File(io.IOBase):
    def __init__(self, fd, text):
        self._fd = fd
        self._text = text

    def _live(self):
        if self._fd < 0:
            raise OSError(9)

    def read(self, n=-1):
        self._live()
        d = bytes.fromhex(_chk(_bdfs.read(self._fd, -1 if n is None else n)))
        return d.decode() if self._text else d

    def readinto(self, buf, nbytes=-1):
        n = len(buf) if nbytes < 0 else min(nbytes, len(buf))
        self._live()
        d = bytes.fromhex(_chk(_bdfs.read(self._fd, n)))
        buf[:len(d)] = d
        return len(d)

    def readline(self):
        out = bytearray()
        while True:
            c = bytes.fromhex(_chk(_bdfs.read(self._fd, 1)))
            out += c
            if not c or c == b'\n':
                break
        return out.decode() if self._text else bytes(out)

    def readlines(self):
        return list(self)

    def __iter__(self):
        return self

    def __next__(self):
        line = self.readline()
        if not line:
            raise StopIteration
        return line

    def write(self, b):
        self._live()
        if isinstance(b, str):
            b = b.encode()
        return _chk(_bdfs.write(self._fd, bytes(b).hex() if len(b) else ''))

    def seek(self, off, whence=0):
        self._live()
        return _chk(_bdfs.seek(self._fd, off, whence))

    def tell(self):
        return self.seek(0, 1)

    def flush(self):
        self._live()
        _chk(_bdfs.flush(self._fd))

    def close(self):
        if self._fd >= 0:
            fd, self._fd = self._fd, -1
            _chk(_bdfs.close(fd))

    def __enter__(self):
        return self

    def __exit__(self, *a):
        self.close()


class _BlockVfs:
    # As on the firmware, the constructor mounts the device (ENODEV when it holds no such filesystem), so the
    # object's methods work before, and without, vfs.mount().
    def __init__(self, bdev):
        self._bdev = bdev
        self._h = 0
        self._cwd = '/'
        self.mount(False, False)

    def _p(self, p):
        return p if p.startswith('/') else self._cwd.rstrip('/') + '/' + p

    def mount(self, readonly, mkfs):
        if self._h:
            return
        bs, n = _geometry(self._bdev)
        self._h = _chk(self._mount(_BlockIo(self._bdev, bs, self._EXT), bs, n))

    def umount(self):
        if self._h:
            h, self._h = self._h, 0
            _chk(_bdfs.umount(h))

    def ilistdir(self, path='.'):
        s = _chk(_bdfs.ilistdir(self._h, self._p(path)))
        f = s.split('/') if s else []
        return iter([(f[i], int(f[i + 1]), 0, int(f[i + 2])) for i in range(0, len(f), 3)])

    def stat(self, path):
        m, s, t = _chk(_bdfs.stat(self._h, self._p(path))).split()
        return (int(m), 0, 0, 0, 0, 0, int(s), int(t), int(t), int(t))

    def statvfs(self, path):
        b, n, f, nm = [int(x) for x in _chk(_bdfs.statvfs(self._h)).split()]
        return (b, b, n, f, f, 0, 0, 0, 0, nm)

    def chdir(self, path):
        p = self._p(path)
        if self.stat(p)[0] & 0x4000 == 0:
            raise OSError(20)
        self._cwd = p

    def getcwd(self):
        return self._cwd

    def mkdir(self, path):
        _chk(_bdfs.mkdir(self._h, self._p(path)))

    def remove(self, path):
        _chk(_bdfs.remove(self._h, self._p(path)))

    rmdir = remove

    def rename(self, old, new):
        _chk(_bdfs.rename(self._h, self._p(old), self._p(new)))

    def open(self, path, mode='r'):
        return _File(_chk(_bdfs.open(self._h, self._p(path), mode)), 'b' not in mode)


class VfsLfs2(_BlockVfs):
    _EXT = True

    def __init__(self, block_dev, readsize=32, progsize=32, lookahead=32, mtime=True):
        self._prog = progsize
        super().__init__(block_dev)

    def _mount(self, bio, bs, n):
        return _bdfs.mount_lfs(bio, bs, n, self._prog)

    @staticmethod
    def mkfs(block_dev, readsize=32, progsize=32, lookahead=32):
        bs, n = _geometry(block_dev)
        _chk(_bdfs.mkfs_lfs(_BlockIo(block_dev, bs, True), bs, n, progsize))

    def __repr__(self):
        return '<VfsLfs2>'


class VfsFat(_BlockVfs):
    _EXT = False

    def _mount(self, bio, bs, n):
        return _bdfs.mount_fat(bio, bs, n)

    @staticmethod
    def mkfs(block_dev):
        bs, n = _geometry(block_dev)
        _chk(_bdfs.mkfs_fat(_BlockIo(block_dev, bs, False), bs, n))

    def __repr__(self):
        return '<VfsFat>'


def _detect(bdev):
    # littlefs keeps "littlefs" at offset 8 of its superblock in block 0 or 1; anything else is tried as FAT.
    bs = bdev.ioctl(5, 0) or 512
    buf = bytearray(bs)
    for block in (0, 1):
        # The extended protocol's readblocks may require its offset argument; the simple one takes none.
        try:
            bdev.readblocks(block, buf, 0)
        except TypeError:
            bdev.readblocks(block, buf)
        if buf[8:16] == b'littlefs':
            return VfsLfs2(bdev)
    return VfsFat(bdev)


def mount(fs=None, mount_point=None, *, readonly=False):
    if fs is None:
        return _rvfs.mount()
    if not hasattr(fs, 'mount') and hasattr(fs, 'readblocks'):
        fs = _detect(fs)
    return _rvfs.mount(fs, mount_point, readonly=readonly)


class _VfsModule:
    __name__ = 'vfs'
    VfsLfs2 = VfsLfs2
    VfsFat = VfsFat
    mount = staticmethod(mount)
    umount = staticmethod(_rvfs.umount)

    def __repr__(self):
        return "<module 'vfs'>"


def install(set_entries):
    # `import vfs` finds this module (no VfsPosix: the ESP32 and RP2 firmware have none); os gets the same names,
    # in its table (set_entries: the runtime's way to change a built-in module's).
    sys.modules['vfs'] = _VfsModule()
    set_entries(os.__dict__, {'VfsLfs2': VfsLfs2, 'VfsFat': VfsFat, 'mount': mount})
