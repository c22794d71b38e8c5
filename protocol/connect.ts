// From a port string (or none) to an open Transport or a ready Board. The virtual board lives in emulator/,
// which protocol/ must not import: callers pass a factory for `virtual` ports. Each kind of link loads its own
// modules when a port of that kind opens (a command on a serial port loads no socket or WebSocket code).
import { BoardError } from './errors.js';
import { parsePortSpec } from './port-spec.js';
import type { PortInfo } from './ports.js';
import { RawReplClient, type RawReplOptions } from './raw-repl.js';
import { phase } from './timing.js';
import { usbTtyPresent } from './usb-ttys.js';
import type { ControlLines, Transport } from './transport.js';
import type { PasswordSource } from './transports/webrepl.js';

export type VirtualFactory = (spec: string) => Promise<Transport>;

export interface OpenTransportOptions {
  baudRate?: number;
  /** Opens `virtual` / `virtual:NAME` ports; without it such ports are NO_SUCH_PORT. */
  virtual?: VirtualFactory;
  /** The WebREPL password of a ws:// port whose URL has none. */
  webreplPassword?: PasswordSource;
  /** DTR/RTS levels to set, in one change, right after opening (before a byte is sent); unset lines stay as opened. */
  lines?: ControlLines;
  /**
   * --no-reset-lines: nothing may move DTR/RTS on this link (esptool's --before/--after no-reset for every
   * command): a step that would (a hard reset, a bootloader entry by the lines) is a USAGE error instead.
   */
  noResetLines?: boolean;
}

export const DEFAULT_BAUD = 115200;
export const DEFAULT_VIRTUAL_PORT = 'virtual';

/** A transport whose DTR/RTS cannot be moved: setSignals is refused, naming what wanted it. */
function lockedLines(transport: Transport): Transport {
  const refuse = () =>
    Promise.reject(new BoardError('USAGE', '--no-reset-lines: this step would move DTR/RTS (a reset or bootloader entry by the control lines); drop --no-reset-lines, or reset the board by hand'));
  return new Proxy(transport, {
    get(target, key) {
      if (key === 'setSignals') return refuse;
      const value: unknown = Reflect.get(target, key, target);
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
}

export async function openTransport(port: string, opts: OpenTransportOptions = {}): Promise<Transport> {
  if (opts.noResetLines && (opts.lines?.dtr !== undefined || opts.lines?.rts !== undefined)) {
    throw new BoardError('USAGE', '--no-reset-lines leaves DTR/RTS alone, --dtr/--rts set them: choose one');
  }
  const opened = await openSpec(port, opts);
  const transport = opts.noResetLines ? lockedLines(opened) : opened;
  phase(`port open (${transport.kind} ${transport.path})`);
  if (opts.lines && (opts.lines.dtr !== undefined || opts.lines.rts !== undefined)) {
    try {
      await transport.setSignals(opts.lines);
    } catch (err) {
      await transport.close();
      throw err;
    }
  }
  return transport;
}

async function openSpec(port: string, opts: OpenTransportOptions): Promise<Transport> {
  const spec = parsePortSpec(port);
  const baudRate = opts.baudRate ?? DEFAULT_BAUD;
  switch (spec.kind) {
    case 'virtual':
      if (!opts.virtual) throw new BoardError('NO_SUCH_PORT', `${spec.path}: the virtual board is not available here`, { port: spec.path });
      return opts.virtual(spec.path);
    case 'socket':
      return (await import('./transports/tcp.js')).openTcpTransport(spec.path);
    case 'webrepl':
      return (await import('./transports/webrepl.js')).openWebReplTransport(spec.path, opts.webreplPassword);
    case 'rfc2217':
      return (await import('./transports/rfc2217.js')).openRfc2217Transport(spec.path, baudRate);
    case 'serial':
      return (await import('./transports/serial.js')).openSerialTransport(spec.path, {
        baudRate,
        listPorts: async () => (await listPorts()).map((p) => p.path),
      });
  }
}

async function listPorts(): Promise<PortInfo[]> {
  return (await import('./ports.js')).listPorts();
}

/** The USB serial ports auto-connect tries: none, without a listing, where Linux's sysfs shows no USB tty. */
async function usbPorts(): Promise<PortInfo[]> {
  if (usbTtyPresent() === false) return [];
  return (await listPorts().catch(() => [])).filter((p) => p.vidPid);
}

/** No port given, for commands that need only a link: the first USB serial port that opens, else the virtual board. */
export async function openAnyTransport(opts: OpenTransportOptions = {}): Promise<{ transport: Transport; note?: string }> {
  const candidates = await usbPorts();
  for (const candidate of candidates) {
    try {
      return { transport: await openTransport(candidate.path, opts) };
    } catch (err) {
      if (!(err instanceof BoardError)) throw err;
    }
  }
  return { transport: await openTransport(DEFAULT_VIRTUAL_PORT, opts), note: 'no USB serial port could be opened; using the virtual board' };
}

export interface ConnectOptions extends OpenTransportOptions, RawReplOptions {
  /** How long each USB port gets to answer as MicroPython while auto-connecting. */
  probeTimeoutMs?: number;
}

export interface Connection {
  board: RawReplClient;
  /** Something the user should hear about (e.g. falling back to the virtual board). */
  note?: string;
}

/**
 * Open a board. With no port: the first USB serial port that answers as MicroPython (busy ones skipped),
 * else the default virtual board.
 */
export async function connectBoard(port: string | undefined, opts: ConnectOptions = {}): Promise<Connection> {
  if (port) {
    const transport = await openTransport(port, opts);
    // A soft reset closes the board's sockets, the WebREPL's own: over it the session resumes (as Thonny does).
    return { board: new RawReplClient(transport, transport.kind === 'webrepl' ? { ...opts, resume: true } : opts) };
  }
  const candidates = await usbPorts();
  for (const candidate of candidates) {
    let transport: Transport;
    try {
      transport = await openTransport(candidate.path, opts);
    } catch (err) {
      if (err instanceof BoardError) continue; // busy, no permission, vanished: try the next one
      throw err;
    }
    const board = new RawReplClient(transport, opts);
    if (await board.probe(opts.probeTimeoutMs ?? 1500).catch(() => false)) return { board };
    await board.close().catch(() => {});
  }
  const board = new RawReplClient(await openTransport(DEFAULT_VIRTUAL_PORT, opts), opts);
  const note = candidates.length
    ? `no USB port answered as MicroPython (${candidates.map((c) => c.path).join(', ')}); using the virtual board`
    : 'no board found; using the virtual board';
  return { board, note };
}
