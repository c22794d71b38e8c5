// Makes littlefs on the board's flash the VM's root filesystem, as MicroPython's VfsLfs2 is on a real board.
// Python calls the `_bfs` functions synchronously. JS exceptions would escape the VM, so every function returns
// a negative MicroPython errno on failure and the Python side raises OSError(errno).
//
// Bytes cross the boundary through an emscripten character device: a Python write to it lands directly in the
// target file (the device sees the VM's heap), and reads copy staged bytes into a bytearray — a memcpy either
// way. Proxy conversion of bytes costs microseconds per byte; hex strings are the fallback when the device
// cannot be registered. Nothing is buffered on the Python side, so a VM torn down without closing its files
// (soft reset) loses nothing: the next mount closes and commits them, as MicroPython's finalisers would.
import type { FlashStore } from '../flash-store.js';
import { BlockDevice } from '../littlefs/block-device.js';
import { LFS_ERRNO, LfsError } from '../littlefs/errors.js';
import type { LfsFile, OpenFlags, Whence } from '../littlefs/file.js';
import { LittleFs } from '../littlefs/lfs.js';
import type { VmPlugin } from '../vm/host-api.js';

/** MicroPython's esp32 default boot.py, written on first boot. */
export const DEFAULT_BOOT_PY =
  '# This file is executed on every boot (including wake-boot from deepsleep)\n#import esp\n#esp.osdebug(None)\n#import webrepl\n#webrepl.start()\n';

const S_IFDIR = 0x4000;
const S_IFREG = 0x8000;

export interface VmFsOptions {
  flash: FlashStore;
  offset: number;
  size: number;
  blockSize?: number;
  /**
   * Whose boot sequence to follow. esp32 (default): VfsLfs2 with progsize 32; a blank region is formatted and
   * gets boot.py, an unmountable one stops in inisetup's fs_corrupted() loop. rp2: progsize 256, and _boot.py
   * formats the region whenever mounting fails, without writing boot.py.
   */
  port?: 'esp32' | 'rp2';
}

/** Emscripten FS surface used to register the transfer device (present on the pyscript build's Module). */
interface EmFs {
  makedev(major: number, minor: number): number;
  registerDevice(dev: number, ops: object): void;
  mkdev(path: string, dev: number): void;
  unlink(path: string): void;
}

let deviceSeq = 0;

function parseMode(mode: string): OpenFlags {
  const plus = mode.includes('+');
  if (mode.includes('w')) return { write: true, read: plus, create: true, trunc: true };
  if (mode.includes('a')) return { write: true, read: plus, create: true, append: true };
  if (mode.includes('x')) return { write: true, read: plus, create: true, excl: true };
  return { read: true, write: plus };
}

/** The first two blocks read as erased flash: a board that never had a filesystem. */
function regionErased(flash: FlashStore, offset: number, blockSize: number): boolean {
  return flash.read(offset, 2 * blockSize).every((b) => b === 0xff);
}

export function createVmFsPlugin(opts: VmFsOptions): VmPlugin {
  const blockSize = opts.blockSize ?? 4096;
  const rp2 = opts.port === 'rp2';
  const lfsOptions = { progSize: rp2 ? 256 : 32 };
  let fs: LittleFs | undefined;
  const files = new Map<number, LfsFile>();
  let nextFd = 3;
  // The file device writes go to, the error that stopped the last one, and bytes staged for device reads.
  let writeFd = -1;
  let writeErr = 0;
  let outgoing: Uint8Array = new Uint8Array(0);

  const errno = (err: unknown): number => -(err instanceof LfsError ? err.errno : LFS_ERRNO.EIO);
  const guard = <R>(fn: (lfs: LittleFs) => R): R | number => {
    try {
      if (!fs) return -LFS_ERRNO.ENODEV;
      return fn(fs);
    } catch (err) {
      return errno(err);
    }
  };
  const withFile = <R>(fd: number, fn: (f: LfsFile) => R): R | number =>
    guard(() => {
      const f = files.get(fd);
      if (!f) throw new LfsError('EBADF');
      return fn(f);
    });

  const stageRead = (fd: number, n: number) =>
    withFile(fd, (f) => {
      outgoing = f.read(Math.max(0, n));
      return outgoing.length;
    });
  const writeBytes = (fd: number, data: Uint8Array) => withFile(fd, (f) => f.write(data));

  const bfs = {
    /** Register the transfer device; returns its path, or null to use hex strings. */
    attach(): string | null {
      const emFs = (globalThis as { Module?: { FS?: EmFs } }).Module?.FS;
      if (!emFs) return null;
      try {
        const path = `/dev/bfs${deviceSeq}`;
        const dev = emFs.makedev(240, deviceSeq++);
        emFs.registerDevice(dev, {
          open() {},
          close() {},
          write(_s: unknown, buf: Uint8Array, off: number, len: number) {
            // A short count tells Python to fetch the error: throwing here would carry emscripten's errno.
            const r = writeBytes(writeFd, buf.subarray(off, off + len));
            writeErr = r < 0 ? r : 0;
            return r < 0 ? 0 : r;
          },
          read(_s: unknown, buf: Uint8Array, off: number, len: number) {
            const n = Math.min(len, outgoing.length);
            buf.set(outgoing.subarray(0, n), off);
            outgoing = outgoing.subarray(n);
            return n;
          },
        });
        emFs.mkdev(path, dev);
        return path;
      } catch {
        return null;
      }
    },

    /** Mount at boot: 0 = mounted, 1 = formatted (say so, as inisetup does), 2 = formatted silently, <0 = corrupt. */
    mount(): number {
      for (const f of files.values()) {
        try { f.close(); } catch { /* a soft reset closes what it can, like the finaliser sweep */ }
      }
      files.clear();
      fs = undefined;
      try {
        const bd = new BlockDevice(opts.flash, opts.offset, opts.size, blockSize);
        if (!rp2 && regionErased(opts.flash, opts.offset, blockSize)) {
          fs = LittleFs.format(bd, lfsOptions);
          fs.writeFile('/boot.py', new TextEncoder().encode(DEFAULT_BOOT_PY));
          return 1;
        }
        try {
          fs = LittleFs.mount(bd, lfsOptions);
          return 0;
        } catch (err) {
          if (!rp2) throw err;
          fs = LittleFs.format(bd, lfsOptions);
          return 2;
        }
      } catch (err) {
        return errno(err);
      }
    },

    umount(): number {
      return guard((lfs) => {
        lfs.unmount();
        files.clear();
        fs = undefined;
        return 0;
      });
    },

    /** "mode size mtime" */
    stat: (path: string) =>
      guard((lfs) => {
        const st = lfs.stat(path);
        return `${st.type === 'dir' ? S_IFDIR : S_IFREG} ${st.size} ${st.mtime ?? 0}`;
      }),

    /** "name/type/size/name/type/size…" ('/' cannot occur in a name). */
    ilistdir: (path: string) =>
      guard((lfs) => lfs.readdir(path).map((e) => `${e.name}/${e.type === 'dir' ? S_IFDIR : S_IFREG}/${e.size}`).join('/')),

    /** The normalised path when it names a directory. */
    chdir: (path: string) =>
      guard((lfs) => {
        if (lfs.stat(path).type !== 'dir') throw new LfsError('ENOTDIR', path);
        const parts: string[] = [];
        for (const p of path.split('/')) {
          if (p === '..') parts.pop();
          else if (p && p !== '.') parts.push(p);
        }
        return '/' + parts.join('/');
      }),

    /** "bsize blocks bfree namemax" */
    statvfs: () =>
      guard((lfs) => {
        const v = lfs.statvfs();
        return `${v.blockSize} ${v.blockCount} ${v.blocksFree} ${v.nameMax}`;
      }),

    mkdir: (path: string) => guard((lfs) => (lfs.mkdir(path), 0)),
    remove: (path: string) => guard((lfs) => (lfs.remove(path), 0)),
    rename: (from: string, to: string) => guard((lfs) => (lfs.rename(from, to), 0)),

    open: (path: string, mode: string) =>
      guard((lfs) => {
        const fd = nextFd++;
        files.set(fd, lfs.open(path, parseMode(mode)));
        return fd;
      }),

    close: (fd: number) =>
      withFile(fd, (f) => {
        files.delete(fd);
        f.close();
        return 0;
      }),

    flush: (fd: number) => withFile(fd, (f) => (f.sync(), 0)),
    seek: (fd: number, off: number, whence: number) => withFile(fd, (f) => f.seek(off, whence as Whence)),

    /** Direct device writes to this file. */
    target: (fd: number) => withFile(fd, () => ((writeFd = fd), 0)),
    /** Why the last device write came up short (negative errno). */
    lasterr: () => writeErr || -LFS_ERRNO.EIO,
    /** Stage up to n bytes for the device; returns how many. */
    read: stageRead,
    writehex: (fd: number, hex: string) => writeBytes(fd, Buffer.from(hex, 'hex')),
    readhex: (fd: number, n: number) => {
      const r = stageRead(fd, n);
      return r < 0 ? r : Buffer.from(outgoing).toString('hex');
    },
  };

  return { jsModules: { _bfs: bfs }, bootSource: BOOT_SOURCE };
}

// Runs inside a function so the REPL's globals stay as clean as on a real board.
const BOOT_SOURCE = `
def _bfs_boot():
    import vfs, os, io, _bfs
    _dp = _bfs.attach()
    try:
        _dev = open(_dp, 'r+b') if _dp else None
    except OSError:
        # The root is no longer the host VfsPosix (boot run again in the same VM): use the hex path.
        _dev = None
    _EPOCH = 946684800 if __import__('time').gmtime(0)[0] == 2000 else 0

    def chk(r):
        if isinstance(r, int) and r < 0:
            raise OSError(-r)
        return r

    target = [-1]

    def put(fd, b):
        if _dev:
            if target[0] != fd:
                chk(_bfs.target(fd))
                target[0] = fd
            if _dev.write(b) != len(b):
                chk(_bfs.lasterr())
            return len(b)
        return chk(_bfs.writehex(fd, bytes(b).hex()))

    def get(fd, n):
        if _dev:
            m = chk(_bfs.read(fd, n))
            b = bytearray(m)
            mv = memoryview(b)
            got = 0
            while got < m:
                got += _dev.readinto(mv[got:])
            return bytes(b)
        return bytes.fromhex(chk(_bfs.readhex(fd, n)))

    class File(io.IOBase):
        def __init__(self, fd, text, w):
            self._fd = fd
            self._text = text
            self._w = w
            self._rb = b''
            self._ri = 0

        def _live(self):
            if self._fd < 0:
                raise OSError(9)

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

        def readinto(self, buf):
            self._live()
            n = len(buf)
            avail = len(self._rb) - self._ri
            if not avail:
                if n >= 512:
                    d = get(self._fd, n)
                    buf[:len(d)] = d
                    return len(d)
                self._rb = get(self._fd, 512)
                self._ri = 0
                avail = len(self._rb)
                if not avail:
                    return 0
            m = min(n, avail)
            buf[:m] = self._rb[self._ri:self._ri + m]
            self._ri += m
            return m

        def _raw(self, n):
            head = self._rb[self._ri:self._ri + n]
            self._ri += len(head)
            return head + get(self._fd, n - len(head)) if len(head) < n else head

        def read(self, n=-1):
            self._live()
            if n is None or n < 0:
                n = 0x7fffffff
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
                    self._rb = get(self._fd, 512)
                    self._ri = 0
                    if not self._rb:
                        break
                i = self._rb.find(b'\\n', self._ri)
                end = len(self._rb) if i < 0 else i + 1
                if limit >= 0:
                    end = min(end, self._ri + limit - len(out))
                out.extend(self._rb[self._ri:end])
                self._ri = end
                if i >= 0 and end == i + 1:
                    break
            return self._out(out)

        def readlines(self):
            return [l for l in self]

        def __iter__(self):
            return self

        def __next__(self):
            l = self.readline()
            if not l:
                raise StopIteration
            return l

        def seek(self, off, whence=0):
            self._live()
            if whence == 1:
                off -= len(self._rb) - self._ri
            self._rb = b''
            self._ri = 0
            return chk(_bfs.seek(self._fd, off, whence))

        def tell(self):
            return self.seek(0, 1)

        def flush(self):
            self._live()
            chk(_bfs.flush(self._fd))

        def close(self):
            if self._fd >= 0:
                fd = self._fd
                self._fd = -1
                chk(_bfs.close(fd))

        def ioctl(self, op, arg):
            if op == 1:
                self.flush()
                return 0
            if op == 4:
                self.close()
                return 0
            return -22

        def __enter__(self):
            return self

        def __exit__(self, *a):
            self.close()

    class Vfs:
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
            t = int(t) - _EPOCH if int(t) else 0
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
            return File(fd, 'b' not in mode, any(c in mode for c in 'wax+'))

    try:
        vfs.umount('/')
    except OSError:
        pass
    r = _bfs.mount()
    if r < 0:
        import time, micropython
        micropython.kbd_intr(3)
        while True:
            print("""The filesystem appears to be corrupted. If you had important data there, you
may want to make a flash snapshot to try to recover it. Otherwise, perform
factory reprogramming of MicroPython firmware (completely erase flash, followed
by firmware programming).
""")
            time.sleep(3)
    if r == 1:
        print('Performing initial setup')
    vfs.mount(Vfs(), '/')
    os.chdir('/')

_bfs_boot()
del _bfs_boot
`;
