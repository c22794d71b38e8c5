# tls as the ESP32 port has it (library/ssl.rst's tls section, extmod/modtls_mbedtls.c's API): SSLContext over a
# socket, with the TLS itself run on the host by Node's tls (emulator/net/tls-host.ts) with mbedTLS's behaviour:
# no CA store (a client trusts only the CAs it was given), its verify errors and codes.
import _net, io as _io, json as _json, select as _select, socket as _socket
from micropython import const

PROTOCOL_TLS_CLIENT = const(0)
PROTOCOL_TLS_SERVER = const(1)
PROTOCOL_DTLS_CLIENT = const(2)
PROTOCOL_DTLS_SERVER = const(3)
CERT_NONE = const(0)
CERT_OPTIONAL = const(1)
CERT_REQUIRED = const(2)
MBEDTLS_VERSION = 'Mbed TLS 3.6.2'
_EBADF = const(9)
_EINVAL = const(22)
_EOPNOTSUPP = const(95)
_POLL = const(3)
_CLOSE = const(4)
_POLLNVAL = const(0x20)


def _hex(data):
    if data is None:
        raise TypeError("can't convert 'NoneType' object to str implicitly")  # mp_obj_str_get_data's words
    if isinstance(data, str):
        data = data.encode()
    return bytes(data).hex() if len(data) else ''


# The AES suites of mbedTLS 3.6 in its preference order (strongest first); Node's TLS on the host offers them too.
_CIPHERS = (
    'TLS-ECDHE-ECDSA-WITH-AES-256-GCM-SHA384', 'TLS-ECDHE-RSA-WITH-AES-256-GCM-SHA384',
    'TLS-ECDHE-ECDSA-WITH-AES-256-CBC-SHA384', 'TLS-ECDHE-RSA-WITH-AES-256-CBC-SHA384',
    'TLS-ECDHE-ECDSA-WITH-AES-256-CBC-SHA', 'TLS-ECDHE-RSA-WITH-AES-256-CBC-SHA',
    'TLS-ECDHE-ECDSA-WITH-AES-128-GCM-SHA256', 'TLS-ECDHE-RSA-WITH-AES-128-GCM-SHA256',
    'TLS-ECDHE-ECDSA-WITH-AES-128-CBC-SHA256', 'TLS-ECDHE-RSA-WITH-AES-128-CBC-SHA256',
    'TLS-ECDHE-ECDSA-WITH-AES-128-CBC-SHA', 'TLS-ECDHE-RSA-WITH-AES-128-CBC-SHA',
    'TLS-RSA-WITH-AES-256-GCM-SHA384', 'TLS-RSA-WITH-AES-256-CBC-SHA256', 'TLS-RSA-WITH-AES-256-CBC-SHA',
    'TLS-RSA-WITH-AES-128-GCM-SHA256', 'TLS-RSA-WITH-AES-128-CBC-SHA256', 'TLS-RSA-WITH-AES-128-CBC-SHA',
)
_CONTEXT_ATTRS = ('protocol', 'verify_mode', '_ca', '_cert', '_key')


class SSLSocket(_socket.socket):
    # With do_handshake=False the handshake waits for the first read or write, as mbedTLS runs it there.
    _opts = None

    def __repr__(self):
        return '<SSLSocket>'

    def _handshake(self):
        if self._opts is not None:
            opts, self._opts = self._opts, None
            _socket._call(_net.tls, self._sid(), opts, self._timeout)

    def _fill(self, n):
        self._handshake()
        return super()._fill(n)

    def send(self, data):
        self._handshake()
        return super().send(data)


class _StreamSSL(_io.IOBase):
    # TLS over a stream that is not a board socket (an io.IOBase of the program's): the host's TLS cannot run
    # over it, so every handshake raises OSError(EOPNOTSUPP); the rest behaves as modtls_mbedtls.c's SSLSocket.
    def __init__(self, stream):
        self._s = stream

    def __repr__(self):
        return '<SSLSocket>'

    def _io(self, *args):
        raise OSError(_EBADF if self._s is None else _EOPNOTSUPP)

    read = readinto = readline = write = recv = send = _io

    def setblocking(self, flag):
        self._s.setblocking(flag)

    def ioctl(self, request, arg):
        if request == _CLOSE:
            if self._s is not None:
                s, self._s = self._s, None
                s.ioctl(_CLOSE, 0) if hasattr(s, 'ioctl') else s.close()  # a native stream closes natively
            return 0
        if request == _POLL:
            if self._s is None:
                return _POLLNVAL
            p = _select.poll()  # the stream's own poll, native or Python
            p.register(self._s, arg)
            r = p.poll(0)
            return r[0][1] if r else 0
        raise OSError(_EINVAL)

    def close(self):
        self.ioctl(_CLOSE, 0)


class SSLContext:
    def __init__(self, protocol):
        if protocol not in (PROTOCOL_TLS_CLIENT, PROTOCOL_TLS_SERVER):
            raise ValueError('DTLS is not supported on the virtual board')
        self.protocol = protocol
        self.verify_mode = CERT_REQUIRED if protocol == PROTOCOL_TLS_CLIENT else CERT_NONE
        self._ca = []
        self._cert = None
        self._key = None

    # modtls_mbedtls.c's attribute handler: only its own attributes can be stored, none deleted.
    def __setattr__(self, name, value):
        if name not in _CONTEXT_ATTRS:
            raise AttributeError(name)
        object.__setattr__(self, name, value)

    def __delattr__(self, name):
        raise AttributeError(name)

    def load_cert_chain(self, cert, key):
        # Parsed at load as mbedTLS does, the key first: bad data is ValueError here, not at the handshake.
        key = _hex(key)
        _socket._call(_net.check_pem, 'key', key)
        cert = _hex(cert)
        _socket._call(_net.check_pem, 'cert', cert)
        self._cert = cert
        self._key = key

    def load_verify_locations(self, cadata):
        ca = _hex(cadata)
        _socket._call(_net.check_pem, 'cert', ca)
        self._ca.append(ca)

    def get_ciphers(self):
        return list(_CIPHERS)

    def set_ciphers(self, ciphers):
        if not isinstance(ciphers, (tuple, list)):
            raise TypeError("object '%s' isn't a tuple or list" % type(ciphers).__name__)
        if not all(c in _CIPHERS for c in ciphers):
            raise OSError(-24192, 'MBEDTLS_ERR_SSL_BAD_CONFIG')
        # a valid choice is accepted; the host's TLS negotiates among the same suites

    def wrap_socket(self, sock, server_side=False, do_handshake=True, server_hostname=None, client_id=None):
        if not isinstance(sock, _socket.socket):
            ssock = _StreamSSL(sock)
            if do_handshake:
                ssock._io()
            return ssock
        # The endpoint is the context's protocol, as mbedtls_ssl_config_defaults sets it; server_side is not checked.
        opts = {'server': self.protocol == PROTOCOL_TLS_SERVER, 'verify': self.verify_mode, 'ca': self._ca}
        if server_hostname is not None:
            opts['hostname'] = server_hostname
        if self._cert:
            opts['cert'] = self._cert
            opts['key'] = self._key
        ssock = SSLSocket(_socket.AF_INET, _socket.SOCK_STREAM, 0, sock._sid())
        ssock._timeout = sock._timeout
        sock._id = None  # the connection belongs to the SSL socket now
        ssock._opts = _json.dumps(opts)
        if do_handshake:
            ssock._handshake()
        return ssock
