# boardctl mount: a host folder as a filesystem at /remote. Every call is one request to the host over the
# REPL link itself: the request leaves on stdout inside a frame the host takes out of the stream (so program
# output around it is untouched), the answer comes back on stdin. Sent by the client to any board, real
# firmware included, so it uses only what every port with os.mount has. The client runs it as the body of
# a function (see protocol/mount/mounted-board.ts) and replaces KEY with this mount's frame key.
import os
import sys
import io
import time
import micropython

KEY = b'@KEY@'
# Requests are numbered, from after the last number the host answered (this mount's earlier runs included).
seq = @SEQ@
# An answer that stops coming for this long (ms; a byte the link lost) fails the call instead of waiting forever.
QUIET = @QUIET@
out = sys.stdout.buffer
inp = sys.stdin.buffer
try:
    import select
    poller = select.poll()
    poller.register(sys.stdin, 1)
except Exception:
    # A port whose stdin cannot be polled waits as long as it takes.
    poller = None
# Bytes a frame may not carry as they are (the raw REPL's Ctrl-D, cooked stdout's CR/LF, the frame marks):
# ESC + (byte ^ 0x40), ESC first, as the host's unescape expects.
ESCAPES = tuple((bytes((b,)), bytes((27, b ^ 64))) for b in (27, 4, 10, 13, 23, 24))
CHUNK = 8192
# A port without gmtime (qemu's) gets the host's Unix times as they are, as mpremote gives them.
EPOCH = 946684800 if hasattr(time, 'gmtime') and time.gmtime(0)[0] == 2000 else 0
hdr = bytearray(4)
check = bytearray(2)
one = bytearray(1)


def fill(buf):
    mv = memoryview(buf)
    i = 0
    while i < len(mv):
        if poller and not poller.poll(QUIET):
            raise OSError(110)
        k = inp.readinto(mv[i:])
        if k:
            i += k


def call(cmd, *fields, data=b'', into=None):
    # One request; returns the answer's bytes (or its length, read straight into `into`). A request whose answer
    # arrives damaged or not at all is sent again with its number: the host answers a number it has just answered
    # with the same answer, so a write, rename or mkdir is done once whatever the link does to the answer.
    global seq
    seq += 1
    body = ('%x:' % seq).encode() + cmd + b'\0'.join(f if isinstance(f, bytes) else str(f).encode() for f in fields)
    if data:
        body += b'\0' + data
    for a, b in ESCAPES:
        body = body.replace(a, b)
    # The check lets the host tell a request the link damaged, which it answers with errno 0: sent again.
    frame = b'\x18' + KEY + ('%x,%x;' % (len(body), sum(body) & 0xFFFF)).encode() + body + b'\x17'
    intr = False
    # Ctrl-C would interrupt in the middle of an answer; the host holds it back until the answer is out.
    micropython.kbd_intr(-1)
    try:
        # Three tries; a request or answer damaged every time is EIO.
        ok, n = False, 5
        for _ in range(3):
            out.write(frame)
            try:
                while True:
                    fill(one)
                    if one[0] == 43 or one[0] == 45:
                        break
                    # A Ctrl-C sent before the host saw this request (anything else typed meanwhile is dropped)
                    intr = intr or one[0] == 3
                fill(hdr)
                fill(check)
                n = int.from_bytes(hdr, 'little')
                ok = one[0] == 43
                if not ok:
                    # An errno comes with its 16 bits inverted; 0 asks for the request again.
                    if n < 0x10000 and int.from_bytes(check, 'little') == n ^ 0xFFFF:
                        if n:
                            break
                    else:
                        n = 5
                    continue
                # The data's byte sum comes first: a byte the link changed or lost fails the answer, not the program.
                got = memoryview(into)[:n] if into is not None else bytearray(n)
                fill(got)
            except OSError:
                # Silence: the link lost a byte of the answer, or all of it.
                ok, n = False, 110
                continue
            if sum(got) & 0xFFFF == int.from_bytes(check, 'little'):
                break
            ok, n = False, 5
        if ok:
            res = n if into is not None else got
    finally:
        micropython.kbd_intr(3)
    if intr:
        raise KeyboardInterrupt
    if not ok:
        raise OSError(n or 5)
    return res


class File(io.IOBase):
    def __init__(self, fd, text):
        self.fd = fd
        self.text = text

    def readinto(self, buf):
        return call(b'R', self.fd, min(len(buf), CHUNK), into=buf)

    def read(self, n=-1):
        parts = []
        while n != 0:
            b = call(b'R', self.fd, CHUNK if n < 0 else min(n, CHUNK))
            if not b:
                break
            parts.append(b)
            if n > 0:
                n -= len(b)
        b = b''.join(parts)
        return str(b, 'utf8') if self.text else b

    def readline(self):
        b = call(b'L', self.fd)
        return str(b, 'utf8') if self.text else b

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
        if isinstance(b, str):
            b = b.encode()
        mv = memoryview(b)
        for i in range(0, len(mv), CHUNK):
            call(b'W', self.fd, data=bytes(mv[i:i + CHUNK]))
        return len(b)

    def seek(self, pos, whence=0):
        return int(call(b'K', self.fd, pos, whence))

    def tell(self):
        return self.seek(0, 1)

    def flush(self):
        pass

    def ioctl(self, req, arg):
        if req == 4:
            self.close()
        return 0

    def close(self):
        if self.fd is not None:
            fd, self.fd = self.fd, None
            call(b'C', fd)

    def __enter__(self):
        return self

    def __exit__(self, *a):
        self.close()


class RemoteFS:
    def __init__(self):
        self.cwd = '/'

    def path(self, p):
        if not p.startswith('/'):
            p = self.cwd.rstrip('/') + '/' + p
        return p.encode()

    def mount(self, readonly, mkfs):
        pass

    def umount(self):
        call(b'U')

    def chdir(self, p):
        st = self.stat(p)
        if st[0] & 0x4000 == 0:
            raise OSError(20)
        self.cwd = str(call(b'P', self.path(p)), 'utf8')

    def getcwd(self):
        return self.cwd

    def stat(self, p):
        mode, size, mtime = (int(x) for x in call(b'S', self.path(p)).split())
        mtime -= EPOCH
        return (mode, 0, 0, 0, 0, 0, size, mtime, mtime, mtime)

    def statvfs(self, p):
        return tuple(int(x) for x in call(b'V', self.path(p)).split())

    def ilistdir(self, p):
        b = call(b'D', self.path(p))
        if not b:
            return iter(())
        f = b.split(b'\0')
        return iter([(str(f[i], 'utf8'), int(f[i + 1]), 0, int(f[i + 2])) for i in range(0, len(f), 3)])

    def open(self, p, mode):
        return File(int(call(b'O', mode, self.path(p))), 'b' not in mode)

    def mkdir(self, p):
        call(b'M', self.path(p))

    def rmdir(self, p):
        call(b'X', self.path(p))

    def remove(self, p):
        call(b'Z', self.path(p))

    def rename(self, a, b):
        call(b'N', self.path(a), self.path(b))


try:
    os.umount('/remote')
except OSError:
    pass
os.mount(RemoteFS(), '/remote')
os.chdir('/remote')
if '/remote' in sys.path:
    sys.path.remove('/remote')
sys.path.insert(0, '/remote')
