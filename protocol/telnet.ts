// Telnet framing as RFC 2217 uses it (pure codec: bytes in, events out), shared by our rfc2217:// client and
// the virtual board's RFC 2217 server.

export const IAC = 255;
export const DONT = 254;
export const DO = 253;
export const WONT = 252;
export const WILL = 251;
export const SB = 250;
export const SE = 240;

export const OPT_BINARY = 0;
export const OPT_ECHO = 1;
export const OPT_SGA = 3;
export const OPT_COM_PORT = 44;

/** RFC 2217 client-to-server command codes; the server answers with code + SERVER_OFFSET. */
export const COM = {
  SET_BAUDRATE: 1, SET_DATASIZE: 2, SET_PARITY: 3, SET_STOPSIZE: 4, SET_CONTROL: 5, NOTIFY_LINESTATE: 6,
  NOTIFY_MODEMSTATE: 7, FLOWCONTROL_SUSPEND: 8, FLOWCONTROL_RESUME: 9, SET_LINESTATE_MASK: 10,
  SET_MODEMSTATE_MASK: 11, PURGE_DATA: 12,
} as const;
export const SERVER_OFFSET = 100;
/** SET-CONTROL values. */
export const CONTROL = {
  REQ_FLOW_SETTING: 0, NO_FLOW_CONTROL: 1, SW_FLOW_CONTROL: 2, HW_FLOW_CONTROL: 3, REQ_BREAK: 4, BREAK_ON: 5,
  BREAK_OFF: 6, REQ_DTR: 7, DTR_ON: 8, DTR_OFF: 9, REQ_RTS: 10, RTS_ON: 11, RTS_OFF: 12,
} as const;
/** PURGE-DATA values: the access server's buffer of data from the device, to it, or both. */
export const PURGE = { RECEIVE: 1, TRANSMIT: 2, BOTH: 3 } as const;
/** NOTIFY-MODEMSTATE bits (the low four are "changed since last report" flags). */
export const MODEM = { CTS: 0x10, DSR: 0x20, RI: 0x40, CD: 0x80 } as const;

export type TelnetEvent =
  | { type: 'data'; data: Uint8Array }
  | { type: 'option'; verb: number; option: number }
  | { type: 'sub'; body: Uint8Array };

/** Double every 0xFF so the receiver does not take it for a Telnet command. */
export function escapeIac(data: Uint8Array): Uint8Array {
  let extra = 0;
  for (const b of data) if (b === IAC) extra++;
  if (extra === 0) return data;
  const out = new Uint8Array(data.length + extra);
  let j = 0;
  for (const b of data) {
    out[j++] = b;
    if (b === IAC) out[j++] = IAC;
  }
  return out;
}

/** One subnegotiation frame: IAC SB body IAC SE, with the body's 0xFF doubled. */
export function subnegotiationFrame(body: number[]): Uint8Array {
  return Uint8Array.from([IAC, SB, ...escapeIac(Uint8Array.from(body)), IAC, SE]);
}

type ParseState = 'data' | 'iac' | 'option' | 'sb' | 'sb-iac';

/** Incremental parser: data runs, option negotiations and subnegotiations, in arrival order. */
export class TelnetParser {
  private state: ParseState = 'data';
  private verb = 0;
  private sub: number[] = [];

  push(chunk: Uint8Array): TelnetEvent[] {
    const events: TelnetEvent[] = [];
    let data: number[] = [];
    const flushData = () => {
      if (data.length) events.push({ type: 'data', data: Uint8Array.from(data) });
      data = [];
    };
    for (const b of chunk) {
      switch (this.state) {
        case 'data':
          if (b === IAC) this.state = 'iac';
          else data.push(b);
          break;
        case 'iac':
          if (b === IAC) {
            data.push(IAC);
            this.state = 'data';
          } else if (b === SB) {
            this.sub = [];
            this.state = 'sb';
          } else if (b === WILL || b === WONT || b === DO || b === DONT) {
            this.verb = b;
            this.state = 'option';
          } else {
            this.state = 'data'; // NOP, GA and friends carry nothing for us
          }
          break;
        case 'option':
          flushData();
          events.push({ type: 'option', verb: this.verb, option: b });
          this.state = 'data';
          break;
        case 'sb':
          if (b === IAC) this.state = 'sb-iac';
          else this.sub.push(b);
          break;
        case 'sb-iac':
          if (b === IAC) {
            this.sub.push(IAC);
            this.state = 'sb';
          } else {
            if (b === SE) {
              flushData();
              events.push({ type: 'sub', body: Uint8Array.from(this.sub) });
            }
            this.state = 'data';
          }
          break;
      }
    }
    flushData();
    return events;
  }
}
