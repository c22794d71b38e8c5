# Streams, written from MicroPython's docs (library/asyncio.rst): one Stream class is both reader and writer,
# over any object select.poll accepts (machine.UART, sys.stdin, a socket) that reads with None for "nothing
# yet" and writes with None for "not now".
from . import core


class _Closing:
    # `async with`: close() and wait_closed() on the way out.
    async def __aenter__(self):
        return self

    async def __aexit__(self, exc_type, exc, tb):
        self.close()
        await self.wait_closed()


class Stream(_Closing):
    def __init__(self, s, e={}):
        self.s = s
        self.e = e
        self.out_buf = b''

    def get_extra_info(self, v):
        return self.e[v]

    def close(self):
        pass

    async def wait_closed(self):
        close = getattr(self.s, 'close', None)
        if close is not None:
            close()

    async def read(self, n=-1):
        out = b''
        while True:
            yield from core._wait_io(self.s, 1)
            got = self.s.read(n)
            if got is None:
                continue
            if n >= 0:
                return got
            if not got:
                return out
            out += got

    async def readinto(self, buf):
        while True:
            yield from core._wait_io(self.s, 1)
            n = self.s.readinto(buf)
            if n is not None:
                return n

    async def readexactly(self, n):
        out = b''
        while len(out) < n:
            yield from core._wait_io(self.s, 1)
            got = self.s.read(n - len(out))
            if got is None:
                continue
            if not got:
                raise EOFError
            out += got
        return out

    async def readline(self):
        out = b''
        while True:
            yield from core._wait_io(self.s, 1)
            got = self.s.readline()
            if got:
                out += got
            if not got or out.endswith(b'\n'):
                return out

    def write(self, buf):
        if not self.out_buf:
            # Straight to the stream while nothing waits before it (no copy, no allocation).
            n = self.s.write(buf)
            if n == len(buf):
                return
            if n is not None:
                buf = buf[n:]
            self.out_buf = buf if isinstance(buf, bytes) else bytes(buf)
            return
        self.out_buf += buf

    async def drain(self):
        while self.out_buf:
            yield from core._wait_io(self.s, 2)
            n = self.s.write(self.out_buf)
            if n is not None:
                self.out_buf = self.out_buf[n:]


StreamReader = Stream
StreamWriter = Stream


# TCP, over the socket module where the board has one (ESP32; on rp2 importing socket raises ImportError).

async def open_connection(host, port, ssl=None):
    import errno
    import socket
    ai = socket.getaddrinfo(host, port, 0, socket.SOCK_STREAM)[0]
    s = socket.socket(ai[0], ai[1], ai[2])
    s.setblocking(False)
    try:
        s.connect(ai[-1])
    except OSError as e:
        if e.errno != errno.EINPROGRESS:  # (the connection completes in the background)
            raise
    yield from core._wait_io(s, 2)
    if ssl:
        if ssl is True:
            import ssl as tls
            ssl = tls.SSLContext(tls.PROTOCOL_TLS_CLIENT)
        s = ssl.wrap_socket(s, server_hostname=host, do_handshake_on_connect=False)
        s.setblocking(False)
    ss = Stream(s)
    return ss, ss


class Server(_Closing):
    def close(self):
        self.closed = True
        self.task.cancel()

    async def wait_closed(self):
        await self.task

    async def _serve(self, s, cb, ssl):
        self.closed = False
        try:
            while True:
                try:
                    yield from core._wait_io(s, 1)
                except core.CancelledError:
                    # Closed by close(): wait_closed() returns; cancelled from elsewhere: that goes on up.
                    if self.closed:
                        return
                    raise
                s2, addr = s.accept()
                s2.setblocking(False)
                if ssl:
                    s2 = ssl.wrap_socket(s2, server_side=True, do_handshake_on_connect=False)
                    s2.setblocking(False)
                peer = Stream(s2, {'peername': addr})
                core.create_task(cb(peer, peer))
        finally:
            s.close()


async def start_server(cb, host, port, backlog=5, ssl=None):
    import socket
    ai = socket.getaddrinfo(host, port)[0]
    s = socket.socket()
    s.setblocking(False)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(ai[-1])
    s.listen(backlog)
    srv = Server()
    srv.task = core.create_task(srv._serve(s, cb, ssl))
    return srv
