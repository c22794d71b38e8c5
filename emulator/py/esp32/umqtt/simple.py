# umqtt.simple as the ESP32 firmware freezes it, written from its documented API (micropython-lib's umqtt.simple
# README) and the MQTT 3.1.1 specification (OASIS, section 2: fixed header and remaining length; section 3: the
# CONNECT, PUBLISH, SUBSCRIBE, PINGREQ and DISCONNECT packets).
import socket
import struct
from micropython import const

_CONNECT = const(0x10)
_CONNACK = const(0x20)
_PUBLISH = const(0x30)
_PUBACK = const(0x40)
_SUBSCRIBE = const(0x82)
_SUBACK = const(0x90)
_PINGREQ = const(0xC0)
_PINGRESP = const(0xD0)
_DISCONNECT = const(0xE0)


class MQTTException(Exception):
    pass


def _utf8(s):
    return s if isinstance(s, (bytes, bytearray)) else str(s).encode()


def _field(b):
    return struct.pack('!H', len(b)) + b


def _length(n):
    out = bytearray()
    while True:
        byte = n & 0x7F
        n >>= 7
        out.append(byte | 0x80 if n else byte)
        if not n:
            return bytes(out)


class MQTTClient:
    def __init__(self, client_id, server, port=0, user=None, password=None, keepalive=0, ssl=None, ssl_params={}):
        self.client_id = _utf8(client_id)
        self.server = server
        self.port = port or (8883 if ssl else 1883)
        self.user = user
        self.pswd = password
        self.keepalive = keepalive
        self.ssl = ssl
        self.ssl_params = ssl_params
        self.sock = None
        self.cb = None
        self.pid = 0
        self.lw_topic = None
        self.lw_msg = None
        self.lw_qos = 0
        self.lw_retain = False

    def _send(self, packet_type, body):
        self.sock.write(bytes([packet_type]) + _length(len(body)) + body)

    def _read(self, n):
        data = self.sock.read(n)
        if len(data) < n:
            raise OSError(-1)
        return data

    def _recv_len(self):
        n = shift = 0
        while True:
            b = self._read(1)[0]
            n |= (b & 0x7F) << shift
            if not b & 0x80:
                return n
            shift += 7

    def set_callback(self, f):
        self.cb = f

    def set_last_will(self, topic, msg, retain=False, qos=0):
        assert 0 <= qos <= 2
        assert topic
        self.lw_topic = _utf8(topic)
        self.lw_msg = _utf8(msg)
        self.lw_qos = qos
        self.lw_retain = retain

    def connect(self, clean_session=True, timeout=None):
        self.sock = socket.socket()
        self.sock.settimeout(timeout)
        addr = socket.getaddrinfo(self.server, self.port)[0][-1]
        self.sock.connect(addr)
        if self.ssl is True:
            import ssl
            self.sock = ssl.wrap_socket(self.sock, **self.ssl_params)
        elif self.ssl:
            self.sock = self.ssl.wrap_socket(self.sock, server_hostname=self.server)
        flags = 0x02 if clean_session else 0
        payload = _field(self.client_id)
        if self.lw_topic:
            flags |= 0x04 | (self.lw_qos << 3) | (0x20 if self.lw_retain else 0)
            payload += _field(self.lw_topic) + _field(self.lw_msg)
        if self.user is not None:
            flags |= 0x80
            payload += _field(_utf8(self.user))
            if self.pswd is not None:
                flags |= 0x40
                payload += _field(_utf8(self.pswd))
        header = _field(b'MQTT') + bytes([4, flags]) + struct.pack('!H', self.keepalive)
        self._send(_CONNECT, header + payload)
        resp = self._read(4)
        if resp[0] != _CONNACK or resp[1] != 2:
            raise MQTTException(-1)
        if resp[3] != 0:
            raise MQTTException(resp[3])
        return resp[2] & 1

    def disconnect(self):
        try:
            self.sock.write(bytes([_DISCONNECT, 0]))
        finally:
            self.sock.close()

    def ping(self):
        self.sock.write(bytes([_PINGREQ, 0]))

    def _next_pid(self):
        self.pid = self.pid % 0xFFFF + 1
        return self.pid

    def publish(self, topic, msg, retain=False, qos=0):
        topic = _utf8(topic)
        msg = _utf8(msg)
        body = _field(topic)
        pid = 0
        if qos > 0:
            pid = self._next_pid()
            body += struct.pack('!H', pid)
        self._send(_PUBLISH | (qos << 1) | (1 if retain else 0), body + msg)
        if qos == 1:
            while True:
                op = self.wait_msg()
                if op == _PUBACK:
                    if self._read(1) != b'\x02':
                        raise MQTTException(-1)
                    if struct.unpack('!H', self._read(2))[0] == pid:
                        return
        elif qos == 2:
            raise MQTTException('qos 2 not supported')

    def subscribe(self, topic, qos=0):
        assert self.cb is not None, 'Subscribe callback is not set'
        pid = self._next_pid()
        self._send(_SUBSCRIBE, struct.pack('!H', pid) + _field(_utf8(topic)) + bytes([qos]))
        while True:
            op = self.wait_msg()
            if op == _SUBACK:
                resp = self._read(4)
                if struct.unpack('!H', resp[1:3])[0] != pid:
                    continue
                if resp[3] == 0x80:
                    raise MQTTException(resp[3])
                return

    def wait_msg(self):
        # One packet: a PUBLISH goes to the callback (None returned); other types are returned for the caller
        # to read their body (PUBACK, SUBACK); PINGRESP is taken here.
        res = self.sock.read(1)
        if not res:
            if res is None:
                return None
            raise OSError(-1)
        op = res[0]
        if op == _PINGRESP:
            if self._read(1)[0] != 0:
                raise MQTTException(-1)
            return None
        if op & 0xF0 != _PUBLISH:
            return op
        sz = self._recv_len()
        tlen = struct.unpack('!H', self._read(2))[0]
        topic = self._read(tlen)
        sz -= tlen + 2
        pid = 0
        if op & 0x06:
            pid = struct.unpack('!H', self._read(2))[0]
            sz -= 2
        msg = self._read(sz) if sz else b''
        self.cb(topic, msg)
        if op & 0x06 == 0x02:
            self.sock.write(bytes([_PUBACK, 2]) + struct.pack('!H', pid))
        return None

    def check_msg(self):
        self.sock.setblocking(False)
        try:
            return self.wait_msg()
        except OSError as e:
            if e.errno == 11:  # EAGAIN: nothing waiting
                return None
            raise
        finally:
            self.sock.setblocking(True)
