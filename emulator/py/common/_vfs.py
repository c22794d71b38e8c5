# vfs.VfsLfs2 and vfs.VfsFat on user block devices (a RAM disk class as in the MicroPython docs' filesystem
# guide, an esp32.Partition), and vfs.mount() of a block device with the filesystem detected, as the firmware
# does. The filesystems run on the host (`_bdfs`, emulator/storage/blockdev-fs.ts); their blocks come from the
# Python object's readblocks/writeblocks/ioctl (or the old protocol's count/sync), called back from the host.
import io, os, sys, vfs as _rvfs, _bdfs

# The host keeps times in seconds since 1970; the board's time.time() counts from its port's epoch.
EPOCH = 946684800 if __import__('time').gmtime(0)[0] == 2000 else 0


def _result(r):
    # A block call's result as the firmware reads it (extmod/vfs_blockdev.c): None or True is success, False
    # EIO, a positive int EINVAL, anything else must convert to an int.
    if r is None or r is True:
        return 0
    if r is False:
        return -5
    if not isinstance(r, int):
        raise TypeError("can't convert %s to int" % type(r).__name__)
    return -22 if r > 0 else r


class _BlockIo:
    # The host asks for byte ranges of blocks; the extended protocol (offset argument) passes them through,
    # the simple one reads and rewrites whole blocks. An exception raised by the device stops the filesystem
    # call and reaches the caller unchanged, as it does through the firmware's C code.
    def __init__(self, bdev, bs, ext):
        self._dev = bdev
        self._bs = bs
        self._ext = ext
        self.exc = None

    def _call(self, fn, checked=True):
        try:
            r = fn()
            return _result(r) if checked else 0
        except BaseException as e:  # a Ctrl-C in the device's code too: it is raised again once the host returns
            self.exc = e
            return -5

    def check(self, r):
        if self.exc is not None:
            e, self.exc = self.exc, None
            raise e
        if isinstance(r, int) and r < 0:
            raise OSError(-r)
        return r

    def read(self, block, off, n):
        buf = bytearray(n if self._ext else self._bs)
        if self._ext:
            r = self._call(lambda: self._dev.readblocks(block, buf, off))
        else:
            r = self._call(lambda: self._dev.readblocks(block, buf))
            buf = buf[off:off + n]
        return r if r < 0 else bytes(buf).hex() if n else ''

    def write(self, block, off, hexdata):
        data = bytes.fromhex(hexdata)
        if self._ext:
            return self._call(lambda: self._dev.writeblocks(block, data, off))
        if off == 0 and len(data) == self._bs:
            return self._call(lambda: self._dev.writeblocks(block, data))
        full = bytearray(self._bs)
        r = self._call(lambda: self._dev.readblocks(block, full))
        if r < 0:
            return r
        full[off:off + len(data)] = data
        return self._call(lambda: self._dev.writeblocks(block, full))

    def erase(self, block):
        return self._call(lambda: self._dev.ioctl(6, block)) if self._ext else 0

    def sync(self):
        # What the device answers a sync is not looked at (only what it raises).
        d = self._dev
        if hasattr(d, 'ioctl'):
            return self._call(lambda: d.ioctl(3, 0), False)
        return self._call(d.sync, False) if hasattr(d, 'sync') else 0


def _geometry(bdev):
    # (block size, block count); a device without ioctl speaks the old protocol: 512-byte blocks, count().
    if not hasattr(bdev, 'ioctl'):
        return 512, bdev.count()
    return bdev.ioctl(5, 0) or 512, bdev.ioctl(4, 0)


def _disk_init(bdev):
    # FatFs's disk_initialize, at each mount and mkfs: the device's ioctl INIT; an answer other than None or 0 is
    # FR_NOT_READY, which VfsFat raises as EBUSY (an SD card not in its slot).
    if hasattr(bdev, 'ioctl'):
        r = bdev.ioctl(1, 0)
        if r is not None and r != 0:
            raise OSError(16)


def _norm(cwd, p):
    # An absolute path with '.' and '..' resolved, as FatFs and the firmware's littlefs glue resolve them.
    parts = [] if p.startswith('/') else [x for x in cwd.split('/') if x]
    for x in p.split('/'):
        if x == '..':
            if parts:
                parts.pop()
        elif x and x != '.':
            parts.append(x)
    return '/' + '/'.join(parts)


class FileIO(io.IOBase):
    # A file on a user block device; its type and repr are the firmware's (io.FileIO, io.TextIOWrapper).
    def __init__(self, fs, fd):
        self._fs = fs
        self._fd = fd

    def __repr__(self):
        name = type(self).__name__
        return '<io.%s %x>' % (name, id(self)) if self._fs._ADDR else '<io.%s>' % name

    def _live(self):
        if self._fd < 0:
            self._fs._closed()
        return self._fd

    def _out(self, d):
        return d

    def read(self, n=-1):
        d = bytes.fromhex(self._fs._c(_bdfs.read(self._live(), -1 if n is None else n)))
        return self._out(d)

    def readinto(self, buf, nbytes=-1):
        n = len(buf) if nbytes < 0 else min(nbytes, len(buf))
        d = bytes.fromhex(self._fs._c(_bdfs.read(self._live(), n)))
        buf[:len(d)] = d
        return len(d)

    def readline(self, limit=-1):
        out = bytearray()
        while limit < 0 or len(out) < limit:
            c = bytes.fromhex(self._fs._c(_bdfs.read(self._live(), 1)))
            out += c
            if not c or c == b'\n':
                break
        return self._out(bytes(out))

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
        fd = self._live()
        if isinstance(b, str):
            b = b.encode()
        return self._fs._c(_bdfs.write(fd, bytes(b).hex() if len(b) else ''))

    def seek(self, off, whence=0):
        return self._fs._c(_bdfs.seek(self._live(), off, whence))

    def tell(self):
        return self.seek(0, 1)

    def flush(self):
        self._fs._c(_bdfs.flush(self._live()))

    def close(self):
        if self._fd >= 0:
            fd, self._fd = self._fd, -1
            self._fs._c(_bdfs.close(fd))

    def ioctl(self, op, arg):
        # The stream protocol's ioctl, which import (and anything reading the file as a stream) uses.
        if op == 1:
            self.flush()
        elif op == 4:
            self.close()
        else:
            return -22
        return 0

    def __enter__(self):
        return self

    def __exit__(self, *a):
        self.close()


class TextIOWrapper(FileIO):
    def _out(self, d):
        return d.decode()


class _BlockVfs:
    # As on the firmware, the constructor mounts the device, so the object's methods work before, and without,
    # vfs.mount().
    def __init__(self, bdev):
        self._bdev = bdev
        self._h = 0
        self._cwd = '/'
        self._io = None
        self._ro = False
        self._vol()

    def _c(self, r):
        return self._io.check(r)

    def _w(self, path):
        # path, for a change of the filesystem
        if self._ro:
            raise OSError(30)
        return self._p(path)

    def _p(self, p):
        return _norm(self._cwd, p.decode() if isinstance(p, bytes) else p)

    def _vol(self):
        # The host's handle of the mounted volume; mounted again by the first call that needs it after umount().
        if not self._h:
            bs, n = _geometry(self._bdev)
            self._io = _BlockIo(self._bdev, bs, self._EXT)
            self._h = self._c(self._mount(self._io, bs, n))
        return self._h

    def mount(self, readonly, mkfs):
        # Mounted read-only, the firmware's filesystem drops the device's writeblocks for good (vfs_fat.c,
        # vfs_lfsx.c): from then on every change fails with EROFS, as FatFs's write protection answers it. The
        # volume itself was mounted by the constructor.
        self._ro = self._ro or bool(readonly)

    def umount(self):
        if self._h:
            h, self._h = self._h, 0
            self._c(_bdfs.umount(h))

    def ilistdir(self, path='.'):
        s = self._c(_bdfs.ilistdir(self._vol(), self._p(path)))
        f = s.split('/') if s else []
        name = (lambda x: x.encode()) if isinstance(path, bytes) else (lambda x: x)
        return iter([(name(f[i]), int(f[i + 1]), 0, int(f[i + 2])) for i in range(0, len(f), 3)])

    def stat(self, path):
        m, s, t = self._c(_bdfs.stat(self._vol(), self._p(path))).split()
        t = int(t) - EPOCH if int(t) else 0
        return (int(m), 0, 0, 0, 0, 0, int(s), t, t, t)

    def statvfs(self, path):
        b, n, f, nm = [int(x) for x in self._c(_bdfs.statvfs(self._vol())).split()]
        return (b, b, n, f, f, 0, 0, 0, 0, nm)

    def chdir(self, path):
        # Both FatFs and the firmware's littlefs glue answer ENOENT for a path that is not a directory.
        self._vol()
        p = self._p(path)
        try:
            d = self.stat(p)[0] & 0x4000
        except OSError:
            d = 0
        if not d:
            raise OSError(2)
        self._cwd = p

    def getcwd(self):
        self._vol()
        return self._cwd

    def mkdir(self, path):
        self._c(_bdfs.mkdir(self._vol(), self._w(path)))

    def remove(self, path):
        self._c(_bdfs.remove(self._vol(), self._w(path)))

    def rmdir(self, path):
        self._c(_bdfs.rmdir(self._vol(), self._w(path)))

    def rename(self, old, new):
        self._c(_bdfs.rename(self._vol(), self._w(old), self._w(new)))

    def open(self, path, mode='r'):
        p = self._w(path) if any(c in mode for c in 'wax+') else self._p(path)
        fd = self._c(_bdfs.open(self._vol(), p, mode))
        return (FileIO if 'b' in mode else TextIOWrapper)(self, fd)


class VfsLfs2(_BlockVfs):
    _EXT = True
    _ADDR = False

    def __init__(self, block_dev, readsize=32, progsize=32, lookahead=32, mtime=True):
        self._prog = progsize
        self._mtime = mtime
        super().__init__(block_dev)

    def _mount(self, bio, bs, n):
        return _bdfs.mount_lfs(bio, bs, n, self._prog, self._mtime)

    def _closed(self):
        raise ValueError

    @staticmethod
    def mkfs(block_dev, readsize=32, progsize=32, lookahead=32):
        bs, n = _geometry(block_dev)
        bio = _BlockIo(block_dev, bs, True)
        bio.check(_bdfs.mkfs_lfs(bio, bs, n, progsize))

    def __repr__(self):
        return '<VfsLfs2>'


class VfsFat(_BlockVfs):
    _EXT = False
    _ADDR = True

    def __init__(self, block_dev):
        # f_mount: a device that holds no FAT volume (FR_NO_FILESYSTEM) is taken, for mkfs() or
        # mount(mkfs=True) to format; until one is there each call that needs it looks again and raises ENODEV.
        self._nofs = False
        try:
            super().__init__(block_dev)
        except OSError as e:
            if e.errno != 19:
                raise
            self._nofs = True

    def _vol(self):
        # FatFs's find_volume initialises the device (its ioctl INIT) before it reads the volume.
        if not self._h:
            _disk_init(self._bdev)
        return super()._vol()

    def mount(self, readonly, mkfs):
        # What the constructor found decides (vfs_fat.c): a device that had no volume then is formatted with
        # mkfs, FAT12/16 only (no FAT32 fallback, unlike mkfs()), or raises ENODEV, even if one is there now.
        super().mount(readonly, mkfs)
        if self._nofs:
            if not mkfs:
                raise OSError(19)
            self._format(False)
            self._nofs = False

    def _format(self, fat32):
        # f_mkfs: the device's INIT, then its write protection (EROFS); it leaves the volume unmounted.
        self.umount()
        _disk_init(self._bdev)
        if self._ro:
            raise OSError(30)
        bs, n = _geometry(self._bdev)
        bio = _BlockIo(self._bdev, bs, False)
        bio.check(_bdfs.mkfs_fat(bio, bs, n, fat32))

    def stat(self, path):
        # The root is answered without FatFs (vfs_fat.c): its date is 2000-01-01, even with no volume there.
        if path in ('', '/', b'', b'/'):
            return (0x4000, 0, 0, 0, 0, 0, 0) + (946684800 - EPOCH,) * 3
        return super().stat(path)

    def _mount(self, bio, bs, n):
        return _bdfs.mount_fat(bio, bs, n)

    def _closed(self):
        raise OSError(22)

    @staticmethod
    def mkfs(block_dev):
        # As the firmware: a VfsFat on the device (which raises what the device does, EBUSY when its INIT
        # fails), then f_mkfs, with FAT32 where FAT12/16 gives up.
        VfsFat(block_dev)._format(True)

    def __repr__(self):
        return '<VfsFat>'


def _detect(bdev):
    # As the firmware's mp_vfs_autodetect: littlefs keeps "littlefs" at offset 8 of its superblock in block 0 or 1,
    # read with the extended protocol; what a device raises there (a simple-protocol readblocks, as an SDCard's,
    # takes no offset) is ignored, and anything else is tried as FAT.
    buf = bytearray(8)
    try:
        for block in (0, 1):
            bdev.readblocks(block, buf, 8)
            if buf == b'littlefs':
                return VfsLfs2(bdev)
    except Exception:
        pass
    return VfsFat(bdev)


def mount(fs=None, mount_point=None, *, readonly=False, mkfs=False):
    if fs is None:
        return _rvfs.mount()
    if not hasattr(fs, 'mount') and hasattr(fs, 'readblocks'):
        fs = _detect(fs)
    return _rvfs.mount(fs, mount_point, readonly=readonly, mkfs=mkfs)


class _VfsModule:
    __name__ = 'vfs'
    VfsLfs2 = VfsLfs2
    VfsFat = VfsFat
    mount = staticmethod(mount)
    umount = staticmethod(_rvfs.umount)

    def __repr__(self):
        return "<module 'vfs'>"


def wrap(bare):
    # Once per VM (the classes outlive soft resets, as the firmware's C code): what the filesystems raise comes
    # from C code on a board, so bare() drops this file's frames from it.
    for cls, names in (
        (FileIO, ('read', 'readinto', 'readline', 'write', 'seek', 'tell', 'flush', 'close')),
        (_BlockVfs, ('__init__', 'umount', 'ilistdir', 'stat', 'statvfs', 'chdir', 'mkdir', 'remove', 'rmdir', 'rename',
                     'open')),
        (VfsLfs2, ('__init__',)),
        (VfsFat, ('__init__', 'mount', 'stat')),
    ):
        for n in names:
            setattr(cls, n, bare(getattr(cls, n)))
    for cls in (VfsLfs2, VfsFat):
        cls.mkfs = staticmethod(bare(cls.mkfs))
    _VfsModule.mount = staticmethod(bare(mount))


def install(set_entries):
    # At each boot: `import vfs` finds this module (no VfsPosix: the ESP32 and RP2 firmware have none); os gets the
    # same names, in its table (set_entries: the runtime's way to change a built-in module's).
    sys.modules['vfs'] = _VfsModule()
    set_entries(os.__dict__, {'VfsLfs2': VfsLfs2, 'VfsFat': VfsFat, 'mount': _VfsModule.mount})
