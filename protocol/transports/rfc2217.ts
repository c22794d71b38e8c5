// rfc2217://HOST:PORT: a serial port shared over Telnet with the COM-PORT-OPTION (RFC 2217), as served by
// ser2net, esp-link or pyserial's rfc2217 server. Data bytes 0xFF travel doubled (IAC IAC) both ways.
import type { Socket } from 'node:net';
import type { ControlLines, Transport } from '../transport.js';
import { LinkEvents } from './link-events.js';
import { SocketLink, connectSocket, parseHostPort } from './tcp.js';
import {
  COM, CONTROL, DO, DONT, IAC, OPT_BINARY, OPT_COM_PORT, OPT_ECHO, OPT_SGA, SERVER_OFFSET, TelnetParser, WILL, WONT,
  escapeIac, subnegotiationFrame,
} from '../telnet.js';

const PARITY_NONE = 1;
const STOPBITS_ONE = 1;
const ACK_TIMEOUT_MS = 1000;

class Rfc2217Transport implements Transport {
  readonly kind = 'rfc2217' as const;
  private readonly events = new LinkEvents();
  private link!: SocketLink;
  private currentBaud: number;
  /** Options we asked for or agreed to: ours (WILL) and theirs (DO). */
  private readonly ourOptions = new Set<number>();
  private readonly theirOptions = new Set<number>();
  private comPortState: 'pending' | 'on' | 'off' = 'pending';
  private comPortWaiters: Array<() => void> = [];
  private readonly ackWaiters = new Map<number, Array<(value: Uint8Array) => void>>();
  private readonly parser = new TelnetParser();
  private controlUnanswered = false;

  constructor(readonly path: string, baudRate: number) {
    this.currentBaud = baudRate;
  }

  get baudRate(): number {
    return this.currentBaud;
  }
  get hasControlLines(): boolean {
    return this.comPortState === 'on';
  }

  async start(socket: Socket): Promise<void> {
    this.link = new SocketLink(this.path, socket, this.events, (chunk) => this.receive(chunk));
    this.ourOptions.add(OPT_BINARY).add(OPT_SGA).add(OPT_COM_PORT);
    this.theirOptions.add(OPT_BINARY).add(OPT_SGA);
    await this.link.write(
      Uint8Array.from([IAC, WILL, OPT_BINARY, IAC, DO, OPT_BINARY, IAC, WILL, OPT_SGA, IAC, DO, OPT_SGA, IAC, WILL, OPT_COM_PORT]),
    );
    await this.waitComPort();
    if (this.comPortState === 'on') {
      // Line settings first, then explicitly no flow control; DTR/RTS stay as the server has them.
      await this.setBaudRate(this.currentBaud);
      await this.subnegotiate(COM.SET_DATASIZE, [8]);
      await this.subnegotiate(COM.SET_PARITY, [PARITY_NONE]);
      await this.subnegotiate(COM.SET_STOPSIZE, [STOPBITS_ONE]);
      await this.subnegotiate(COM.SET_CONTROL, [CONTROL.NO_FLOW_CONTROL]);
    }
  }

  write(data: Uint8Array): Promise<void> {
    return this.link.write(escapeIac(data));
  }
  onData(listener: (chunk: Uint8Array) => void): () => void {
    return this.events.onData(listener);
  }
  onClose(listener: (err?: Error) => void): () => void {
    return this.events.onClose(listener);
  }

  async setSignals(lines: ControlLines): Promise<void> {
    if (this.comPortState !== 'on') return;
    if (lines.dtr !== undefined) await this.subnegotiate(COM.SET_CONTROL, [lines.dtr ? CONTROL.DTR_ON : CONTROL.DTR_OFF]);
    if (lines.rts !== undefined) await this.subnegotiate(COM.SET_CONTROL, [lines.rts ? CONTROL.RTS_ON : CONTROL.RTS_OFF]);
  }

  async setBaudRate(baud: number): Promise<void> {
    this.currentBaud = baud;
    if (this.comPortState !== 'on') return;
    const reply = await this.subnegotiate(COM.SET_BAUDRATE, [(baud >>> 24) & 0xff, (baud >>> 16) & 0xff, (baud >>> 8) & 0xff, baud & 0xff]);
    if (reply && reply.length >= 4) this.currentBaud = ((reply[0]! << 24) | (reply[1]! << 16) | (reply[2]! << 8) | reply[3]!) >>> 0;
  }

  close(): Promise<void> {
    return this.link.close();
  }

  /**
   * Send one COM-PORT-OPTION command and wait (bounded) for the server's answer; undefined if none came. A server
   * that left one SET-CONTROL unanswered (esp_rfc2217_server always, ser2net when the port has no modem lines)
   * is not waited for again, as pyserial's ?ign_set_control: each reset would otherwise cost seconds.
   */
  private async subnegotiate(command: number, value: number[]): Promise<Uint8Array | undefined> {
    if (command === COM.SET_CONTROL && this.controlUnanswered) {
      await this.link.write(subnegotiationFrame([OPT_COM_PORT, command, ...value]));
      return undefined;
    }
    const reply = new Promise<Uint8Array | undefined>((resolve) => {
      const timer = setTimeout(() => {
        const list = this.ackWaiters.get(command + SERVER_OFFSET);
        list?.splice(list.indexOf(done), 1);
        if (command === COM.SET_CONTROL) this.controlUnanswered = true;
        resolve(undefined);
      }, ACK_TIMEOUT_MS);
      const done = (v: Uint8Array) => {
        clearTimeout(timer);
        resolve(v);
      };
      const list = this.ackWaiters.get(command + SERVER_OFFSET) ?? [];
      list.push(done);
      this.ackWaiters.set(command + SERVER_OFFSET, list);
    });
    await this.link.write(subnegotiationFrame([OPT_COM_PORT, command, ...value]));
    return reply;
  }

  private waitComPort(): Promise<void> {
    if (this.comPortState !== 'pending') return Promise.resolve();
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        if (this.comPortState === 'pending') this.comPortState = 'off';
        resolve();
      }, ACK_TIMEOUT_MS);
      this.comPortWaiters.push(() => {
        clearTimeout(timer);
        resolve();
      });
    });
  }

  private setComPort(on: boolean): void {
    this.comPortState = on ? 'on' : 'off';
    for (const w of this.comPortWaiters.splice(0)) w();
  }

  private receive(chunk: Uint8Array): void {
    for (const e of this.parser.push(chunk)) {
      if (e.type === 'data') this.events.emitData(e.data);
      else if (e.type === 'option') this.negotiate(e.verb, e.option);
      else this.subnegotiation(e.body);
    }
  }

  /** Answer WILL/WONT/DO/DONT, replying only when an option's state changes so two peers never loop. */
  private negotiate(verb: number, option: number): void {
    const send = (v: number) => void this.link.write(Uint8Array.from([IAC, v, option])).catch(() => {});
    if (verb === DO || verb === DONT) {
      const wanted = option === OPT_BINARY || option === OPT_SGA || option === OPT_COM_PORT;
      if (verb === DO && wanted) {
        if (!this.ourOptions.has(option)) send(WILL);
        this.ourOptions.add(option);
      } else {
        if (this.ourOptions.has(option) || verb === DO) send(WONT);
        this.ourOptions.delete(option);
      }
      if (option === OPT_COM_PORT) this.setComPort(verb === DO);
    } else {
      const wanted = option === OPT_BINARY || option === OPT_SGA || option === OPT_ECHO;
      if (verb === WILL && wanted) {
        if (!this.theirOptions.has(option)) send(DO);
        this.theirOptions.add(option);
      } else {
        if (this.theirOptions.has(option) || verb === WILL) send(DONT);
        this.theirOptions.delete(option);
      }
    }
  }

  private subnegotiation(body: Uint8Array): void {
    if (body[0] !== OPT_COM_PORT || body.length < 2) return;
    const waiters = this.ackWaiters.get(body[1]!);
    const waiter = waiters?.shift();
    waiter?.(body.subarray(2));
  }
}

export async function openRfc2217Transport(spec: string, baudRate: number): Promise<Transport> {
  const target = parseHostPort(spec, spec.slice('rfc2217://'.length));
  const transport = new Rfc2217Transport(spec, baudRate);
  const socket = await connectSocket(spec, target);
  try {
    await transport.start(socket);
  } catch (err) {
    socket.destroy();
    throw err;
  }
  return transport;
}
