// The server side of RFC 2217 (Telnet COM-PORT-OPTION) in front of a ServedPort, for `sim serve --rfc2217`
// (a virtual board) and `share` (a real serial port): baud rate, DTR/RTS, purge, modem state and flow control
// carried over TCP, as pyserial's PortManager and esptool's esp_rfc2217_server do.
//
// DTR/RTS: every change is applied in order and acknowledged (so clients work with or without pyserial's
// ?ign_set_control). One step is timing-critical on the ESP auto-reset circuit and cannot survive a network:
// releasing EN while GPIO0 is low. A client sends it as DTR-ON then RTS-OFF, and in between the lines read
// (1,1), which releases EN with GPIO0 still high and boots the application. Like esp_rfc2217_server, which plays
// esptool's whole reset sequence locally, we apply that step locally: DTR-ON while the client holds the chip in
// reset (DTR off, RTS on) sets DTR on and RTS off in one change. Unlike it, a DTR-ON at any other time (pyserial
// raises DTR and RTS when it opens a port) is passed on as is, so opening a terminal does not reset the board.
import type net from 'node:net';
import type { ControlLines } from './transport.js';
import {
  COM, CONTROL, DO, DONT, IAC, MODEM, OPT_BINARY, OPT_COM_PORT, OPT_SGA, PURGE, SERVER_OFFSET, TelnetParser, WILL, WONT,
  escapeIac, subnegotiationFrame,
} from './telnet.js';
import { SocketFlow, type ServedPort } from './port-server.js';

const SUPPORTED = new Set([OPT_BINARY, OPT_SGA, OPT_COM_PORT]);
/** Data size 8, parity none (1), one stop bit (1): the only framing our ports speak. */
const FRAMING: Record<number, number> = { [COM.SET_DATASIZE]: 8, [COM.SET_PARITY]: 1, [COM.SET_STOPSIZE]: 1 };
const MODEM_POLL_MS = 1000;

export interface Rfc2217ServeOptions {
  /**
   * As esptool's esp_rfc2217_server: raise DTR and RTS (in one change, which leaves an ESP running) when a
   * client connects, and release both when it leaves, so no client leaves the chip held in reset.
   */
  linesPerClient?: boolean;
  /**
   * The port has no flow control to switch on (a serial port opened without it): a request for RTS/CTS or
   * XON/XOFF is answered with "none", so the client knows. Otherwise any is accepted (a virtual UART never drops).
   */
  noFlowControl?: boolean;
}

/** Speak RFC 2217 with one connected client, in front of the port. */
export function serveRfc2217(sock: net.Socket, port: ServedPort, opts: Rfc2217ServeOptions = {}): void {
  const parser = new TelnetParser();
  const flow = new SocketFlow(sock, port);
  const send = (bytes: Uint8Array | number[]) => void (sock.writable && sock.write(Uint8Array.from(bytes)));
  const reply = (cmd: number, value: number[]) => send(subnegotiationFrame([OPT_COM_PORT, cmd + SERVER_OFFSET, ...value]));
  const ours = new Set([OPT_BINARY, OPT_SGA]);
  const theirs = new Set([OPT_BINARY, OPT_SGA]);
  send([IAC, WILL, OPT_BINARY, IAC, DO, OPT_BINARY, IAC, WILL, OPT_SGA, IAC, DO, OPT_SGA]);
  port.onData((chunk) => flow.send(escapeIac(chunk)));

  const client = { dtr: false, rts: false };
  let flowSetting: number = CONTROL.NO_FLOW_CONTROL;
  let modemMask = 0xff;
  let lastModem = -1;
  const setLines = (lines: Required<ControlLines>) => port.setSignals({ ...lines });
  if (opts.linesPerClient) {
    Object.assign(client, { dtr: true, rts: true });
    flow.toPort(() => setLines(client));
  }

  /** Answer WILL/WONT/DO/DONT only when an option's state changes, so two peers never loop. */
  const negotiate = (verb: number, option: number) => {
    const mine = verb === DO || verb === DONT;
    const set = mine ? ours : theirs;
    const [yes, no] = mine ? [WILL, WONT] : [DO, DONT];
    if ((verb === DO || verb === WILL) && SUPPORTED.has(option)) {
      if (!set.has(option)) send([IAC, yes, option]);
      set.add(option);
    } else if (set.has(option) || verb === DO || verb === WILL) {
      send([IAC, no, option]);
      set.delete(option);
    }
  };

  const modemState = async (force: boolean) => {
    const m = await port.modemLines?.().catch(() => undefined);
    const now = m ? (m.cts ? MODEM.CTS : 0) | (m.dsr ? MODEM.DSR : 0) | (m.ri ? MODEM.RI : 0) | (m.cd ? MODEM.CD : 0) : 0;
    // The low nibble flags what changed since the last report.
    const delta = lastModem < 0 ? 0 : (now ^ lastModem) >> 4;
    if ((now !== lastModem && lastModem >= 0) || force) reply(COM.NOTIFY_MODEMSTATE, [(now | delta) & modemMask]);
    lastModem = now;
  };
  const poll = port.modemLines ? setInterval(() => void modemState(false), MODEM_POLL_MS) : undefined;
  sock.on('close', () => {
    if (poll) clearInterval(poll);
  });

  const control = async (v: number) => {
    switch (v) {
      case CONTROL.DTR_ON:
      case CONTROL.DTR_OFF:
      case CONTROL.RTS_ON:
      case CONTROL.RTS_OFF: {
        const inReset = client.rts && !client.dtr;
        if (v === CONTROL.DTR_ON || v === CONTROL.DTR_OFF) client.dtr = v === CONTROL.DTR_ON;
        else client.rts = v === CONTROL.RTS_ON;
        await setLines(inReset && v === CONTROL.DTR_ON ? { dtr: true, rts: false } : client);
        return reply(COM.SET_CONTROL, [v]);
      }
      case CONTROL.REQ_DTR:
        return reply(COM.SET_CONTROL, [client.dtr ? CONTROL.DTR_ON : CONTROL.DTR_OFF]);
      case CONTROL.REQ_RTS:
        return reply(COM.SET_CONTROL, [client.rts ? CONTROL.RTS_ON : CONTROL.RTS_OFF]);
      case CONTROL.REQ_BREAK:
      case CONTROL.BREAK_ON:
      case CONTROL.BREAK_OFF:
        return reply(COM.SET_CONTROL, [CONTROL.BREAK_OFF]); // no break on our ports: say so
      case CONTROL.REQ_FLOW_SETTING:
        return reply(COM.SET_CONTROL, [flowSetting]);
      case CONTROL.NO_FLOW_CONTROL:
      case CONTROL.SW_FLOW_CONTROL:
      case CONTROL.HW_FLOW_CONTROL:
        if (!opts.noFlowControl) flowSetting = v;
        return reply(COM.SET_CONTROL, [flowSetting]);
      default:
        return reply(COM.SET_CONTROL, [v]);
    }
  };

  const command = async (body: Uint8Array) => {
    if (body[0] !== OPT_COM_PORT || body.length < 2) return;
    const cmd = body[1]!;
    const value = [...body.subarray(2)];
    switch (cmd) {
      case COM.SET_BAUDRATE: {
        const baud = value.length >= 4 ? ((value[0]! << 24) | (value[1]! << 16) | (value[2]! << 8) | value[3]!) >>> 0 : 0;
        if (baud) await port.setBaudRate(baud);
        const now = port.baudRate;
        return reply(cmd, [(now >>> 24) & 255, (now >>> 16) & 255, (now >>> 8) & 255, now & 255]);
      }
      case COM.SET_DATASIZE:
      case COM.SET_PARITY:
      case COM.SET_STOPSIZE:
        return reply(cmd, [FRAMING[cmd]!]); // a request for other framing gets the truth, and the client says so
      case COM.SET_CONTROL:
        return value.length ? control(value[0]!) : undefined;
      case COM.NOTIFY_LINESTATE:
        return reply(cmd, [0]);
      case COM.NOTIFY_MODEMSTATE:
        return modemState(true);
      case COM.FLOWCONTROL_SUSPEND:
      case COM.FLOWCONTROL_RESUME:
        return flow.suspend(cmd === COM.FLOWCONTROL_SUSPEND);
      case COM.SET_LINESTATE_MASK:
        return reply(cmd, value.slice(0, 1));
      case COM.SET_MODEMSTATE_MASK:
        modemMask = value[0] ?? 0xff;
        return reply(cmd, value.slice(0, 1));
      case COM.PURGE_DATA: {
        const what = value[0] ?? 0;
        if (what & PURGE.RECEIVE) await port.purge?.('receive');
        if (what & PURGE.TRANSMIT) await port.purge?.('transmit');
        return reply(cmd, value.slice(0, 1));
      }
    }
  };

  // Data and commands reach the port in arrival order (a reset pulse is a sequence of SET-CONTROLs, then SYNC).
  sock.on('data', (chunk: Buffer) => {
    for (const e of parser.push(chunk)) {
      if (e.type === 'data') {
        const data = e.data;
        flow.toPort(() => port.write(data));
      } else if (e.type === 'option') negotiate(e.verb, e.option);
      else {
        const body = e.body;
        flow.toPort(() => command(body));
      }
    }
  });
  if (opts.linesPerClient) {
    sock.on('close', () => void port.setSignals({ dtr: false, rts: false }).catch(() => undefined));
  }
}
