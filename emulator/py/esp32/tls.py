# tls as the ESP32 port has it (library/ssl.rst's tls section, extmod/modtls_mbedtls.c's API): SSLContext over a
# socket, with the TLS itself run on the host by Node's tls (emulator/net/tls-host.ts) with mbedTLS's behaviour:
# no CA store (a client trusts only the CAs it was given), its verify errors and codes.
import _net, json, socket
from micropython import const

PROTOCOL_TLS_CLIENT = const(0)
PROTOCOL_TLS_SERVER = const(1)
PROTOCOL_DTLS_CLIENT = const(2)
PROTOCOL_DTLS_SERVER = const(3)
CERT_NONE = const(0)
CERT_OPTIONAL = const(1)
CERT_REQUIRED = const(2)
MBEDTLS_VERSION = 'Mbed TLS 3.6.2'


def _hex(data):
    if isinstance(data, str):
        data = data.encode()
    return bytes(data).hex() if len(data) else ''


class SSLSocket(socket.socket):
    def __repr__(self):
        return '<SSLSocket>'


class SSLContext:
    def __init__(self, protocol):
        if protocol not in (PROTOCOL_TLS_CLIENT, PROTOCOL_TLS_SERVER):
            raise ValueError('DTLS is not supported on the virtual board')
        self.protocol = protocol
        self.verify_mode = CERT_REQUIRED if protocol == PROTOCOL_TLS_CLIENT else CERT_NONE
        self._ca = []
        self._cert = None
        self._key = None

    def load_cert_chain(self, cert, key):
        self._cert = _hex(cert)
        self._key = _hex(key)

    def load_verify_locations(self, cadata):
        self._ca.append(_hex(cadata))

    def get_ciphers(self):
        return ['TLS-ECDHE-ECDSA-WITH-AES-128-GCM-SHA256', 'TLS-ECDHE-RSA-WITH-AES-128-GCM-SHA256']

    def set_ciphers(self, ciphers):
        pass

    def wrap_socket(self, sock, server_side=False, do_handshake=True, server_hostname=None, client_id=None):
        if server_side != (self.protocol == PROTOCOL_TLS_SERVER):
            raise ValueError('invalid protocol for this side')
        opts = {'server': server_side, 'verify': self.verify_mode, 'ca': self._ca}
        if server_hostname is not None:
            opts['hostname'] = server_hostname
        if self._cert:
            opts['cert'] = self._cert
            opts['key'] = self._key
        ssock = SSLSocket(socket.AF_INET, socket.SOCK_STREAM, 0, sock._sid())
        ssock._timeout = sock._timeout
        sock._id = None  # the connection belongs to the SSL socket now
        socket._call(_net.tls, ssock._id, json.dumps(opts), ssock._timeout)
        return ssock
