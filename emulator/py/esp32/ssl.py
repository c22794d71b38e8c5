# ssl as the ESP32 firmware freezes it, written from library/ssl.rst: a CPython-like face over tls, where
# certificates and keys may be given as file names or as bytes.
import tls
from tls import CERT_NONE, CERT_OPTIONAL, CERT_REQUIRED, MBEDTLS_VERSION, PROTOCOL_TLS_CLIENT, PROTOCOL_TLS_SERVER


def _data(x):
    if isinstance(x, str):
        with open(x, 'rb') as f:
            return f.read()
    return x


class SSLContext(tls.SSLContext):
    def __init__(self, protocol=PROTOCOL_TLS_CLIENT):
        super().__init__(protocol)

    def load_cert_chain(self, certfile, keyfile):
        super().load_cert_chain(_data(certfile), _data(keyfile))

    def load_verify_locations(self, cafile=None, cadata=None):
        if cafile:
            super().load_verify_locations(_data(cafile))
        if cadata:
            super().load_verify_locations(cadata)

    def wrap_socket(self, sock, server_side=False, do_handshake_on_connect=True, server_hostname=None):
        return super().wrap_socket(sock, server_side=server_side, do_handshake=do_handshake_on_connect,
                                   server_hostname=server_hostname)


def wrap_socket(sock, server_side=False, key=None, cert=None, cert_reqs=CERT_NONE, cadata=None,
                server_hostname=None, do_handshake=True):
    ctx = SSLContext(PROTOCOL_TLS_SERVER if server_side else PROTOCOL_TLS_CLIENT)
    if cert is not None or key is not None:
        ctx.load_cert_chain(cert, key)
    if cadata is not None:
        ctx.load_verify_locations(cadata=cadata)
    ctx.verify_mode = cert_reqs
    return ctx.wrap_socket(sock, server_side=server_side, do_handshake_on_connect=do_handshake,
                           server_hostname=server_hostname)
