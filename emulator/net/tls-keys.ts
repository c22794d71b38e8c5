// Keys and certificates as the board hands them to its TLS layer (PEM text, or DER bytes as latin1): parsing
// only, apart from tls-host.ts so the board's worker checks them without loading node:tls.
import type { KeyObject } from 'node:crypto';
import { nodeCrypto } from '../../protocol/lazy-builtin.js';

/** The key the board gave (PEM text, or DER bytes as latin1 in PKCS#8, PKCS#1 or SEC1), or undefined. */
export function parseKey(data: string): KeyObject | undefined {
  if (data.includes('-----BEGIN ')) {
    try {
      return nodeCrypto().createPrivateKey(data);
    } catch {
      return undefined;
    }
  }
  const der = Buffer.from(data, 'latin1');
  for (const type of ['pkcs8', 'pkcs1', 'sec1'] as const) {
    try {
      return nodeCrypto().createPrivateKey({ key: der, format: 'der', type });
    } catch {
      // try the next encoding
    }
  }
  return undefined;
}

/** Whether a key or certificate parses, as mbedtls_pk_parse_key / mbedtls_x509_crt_parse check at load time. */
export function parsesAs(kind: 'key' | 'cert', data: string): boolean {
  if (kind === 'key') return parseKey(data) !== undefined;
  try {
    new (nodeCrypto().X509Certificate)(data.includes('-----BEGIN ') ? data : Buffer.from(data, 'latin1'));
    return true;
  } catch {
    return false;
  }
}
