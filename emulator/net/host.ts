// A board's network on the main thread: its Wi-Fi radio (wlan.ts), the host sockets behind its own, its name
// lookups, the policy that decides which host sockets it may open, and the listening sockets it publishes on
// 127.0.0.1. The worker's side (client.ts) asks over a MessagePort; answers and socket events go back on it,
// each with a bump of a shared doorbell the worker sleeps on.
import { MessageChannel, type MessagePort } from 'node:worker_threads';
import net from 'node:net';
import type dgram from 'node:dgram';
import { E, EAI_FAIL, boardErrno } from './errno.js';
import { accessPoints, type NetworkConfig } from './config.js';
import { NetPolicy } from './policy.js';
import { ntpAnswer } from './ntp.js';
import { Wlan } from './wlan.js';
import type { BoardConsole, WebReplBoard, WebReplOptions, WebReplServer } from './webrepl-host.js';
import { ACCEPTED_ID_BASE, RECV_WINDOW, type NetEvent, type NetFailure, type NetRequest, type TlsOptions } from './protocol.js';

/**
 * What the board's sockets need beyond the radio (UDP, name lookups, TLS, the WebREPL's HTTP server): loaded when
 * a board first uses its network, as most runs never do. NetHost.handle passes on no request beyond the radio's
 * before they are in, and the socket code runs only from there (hence its `modules!`).
 */
interface SocketModules {
  dgram: typeof dgram;
  lookup: typeof import('node:dns/promises').lookup;
  tlsHost: typeof import('./tls-host.js');
  WebReplServer: typeof WebReplServer;
}
let modules: SocketModules | undefined;

async function loadSocketModules(): Promise<SocketModules> {
  const [dgramModule, dns, tlsHost, webrepl] = await Promise.all([import('node:dgram'), import('node:dns/promises'), import('./tls-host.js'), import('./webrepl-host.js')]);
  modules ??= { dgram: dgramModule.default, lookup: dns.lookup, tlsHost, WebReplServer: webrepl.WebReplServer };
  return modules;
}

/** The gateway of the board's network: connections to it reach the host itself (as QEMU's user network does). */
export const GATEWAY = '10.0.2.2';
const BOARD_IP = '10.0.2.15';
const NTP_PORT = 123;
/** lwIP's range for ports it picks itself. */
const EPHEMERAL_FIRST = 49152;

export interface NetHostOptions {
  config?: NetworkConfig;
  /** The station MAC from board.json. */
  mac: string;
  /** The chip's default hostname (mpy-esp32, ...). */
  hostname: string;
  /** The board's REPL, for a WebREPL client. */
  console?: BoardConsole;
}

/** Something the user may want to know about, as `sim serve` prints it. */
export type NetNotice =
  | { kind: 'published'; proto: 'tcp' | 'udp'; boardPort: number; host: string; hostPort: number }
  | { kind: 'unpublished'; proto: 'tcp' | 'udp'; boardPort: number; host: string; hostPort: number }
  | { kind: 'refused'; host: string; port: number; why: string };

export interface Published {
  proto: 'tcp' | 'udp';
  boardPort: number;
  host: string;
  hostPort: number;
}

interface Stream {
  kind: 'stream';
  id: number;
  sock: net.Socket;
  /** TLS runs on it: its errors are TLS errors. */
  tls: boolean;
  /** Counts TLS starts: the worker drops stream bytes of an older epoch. */
  epoch: number;
  /** Bytes sent to the worker that the board has not read yet (kept for a TLS start), and their total. */
  unread: Buffer[];
  unreadBytes: number;
  paused: boolean;
  /** Through the board's own loopback (to its own listener): not cut by the network going down. */
  local: boolean;
}

interface Listener {
  kind: 'listen';
  id: number;
  server: net.Server;
  published: Published;
}

interface Udp {
  kind: 'udp';
  id: number;
  sock: dgram.Socket;
  published?: Published;
  /** Peers the board sent to: only their datagrams come back to an unbound socket (as through NAT). */
  peers: Set<string>;
}

type HostSocket = Stream | Listener | Udp;

export class NetHost {
  private policy: NetPolicy;
  private wlan: Wlan | undefined;
  private port: MessagePort | undefined;
  private bell: Int32Array | undefined;
  private readonly sockets = new Map<number, HostSocket>();
  private nextChild = ACCEPTED_ID_BASE;
  /** IPs the board's lookups gave, with the names looked up (the allow-list may name hosts). */
  private readonly lookedUp = new Map<string, Set<string>>();
  /** Local ports of the board's own connections to its listeners (accepted whatever the radio does). */
  private readonly loopbackPorts = new Set<number>();
  private uplink = true;
  private readonly listeners = new Set<(n: NetNotice) => void>();
  private readonly config: NetworkConfig;
  private webrepl: { server: WebReplServer; published: Published } | undefined;

  constructor(private readonly opts: NetHostOptions) {
    this.config = opts.config ?? {};
    this.policy = new NetPolicy(this.config);
  }

  /** Override the policy for this run (`sim serve --offline`, `--allow`). */
  setPolicy(overrides: { offline?: boolean; allow?: string[] }): void {
    Object.assign(this.config, Object.fromEntries(Object.entries(overrides).filter(([, v]) => v !== undefined)));
    this.policy = new NetPolicy(this.config);
    this.wlan?.setOffline(this.policy.offline);
  }

  onNotice(listener: (n: NetNotice) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private notice(n: NetNotice): void {
    for (const l of this.listeners) l(n);
  }

  // ---- the worker ---------------------------------------------------------------------------------------

  /** A new worker (power-on): a fresh radio; returns what the worker's side needs. */
  attach(): { port: MessagePort; bell: SharedArrayBuffer } {
    this.detach();
    const { port1, port2 } = new MessageChannel();
    const bell = new SharedArrayBuffer(4);
    this.port = port1;
    this.bell = new Int32Array(bell);
    port1.on('message', (m: NetRequest) => this.handle(m));
    const wlan = new Wlan({
      aps: accessPoints(this.config), offline: this.policy.offline, mac: this.opts.mac, hostname: this.opts.hostname,
    });
    // The radio's state goes to the worker here and at each change, and only so: queued on the channel before the
    // worker has it, the first boot finds it there, and a soft reset keeps the worker's copy (the radio stays up).
    wlan.onChange(() => this.post({ t: 'wlan', state: wlan.state() }));
    this.post({ t: 'wlan', state: wlan.state() });
    wlan.onLinkDown(() => {
      this.abortStreams(E.ECONNABORTED);
      if (!wlan.reachable) this.webrepl?.server.dropClient();
    });
    this.wlan = wlan;
    return { port: port2, bell };
  }

  /** The worker is gone (reset, power off): every socket closes, the radio stops. */
  detach(): void {
    this.waiting = undefined; // the old worker's requests go with it
    this.closeAll(false);
    this.wlan?.stop();
    this.wlan = undefined;
    this.port?.close();
    this.port = undefined;
    this.bell = undefined;
  }

  /** Wake the worker if it waits in a socket call (link input arrived: it may be Ctrl-C). */
  wake(): void {
    if (!this.bell) return;
    Atomics.add(this.bell, 0, 1);
    Atomics.notify(this.bell, 0);
  }

  private post(e: NetEvent): void {
    if (!this.port) return;
    this.port.postMessage(e);
    this.wake();
  }

  private reply(rq: number, value?: unknown): void {
    this.post({ t: 'reply', rq, value });
  }

  private fail(rq: number, fail: NetFailure | number): void {
    this.post({ t: 'reply', rq, fail: typeof fail === 'number' ? { errno: fail } : fail });
  }

  /** Requests that came while the socket modules load, handled in order once they are in. */
  private waiting: NetRequest[] | undefined;

  private handle(m: NetRequest): void {
    if (this.waiting) return void this.waiting.push(m);
    if (!modules && m.t !== 'boot' && m.t !== 'wlan') {
      this.waiting = [m];
      void loadSocketModules().then(() => {
        const waiting = this.waiting ?? [];
        this.waiting = undefined;
        for (const w of waiting) this.handle(w);
      });
      return;
    }
    switch (m.t) {
      case 'boot':
        // A soft reset: the VM's sockets are gone (their finalisers close them on silicon); the radio stays up.
        this.closeAll(true);
        return;
      case 'wlan': {
        const r = this.wlan!.request(m.req);
        const send = () => (r.error ? this.post({ t: 'reply', rq: m.rq, fail: { value: r.error } }) : this.reply(m.rq, r.value));
        if (r.afterMs) setTimeout(send, r.afterMs);
        else send();
        return;
      }
      case 'resolve': return void this.resolve(m.rq, m.host);
      case 'connect': return this.connect(m.rq, m.id, m.host, m.port);
      case 'listen': return void this.listen(m.rq, m.id, m.port);
      case 'udp': return void this.bindUdp(m.rq, m.id, m.port);
      case 'sendto': return this.sendto(m.rq, m.id, Buffer.from(m.data), m.host, m.port);
      case 'send': return this.send(m.id, m.data);
      case 'consumed': return this.consumed(m.id, m.n);
      case 'tls': return this.tls(m.rq, m.id, m.opts);
      case 'close': return this.closeSocket(m.id, true);
      case 'webrepl': return void this.startWebRepl(m.rq, m.port, { password: m.password, held: m.held, base: m.base });
      case 'wr-accept': return this.acceptWebRepl(m.rq, m.serve);
      case 'wr-status': return this.webrepl?.server.fromBoard({ kind: 'status', code: m.code });
      case 'wr-chunk': return this.webrepl?.server.fromBoard({ kind: 'chunk', data: m.data });
    }
  }

  // ---- what the board may reach -------------------------------------------------------------------------

  /** The errno an outbound attempt to ip:port fails with before any host socket is opened, if it does. */
  private refusal(ip: string, port: number): number | undefined {
    if (!this.wlan?.connected || !this.uplink) return E.EHOSTUNREACH;
    if (!this.policy.allowsConnect(ip, port, this.lookedUp.get(ip) ?? [])) {
      this.notice({ kind: 'refused', host: ip, port, why: `the network policy allows ${this.policy.describe()}` });
      return E.EHOSTUNREACH;
    }
    return undefined;
  }

  /** Where a board address leads on the host: its own listeners (loopback), the host for the gateway. */
  private route(ip: string, port: number, proto: 'tcp' | 'udp'): { host: string; port: number; local: boolean } {
    const own = ip === '127.0.0.1' || ip === BOARD_IP || ip === '0.0.0.0' || ip === '192.168.4.1';
    const mine = own ? this.publishedFor(proto, port) : undefined;
    if (mine) return { host: mine.host === '0.0.0.0' ? '127.0.0.1' : mine.host, port: mine.hostPort, local: true };
    return { host: ip === GATEWAY ? '127.0.0.1' : ip, port, local: false };
  }

  private publishedFor(proto: 'tcp' | 'udp', boardPort: number): Published | undefined {
    return this.published().find((p) => p.proto === proto && p.boardPort === boardPort);
  }

  private async resolve(rq: number, host: string): Promise<void> {
    if (net.isIPv4(host)) return this.reply(rq, host);
    if (!this.wlan?.connected || !this.uplink) return this.fail(rq, -EAI_FAIL);
    if (!this.policy.allowsLookup(host)) {
      this.notice({ kind: 'refused', host, port: 0, why: `the network policy allows ${this.policy.describe()}` });
      return this.fail(rq, -EAI_FAIL);
    }
    try {
      const { address } = await modules!.lookup(host, { family: 4 });
      let names = this.lookedUp.get(address);
      if (!names) this.lookedUp.set(address, (names = new Set()));
      names.add(host);
      this.reply(rq, address);
    } catch {
      this.fail(rq, -EAI_FAIL);
    }
  }

  // ---- TCP --------------------------------------------------------------------------------------------

  private connect(rq: number, id: number, ip: string, port: number): void {
    const to = this.route(ip, port, 'tcp');
    const refused = to.local ? undefined : this.refusal(to.host, port);
    if (refused) return this.fail(rq, refused);
    const sock = net.connect({ host: to.host, port: to.port, allowHalfOpen: true });
    const stream = this.stream(id, sock, to.local);
    let connected = false;
    sock.once('connect', () => {
      connected = true;
      if (to.local) {
        this.loopbackPorts.add(sock.localPort!);
        sock.once('close', () => this.loopbackPorts.delete(sock.localPort!));
      }
      this.reply(rq);
      this.forward(stream);
    });
    sock.once('error', (err) => {
      if (connected) return;
      this.sockets.delete(id);
      this.fail(rq, boardErrno(err));
    });
  }

  private stream(id: number, sock: net.Socket, local: boolean): Stream {
    const s: Stream = { kind: 'stream', id, sock, tls: false, epoch: 0, unread: [], unreadBytes: 0, paused: false, local };
    this.sockets.set(id, s);
    return s;
  }

  /** Pass the stream's bytes to the board, pausing while the board has a window's worth unread. */
  private forward(s: Stream): void {
    const sock = s.sock;
    const epoch = s.epoch;
    sock.on('data', (chunk: Buffer) => {
      s.unread.push(chunk);
      s.unreadBytes += chunk.length;
      this.post({ t: 'data', id: s.id, data: chunk, epoch });
      if (s.unreadBytes >= RECV_WINDOW && !s.paused) {
        s.paused = true;
        sock.pause();
      }
    });
    sock.on('end', () => this.post({ t: 'eof', id: s.id, epoch }));
    sock.on('error', (err) => {
      if (this.sockets.get(s.id) === s) this.post({ t: 'fail', id: s.id, fail: s.tls ? modules!.tlsHost.tlsError(err) : { errno: boardErrno(err) } });
    });
    sock.on('close', () => {
      if (this.sockets.get(s.id) === s) this.post({ t: 'eof', id: s.id, epoch });
    });
  }

  private consumed(id: number, n: number): void {
    const s = this.sockets.get(id);
    if (s?.kind !== 'stream') return;
    this.dropUnread(s, n);
    if (s.paused && s.unreadBytes < RECV_WINDOW / 2) {
      s.paused = false;
      s.sock.resume();
    }
  }

  private dropUnread(s: Stream, n: number): void {
    s.unreadBytes -= n;
    while (n > 0 && s.unread.length) {
      const head = s.unread[0]!;
      if (head.length <= n) {
        n -= head.length;
        s.unread.shift();
      } else {
        s.unread[0] = head.subarray(n);
        n = 0;
      }
    }
  }

  private send(id: number, data: Uint8Array): void {
    const s = this.sockets.get(id);
    if (s?.kind !== 'stream' || s.sock.destroyed) {
      this.post({ t: 'fail', id, fail: { errno: E.ECONNRESET } });
      return;
    }
    s.sock.write(data, () => this.post({ t: 'sent', id, n: data.length }));
  }

  private async listen(rq: number, id: number, boardPort: number): Promise<void> {
    if (boardPort && this.publishedFor('tcp', boardPort)) return this.fail(rq, E.EADDRINUSE);
    const port = boardPort || this.ephemeral('tcp');
    let bound: { published: Published; value: net.Server };
    try {
      bound = await this.publish('tcp', port, (hostPort) => listenOn(this.publishHost(), hostPort));
    } catch (err) {
      return this.fail(rq, boardErrno(err));
    }
    const { published, value: server } = bound;
    if (this.port === undefined) return void server.close();
    this.sockets.set(id, { kind: 'listen', id, server, published });
    server.on('connection', (sock) => {
      // Nobody reaches a board without an address, except the board itself over its loopback.
      const local = this.loopbackPorts.has(sock.remotePort!);
      if (!this.wlan?.reachable && !local) return void sock.destroy();
      const child = this.nextChild++;
      const s = this.stream(child, sock, local);
      this.post({ t: 'accept', id, child, host: sock.remoteAddress!.replace(/^::ffff:/, ''), port: sock.remotePort! });
      this.forward(s);
    });
    this.reply(rq, port);
    this.notice({ kind: 'published', ...published });
  }

  private publishHost(): string {
    return this.config.publishHost ?? '127.0.0.1';
  }

  /** The host port a board port is published at: board.json's mapping, else the same port when free, else any. */
  private async publish<T>(
    proto: 'tcp' | 'udp', boardPort: number, bind: (hostPort: number) => Promise<[T, number]>,
  ): Promise<{ published: Published; value: T }> {
    const host = this.publishHost();
    const done = ([value, hostPort]: [T, number]) => ({ published: { proto, boardPort, host, hostPort }, value });
    const mapped = this.config.ports?.[String(boardPort)];
    if (mapped !== undefined) return done(await bind(mapped));
    if (boardPort >= 1024) {
      try {
        return done(await bind(boardPort));
      } catch {
        // taken on the host: any free one
      }
    }
    return done(await bind(0));
  }

  private ephemeral(proto: 'tcp' | 'udp'): number {
    let p = EPHEMERAL_FIRST;
    while (this.publishedFor(proto, p)) p++;
    return p;
  }

  private tls(rq: number, id: number, opts: TlsOptions): void {
    const s = this.sockets.get(id);
    if (s?.kind !== 'stream' || s.sock.destroyed) return this.fail(rq, E.ENOTCONN);
    // The board acknowledged all it read before asking: what it was sent beyond that goes back under TLS.
    const leftover = Buffer.concat(s.unread);
    s.unread = [];
    s.unreadBytes = 0;
    const raw = s.sock;
    raw.removeAllListeners('data');
    raw.removeAllListeners('end');
    raw.removeAllListeners('close');
    raw.pause();
    s.paused = false;
    const started = modules!.tlsHost.startTls(raw, leftover, opts);
    s.sock = started.socket;
    s.tls = true;
    s.epoch++;
    this.forward(s);
    started.ready.then(
      () => this.reply(rq),
      (fail: NetFailure) => {
        if (this.sockets.get(id) === s) this.sockets.delete(id);
        started.socket.destroy();
        this.fail(rq, fail);
        this.post({ t: 'fail', id, fail });
      },
    );
  }

  // ---- WebREPL ------------------------------------------------------------------------------------------

  private async startWebRepl(rq: number, boardPort: number, opts: WebReplOptions): Promise<void> {
    this.stopWebRepl();
    if (!opts.password) return this.reply(rq, 0);
    if (!this.opts.console) return this.fail(rq, E.EOPNOTSUPP);
    if (this.publishedFor('tcp', boardPort)) return this.fail(rq, E.EADDRINUSE);
    const console = this.opts.console;
    try {
      const board: WebReplBoard = {
        console,
        files: {
          begin: (req) => this.post({ t: 'wr-begin', ...req }),
          data: (data) => this.post({ t: 'wr-data', data }),
          abort: () => this.post({ t: 'wr-abort' }),
        },
        reachable: () => this.wlan?.reachable ?? false,
        held: (count, arrived) => this.post({ t: 'wr-held', count, arrived }),
      };
      const { published, value: server } = await this.publish('tcp', boardPort, (hostPort) => modules!.WebReplServer.start(this.publishHost(), hostPort, opts, board));
      if (this.port === undefined) return server.close();
      this.webrepl = { server, published };
      this.reply(rq, boardPort);
      this.notice({ kind: 'published', ...published });
    } catch (err) {
      this.fail(rq, boardErrno(err));
    }
  }

  private acceptWebRepl(rq: number, serve: boolean): void {
    const sock = this.webrepl?.server.take();
    if (!sock) return this.reply(rq, -1);
    // The board prints accept_conn's line itself, in order with what it printed before.
    if (serve) return this.webrepl!.server.serve(sock, (attached, line = '') => this.reply(rq, `${attached ? 1 : 0}${line}`));
    // The user's accept handler took it as a socket of its own: a stream like any listener's child.
    const child = this.nextChild++;
    this.forward(this.stream(child, sock, false));
    this.reply(rq, `${child},${sock.remoteAddress!.replace(/^::ffff:/, '')},${sock.remotePort}`);
  }

  private stopWebRepl(): void {
    if (!this.webrepl) return;
    this.webrepl.server.close();
    this.notice({ kind: 'unpublished', ...this.webrepl.published });
    this.webrepl = undefined;
  }

  // ---- UDP ----------------------------------------------------------------------------------------------

  /** The board's UDP socket; an unbound one gets an ephemeral host socket, as lwIP binds at the first send. */
  private udpSocket(id: number): Udp {
    const u = this.sockets.get(id);
    if (u?.kind === 'udp') return u;
    const entry: Udp = { kind: 'udp', id, sock: this.udpHostSocket(id, () => entry), peers: new Set() };
    this.sockets.set(id, entry);
    return entry;
  }

  private udpHostSocket(id: number, entry: () => Udp): dgram.Socket {
    const sock = modules!.dgram.createSocket('udp4');
    sock.on('message', (msg, rinfo) => {
      const u = entry();
      if (this.sockets.get(id) !== u || (!u.published && !u.peers.has(`${rinfo.address}:${rinfo.port}`))) return;
      this.post({ t: 'dgram', id, data: msg, host: rinfo.address, port: rinfo.port });
    });
    sock.on('error', () => undefined);
    return sock;
  }

  private async bindUdp(rq: number, id: number, boardPort: number): Promise<void> {
    if (boardPort && this.publishedFor('udp', boardPort)) return this.fail(rq, E.EADDRINUSE);
    const u = this.udpSocket(id);
    const port = boardPort || this.ephemeral('udp');
    try {
      const bound = await this.publish('udp', port, (hostPort) => bindOn(this.udpHostSocket(id, () => u), this.publishHost(), hostPort));
      u.sock.close();
      u.sock = bound.value;
      u.published = bound.published;
    } catch (err) {
      return this.fail(rq, boardErrno(err));
    }
    this.reply(rq, port);
    this.notice({ kind: 'published', ...u.published });
  }

  private sendto(rq: number, id: number, data: Buffer, ip: string, port: number): void {
    if (port === NTP_PORT && (ip === GATEWAY || this.config.ntp === 'host')) return this.answerNtp(rq, id, data, ip);
    const to = this.route(ip, port, 'udp');
    const refused = to.local ? undefined : this.refusal(to.host, port);
    if (refused) return this.fail(rq, refused);
    const u = this.udpSocket(id);
    u.peers.add(`${to.host}:${to.port}`);
    u.sock.send(data, to.port, to.host, (err) => (err ? this.fail(rq, boardErrno(err)) : this.reply(rq, data.length)));
  }

  /** The network's own NTP server: the host's clock, no host socket. */
  private answerNtp(rq: number, id: number, data: Buffer, ip: string): void {
    if (!this.wlan?.connected || (!this.uplink && ip !== GATEWAY)) return this.fail(rq, E.EHOSTUNREACH);
    this.udpSocket(id);
    this.reply(rq, data.length);
    const answer = ntpAnswer(data);
    if (answer) setTimeout(() => this.post({ t: 'dgram', id, data: answer, host: ip, port: NTP_PORT }), 2);
  }

  // ---- closing ------------------------------------------------------------------------------------------

  /** `graceful`: as lwip_close, what was written still goes out, then FIN (a peer that never finishes is cut off). */
  private closeSocket(id: number, graceful: boolean): void {
    const s = this.sockets.get(id);
    if (!s) return;
    this.sockets.delete(id);
    if (s.kind === 'stream') {
      if (!graceful) return void s.sock.destroy();
      s.sock.end();
      setTimeout(() => s.sock.destroy(), 5000).unref();
    } else if (s.kind === 'listen') {
      s.server.close();
      this.notice({ kind: 'unpublished', ...s.published });
    } else {
      s.sock.close();
      if (s.published) this.notice({ kind: 'unpublished', ...s.published });
    }
  }

  private closeAll(graceful: boolean): void {
    // A soft reset closes the firmware's sockets, the WebREPL's with them.
    this.stopWebRepl();
    for (const id of [...this.sockets.keys()]) this.closeSocket(id, graceful);
    this.lookedUp.clear();
  }

  /** The network went away under the board's connections (not its loopback ones). */
  private abortStreams(errno: number): void {
    for (const s of [...this.sockets.values()]) {
      if (s.kind !== 'stream' || s.local) continue;
      this.sockets.delete(s.id);
      s.sock.destroy();
      this.post({ t: 'fail', id: s.id, fail: { errno } });
    }
  }

  // ---- outside control ----------------------------------------------------------------------------------

  /** `sim set NAME ap up|down [SSID]`, `sim set NAME uplink up|down`. */
  set(what: 'ap' | 'uplink', up: boolean, ssid?: string): void {
    if (what === 'uplink') {
      this.uplink = up;
      if (!up) this.abortStreams(E.ECONNRESET);
      return;
    }
    if (!this.wlan) throw new Error('the board is not running');
    this.wlan.setApUp(up, ssid);
  }

  published(): Published[] {
    const out: Published[] = [];
    for (const s of this.sockets.values()) if ((s.kind === 'listen' || s.kind === 'udp') && s.published) out.push(s.published);
    if (this.webrepl) out.push(this.webrepl.published);
    return out;
  }

  info(): Record<string, unknown> {
    const state = this.wlan?.state();
    return {
      aps: accessPoints(this.config).map((ap) => ({ ssid: ap.ssid, key: ap.key, security: ap.security ?? 'open', down: this.wlan?.apsDown().includes(ap.ssid) ?? false })),
      offline: this.policy.offline,
      policy: this.policy.describe(),
      uplink: this.uplink,
      station: state ? { active: state.sta, status: state.status, connected: state.connected, ssid: state.ssid, ifconfig: state.staIp } : undefined,
      published: this.published(),
    };
  }

  close(): void {
    this.detach();
  }
}

function listenOn(host: string, port: number): Promise<[net.Server, number]> {
  const server = net.createServer({ allowHalfOpen: true });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen({ host, port, exclusive: true }, () => {
      server.off('error', reject);
      resolve([server, (server.address() as net.AddressInfo).port]);
    });
  });
}

function bindOn(sock: dgram.Socket, host: string, port: number): Promise<[dgram.Socket, number]> {
  return new Promise((resolve, reject) => {
    const onError = (err: Error) => {
      sock.close();
      reject(err);
    };
    sock.once('error', onError);
    sock.bind({ address: host, port, exclusive: true }, () => {
      sock.off('error', onError);
      resolve([sock, sock.address().port]);
    });
  });
}
