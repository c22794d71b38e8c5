// The network around a virtual board, as board.json's `network` field describes it: the access points its radio
// can see, whether it is offline, which hosts it may reach, and where its listening sockets are published.
import { parseAllowEntry } from './policy.js';

export type Security = 'open' | 'wep' | 'wpa' | 'wpa2' | 'wpa-wpa2' | 'wpa3' | 'wpa2-wpa3';

/** ESP-IDF's wifi_auth_mode_t for each security, as WLAN.scan() reports it. */
export const AUTHMODE: Record<Security, number> = {
  open: 0, wep: 1, wpa: 2, wpa2: 3, 'wpa-wpa2': 4, wpa3: 6, 'wpa2-wpa3': 7,
};

export interface AccessPoint {
  ssid: string;
  /** The passphrase; absent for an open network. */
  key?: string;
  security?: Security;
  /** dBm as the station sees it. */
  rssi?: number;
  channel?: number;
  /** Six hex bytes; derived from the SSID when absent. */
  bssid?: string;
}

export interface NetworkConfig {
  /** The radio sees no access point at all (connect ends in STAT_NO_AP_FOUND) and no host socket is opened. */
  offline?: boolean;
  /** The access points in range; absent: the default one (DEFAULT_AP). */
  aps?: AccessPoint[];
  /** Outbound connections only to these (HOST, HOST:PORT, *.DOMAIN, IP/PREFIX); absent: anywhere. */
  allow?: string[];
  /** The host address listening sockets are published on (default 127.0.0.1). */
  publishHost?: string;
  /** Board port -> host port (0: any free one) for published listening sockets; others get the same port when free, or any. */
  ports?: Record<string, number>;
  /** Who answers NTP: the internet's servers (default) or the host's clock for every NTP query. */
  ntp?: 'internet' | 'host';
}

/** The access point every board sees unless board.json names others: tutorial code needs only these strings. */
export const DEFAULT_AP: Readonly<Required<Omit<AccessPoint, 'bssid'>>> = Object.freeze({
  ssid: 'boardctl', key: 'micropython', security: 'wpa2', rssi: -52, channel: 6,
});

export function accessPoints(config: NetworkConfig | undefined): AccessPoint[] {
  return config?.aps ?? [{ ...DEFAULT_AP }];
}

const SECURITIES = Object.keys(AUTHMODE);
const FIELDS = ['offline', 'aps', 'allow', 'publishHost', 'ports', 'ntp'];
const AP_FIELDS = ['ssid', 'key', 'security', 'rssi', 'channel', 'bssid'];

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * board.json's `network` checked field by field; `fail(where, message)` throws (board-config's error, which names
 * the file), `fields` rejects unknown names with a did-you-mean.
 */
export function checkNetworkConfig(
  value: unknown,
  fail: (where: string, message: string) => never,
  fields: (where: string, value: Record<string, unknown>, known: string[]) => void,
): NetworkConfig {
  if (!isObject(value)) fail('network', `expected an object, got ${JSON.stringify(value)}`);
  fields('network', value, FIELDS);
  const out: NetworkConfig = {};
  if (value.offline !== undefined) {
    if (typeof value.offline !== 'boolean') fail('network.offline', `expected true or false, got ${JSON.stringify(value.offline)}`);
    out.offline = value.offline;
  }
  if (value.aps !== undefined) {
    if (!Array.isArray(value.aps)) fail('network.aps', 'expected a list of access points');
    out.aps = value.aps.map((ap, i) => checkAp(ap, `network.aps[${i}]`, fail, fields));
  }
  if (value.allow !== undefined) {
    if (!Array.isArray(value.allow)) fail('network.allow', 'expected a list like ["127.0.0.1", "*.example.com:443"]');
    out.allow = value.allow.map((entry, i) => {
      const where = `network.allow[${i}]`;
      if (typeof entry !== 'string') fail(where, `expected a string, got ${JSON.stringify(entry)}`);
      try {
        parseAllowEntry(entry);
      } catch (err) {
        fail(where, (err as Error).message);
      }
      return entry;
    });
  }
  if (value.publishHost !== undefined) {
    if (typeof value.publishHost !== 'string' || value.publishHost === '') fail('network.publishHost', 'expected an address like 127.0.0.1');
    out.publishHost = value.publishHost;
  }
  if (value.ports !== undefined) {
    if (!isObject(value.ports)) fail('network.ports', 'expected {"BOARD_PORT": HOST_PORT, ...}');
    out.ports = {};
    for (const [board, host] of Object.entries(value.ports)) {
      if (!isPort(Number(board)) || !/^\d+$/.test(board)) fail('network.ports', `'${board}' is not a port number`);
      if (!isPort(host) && host !== 0) fail(`network.ports.${board}`, `expected a host port 1..65535 (0: any free one), got ${JSON.stringify(host)}`);
      out.ports[board] = host as number;
    }
  }
  if (value.ntp !== undefined) {
    if (value.ntp !== 'internet' && value.ntp !== 'host') fail('network.ntp', `expected "internet" or "host", got ${JSON.stringify(value.ntp)}`);
    out.ntp = value.ntp;
  }
  return out;
}

const isPort = (v: unknown) => Number.isInteger(v) && (v as number) >= 1 && (v as number) <= 65535;

function checkAp(
  ap: unknown,
  where: string,
  fail: (where: string, message: string) => never,
  fields: (where: string, value: Record<string, unknown>, known: string[]) => void,
): AccessPoint {
  if (!isObject(ap)) fail(where, `expected an object, got ${JSON.stringify(ap)}`);
  fields(where, ap, AP_FIELDS);
  if (typeof ap.ssid !== 'string' || ap.ssid === '' || Buffer.byteLength(ap.ssid) > 32) fail(`${where}.ssid`, 'expected a name of 1 to 32 bytes');
  const security = ap.security ?? (ap.key === undefined ? 'open' : 'wpa2');
  if (typeof security !== 'string' || !SECURITIES.includes(security)) fail(`${where}.security`, `expected one of ${SECURITIES.join(', ')}`);
  if (ap.key !== undefined) {
    if (typeof ap.key !== 'string') fail(`${where}.key`, 'expected a string');
    if (security !== 'open' && security !== 'wep' && (ap.key.length < 8 || ap.key.length > 63)) fail(`${where}.key`, 'a WPA passphrase has 8 to 63 characters');
  } else if (security !== 'open') {
    fail(`${where}.key`, `a ${security} network needs a key`);
  }
  if (ap.rssi !== undefined && (!Number.isInteger(ap.rssi) || (ap.rssi as number) > 0 || (ap.rssi as number) < -100)) fail(`${where}.rssi`, 'expected dBm from -100 to 0');
  if (ap.channel !== undefined && (!Number.isInteger(ap.channel) || (ap.channel as number) < 1 || (ap.channel as number) > 14)) fail(`${where}.channel`, 'expected a channel 1..14');
  if (ap.bssid !== undefined && (typeof ap.bssid !== 'string' || !/^[0-9a-f]{2}(:[0-9a-f]{2}){5}$/i.test(ap.bssid))) fail(`${where}.bssid`, 'expected six hex bytes like 24:0a:c4:12:34:56');
  return { ...(ap as unknown as AccessPoint), security: security as Security };
}
