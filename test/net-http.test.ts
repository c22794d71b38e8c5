// requests, ssl and tls on the board against HTTP and HTTPS servers on 127.0.0.1 started here (port 0).
import { afterAll, beforeAll, expect, it } from 'vitest';
import http from 'node:http';
import https from 'node:https';
import { readFileSync } from 'node:fs';
import type { AddressInfo, Server } from 'node:net';
import { TestBoard } from './helpers/test-board.js';

const fixture = (name: string) => readFileSync(new URL(`./fixtures/tls/${name}`, import.meta.url), 'utf8');

let tb: TestBoard;
const servers: Server[] = [];
let httpPort = 0;
let httpsPort = 0;
let otherPort = 0;

/** JSON API: GET /data gives a reading, POST /echo answers with what it got and how. */
function api(req: http.IncomingMessage, res: http.ServerResponse): void {
  const parts: Buffer[] = [];
  req.on('data', (d: Buffer) => parts.push(d));
  req.on('end', () => {
    const body = Buffer.concat(parts).toString();
    const out = req.url === '/data'
      ? { temp: 21.5, ok: true }
      : { method: req.method, type: req.headers['content-type'], got: body ? JSON.parse(body) : null, token: req.headers['x-token'] };
    const text = JSON.stringify(out);
    res.writeHead(req.url === '/missing' ? 404 : 200, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(text) });
    res.end(text);
  });
}

async function listen(server: Server): Promise<number> {
  servers.push(server);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return (server.address() as AddressInfo).port;
}

beforeAll(async () => {
  httpPort = await listen(http.createServer(api));
  httpsPort = await listen(https.createServer({ cert: fixture('localhost.pem'), key: fixture('localhost.key') }, api));
  otherPort = await listen(https.createServer({ cert: fixture('other.example.pem'), key: fixture('other.example.key') }, api));
  tb = await TestBoard.open({ profile: 'esp32' });
  await tb.run(`
import network, time
w = network.WLAN(network.STA_IF)
w.active(True)
w.connect('boardctl', 'micropython')
while not w.isconnected():
    time.sleep_ms(50)
with open('/ca.pem', 'w') as f:
    f.write(${JSON.stringify(fixture('ca.pem'))})
`, 30_000);
}, 60_000);

afterAll(async () => {
  for (const s of servers) s.close();
  await tb?.close();
});

it('requests.get and post with JSON against a local HTTP server', async () => {
  const out = await tb.run(`
import requests
r = requests.get('http://127.0.0.1:${httpPort}/data')
d = r.json()
print(r.status_code, r.reason, r.headers['Content-Type'], d['temp'], d['ok'])
r = requests.post('http://localhost:${httpPort}/echo', json={'led': 1}, headers={'X-Token': 'abc'})
d = r.json()
print(d['method'], d['type'], d['got'], d['token'])
r = requests.get('http://127.0.0.1:${httpPort}/missing')
print(r.status_code, len(r.content) > 0)
r.close()
`);
  expect(out).toBe("200 OK application/json 21.5 True\nPOST application/json {'led': 1} abc\n404 True\n");
});

it('requests over HTTPS, and a client that loads the CA accepts the right name and refuses another', async () => {
  const out = await tb.run(`
import requests, socket, ssl
r = requests.get('https://localhost:${httpsPort}/data')
print(r.status_code, r.json()['temp'])

def fetch(port, name, ca=True):
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    if ca:
        ctx.load_verify_locations(cafile='/ca.pem')
    s = socket.socket()
    s.connect(socket.getaddrinfo('localhost', port)[0][-1])
    try:
        s = ctx.wrap_socket(s, server_hostname=name)
        s.write(b'GET /data HTTP/1.0\\r\\nHost: localhost\\r\\n\\r\\n')
        return s.read().split(b'\\r\\n')[0]
    except (ValueError, OSError) as e:
        return type(e).__name__ + ': ' + ' '.join(str(e).split())
    finally:
        s.close()

print(fetch(${httpsPort}, 'localhost'))
print(fetch(${otherPort}, 'localhost'))
print(fetch(${httpsPort}, 'localhost', ca=False))
`, 30_000);
  expect(out).toBe(
    '200 21.5\n' +
    "b'HTTP/1.1 200 OK'\n" +
    'ValueError: The certificate Common Name (CN) does not match with the expected CN\n' +
    'ValueError: The certificate is not correctly signed by the trusted CA\n',
  );
});

it('a do_handshake_on_connect=False wrap shakes hands at its first write; keys, certificates and ciphers are checked as mbedTLS does', async () => {
  const out = await tb.run(`
import io, socket, ssl, tls
ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
ctx.load_verify_locations(cafile='/ca.pem')
s = socket.socket()
s.connect(socket.getaddrinfo('localhost', ${httpsPort})[0][-1])
s = ctx.wrap_socket(s, server_hostname='localhost', do_handshake_on_connect=False)
s.write(b'GET /data HTTP/1.0\\r\\nHost: localhost\\r\\n\\r\\n')
print(s.read().split(b'\\r\\n')[0])
s.close()
srv = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
key = ${JSON.stringify(fixture('localhost.key'))}.encode()
for k, cert in ((b'!', None), (key, None), (key, b'!')):
    try:
        srv.load_cert_chain(cert, k)
    except (ValueError, TypeError) as e:
        print(repr(e))
try:
    ctx.load_verify_locations(cadata=b'!')
except ValueError as e:
    print(repr(e))
srv.load_cert_chain(${JSON.stringify(fixture('localhost.pem'))}.encode(), key)
c = ctx.get_ciphers()
ctx.set_ciphers(c[:1])
for bad in (c[0], ['BAR']):
    try:
        ctx.set_ciphers(bad)
    except (TypeError, OSError) as e:
        print(e)
try:
    ctx.extra = 1
except AttributeError:
    print('AttributeError')
w = ssl.wrap_socket(io.BytesIO(), server_side=1, do_handshake=0)
try:
    w.write(b'x')
except OSError as e:
    print(w, e.errno)
w.close()
print(w.ioctl(3, 0))
`, 30_000);
  expect(out).toBe(
    "b'HTTP/1.1 200 OK'\n" +
    "ValueError('invalid key',)\n" +
    "TypeError(\"can't convert 'NoneType' object to str implicitly\",)\n" +
    "ValueError('invalid cert',)\n" +
    "ValueError('invalid cert',)\n" +
    "object 'str' isn't a tuple or list\n" +
    "(-24192, 'MBEDTLS_ERR_SSL_BAD_CONFIG')\n" +
    'AttributeError\n' +
    '<SSLSocket> 95\n' +
    '32\n',
  );
});
