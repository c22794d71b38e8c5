// The board's Wi-Fi radio as the ESP32 port's network.WLAN sees it (ports/esp32/network_wlan.c over ESP-IDF): a
// station that scans, associates, gets an address by DHCP and keeps reconnecting while a connection is wanted,
// and a soft AP. It lives on the main thread, beside the host sockets: it outlives soft resets (ESP-IDF keeps
// the radio up across them, so isconnected() is True right after Ctrl-D) and starts over at power-on.
import { AUTHMODE, type AccessPoint } from './config.js';
import type { WlanRequest, WlanState } from './protocol.js';

/** WLAN.status() values of the ESP32 port: its own STAT_* and ESP-IDF's disconnect reasons. */
export const STAT = {
  IDLE: 1000,
  CONNECTING: 1001,
  GOT_IP: 1010,
  BEACON_TIMEOUT: 200,
  NO_AP_FOUND: 201,
  WRONG_PASSWORD: 202,
  ASSOC_LEAVE: 8,
} as const;

/**
 * How long the radio takes, after ESP-IDF's defaults: a fast scan stops on the wanted SSID's channel (channels
 * in order, ~60 ms each), a full scan of 13 channels at 120 ms finds nothing, authentication and the 4-way
 * handshake take a few hundred ms, a wrong passphrase shows when the handshake times out, DHCP about a second,
 * and a vanished AP is noticed after the 6 s beacon timeout.
 */
export const TIMING = {
  channelMs: 60,
  fullScanMs: 1600,
  associateMs: 300,
  handshakeTimeoutMs: 2000,
  dhcpMs: 700,
  beaconTimeoutMs: 6000,
};

const STA_IP: WlanState['staIp'] = ['10.0.2.15', '255.255.255.0', '10.0.2.2', '10.0.2.3'];
const NO_IP: WlanState['staIp'] = ['0.0.0.0', '0.0.0.0', '0.0.0.0', '0.0.0.0'];
const AP_IP: WlanState['apIp'] = ['192.168.4.1', '255.255.255.0', '192.168.4.1', '0.0.0.0'];

export interface WlanOptions {
  aps: AccessPoint[];
  offline: boolean;
  /** The station MAC (board.json mac); the soft AP's is the next one, as ESP-IDF derives it. */
  mac: string;
  /** MICROPY_PY_NETWORK_HOSTNAME_DEFAULT of the chip. */
  hostname: string;
}

/** The answer to a request: a value for the board, or the OSError message the port raises. */
export type WlanReply = { value?: unknown; error?: string; afterMs?: number };

const macPlus = (mac: string, n: number) => {
  const v = BigInt(`0x${mac.replace(/:/g, '')}`) + BigInt(n);
  return v.toString(16).padStart(12, '0').slice(-12).replace(/(..)(?!$)/g, '$1:');
};

/** A BSSID for an AP that board.json gives none: stable per SSID. */
function bssidOf(ap: AccessPoint): string {
  if (ap.bssid) return ap.bssid.toLowerCase();
  let h = 0x811c9dc5;
  for (const c of Buffer.from(ap.ssid)) h = Math.imul(h ^ c, 0x01000193) >>> 0;
  return ['02', '42', ...[24, 16, 8, 0].map((s) => ((h >>> s) & 0xff).toString(16).padStart(2, '0'))].join(':');
}

export class Wlan {
  private started = false;
  private sta = false;
  private ap = false;
  private connectRequested = false;
  private staConnected = false;
  private associating = false;
  private reason = 0;
  private target: { ssid: string; key: string; bssid?: string } = { ssid: '', key: '' };
  private joined: AccessPoint | undefined;
  private attempts = 0;
  private timer: NodeJS.Timeout | undefined;
  private beacon: NodeJS.Timeout | undefined;
  private staticIp: WlanState['staIp'] | undefined;
  private readonly downAps = new Set<string>();
  private apConfig: WlanState['apConfig'];
  private txpower = 20;
  private reconnectsConf = 0;
  private pm = 1;
  private protocol = 7;
  private hostname: string;
  private country = 'XX';
  private readonly listeners = new Set<() => void>();
  private readonly linkDown = new Set<() => void>();

  constructor(private readonly opts: WlanOptions) {
    this.hostname = opts.hostname;
    const apMac = macPlus(opts.mac, 1);
    this.apConfig = {
      ssid: `ESP_${apMac.replace(/:/g, '').slice(-6).toUpperCase()}`, key: '', security: 0, channel: 1, hidden: false, maxClients: 10,
    };
  }

  /** Called after every change of what state() returns. */
  onChange(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Called when the station loses its network (sockets through it are aborted, as lwIP does). */
  onLinkDown(listener: () => void): () => void {
    this.linkDown.add(listener);
    return () => this.linkDown.delete(listener);
  }

  /** An interface has an address (the board is reachable): a connected station or an active soft AP. */
  get reachable(): boolean {
    return this.staConnected || this.ap;
  }

  get connected(): boolean {
    return this.staConnected;
  }

  state(): WlanState {
    const ap = this.joined;
    return {
      sta: this.sta, ap: this.ap, status: this.status(), connected: this.staConnected, ssid: this.target.ssid,
      rssi: ap?.rssi ?? 0, channel: ap?.channel ?? this.apConfig.channel,
      staIp: this.staConnected || this.staticIp ? (this.staticIp ?? STA_IP) : NO_IP,
      apIp: AP_IP, apConfig: { ...this.apConfig }, staMac: this.opts.mac.toLowerCase(), apMac: macPlus(this.opts.mac, 1),
      txpower: this.txpower, reconnects: this.reconnectsConf - 1, pm: this.pm, protocol: this.protocol,
      hostname: this.hostname, country: this.country, dns: (this.staticIp ?? STA_IP)[3], dhcp: this.staticIp === undefined,
    };
  }

  /** network_wlan.c's status(): GOT_IP, then the reasons it passes through, then CONNECTING / IDLE. */
  private status(): number {
    if (this.staConnected) return STAT.GOT_IP;
    if (this.reason === STAT.NO_AP_FOUND || this.reason === STAT.WRONG_PASSWORD) return this.reason;
    if (this.reason === STAT.ASSOC_LEAVE) return STAT.IDLE;
    if (this.connectRequested && (this.reconnectsConf === 0 || this.attempts < this.reconnectsConf)) return STAT.CONNECTING;
    return this.reason === 0 ? STAT.IDLE : this.reason;
  }

  /** The access points the radio can see now. */
  visible(): AccessPoint[] {
    if (this.opts.offline) return [];
    return this.opts.aps.filter((ap) => !this.downAps.has(ap.ssid));
  }

  request(req: WlanRequest): WlanReply {
    switch (req.op) {
      case 'active': return this.active(req.iface, req.value);
      case 'connect': return this.connect(req);
      case 'disconnect':
        this.connectRequested = false;
        this.dropLink(STAT.ASSOC_LEAVE);
        return {};
      case 'scan': {
        if (!this.sta) return { error: 'STA must be active' };
        const list = this.visible().map((ap) => ({
          ssid: ap.ssid, bssid: bssidOf(ap), channel: ap.channel ?? 1, rssi: ap.rssi ?? -60, authmode: AUTHMODE[ap.security ?? 'open'],
        }));
        return { value: list, afterMs: TIMING.fullScanMs };
      }
      case 'config': return this.config(req.iface, req.set);
      case 'ifconfig':
        if (req.iface === 0) this.staticIp = req.set === 'dhcp' || req.set === undefined ? undefined : req.set;
        this.changed();
        return {};
      case 'system':
        if (req.hostname !== undefined) this.hostname = req.hostname;
        if (req.country !== undefined) this.country = req.country;
        this.changed();
        return {};
    }
  }

  private active(iface: 0 | 1, value: boolean | undefined): WlanReply {
    if (value === undefined) return { value: iface === 0 ? this.sta : this.ap };
    if (iface === 0) {
      if (!value && this.sta) {
        this.connectRequested = false;
        this.dropLink(STAT.ASSOC_LEAVE);
      }
      this.sta = value;
    } else {
      this.ap = value;
    }
    this.started = this.sta || this.ap;
    this.changed();
    return { value };
  }

  private connect(req: Extract<WlanRequest, { op: 'connect' }>): WlanReply {
    if (!this.started) return { error: 'Wifi Not Started' };
    if (!this.sta) return { error: 'Wifi Invalid Mode' };
    // ESP-IDF refuses a connect while the station is in the middle of joining ("sta is connecting").
    if (this.associating) return { error: 'Wifi Internal Error' };
    if (req.ssid !== undefined) this.target = { ssid: req.ssid, key: req.key ?? '', bssid: req.bssid };
    if (this.staConnected) this.dropLink(STAT.ASSOC_LEAVE);
    this.reason = 0;
    this.attempts = 0;
    this.connectRequested = true;
    this.attempt();
    this.changed();
    return {};
  }

  private config(iface: 0 | 1, set: Record<string, unknown>): WlanReply {
    for (const [k, v] of Object.entries(set)) {
      switch (k) {
        case 'ssid': case 'essid': this.apConfig.ssid = String(v); break;
        case 'key': case 'password': this.apConfig.key = String(v); break;
        case 'security': case 'authmode': this.apConfig.security = Number(v); break;
        case 'hidden': this.apConfig.hidden = Boolean(v); break;
        case 'max_clients': this.apConfig.maxClients = Number(v); break;
        case 'channel': this.apConfig.channel = Number(v); break;
        case 'txpower': this.txpower = Math.round(Number(v) * 4) / 4; break;
        case 'reconnects': this.reconnectsConf = Number(v) === -1 ? 0 : Number(v) + 1; break;
        case 'pm': this.pm = Number(v); break;
        case 'protocol': this.protocol = Number(v); break;
        case 'hostname': case 'dhcp_hostname': this.hostname = String(v); break;
        default: return { error: `unknown config param ${k} on interface ${iface}` };
      }
    }
    this.changed();
    return {};
  }

  /** One try at joining the wanted network, as esp_wifi_connect() runs it; repeats while a connection is wanted. */
  private attempt(): void {
    clearTimeout(this.timer);
    this.attempts++;
    const ap = this.visible().find((a) => a.ssid === this.target.ssid && (!this.target.bssid || bssidOf(a) === this.target.bssid));
    if (!ap) {
      this.timer = setTimeout(() => this.failed(STAT.NO_AP_FOUND), TIMING.fullScanMs);
      return;
    }
    const found = TIMING.channelMs * (ap.channel ?? 1);
    this.timer = setTimeout(() => {
      this.associating = true;
      const keyOk = (ap.security ?? 'open') === 'open' || ap.key === this.target.key;
      if (!keyOk) {
        this.timer = setTimeout(() => this.failed(STAT.WRONG_PASSWORD), TIMING.handshakeTimeoutMs);
        return;
      }
      this.timer = setTimeout(() => {
        this.associating = false;
        this.joined = ap;
        this.timer = setTimeout(() => this.gotIp(), this.staticIp ? 0 : TIMING.dhcpMs);
      }, TIMING.associateMs);
    }, found);
  }

  private gotIp(): void {
    this.staConnected = true;
    this.reason = 0;
    this.changed();
  }

  private failed(reason: number): void {
    this.associating = false;
    this.reason = reason;
    this.changed();
    if (this.connectRequested && (this.reconnectsConf === 0 || this.attempts < this.reconnectsConf)) this.attempt();
    else this.changed();
  }

  /** The station leaves its network (disconnect, interface down, AP gone): `reason` as ESP-IDF reports it. */
  private dropLink(reason: number): void {
    clearTimeout(this.timer);
    clearTimeout(this.beacon);
    this.associating = false;
    const was = this.staConnected || this.joined !== undefined;
    this.staConnected = false;
    this.joined = undefined;
    this.reason = reason;
    if (was) for (const l of this.linkDown) l();
    this.changed();
  }

  /** `sim set NAME ap down|up [SSID]`: an access point vanishes or comes back. */
  setApUp(up: boolean, ssid?: string): void {
    const names = ssid ? [ssid] : this.opts.aps.map((a) => a.ssid);
    for (const n of names) {
      if (up) this.downAps.delete(n);
      else this.downAps.add(n);
    }
    if (!up && this.joined && names.includes(this.joined.ssid)) {
      clearTimeout(this.beacon);
      // Beacons stop; the station notices only at its beacon timeout, then reconnects as ESP-IDF does.
      this.beacon = setTimeout(() => {
        this.dropLink(STAT.BEACON_TIMEOUT);
        if (this.connectRequested) this.attempt();
      }, TIMING.beaconTimeoutMs);
    }
    if (up && this.joined && names.includes(this.joined.ssid)) clearTimeout(this.beacon);
  }

  /** `sim serve --offline`: the radio sees nothing from now on. */
  setOffline(offline: boolean): void {
    this.opts.offline = offline;
    this.changed();
  }

  apsDown(): string[] {
    return [...this.downAps];
  }

  private changed(): void {
    for (const l of this.listeners) l();
  }

  /** Power off: everything stops and starts over at the next power-on. */
  stop(): void {
    clearTimeout(this.timer);
    clearTimeout(this.beacon);
    this.listeners.clear();
    this.linkDown.clear();
  }
}
