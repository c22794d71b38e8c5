// What a port string names: mpremote's shortcuts expanded, and which transport serves it.
import { BoardError } from './errors.js';

export type PortSpec =
  | { kind: 'serial'; path: string }
  | { kind: 'socket'; path: string }
  | { kind: 'rfc2217'; path: string }
  | { kind: 'webrepl'; path: string }
  | { kind: 'virtual'; path: string };

/** mpremote's short names: a0..a9 = /dev/ttyACMn, u0..u9 = /dev/ttyUSBn, c0..c9 = COMn. */
export function expandShortcut(port: string): string {
  const m = /^([auc])(\d)$/.exec(port);
  if (!m) return port;
  const n = m[2];
  if (m[1] === 'a') return `/dev/ttyACM${n}`;
  if (m[1] === 'u') return `/dev/ttyUSB${n}`;
  return `COM${n}`;
}

const isVirtualPath = (path: string): boolean => path === 'virtual' || path.startsWith('virtual:') || path.startsWith('virtual?');

/** Whether `port` names an in-process virtual board (false for anything else, a bad name included). */
export const isVirtualPort = (port: string | undefined): boolean => port !== undefined && isVirtualPath(port.trim());

export function parsePortSpec(port: string): PortSpec {
  const path = expandShortcut(port.trim());
  if (path === '') throw new BoardError('USAGE', 'empty port name');
  if (isVirtualPath(path)) return { kind: 'virtual', path };
  if (path.startsWith('socket://')) return { kind: 'socket', path };
  if (path.startsWith('rfc2217://')) return { kind: 'rfc2217', path };
  if (path.startsWith('ws://')) return { kind: 'webrepl', path };
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(path)) {
    throw new BoardError('USAGE', `${path}: unknown port scheme (use a device path, socket://, rfc2217://, ws:// or virtual)`);
  }
  return { kind: 'serial', path };
}
