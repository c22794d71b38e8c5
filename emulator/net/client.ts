// The worker's side of a board's network: the `_net` module behind the frozen network, socket and ssl modules.
// Host sockets live on the main thread (host.ts); calls here post a request and, when the board must wait (a
// reply, bytes to read, room to send), sleep in Atomics.wait on the shared doorbell in slices, noticing Ctrl-C
// and running the board's pollers between them: a blocked recv costs no CPU and is interrupted as on silicon.
// Every function returns a value or a negative errno (never throws: an exception would unwind the VM); a
// failure with more to say than an errno (TLS) returns DETAILED and leaves it for last_error().
import { receiveMessageOnPort, type MessagePort } from 'node:worker_threads';
import { E } from './errno.js';
import { SEND_WINDOW, type NetEvent, type TlsOptions, type NetFailure, type NetRequest, type WlanRequest, type WlanState } from './protocol.js';
import { parsesAs } from './tls-keys.js';
import type { ControllablePlugin, VmHost } from '../vm/host-api.js';

/** A Python function as the VM hands it to JavaScript. */
type PyCallable = (...args: unknown[]) => unknown;

/** A failure last_error() describes. */
const DETAILED = -1000;
/** How long one wait lasts at most before Ctrl-C and the pollers get a look. */
const SLICE_MS = 10;
/** Bytes one recv hands Python at most (lwIP's segments are smaller; this bounds one hex string). */
const RECV_MAX = 16 * 1024;

interface Sock {
  rx: Buffer[];
  rxBytes: number;
  eof: boolean;
  fail?: NetFailure;
  epoch: number;
  /** Bytes sent that the host socket has not taken yet. */
  inflight: number;
  accepts: { child: number; host: string; port: number }[];
  dgrams: { data: Buffer; host: string; port: number }[];
  /** The request of a non-blocking connect still under way. */
  connecting?: number;
}

export interface NetChannel {
  port: MessagePort;
  bell: SharedArrayBuffer;
}

export function createNetPlugin(host: VmHost, channel: NetChannel): ControllablePlugin {
  const bell = new Int32Array(channel.bell);
  const socks = new Map<number, Sock>();
  const replies = new Map<number, Extract<NetEvent, { t: 'reply' }>>();
  let nextId = 1;
  let nextRq = 1;
  let wlan: WlanState | undefined;
  let lastError: NetFailure | undefined;
  /** The WebREPL's file requests: webrepl.py's handler, the request waiting for it, a put's bytes. */
  const files = { handler: undefined as PyCallable | undefined, pending: undefined as { op: number; name: string; size: number } | undefined, rx: [] as Buffer[], aborted: false, busy: false };
  /** The WebREPL's listening socket: connections waiting for the board's accept, arrivals its handler has yet to see, the handler. */
  const listening = { held: 0, arrivals: 0, handler: undefined as PyCallable | undefined, busy: false };

  const post = (m: NetRequest) => channel.port.postMessage(m);
  const sock = (id: number): Sock => {
    let s = socks.get(id);
    if (!s) socks.set(id, (s = { rx: [], rxBytes: 0, eof: false, epoch: 0, inflight: 0, accepts: [], dgrams: [] }));
    return s;
  };

  function take(e: NetEvent): void {
    switch (e.t) {
      case 'reply': replies.set(e.rq, e); return;
      case 'wlan': wlan = e.state; return;
      case 'data': {
        const s = sock(e.id);
        if (e.epoch !== s.epoch) return;
        const b = Buffer.from(e.data);
        s.rx.push(b);
        s.rxBytes += b.length;
        return;
      }
      case 'eof': if (e.epoch === sock(e.id).epoch) sock(e.id).eof = true; return;
      case 'fail': sock(e.id).fail ??= e.fail; return;
      case 'sent': sock(e.id).inflight -= e.n; return;
      case 'connected': return;
      case 'accept': sock(e.id).accepts.push({ child: e.child, host: e.host, port: e.port }); return;
      case 'dgram': sock(e.id).dgrams.push({ data: Buffer.from(e.data), host: e.host, port: e.port }); return;
      case 'wr-begin': files.pending = { op: e.op, name: e.name, size: e.size }; files.rx = []; files.aborted = false; return;
      case 'wr-data': files.rx.push(Buffer.from(e.data)); return;
      case 'wr-abort': files.aborted = true; return;
      case 'wr-held':
        listening.held = e.count;
        if (e.arrived) listening.arrivals++;
        return;
    }
  }

  function drain(): void {
    for (let m = receiveMessageOnPort(channel.port); m; m = receiveMessageOnPort(channel.port)) take(m.message as NetEvent);
  }

  /** Wait until ready() or timeoutMs (-1: for ever); 'intr' after a Ctrl-C (the VM raises it at its next check). */
  function waitFor(ready: () => boolean, timeoutMs: number): boolean | 'intr' {
    const end = timeoutMs < 0 ? Infinity : performance.now() + timeoutMs;
    for (;;) {
      const seen = Atomics.load(bell, 0);
      drain();
      if (ready()) return true;
      const left = end - performance.now();
      if (left <= 0) return false;
      if (host.checkInterrupt()) return 'intr';
      host.runPollers();
      Atomics.wait(bell, 0, seen, Math.min(SLICE_MS, left));
    }
  }

  /** A non-blocking connect's outcome, once it came: a failure stays on the socket. */
  function settled(s: Sock): boolean {
    if (s.connecting === undefined) return true;
    const r = replies.get(s.connecting);
    if (!r) return false;
    replies.delete(s.connecting);
    s.connecting = undefined;
    if (r.fail) s.fail = r.fail;
    return true;
  }

  function failure(f: NetFailure): number {
    // A negative errno (getaddrinfo's -202) is raised as it is: last_error() says so.
    if ('errno' in f && f.errno > 0) return -f.errno;
    lastError = f;
    return DETAILED;
  }

  /** A request with a reply: the value, or a negative errno. */
  function request(make: (rq: number) => NetRequest, timeoutMs = -1): unknown {
    const rq = nextRq++;
    post(make(rq));
    const got = waitFor(() => replies.has(rq), timeoutMs);
    if (got !== true) {
      // The answer may still come: it is dropped when it does.
      replies.set(rq, { t: 'reply', rq });
      return got === 'intr' ? -E.EINTR : -E.ETIMEDOUT;
    }
    const r = replies.get(rq)!;
    replies.delete(rq);
    return r.fail ? failure(r.fail) : (r.value ?? 0);
  }

  /** A blocking wait on a socket: 0 when ready, else -EAGAIN (non-blocking), -ETIMEDOUT or -EINTR. */
  function block(ready: () => boolean, timeoutMs: number): number {
    drain();
    if (ready()) return 0;
    if (timeoutMs === 0) return -E.EAGAIN;
    const got = waitFor(ready, timeoutMs);
    return got === true ? 0 : got === 'intr' ? -E.EINTR : -E.ETIMEDOUT;
  }

  function takeBytes(s: Sock, n: number): Buffer {
    const out: Buffer[] = [];
    let want = n;
    while (want > 0 && s.rx.length) {
      const head = s.rx[0]!;
      if (head.length <= want) {
        out.push(head);
        s.rx.shift();
        want -= head.length;
      } else {
        out.push(head.subarray(0, want));
        s.rx[0] = head.subarray(want);
        want = 0;
      }
    }
    const data = Buffer.concat(out);
    s.rxBytes -= data.length;
    return data;
  }

  const mod = {
    /** WLAN request (JSON); the reply's value as JSON, or an OSError message prefixed with '!'. */
    wlan(json: string): string {
      const rq = nextRq++;
      post({ t: 'wlan', rq, req: JSON.parse(json) as WlanRequest });
      const got = waitFor(() => replies.has(rq), -1);
      if (got !== true) return '!interrupted';
      const r = replies.get(rq)!;
      replies.delete(rq);
      if (r.fail) return `!${'value' in r.fail ? r.fail.value : JSON.stringify(r.fail)}`;
      return JSON.stringify(r.value ?? null);
    },
    /** The radio's state as JSON (what the main thread last pushed). */
    wlan_state(): string {
      drain();
      return JSON.stringify(wlan ?? null);
    },
    /** Wait up to ms for the radio's state to change (WLAN.connect's callers poll status()). */
    wlan_wait(ms: number): number {
      const before = wlan;
      const got = waitFor(() => wlan !== before, ms);
      return got === 'intr' ? -E.EINTR : 0;
    },
    resolve(name: string): string | number {
      return request((rq) => ({ t: 'resolve', rq, host: name })) as string | number;
    },
    socket(): number {
      const id = nextId++;
      sock(id);
      return id;
    },
    connect(id: number, ip: string, port: number, timeoutMs: number): number {
      if (timeoutMs === 0) {
        const rq = nextRq++;
        sock(id).connecting = rq;
        post({ t: 'connect', rq, id, host: ip, port });
        return -E.EINPROGRESS;
      }
      const r = request((rq) => ({ t: 'connect', rq, id, host: ip, port }), timeoutMs < 0 ? -1 : timeoutMs) as number;
      return r < 0 ? r : 0;
    },
    listen(id: number, port: number, backlog: number): number {
      return request((rq) => ({ t: 'listen', rq, id, host: '0.0.0.0', port, backlog })) as number;
    },
    /** The next connection: "id,host,port", or a negative errno. */
    accept(id: number, timeoutMs: number): string | number {
      const s = sock(id);
      const r = block(() => s.accepts.length > 0 || s.fail !== undefined, timeoutMs);
      if (r < 0) return r;
      if (!s.accepts.length) return failure(s.fail!);
      const a = s.accepts.shift()!;
      sock(a.child);
      return `${a.child},${a.host},${a.port}`;
    },
    /** Queue hex bytes for sending once the send window has room; the count queued or a negative errno. */
    send(id: number, hex: string, timeoutMs: number): number {
      const s = sock(id);
      const room = () => settled(s) && (s.fail !== undefined || s.inflight < SEND_WINDOW);
      const r = block(room, timeoutMs);
      if (r < 0) return r;
      if (s.fail) return failure(s.fail);
      const data = Buffer.from(hex, 'hex').subarray(0, SEND_WINDOW - s.inflight);
      s.inflight += data.length;
      post({ t: 'send', id, data });
      return data.length;
    },
    /** Up to n bytes as hex ('' at end of stream), or a negative errno. */
    recv(id: number, n: number, timeoutMs: number): string | number {
      const s = sock(id);
      const r = block(() => settled(s) && (s.rxBytes > 0 || s.eof || s.fail !== undefined), timeoutMs);
      if (r < 0) return r;
      if (s.rxBytes === 0) return s.fail && !s.eof ? failure(s.fail) : '';
      const data = takeBytes(s, Math.min(n, RECV_MAX));
      post({ t: 'consumed', id, n: data.length });
      return data.toString('hex');
    },
    /** Wait until every byte sent has left for the host socket (before a close or a TLS start). */
    flush(id: number, timeoutMs: number): number {
      const s = sock(id);
      return block(() => s.inflight <= 0 || s.fail !== undefined, timeoutMs);
    },
    bind_udp(id: number, port: number): number {
      return request((rq) => ({ t: 'udp', rq, id, host: '0.0.0.0', port })) as number;
    },
    sendto(id: number, hex: string, ip: string, port: number): number {
      return request((rq) => ({ t: 'sendto', rq, id, data: Buffer.from(hex, 'hex'), host: ip, port })) as number;
    },
    /** The next datagram: "host,port,hex", or a negative errno. */
    recvfrom(id: number, n: number, timeoutMs: number): string | number {
      const s = sock(id);
      const r = block(() => s.dgrams.length > 0, timeoutMs);
      if (r < 0) return r;
      const d = s.dgrams.shift()!;
      return `${d.host},${d.port},${d.data.subarray(0, n).toString('hex')}`;
    },
    /** select.poll's view of a socket: POLLIN 1, POLLOUT 4, POLLERR 8, POLLHUP 16. */
    poll(id: number): number {
      drain();
      const s = sock(id);
      if (!settled(s)) return 0;
      let flags = 0;
      if (s.rxBytes > 0 || s.eof || s.accepts.length || s.dgrams.length) flags |= 1;
      if (s.inflight < SEND_WINDOW) flags |= 4;
      if (s.fail) flags |= 8;
      if (s.eof) flags |= 16;
      return flags;
    },
    /** Start TLS on a connected socket (JSON options); 0 or a failure. */
    tls(id: number, json: string, timeoutMs: number): number {
      const s = sock(id);
      // What the board has not read goes back through TLS on the host: drop it here, take the next epoch's.
      s.rx = [];
      s.rxBytes = 0;
      s.eof = false;
      s.epoch++;
      // Certificates and keys come as hex of what Python held (PEM text or DER bytes).
      const o = JSON.parse(json) as TlsOptions & { ca: string[] };
      const bytes = (hex: string | undefined) => (hex === undefined ? undefined : Buffer.from(hex, 'hex').toString('latin1'));
      const opts: TlsOptions = { ...o, ca: o.ca.map((c) => bytes(c)!), cert: bytes(o.cert), key: bytes(o.key) };
      const r = request((rq) => ({ t: 'tls', rq, id, opts }), timeoutMs) as number;
      return r < 0 ? r : 0;
    },
    /** 0 when a key or certificate (hex of PEM or DER) parses; else DETAILED, ValueError 'invalid key'/'invalid cert'. */
    check_pem(kind: string, hex: string): number {
      if (parsesAs(kind === 'key' ? 'key' : 'cert', Buffer.from(hex, 'hex').toString('latin1'))) return 0;
      lastError = { value: `invalid ${kind}` };
      return DETAILED;
    },
    /** Start the WebREPL server on a board port (its framing and prompt run on the host), or stop it (''). */
    webrepl(port: number, password: string, held = false, base = ''): number {
      listening.held = listening.arrivals = 0;
      return request((rq) => ({ t: 'webrepl', rq, port, password, held, base })) as number;
    },
    /** The listening socket's accept handler (called once for each connection that arrives), or none. */
    wr_on_accept(fn: PyCallable | null): void {
      listening.handler = fn ?? undefined;
    },
    /**
     * Blocks until a connection waits, then accepts it: `serve` as webrepl.py's accept_conn ('1': a client is
     * attached, '0': it got the page or was refused, then the line to print), else as a socket
     * ("child,host,port"); -EINTR on Ctrl-C.
     */
    wr_accept(serve: boolean): number | string {
      for (;;) {
        if (waitFor(() => listening.held > 0, -1) === 'intr') return -E.EINTR;
        const r = request((rq) => ({ t: 'wr-accept', rq, serve })) as number | string;
        if (r !== -1) return r;
      }
    },
    /** webrepl.py's _transfer(op, name, size), run for each file request of the WebREPL's client. */
    wr_handler(fn: PyCallable | null): void {
      files.handler = fn ?? undefined;
    },
    /** The status of the request under way (its open's, then its end's). */
    wr_status(code: number): void {
      post({ t: 'wr-status', code });
    },
    /** Up to n bytes of the file being put, as hex; '' when the client went away. */
    wr_recv(n: number): string | number {
      const got = waitFor(() => files.rx.length > 0 || files.aborted, -1);
      if (got === 'intr') return -E.EINTR;
      const head = files.rx.shift();
      if (!head) return '';
      if (head.length > n) files.rx.unshift(head.subarray(n));
      return head.subarray(0, n).toString('hex');
    },
    /** Bytes of the file being got, as hex ('' at its end). */
    wr_send(hex: string): void {
      post({ t: 'wr-chunk', data: Buffer.from(hex, 'hex') });
    },
    close(id: number): void {
      socks.delete(id);
      post({ t: 'close', id });
    },
    /** The failure behind the last DETAILED: JSON of {tls, name} or {value}. */
    last_error(): string {
      return JSON.stringify(lastError ?? null);
    },
  };

  // A file request runs when the board looks at its network: between bytecodes, in its waits, or idle at the
  // REPL, as the firmware serves it inside a read of the WebREPL's stream (a hard-IRQ-like call into Python).
  host.addPoller(() => {
    if (files.busy || listening.busy) return;
    drain();
    // As lwIP's event on the listening socket: its callback runs once for each connection that arrives.
    if (listening.arrivals > 0 && listening.handler) {
      listening.arrivals--;
      listening.busy = true;
      try {
        listening.handler();
      } finally {
        listening.busy = false;
      }
    }
    if (!files.pending || !files.handler) return;
    const { op, name, size } = files.pending;
    files.pending = undefined;
    files.busy = true;
    try {
      files.handler(op, name, size);
    } catch {
      post({ t: 'wr-status', code: 1 });
    } finally {
      files.busy = false;
    }
  });

  return {
    name: 'net',
    jsModules: { _net: mod },
    onBoot() {
      files.handler = undefined;
      files.pending = undefined;
      listening.handler = undefined;
      // A fresh VM: its sockets are gone, and the host closes theirs. The radio's state is on the channel from
      // before the worker started (host.ts attach), and kept up to date since.
      socks.clear();
      replies.clear();
      post({ t: 'boot' });
      drain();
    },
  };
}
