// TLS for a board's socket over Node's tls, with the outcome the ESP32 port's mbedTLS would give: its defaults
// (no CA store: a client trusts only what load_verify_locations gave it), its certificate checks, and its errors
// (a refused certificate is ValueError with mbedtls_x509_crt_verify_info's text; other failures
// OSError(MBEDTLS_ERR_..., name), as extmod/modtls_mbedtls.c raises them).
import { Duplex } from 'node:stream';
import { isIP, type Socket } from 'node:net';
import tls from 'node:tls';
import type { NetFailure, TlsOptions } from './protocol.js';
import { parseKey } from './tls-keys.js';

// mbedTLS error codes (mbedtls/ssl.h) and the names MicroPython's error table gives them.
const SSL_ERR = {
  CONN_EOF: [-0x7280, 'MBEDTLS_ERR_SSL_CONN_EOF'],
  INVALID_RECORD: [-0x7200, 'MBEDTLS_ERR_SSL_INVALID_RECORD'],
  FATAL_ALERT: [-0x7780, 'MBEDTLS_ERR_SSL_FATAL_ALERT_MESSAGE'],
  HANDSHAKE_FAILURE: [-0x6a80, 'MBEDTLS_ERR_SSL_HANDSHAKE_FAILURE'],
} as const;

// mbedtls_x509_crt_verify_info's lines, in its order (x509_crt.c).
const VERIFY_TEXT = {
  expired: 'The certificate validity has expired',
  cnMismatch: 'The certificate Common Name (CN) does not match with the expected CN',
  notTrusted: 'The certificate is not correctly signed by the trusted CA',
  future: 'The certificate validity starts in the future',
} as const;

type VerifyFlag = keyof typeof VERIFY_TEXT;

function tlsFailure([code, name]: readonly [number, string]): NetFailure {
  return { tls: code, name };
}

/** A failure of the TLS layer or the socket under it, as the board sees it. */
export function tlsError(err: unknown): NetFailure {
  const code = (err as NodeJS.ErrnoException | undefined)?.code ?? '';
  if (code === 'ERR_SSL_WRONG_VERSION_NUMBER' || code === 'ERR_SSL_PACKET_LENGTH_TOO_LONG' || code === 'ERR_SSL_HTTP_REQUEST') return tlsFailure(SSL_ERR.INVALID_RECORD);
  if (/ALERT/.test(code)) return tlsFailure(SSL_ERR.FATAL_ALERT);
  if (code.startsWith('ERR_SSL_')) return tlsFailure(SSL_ERR.HANDSHAKE_FAILURE);
  return tlsFailure(SSL_ERR.CONN_EOF);
}

/** PEM as Node wants it, from what the board gave (PEM text, or DER bytes as latin1). */
function pem(data: string, label: 'CERTIFICATE'): string {
  if (data.includes('-----BEGIN ')) return data;
  const b64 = Buffer.from(data, 'latin1').toString('base64').replace(/.{64}/g, '$&\n');
  return `-----BEGIN ${label}-----\n${b64}\n-----END ${label}-----\n`;
}

function privateKey(data: string): string {
  if (data.includes('-----BEGIN ')) return data;
  return (parseKey(data)?.export({ format: 'pem', type: 'pkcs8' }) as string | undefined) ?? data;
}

function verifyFlags(sock: tls.TLSSocket, hostname: string | undefined): VerifyFlag[] {
  const flags = new Set<VerifyFlag>();
  const chain = sock.authorized ? undefined : String(sock.authorizationError ?? '');
  if (chain === 'CERT_HAS_EXPIRED') flags.add('expired');
  else if (chain === 'CERT_NOT_YET_VALID') flags.add('future');
  else if (chain && chain !== 'ERR_TLS_CERT_ALTNAME_INVALID') flags.add('notTrusted');
  const cert = sock.getPeerCertificate();
  if (hostname && cert && Object.keys(cert).length && tls.checkServerIdentity(hostname, cert)) flags.add('cnMismatch');
  if (chain === 'ERR_TLS_CERT_ALTNAME_INVALID') flags.add('cnMismatch');
  return (Object.keys(VERIFY_TEXT) as VerifyFlag[]).filter((f) => flags.has(f));
}

/**
 * The stream under TLS: bytes of the connection read before TLS started (the peer's hello may already be here)
 * come first, then the socket's own.
 */
function withLeftover(raw: Socket, leftover: Buffer): Duplex {
  const d = new Duplex({
    read() {
      raw.resume();
    },
    write(chunk: Buffer, _enc, cb) {
      raw.write(chunk, cb);
    },
    final(cb) {
      raw.end();
      cb();
    },
    destroy(err, cb) {
      raw.destroy();
      cb(err);
    },
  });
  d.push(leftover);
  raw.on('data', (chunk: Buffer) => {
    if (!d.push(chunk)) raw.pause();
  });
  raw.on('end', () => d.push(null));
  raw.on('error', (err) => d.destroy(err));
  return d;
}

export interface TlsStart {
  socket: tls.TLSSocket;
  /** Resolves once the handshake is done and the certificate accepted; rejects with the board's failure. */
  ready: Promise<void>;
}

/** Start TLS over a connected socket (its listeners removed, paused); `leftover` was read but not yet seen. */
export function startTls(raw: Socket, leftover: Buffer, opts: TlsOptions): TlsStart {
  const secureContext = tls.createSecureContext({
    // An explicit list, even empty: like mbedTLS, the board trusts no CA it was not given.
    ca: (opts.ca ?? []).map((c) => pem(c, 'CERTIFICATE')),
    cert: opts.cert ? pem(opts.cert, 'CERTIFICATE') : undefined,
    key: opts.key ? privateKey(opts.key) : undefined,
  });
  const under: Duplex | Socket = leftover.length ? withLeftover(raw, leftover) : raw;
  const hostname = opts.hostname;
  const socket = opts.server
    ? new tls.TLSSocket(under as Socket, { isServer: true, secureContext, requestCert: opts.verify > 0, rejectUnauthorized: false })
    : tls.connect({
      socket: under as Socket, secureContext, rejectUnauthorized: false,
      servername: hostname && !isIP(hostname) ? hostname : undefined,
      checkServerIdentity: () => undefined,
    });
  const ready = new Promise<void>((resolve, reject) => {
    const onError = (err: Error) => reject(tlsError(err));
    socket.once('error', onError);
    socket.once(opts.server ? 'secure' : 'secureConnect', () => {
      socket.off('error', onError);
      const flags = opts.verify > 0 ? verifyFlags(socket, opts.server ? undefined : hostname) : [];
      if (opts.verify === 2 && flags.length) {
        socket.destroy();
        reject({ value: flags.map((f) => `\n${VERIFY_TEXT[f]}\n`).join('') } satisfies NetFailure);
        return;
      }
      resolve();
    });
  });
  return { socket, ready };
}
