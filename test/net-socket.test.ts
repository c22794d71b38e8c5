// The board's network module and sockets against real host servers on 127.0.0.1 (started here, port 0).
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import net from 'node:net';
import { TestBoard } from './helpers/test-board.js';
import { parseBoardConfig } from '../emulator/board-config.js';

let tb: TestBoard;
const servers: net.Server[] = [];

/** A host TCP server on 127.0.0.1 at a free port; stopped after the file. */
async function hostServer(onConn: (s: net.Socket) => void): Promise<number> {
  const server = net.createServer(onConn);
  servers.push(server);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return (server.address() as net.AddressInfo).port;
}

const echo = (s: net.Socket) => s.pipe(s);

const CONNECT = `
import network, time
def connect_wifi(ssid, key, ms=10000):
    wlan = network.WLAN(network.STA_IF)
    wlan.active(True)
    wlan.connect(ssid, key)
    seen = []
    t0 = time.ticks_ms()
    while time.ticks_diff(time.ticks_ms(), t0) < ms:
        st = wlan.status()
        if not seen or seen[-1] != st:
            seen.append(st)
        if st not in (network.STAT_CONNECTING, network.STAT_IDLE):
            break
        time.sleep_ms(20)
    return wlan, seen, time.ticks_diff(time.ticks_ms(), t0)
`;

beforeAll(async () => {
  tb = await TestBoard.open({ profile: 'esp32' });
  await tb.run(CONNECT);
}, 60_000);

afterAll(async () => {
  for (const s of servers) s.close();
  await tb?.close();
});

describe('network.WLAN', () => {
  it('sockets fail before the station has an address', async () => {
    const out = await tb.run(`
import socket
try:
    socket.getaddrinfo('localhost', 80)
except OSError as e:
    print('gai', e.errno)
s = socket.socket()
try:
    s.connect(('10.0.2.2', 80))
except OSError as e:
    print('connect', e.errno)
s.close()
`);
    expect(out).toBe('gai -202\nconnect 118\n');
  });

  it('a wrong key and a missing AP end in the documented statuses', async () => {
    const out = await tb.run(`
w, seen, ms = connect_wifi('boardctl', 'not-the-key')
print(seen[0] == network.STAT_CONNECTING, seen[-1] == network.STAT_WRONG_PASSWORD, w.isconnected())
w, seen, ms = connect_wifi('nowhere', 'whatever1')
print(seen[0] == network.STAT_CONNECTING, seen[-1] == network.STAT_NO_AP_FOUND, ms > 1000)
w.disconnect()
`, 30_000);
    expect(out).toBe('True True False\nTrue True True\n');
  });

  it('connects to the default AP: CONNECTING, then GOT_IP with an address', async () => {
    const out = await tb.run(`
w, seen, ms = connect_wifi('boardctl', 'micropython')
print(seen == [network.STAT_CONNECTING, network.STAT_GOT_IP], w.isconnected(), 300 < ms < 5000)
print(w.ifconfig())
print(w.config('mac') == bytes(int(b, 16) for b in '${tb.stored.config.mac}'.split(':')), network.hostname())
print([ap[0] for ap in w.scan()])
ap = network.WLAN(network.AP_IF)
print(w.config('ssid'), w.config('essid'), ap.config('ssid') == ap.config('essid'), w.config('hostname') == w.config('dhcp_hostname'))
print(ap.config('security') == ap.config('authmode'), ap.config('max_clients') > 0, w.config('txpower') > 0)
try:
    w.config('nope')
except ValueError as e:
    print(e)
`, 30_000);
    expect(out).toBe(
      "True True True\n('10.0.2.15', '255.255.255.0', '10.0.2.2', '10.0.2.3')\nTrue mpy-esp32\n[b'boardctl']\n" +
        'boardctl boardctl True True\nTrue True True\nunknown config param\n',
    );
  });
});

describe('socket', () => {
  it('a TCP client talks to a host server, by name and through the gateway', async () => {
    const port = await hostServer(echo);
    const out = await tb.run(`
import socket
addr = socket.getaddrinfo('localhost', ${port})[0][-1]
print(addr)
s = socket.socket()
s.connect(addr)
s.sendall(b'hello ' * 1000 + b'\\n')
line = s.readline()
print(len(line), line[:12])
s.close()
s = socket.socket()
s.connect(('10.0.2.2', ${port}))
s.write(b'gw')
print(s.recv(10))
s.close()
`);
    expect(out).toBe(`('127.0.0.1', ${port})\n6001 b'hello hello '\nb'gw'\n`);
  });

  it('a closed port gives ECONNREFUSED, a silent peer ETIMEDOUT, a non-blocking socket EAGAIN', async () => {
    const closed = await hostServer(() => undefined);
    await new Promise<void>((r) => servers.pop()!.close(() => r()));
    const silent = await hostServer(() => undefined);
    const out = await tb.run(`
import socket, errno, time
s = socket.socket()
try:
    s.connect(('127.0.0.1', ${closed}))
except OSError as e:
    print(e.errno == errno.ECONNREFUSED)
s.close()
s = socket.socket()
s.connect(('127.0.0.1', ${silent}))
s.settimeout(0.3)
t0 = time.ticks_ms()
try:
    s.recv(10)
except OSError as e:
    print(e.errno == errno.ETIMEDOUT, 250 < time.ticks_diff(time.ticks_ms(), t0) < 3000)
s.setblocking(False)
try:
    s.recv(10)
except OSError as e:
    print(e.errno == errno.EAGAIN)
s.close()
`);
    expect(out).toBe('True\nTrue True\nTrue\n');
  });

  it('a server on the board is reached from the host at its published port', async () => {
    const started = tb.run(`
import socket
srv = socket.socket()
srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
srv.bind(('0.0.0.0', 8765))
srv.listen(1)
print('listening')
for _ in range(2):
    c, addr = srv.accept()
    while True:
        d = c.recv(512)
        if not d:
            break
        c.sendall(d)
    c.close()
srv.close()
print(addr[0])
`);
    let published: number | undefined;
    for (let i = 0; i < 200 && published === undefined; i++) {
      published = tb.board.net!.published().find((p) => p.boardPort === 8765)?.hostPort;
      if (published === undefined) await new Promise((r) => setTimeout(r, 25));
    }
    expect(published).toBeGreaterThan(0);
    for (const size of [5, 100_000]) {
      const payload = Buffer.alloc(size, 'x');
      const got = await new Promise<Buffer>((resolve, reject) => {
        const c = net.connect(published!, '127.0.0.1', () => c.end(payload));
        const parts: Buffer[] = [];
        c.on('data', (d) => parts.push(d));
        c.on('end', () => resolve(Buffer.concat(parts)));
        c.on('error', reject);
      });
      expect(got.equals(payload)).toBe(true);
    }
    expect(await started).toBe('listening\n127.0.0.1\n');
  });

  it('select.poll waits on sockets', async () => {
    let peer: net.Socket | undefined;
    const port = await hostServer((s) => {
      peer = s;
    });
    // The host writes once the first poll has timed out empty, while the second waits (20 s: a loaded host).
    const ping = async () => {
      await vi.waitFor(() => expect(peer).toBeDefined(), { timeout: 10_000 });
      peer!.write('ping');
    };
    const [out] = await Promise.all([
      tb.run(`
import socket, select
s = socket.socket()
s.connect(('127.0.0.1', ${port}))
p = select.poll()
p.register(s, select.POLLIN)
print(p.poll(100))
print('waiting')
ev = p.poll(20000)
print(len(ev), ev[0][1] & select.POLLIN, s.recv(10))
s.close()
`),
      tb.printed('waiting').then(ping),
    ]);
    expect(out).toBe('[]\nwaiting\n1 1 b\'ping\'\n');
  });

  it("a socket's edges as modsocket.c has them: int arguments, ENOTCONN before connect, fileno -1 and POLLNVAL once closed", async () => {
    const out = await tb.run(`
import socket, select
for args in ((None,), (socket.AF_INET, None), (socket.AF_INET, socket.SOCK_STREAM, None)):
    try:
        socket.socket(*args)
    except TypeError:
        print('TypeError')
s = socket.socket()
try:
    s.recv(1)
except OSError as e:
    print('recv', e.errno)
print(s.fileno() >= 0)
p = select.poll()
p.register(s)
s.close()
print(s.fileno(), p.poll(0)[0][1])
`);
    expect(out).toBe('TypeError\nTypeError\nTypeError\nrecv 128\nTrue\n-1 32\n');
  });

  it('the allow-list refuses a host before any connection is made', async () => {
    let reached = 0;
    const allowed = await hostServer(echo);
    const other = await hostServer(() => reached++);
    tb.board.net!.setPolicy({ allow: [`127.0.0.1:${allowed}`] });
    try {
      const out = await tb.run(`
import socket
s = socket.socket()
s.connect(('127.0.0.1', ${allowed}))
s.write(b'ok')
print(s.recv(2))
s.close()
s = socket.socket()
try:
    s.connect(('127.0.0.1', ${other}))
except OSError as e:
    print(e.errno)
try:
    socket.getaddrinfo('example.com', 80)
except OSError as e:
    print(e.errno)
`);
      expect(out).toBe("b'ok'\n118\n-202\n");
      await new Promise((r) => setTimeout(r, 100));
      expect(reached).toBe(0);
    } finally {
      tb.board.net!.setPolicy({ allow: ['*'] });
    }
  });
});

describe('blocking calls and resets', () => {
  it('Ctrl-C interrupts a blocked accept; a soft reset closes the board\'s sockets and keeps the station up', async () => {
    const run = tb.run(`
import socket
srv = socket.socket()
srv.bind(('0.0.0.0', 8766))
srv.listen(1)
srv.accept()
`).then(() => 'returned', (err: Error) => err.message);
    const published = () => tb.board.net!.published().some((p) => p.boardPort === 8766);
    for (let i = 0; i < 200 && !published(); i++) await new Promise((r) => setTimeout(r, 25));
    expect(published()).toBe(true);
    await tb.con.send('\x03');
    expect(await run).toMatch(/KeyboardInterrupt/);
    await tb.runToReset('import machine\nmachine.soft_reset()', 'soft');
    for (let i = 0; i < 40 && published(); i++) await new Promise((r) => setTimeout(r, 25));
    expect(published()).toBe(false);
    expect(await tb.run('import network\nprint(network.WLAN(network.STA_IF).isconnected())')).toBe('True\n');
  });
});

describe('the network around the board', () => {
  it('the uplink going down resets connections and refuses new ones; back up, they work again', async () => {
    let peer: net.Socket | undefined;
    const port = await hostServer((s) => {
      peer = s;
      s.pipe(s);
    });
    const net_ = (up: boolean) => tb.board.controlRequest({ plugin: 'net', op: 'set', args: { what: 'uplink', up } });
    await tb.run(`
import socket, errno
s = socket.socket()
s.connect(('127.0.0.1', ${port}))
`);
    for (let i = 0; i < 200 && !peer; i++) await new Promise((r) => setTimeout(r, 25));
    await net_(false);
    try {
      const out = await tb.run(`
try:
    s.write(b'x')
    s.recv(1)
except OSError as e:
    print(e.errno == errno.ECONNRESET)
s.close()
s = socket.socket()
try:
    s.connect(('127.0.0.1', ${port}))
except OSError as e:
    print(e.errno == errno.EHOSTUNREACH)
`);
      expect(out).toBe('True\nTrue\n');
    } finally {
      await net_(true);
    }
    expect(await tb.run(`
s = socket.socket()
s.connect(('127.0.0.1', ${port}))
s.write(b'back')
print(s.recv(4))
s.close()
`)).toBe("b'back'\n");
  });

  it('an access point that goes away is noticed at the beacon timeout; the station rejoins when it is back', async () => {
    const ap = (up: boolean) => tb.board.controlRequest({ plugin: 'net', op: 'set', args: { what: 'ap', up } });
    // The AP goes once the program watches the link, and comes back once the board has noticed.
    const lost = tb.printed('lost after', 30_000);
    const run = tb.run(`
import network, time
w = network.WLAN(network.STA_IF)
t0 = time.ticks_ms()
print('up', w.isconnected())
while w.isconnected():
    time.sleep_ms(50)
print('lost after', time.ticks_diff(time.ticks_ms(), t0) // 1000, 's')
while not w.isconnected():
    time.sleep_ms(50)
print('back', w.status() == network.STAT_GOT_IP)
`, 30_000);
    const [out] = await Promise.all([run, tb.printed('up True').then(() => ap(false)), lost.then(() => ap(true))]);
    expect(out).toMatch(/^up True\nlost after [56] s\nback True\n$/);
  }, 40_000);

  it("board.json's network is checked field by field", () => {
    const base = { profile: 'esp32', flashSize: 4 << 20, mac: '24:0a:c4:00:00:01', uniqueId: 'aabbcc' };
    const parse = (network: unknown) => parseBoardConfig(JSON.stringify({ ...base, network }), 'board.json');
    expect(parse({ offline: true, allow: ['*.example.com:443', '10.0.0.0/8'], aps: [{ ssid: 'home', key: 'secret123' }] }).network)
      .toEqual({ offline: true, allow: ['*.example.com:443', '10.0.0.0/8'], aps: [{ ssid: 'home', key: 'secret123', security: 'wpa2' }] });
    expect(() => parse({ alow: [] })).toThrow(/unknown field 'alow'.*did you mean 'allow'/);
    expect(() => parse({ aps: [{ ssid: 'home', key: 'short' }] })).toThrow(/8 to 63 characters/);
    expect(() => parse({ allow: ['host:99999'] })).toThrow(/not 1\.\.65535/);
  });
});

describe('ntptime', () => {
  it("sets the RTC from the gateway's NTP answer (the host's clock)", async () => {
    const out = await tb.run(`
import ntptime, machine, time
machine.RTC().datetime((2001, 1, 1, 1, 0, 0, 0, 0))
ntptime.host = '10.0.2.2'
ntptime.settime()
print(time.gmtime()[0], time.time())
`);
    const [year, secs] = out.trim().split(' ').map(Number);
    expect(year).toBe(new Date().getUTCFullYear());
    const epochYear = Number(await tb.run('import time\nprint(time.gmtime(0)[0])'));
    const epoch = Date.UTC(epochYear, 0, 1) / 1000;
    expect(Math.abs(secs! + epoch - Date.now() / 1000)).toBeLessThan(5);
  });
});

describe('asyncio streams', () => {
  it('open_connection and start_server over the board\'s sockets', async () => {
    const port = await hostServer(echo);
    const out = await tb.run(`
import asyncio

async def client():
    r, w = await asyncio.open_connection('127.0.0.1', ${port})
    w.write(b'line one\\n')
    await w.drain()
    got = await r.readline()
    w.close()
    await w.wait_closed()
    return got

async def handle(r, w):
    data = await r.read(100)
    w.write(data.upper())
    await w.drain()
    w.close()

async def main():
    print(await client())
    srv = await asyncio.start_server(handle, '0.0.0.0', 8767)
    r, w = await asyncio.open_connection('127.0.0.1', 8767)
    w.write(b'to myself')
    await w.drain()
    print(await r.read(100))
    w.close()
    srv.close()
    await srv.wait_closed()

asyncio.run(main())
`);
    expect(out).toBe("b'line one\\n'\nb'TO MYSELF'\n");
  });
});
