// Which host sockets a board may open: everything by default (a board on Wi-Fi reaches the internet), nothing
// when offline, or only what an allow-list names. Every outbound host socket (TCP, TLS, UDP, a name lookup) is
// checked here first; a refused attempt opens nothing.
import { isIPv4, isIPv6 } from 'node:net';

export interface AllowEntry {
  /** A host name (lower case), '*.' + a domain, an IP address, or '*' for any host. */
  host: string;
  /** For an IPv4 network: the prefix length (host is the network address). */
  prefix?: number;
  /** undefined: any port. */
  port?: number;
}

/** `HOST`, `HOST:PORT`, `*.example.com:443`, `10.0.0.0/8`, `[::1]:80`, `*`; throws on anything else. */
export function parseAllowEntry(text: string): AllowEntry {
  const m = /^(\[[0-9a-f:.]+\]|[^:\s[\]]+)(?::(\d+|\*))?$/i.exec(text.trim());
  if (!m) throw new Error(`'${text}' is not HOST, HOST:PORT, *.DOMAIN or IP/PREFIX`);
  const port = m[2] === undefined || m[2] === '*' ? undefined : Number(m[2]);
  if (port !== undefined && (port < 1 || port > 65535)) throw new Error(`port ${port} of '${text}' is not 1..65535`);
  let host = m[1]!.toLowerCase();
  if (host.startsWith('[')) {
    host = host.slice(1, -1);
    if (!isIPv6(host)) throw new Error(`'${host}' is not an IPv6 address`);
    return { host, port };
  }
  const cidr = /^(\d+\.\d+\.\d+\.\d+)\/(\d+)$/.exec(host);
  if (cidr) {
    const prefix = Number(cidr[2]);
    if (!isIPv4(cidr[1]!) || prefix > 32) throw new Error(`'${host}' is not an IPv4 network like 10.0.0.0/8`);
    return { host: cidr[1]!, prefix, port };
  }
  if (host !== '*' && !isIPv4(host) && !/^(\*\.)?[a-z0-9_]([a-z0-9_-]*[a-z0-9_])?(\.[a-z0-9_]([a-z0-9_-]*[a-z0-9_])?)*$/.test(host)) {
    throw new Error(`'${host}' is not a host name or an IP address`);
  }
  return { host, port };
}

const ipv4Number = (ip: string) => ip.split('.').reduce((n, part) => n * 256 + Number(part), 0);

function inNetwork(ip: string, entry: AllowEntry): boolean {
  if (!isIPv4(ip)) return false;
  const size = 2 ** (32 - (entry.prefix ?? 32));
  return Math.floor(ipv4Number(ip) / size) === Math.floor(ipv4Number(entry.host) / size);
}

function nameMatches(name: string, entry: AllowEntry): boolean {
  const n = name.toLowerCase().replace(/\.$/, '');
  if (entry.host === '*') return true;
  if (entry.host.startsWith('*.')) return n.endsWith(entry.host.slice(1));
  return n === entry.host;
}

export interface PolicyOptions {
  offline?: boolean;
  allow?: string[];
}

export class NetPolicy {
  readonly offline: boolean;
  private readonly entries: AllowEntry[] | undefined;

  constructor(opts: PolicyOptions = {}) {
    this.offline = opts.offline === true;
    this.entries = opts.allow?.map(parseAllowEntry);
  }

  /** May the board have this name looked up (by the host's resolver)? An IP address needs no lookup. */
  allowsLookup(name: string): boolean {
    if (this.offline) return false;
    return !this.entries || this.entries.some((e) => e.prefix === undefined && !isIPv4(e.host) && !isIPv6(e.host) && nameMatches(name, e));
  }

  /** May the board open a host socket to ip:port? `names` are the names the board looked up that gave ip. */
  allowsConnect(ip: string, port: number, names: Iterable<string> = []): boolean {
    if (this.offline) return false;
    if (!this.entries) return true;
    const via = [...names];
    return this.entries.some((e) => {
      if (e.port !== undefined && e.port !== port) return false;
      if (e.host === '*' || e.host === ip) return true;
      if (e.prefix !== undefined) return inNetwork(ip, e);
      return via.some((n) => nameMatches(n, e));
    });
  }

  describe(): string {
    if (this.offline) return 'offline';
    return this.entries ? `only ${this.entries.map((e) => `${e.host}${e.prefix !== undefined ? `/${e.prefix}` : ''}${e.port ? `:${e.port}` : ''}`).join(', ')}` : 'anywhere';
  }
}
