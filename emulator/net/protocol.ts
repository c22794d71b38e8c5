// The channel between a board's worker (where the VM runs) and the main thread (where its host sockets live).
// Requests go to the main thread as messages on a MessagePort; its answers and socket events come back on the
// same port, and each one bumps a shared doorbell so the worker, asleep in Atomics.wait, takes them at once
// (receiveMessageOnPort: the worker's event loop never runs while the VM does).

/** Worker-side ids start at 1; the ids of accepted connections, made on the main thread, from here. */
export const ACCEPTED_ID_BASE = 2 ** 30;

export interface TlsOptions {
  server: boolean;
  /** SNI and the name checked against the certificate. */
  hostname?: string;
  /** mbedTLS authmode: 0 none, 1 optional, 2 required. */
  verify: 0 | 1 | 2;
  /** PEM or DER (latin1) CA certificates, certificate and key. */
  ca?: string[];
  cert?: string;
  key?: string;
}

export type WlanRequest =
  | { op: 'active'; iface: 0 | 1; value?: boolean }
  | { op: 'connect'; ssid?: string; key?: string; bssid?: string }
  | { op: 'disconnect' }
  | { op: 'scan' }
  | { op: 'config'; iface: 0 | 1; set: Record<string, unknown> }
  | { op: 'ifconfig'; iface: 0 | 1; set?: [string, string, string, string] | 'dhcp' }
  /** network.hostname() / network.country() settings (the module's, not an interface's). */
  | { op: 'system'; hostname?: string; country?: string };

/** Messages from the worker. `rq` marks a request that gets a reply. */
export type NetRequest =
  | { t: 'boot' }
  | { t: 'wlan'; rq: number; req: WlanRequest }
  | { t: 'resolve'; rq: number; host: string }
  | { t: 'connect'; rq: number; id: number; host: string; port: number }
  | { t: 'listen'; rq: number; id: number; host: string; port: number; backlog: number }
  | { t: 'udp'; rq: number; id: number; host: string; port: number }
  | { t: 'sendto'; rq: number; id: number; data: Uint8Array; host: string; port: number }
  | { t: 'send'; id: number; data: Uint8Array }
  /** The board has read n more bytes of the stream (the host socket may read on). */
  | { t: 'consumed'; id: number; n: number }
  /** Start TLS on a connected socket (sent after the 'consumed' of everything the board has read). */
  | { t: 'tls'; rq: number; id: number; opts: TlsOptions }
  | { t: 'close'; id: number }
  /**
   * webrepl.start(port, password) (a password of '' stops it); `held`: connections wait for the board's accept
   * (an accept_handler of the user's, or start_foreground's none); `base`: the page's static_host.
   */
  | { t: 'webrepl'; rq: number; port: number; password: string; held: boolean; base: string }
  /**
   * The board accepts the oldest waiting WebREPL connection: `serve` as webrepl.py's accept_conn (replies 1
   * once a client is attached, 0 for the page or a refusal, followed by the line accept_conn prints), else as a
   * plain socket (replies "child,host,port"); -1 when none waits any more.
   */
  | { t: 'wr-accept'; rq: number; serve: boolean }
  /** A WebREPL file request's status (the open's, then the end's), and a get's file bytes (empty: the end). */
  | { t: 'wr-status'; code: number }
  | { t: 'wr-chunk'; data: Uint8Array };

/** A failure: an errno (OSError(n)), a TLS error (OSError(code, name)) or a certificate refusal (ValueError). */
export type NetFailure = { errno: number } | { tls: number; name: string } | { value: string };

/** Messages to the worker. */
export type NetEvent =
  | { t: 'reply'; rq: number; value?: unknown; fail?: NetFailure }
  /** Stream bytes; `epoch` counts TLS starts, so bytes read before a TLS start are not taken for plaintext. */
  | { t: 'data'; id: number; data: Uint8Array; epoch: number }
  | { t: 'eof'; id: number; epoch: number }
  | { t: 'fail'; id: number; fail: NetFailure }
  /** n bytes the board sent have left for the host socket (room in the send window). */
  | { t: 'sent'; id: number; n: number }
  | { t: 'connected'; id: number }
  | { t: 'accept'; id: number; child: number; host: string; port: number }
  | { t: 'dgram'; id: number; data: Uint8Array; host: string; port: number }
  | { t: 'wlan'; state: WlanState }
  /** A WebREPL client's file request (put 1, get 2), the bytes of a put, and the client gone mid-transfer. */
  | { t: 'wr-begin'; op: number; name: string; size: number }
  | { t: 'wr-data'; data: Uint8Array }
  | { t: 'wr-abort' }
  /** How many WebREPL connections wait for the board's accept; `arrived`: a new one (its accept handler runs). */
  | { t: 'wr-held'; count: number; arrived: boolean };

/** What the board's network module reads; the main thread pushes it whenever it changes. */
export interface WlanState {
  /** The station interface is started (WLAN(STA_IF).active()). */
  sta: boolean;
  ap: boolean;
  /** WLAN.status() of the station, with the ESP32 port's codes. */
  status: number;
  /** Connected with an address (isconnected()). */
  connected: boolean;
  /** The SSID the station is configured for. */
  ssid: string;
  rssi: number;
  channel: number;
  staIp: [string, string, string, string];
  apIp: [string, string, string, string];
  apConfig: { ssid: string; key: string; security: number; channel: number; hidden: boolean; maxClients: number };
  staMac: string;
  apMac: string;
  txpower: number;
  reconnects: number;
  pm: number;
  protocol: number;
  hostname: string;
  country: string;
  dns: string;
  dhcp: boolean;
}

/** Bytes the board may have sent that the host socket has not yet taken (ESP32's TCP_SND_BUF is 5744). */
export const SEND_WINDOW = 32 * 1024;
/** Bytes the host socket may have read that the board has not (its receive window). */
export const RECV_WINDOW = 64 * 1024;
