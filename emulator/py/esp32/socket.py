# socket as the ESP32 port has it (library/socket.rst, ports/esp32/modsocket.c over lwIP): TCP and UDP sockets
# whose other ends are host sockets on the main thread (emulator/net/host.ts), with lwIP's constants and the
# errnos the port raises. Sockets are streams (read, readline, write, select.poll) as on the port.
import _net, io as _io, json as _json
from micropython import const

AF_INET = const(2)
AF_INET6 = const(10)
SOCK_STREAM = const(1)
SOCK_DGRAM = const(2)
SOCK_RAW = const(3)
IPPROTO_IP = const(0)
IPPROTO_ICMP = const(1)
IPPROTO_TCP = const(6)
IPPROTO_UDP = const(17)
SOL_SOCKET = const(0xFFF)
SO_REUSEADDR = const(0x0004)
SO_KEEPALIVE = const(0x0008)
SO_BROADCAST = const(0x0020)
TCP_NODELAY = const(1)
IP_ADD_MEMBERSHIP = const(3)

_EINTR = const(4)
_EAGAIN = const(11)
_EBADF = const(9)
_EINPROGRESS = const(119)
_ENOTCONN = const(128)
_DETAILED = const(-1000)
_POLL = const(3)
_CLOSE = const(4)
_POLLIN = const(1)
_POLLNVAL = const(0x20)
_CHUNK = const(4096)


def _raise(r):
    if r == _DETAILED:
        f = _json.loads(_net.last_error())
        if 'value' in f:
            raise ValueError(f['value'])
        if 'errno' in f:
            raise OSError(f['errno'])
        raise OSError(f['tls'], f['name'])
    raise OSError(-r)


def _call(fn, *args):
    # A wait cut short by Ctrl-C returns EINTR: the loop's branch is where the VM raises the KeyboardInterrupt.
    while True:
        r = fn(*args)
        if r != -_EINTR:
            if isinstance(r, int) and r < 0:
                _raise(r)
            return r


def _ip(host):
    parts = host.split('.')
    if len(parts) == 4 and all(p.isdigit() for p in parts):
        return host
    return _call(_net.resolve, host)


def getaddrinfo(host, port, af=0, type=0, proto=0, flags=0):
    return [(AF_INET, type or SOCK_STREAM, proto, '', (_ip(host), port))]


class socket(_io.IOBase):
    def __init__(self, af=AF_INET, type=SOCK_STREAM, proto=0, _id=None):
        if not all(isinstance(a, int) for a in (af, type, proto)):
            raise TypeError("can't convert to int")  # the port reads them with mp_obj_get_int
        # A TCP socket is connected once connect() succeeds or accept() made it; before, recv is ENOTCONN.
        self._connected = _id is not None
        self._id = _net.socket() if _id is None else _id
        self._type = type
        self._timeout = -1
        self._port = 0
        self._buf = b''

    def __repr__(self):
        return '<socket>'  # ports/esp32/modsocket.c's type has no print function (modlwip's state=... is other ports')

    def _sid(self):
        if self._id is None:
            raise OSError(_EBADF)
        return self._id

    def settimeout(self, value):
        self._timeout = -1 if value is None else int(value * 1000)

    def setblocking(self, flag):
        self._timeout = -1 if flag else 0

    def setsockopt(self, level, optname, value):
        pass  # SO_REUSEADDR and the like: the host sockets behave as if they were set

    def bind(self, address):
        self._port = address[1]
        if self._type == SOCK_DGRAM:
            self._port = _call(_net.bind_udp, self._sid(), self._port)

    def listen(self, backlog=5):
        self._port = _call(_net.listen, self._sid(), self._port, backlog)

    def accept(self):
        child, host, port = _call(_net.accept, self._sid(), self._timeout).split(',')
        return socket(AF_INET, SOCK_STREAM, 0, int(child)), (host, int(port))

    def connect(self, address):
        try:
            _call(_net.connect, self._sid(), _ip(address[0]), address[1], self._timeout)
        except OSError as e:
            # a non-blocking connect under way: reads wait for it (EAGAIN), as lwIP's do
            self._connected = e.errno == _EINPROGRESS
            raise
        self._connected = True

    def send(self, data):
        if not data:
            return 0
        return _call(_net.send, self._sid(), bytes(data).hex(), self._timeout)

    def sendall(self, data):
        mv = memoryview(data)
        while mv:
            mv = mv[self.send(mv):]

    def write(self, data, n=None):
        data = data if n is None else memoryview(data)[:n]
        if self._timeout == 0:
            # A non-blocking stream write takes what fits (None: nothing did), as asyncio's streams expect.
            try:
                return self.send(data)
            except OSError as e:
                if e.errno == _EAGAIN:
                    return None
                raise
        self.sendall(data)
        return len(data)

    def _fill(self, n):
        # Stream reads on a non-blocking socket give what is there: None when nothing is.
        if not self._connected and self._type == SOCK_STREAM:
            raise OSError(_ENOTCONN)
        try:
            r = _call(_net.recv, self._sid(), n, self._timeout)
        except OSError as e:
            if e.errno == _EAGAIN and self._timeout == 0:
                return None
            raise
        return bytes.fromhex(r) if r else b''

    def _take(self, n):
        if self._buf:
            data, self._buf = self._buf[:n], self._buf[n:]
            return data
        return self._fill(n)

    def recv(self, bufsize):
        if self._type == SOCK_DGRAM:
            return self.recvfrom(bufsize)[0]
        data = self._take(bufsize)
        if data is None:
            raise OSError(_EAGAIN)
        return data

    def read(self, size=-1):
        out = []
        got = 0
        while size < 0 or got < size:
            chunk = self._take(_CHUNK if size < 0 else size - got)
            if chunk is None:
                if not out:
                    return None
                break
            if not chunk:
                break
            out.append(chunk)
            got += len(chunk)
        return b''.join(out)

    def readinto(self, buf, nbytes=None):
        n = len(buf) if nbytes is None else nbytes
        data = self.read(n)
        if data is None:
            return None
        buf[:len(data)] = data
        return len(data)

    def readline(self):
        while b'\n' not in self._buf:
            chunk = self._fill(_CHUNK)
            if not chunk:  # end of stream, or nothing more yet on a non-blocking socket
                break
            self._buf += chunk
        i = self._buf.find(b'\n') + 1 or len(self._buf)
        line, self._buf = self._buf[:i], self._buf[i:]
        return line

    def sendto(self, data, address):
        return _call(_net.sendto, self._sid(), bytes(data).hex() if len(data) else '', _ip(address[0]), address[1])

    def recvfrom(self, bufsize):
        host, port, data = _call(_net.recvfrom, self._sid(), bufsize, self._timeout).split(',')
        return (bytes.fromhex(data) if data else b''), (host, int(port))

    def makefile(self, mode='rb', buffering=0):
        return self

    def fileno(self):
        return -1 if self._id is None else self._id  # lwIP's fd, -1 once closed

    def ioctl(self, request, arg):
        if request == _POLL:
            if self._id is None:
                return _POLLNVAL
            return ((_POLLIN if self._buf else 0) | _net.poll(self._id)) & (arg | 0x18)
        if request == _CLOSE:
            self.close()
            return 0
        return -1

    def close(self):
        if self._id is not None:
            _net.close(self._id)
            self._id = None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
