# requests as the ESP32 firmware freezes it, written from its documented API (micropython-lib's requests
# README: request/get/post/put/patch/delete/head, Response with status_code, reason, headers, content, text,
# json(), raw) and RFC 9112 (HTTP/1.1 message syntax; requests go out as HTTP/1.0 with Connection: close, so a
# response ends when the server closes the connection, or after Content-Length bytes).
import socket


class Response:
    def __init__(self, f):
        self.raw = f
        self.encoding = 'utf-8'
        self._cached = None
        self.status_code = None
        self.reason = ''
        self.headers = {}

    def close(self):
        if self.raw:
            self.raw.close()
            self.raw = None
        self._cached = None

    @property
    def content(self):
        if self._cached is None:
            try:
                length = self.headers.get('Content-Length')
                self._cached = self.raw.read(int(length)) if length is not None else self.raw.read()
            finally:
                self.raw.close()
                self.raw = None
        return self._cached

    @property
    def text(self):
        return str(self.content, self.encoding)

    def json(self):
        import json
        return json.loads(self.content)


def _split(url):
    try:
        proto, _, host, path = url.split('/', 3)
    except ValueError:
        proto, _, host = url.split('/', 2)
        path = ''
    if proto == 'http:':
        port = 80
    elif proto == 'https:':
        port = 443
    else:
        raise ValueError('Unsupported protocol: ' + proto)
    if ':' in host:
        host, p = host.split(':', 1)
        port = int(p)
    return proto, host, port, path


def request(method, url, data=None, json=None, headers=None, stream=None, auth=None, timeout=None,
            parse_headers=True):
    headers = {} if headers is None else headers
    if auth is not None:
        import binascii
        token = binascii.b2a_base64(('%s:%s' % auth).encode())[:-1]
        headers['Authorization'] = 'Basic ' + token.decode()
    proto, host, port, path = _split(url)
    ai = socket.getaddrinfo(host, port, 0, socket.SOCK_STREAM)[0]
    s = socket.socket(ai[0], socket.SOCK_STREAM, ai[2])
    resp = Response(s)
    try:
        if timeout is not None:
            s.settimeout(timeout)
        s.connect(ai[-1])
        if proto == 'https:':
            import ssl
            s = ssl.wrap_socket(s, server_hostname=host)
            resp.raw = s
        s.write(b'%s /%s HTTP/1.0\r\n' % (method.encode(), path.encode()))
        if 'Host' not in headers:
            s.write(b'Host: %s\r\n' % host.encode())
        for k in headers:
            s.write(b'%s: %s\r\n' % (str(k).encode(), str(headers[k]).encode()))
        if json is not None:
            assert data is None
            import json as _json
            data = _json.dumps(json)
            s.write(b'Content-Type: application/json\r\n')
        if data:
            if isinstance(data, str):
                data = data.encode()
            s.write(b'Content-Length: %d\r\n' % len(data))
        s.write(b'Connection: close\r\n\r\n')
        if data:
            s.write(data)
        line = s.readline().split(None, 2)
        if len(line) < 2:
            raise ValueError('HTTP error: BadStatusLine:\n%s' % line)
        resp.status_code = int(line[1])
        if len(line) > 2:
            resp.reason = line[2].rstrip().decode()
        while True:
            line = s.readline()
            if not line or line == b'\r\n':
                break
            if line.startswith(b'Transfer-Encoding:') and b'chunked' in line:
                raise ValueError('Unsupported ' + line.decode())
            if line.startswith(b'Location:') and not 200 <= resp.status_code <= 299 and 300 <= resp.status_code <= 399:
                raise NotImplementedError('Redirects not yet supported')
            if parse_headers:
                k, v = line.decode().split(':', 1)
                resp.headers[k.strip()] = v.strip()
    except OSError:
        s.close()
        raise
    return resp


def head(url, **kw):
    return request('HEAD', url, **kw)


def get(url, **kw):
    return request('GET', url, **kw)


def post(url, **kw):
    return request('POST', url, **kw)


def put(url, **kw):
    return request('PUT', url, **kw)


def patch(url, **kw):
    return request('PATCH', url, **kw)


def delete(url, **kw):
    return request('DELETE', url, **kw)
