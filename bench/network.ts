// The virtual ESP32's network as programs see it: TCP throughput each way, HTTP requests per second, MQTT
// publishes per second, and the host CPU a board costs while it blocks in recv. Each figure is printed next to
// a baseline measured in the same run (the same transfer between two host sockets, the same requests from Node,
// the board idle at its prompt) and, where one exists, a real ESP32's: ESP-IDF's Wi-Fi guide gives "up to
// 20 MBit/s TCP throughput" over the air (docs/en/api-guides/wifi.rst, feature list), i.e. 2.5 MB/s.
// Servers run on 127.0.0.1 at port 0 and stop at the end.
// The WebREPL's file transfer: cp up and down over ws:// with the firmware's file records against the same
// copies through the raw-REPL programs over the same connection.
// Run: npm run build && node dist/bench/network.js   (BENCH_NET_MB sets the transfer size)
import net from 'node:net';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { Aedes } from 'aedes';
import { TestBoard } from '../test/helpers/test-board.js';
import { connectBoard } from '../protocol/connect.js';
import { readBoardFiles } from '../protocol/fs/download.js';
import { uploadFiles } from '../protocol/fs/upload.js';

const MB = Number(process.env.BENCH_NET_MB ?? 2);
const BYTES = MB * 1024 * 1024;
const ESP32_TCP = 2.5e6;

const closers: Array<() => void> = [];
async function serve(server: net.Server): Promise<number> {
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  closers.push(() => server.close());
  return (server.address() as AddressInfo).port;
}

const mbps = (bytesPerS: number) => `${(bytesPerS / 1e6).toFixed(2)} MB/s`;

/** A source that writes BYTES to whoever connects; a sink that times what it receives. */
const payload = Buffer.alloc(BYTES, 0x5a);
const sourcePort = await serve(net.createServer((s) => s.end(payload)));
let sinkDone: (r: { bytes: number; ms: number }) => void = () => {};
const sinkPort = await serve(net.createServer((s) => {
  const t0 = performance.now();
  let n = 0;
  s.on('data', (d: Buffer) => (n += d.length));
  s.on('end', () => {
    s.end();
    sinkDone({ bytes: n, ms: performance.now() - t0 });
  });
}));
const sinkResult = () => new Promise<{ bytes: number; ms: number }>((r) => (sinkDone = r));

/** Host baselines: the same transfers between two host sockets. */
async function hostDownload(): Promise<number> {
  const t0 = performance.now();
  let n = 0;
  await new Promise<void>((resolve) => net.connect(sourcePort, '127.0.0.1').on('data', (d: Buffer) => (n += d.length)).on('end', resolve));
  return n / ((performance.now() - t0) / 1000);
}
async function hostUpload(): Promise<number> {
  const done = sinkResult();
  const c = net.connect(sinkPort, '127.0.0.1', () => c.end(payload));
  c.resume();
  const r = await done;
  return r.bytes / (r.ms / 1000);
}

const httpPort = await serve(http.createServer((_req, res) => {
  const body = '{"temp": 21.5}';
  res.writeHead(200, { 'Content-Type': 'application/json', 'Content-Length': body.length });
  res.end(body);
}));

const aedes = await Aedes.createBroker();
let received = 0;
await new Promise<void>((r) => aedes.subscribe('bench/t', (_p, cb) => {
  received++;
  cb();
}, r));
const mqttPort = await serve(net.createServer(aedes.handle));
closers.push(() => aedes.close());

const board = await TestBoard.open({ profile: 'esp32' });
try {
  await board.run(`
import network, socket, time, requests
w = network.WLAN(network.STA_IF)
w.active(True)
w.connect('boardctl', 'micropython')
while not w.isconnected():
    time.sleep_ms(20)
`, 30_000);

  // host -> board
  const down = Number(await board.run(`
s = socket.socket()
s.connect(('10.0.2.2', ${sourcePort}))
buf = bytearray(4096)
n = 0
t0 = time.ticks_us()
while True:
    d = s.recv(4096)
    if not d:
        break
    n += len(d)
s.close()
print(n * 1000000 // time.ticks_diff(time.ticks_us(), t0))
`, 120_000));
  const hostDown = await hostDownload();
  console.log(`TCP host->board: ${mbps(down)}  (host socket to host socket: ${mbps(hostDown)}, ${(down / hostDown).toFixed(3)}x; ESP32 over the air: up to ${mbps(ESP32_TCP)}, ${(down / ESP32_TCP).toFixed(2)}x)`);

  // board -> host
  const sunk = sinkResult();
  await board.run(`
s = socket.socket()
s.connect(('10.0.2.2', ${sinkPort}))
chunk = b'z' * 4096
for _ in range(${BYTES / 4096}):
    s.sendall(chunk)
s.close()
`, 120_000);
  const up = await sunk;
  const upRate = up.bytes / (up.ms / 1000);
  const hostUp = await hostUpload();
  console.log(`TCP board->host: ${mbps(upRate)}  (host socket to host socket: ${mbps(hostUp)}, ${(upRate / hostUp).toFixed(3)}x; ESP32 over the air: up to ${mbps(ESP32_TCP)}, ${(upRate / ESP32_TCP).toFixed(2)}x)`);

  // HTTP requests per second
  const N_HTTP = 100;
  const httpRate = Number(await board.run(`
t0 = time.ticks_us()
for _ in range(${N_HTTP}):
    r = requests.get('http://10.0.2.2:${httpPort}/')
    r.json()
print(${N_HTTP} * 1000000 // time.ticks_diff(time.ticks_us(), t0))
`, 120_000));
  const t0 = performance.now();
  const agentless = { agent: false } as const;
  for (let i = 0; i < N_HTTP; i++) {
    await new Promise<void>((resolve) => http.get({ host: '127.0.0.1', port: httpPort, ...agentless }, (res) => res.resume().on('end', resolve)));
  }
  const hostHttp = N_HTTP / ((performance.now() - t0) / 1000);
  console.log(`HTTP GET + json(): ${httpRate} requests/s  (Node, one connection per request: ${hostHttp.toFixed(0)}/s, ${(httpRate / hostHttp).toFixed(3)}x)`);

  // MQTT publishes per second (QoS 0), counted where the broker delivers them
  const N_MQTT = 1000;
  const m0 = performance.now();
  await board.run(`
from umqtt.simple import MQTTClient
c = MQTTClient('bench', '10.0.2.2', ${mqttPort})
c.connect()
for i in range(${N_MQTT}):
    c.publish(b'bench/t', b'{"seq": %d}' % i)
c.disconnect()
`, 120_000);
  for (let i = 0; i < 400 && received < N_MQTT; i++) await new Promise((r) => setTimeout(r, 10));
  const mqttRate = received / ((performance.now() - m0) / 1000);
  console.log(`MQTT publish (QoS 0): ${mqttRate.toFixed(0)} messages/s delivered by the broker (${received}/${N_MQTT})`);

  // CPU while the board blocks in recv, against the board idle at its prompt
  const cpuOver = async (ms: number) => {
    const c0 = process.cpuUsage();
    await new Promise((r) => setTimeout(r, ms));
    const c = process.cpuUsage(c0);
    return (c.user + c.system) / 1000 / ms;
  };
  const idle = await cpuOver(2000);
  let silent: net.Socket | undefined;
  const silentPort = await serve(net.createServer((s) => (silent = s)));
  const blocked = board.run(`
s = socket.socket()
s.connect(('10.0.2.2', ${silentPort}))
s.recv(10)
s.close()
`, 60_000);
  await new Promise((r) => setTimeout(r, 300));
  const inRecv = await cpuOver(2000);
  silent?.end('x');
  await blocked;
  console.log(`host CPU while the board blocks in recv: ${(inRecv * 100).toFixed(1)}% of a core  (board idle at its prompt: ${(idle * 100).toFixed(1)}%; an ESP32 blocked in recv runs its idle task)`);

  // WebREPL file transfer: the records against the raw REPL, both over one ws:// connection
  await board.run(`import webrepl\nwebrepl.start(password='bench')`);
  const wr = board.board.net!.published().find((p) => p.boardPort === 8266)!;
  const { board: client } = await connectBoard(`ws://127.0.0.1:${wr.hostPort}?password=bench`);
  try {
    const file = Buffer.alloc(Math.min(BYTES, 512 * 1024), 0xa5);
    const rate = async (step: () => Promise<unknown>) => {
      const t0 = performance.now();
      await step();
      return file.length / ((performance.now() - t0) / 1000);
    };
    const via = async (records: boolean) => ({
      up: await rate(() => uploadFiles(client, [{ dest: '/bench.bin', data: file }], [], { records })),
      down: await rate(async () => {
        const [got] = await readBoardFiles(client, ['/bench.bin'], { records });
        if (got?.data.length !== file.length) throw new Error(`read back ${got?.data.length} bytes`);
      }),
    });
    const raw = await via(false);
    const rec = await via(true);
    for (const dir of ['up', 'down'] as const) {
      console.log(`WebREPL cp ${dir} (${file.length / 1024} KB): file records ${mbps(rec[dir])}, raw REPL ${mbps(raw[dir])} (${(rec[dir] / raw[dir]).toFixed(2)}x; host socket to host socket: ${mbps(hostDown)}, ${(rec[dir] / hostDown).toFixed(4)}x)`);
    }
  } finally {
    await client.close();
  }
} finally {
  await board.close();
  for (const close of closers) close();
}
