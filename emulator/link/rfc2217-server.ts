// Serves a virtual board over RFC 2217 (Telnet COM-PORT-OPTION), so a remote client carries baud rate and the
// DTR/RTS lines that reset the board or hold it in its ROM bootloader, as with ser2net in front of a real board.
import type net from 'node:net';
import type { Transport } from '../../protocol/transport.js';
import {
  COM, CONTROL, DO, DONT, IAC, OPT_BINARY, OPT_COM_PORT, OPT_SGA, SERVER_OFFSET, TelnetParser, WILL, WONT,
  escapeIac, subnegotiationFrame,
} from '../../protocol/telnet.js';

const SUPPORTED = new Set([OPT_BINARY, OPT_SGA, OPT_COM_PORT]);

/** Speak RFC 2217 with one connected client, in front of the board's link. */
export function serveRfc2217(sock: net.Socket, link: Transport): void {
  const parser = new TelnetParser();
  const send = (bytes: Uint8Array | number[]) => sock.write(Uint8Array.from(bytes));
  // Lines start released (DTR and RTS off), as a freshly opened port that nobody has toggled.
  const lines = { dtr: false, rts: false };
  send([IAC, WILL, OPT_BINARY, IAC, DO, OPT_BINARY, IAC, WILL, OPT_SGA, IAC, DO, OPT_SGA]);
  link.onData((chunk) => sock.write(escapeIac(chunk)));

  const answer = (verb: number, option: number) => {
    const ok = SUPPORTED.has(option);
    if (verb === WILL) send([IAC, ok ? DO : DONT, option]);
    else if (verb === DO) send([IAC, ok ? WILL : WONT, option]);
  };

  const command = async (body: Uint8Array) => {
    if (body[0] !== OPT_COM_PORT || body.length < 2) return;
    const cmd = body[1]!;
    const value = [...body.subarray(2)];
    if (cmd === COM.SET_BAUDRATE && value.length >= 4) {
      const baud = ((value[0]! << 24) | (value[1]! << 16) | (value[2]! << 8) | value[3]!) >>> 0;
      if (baud) await link.setBaudRate(baud);
      const now = link.baudRate;
      send(subnegotiationFrame([OPT_COM_PORT, cmd + SERVER_OFFSET, (now >>> 24) & 255, (now >>> 16) & 255, (now >>> 8) & 255, now & 255]));
      return;
    }
    if (cmd === COM.SET_CONTROL && value.length) {
      const v = value[0]!;
      if (v === CONTROL.DTR_ON || v === CONTROL.DTR_OFF) lines.dtr = v === CONTROL.DTR_ON;
      if (v === CONTROL.RTS_ON || v === CONTROL.RTS_OFF) lines.rts = v === CONTROL.RTS_ON;
      send(subnegotiationFrame([OPT_COM_PORT, cmd + SERVER_OFFSET, v]));
      await link.setSignals(lines);
      return;
    }
    // Data size, parity, stop bits, flow control: a virtual UART takes any; acknowledge what was asked.
    send(subnegotiationFrame([OPT_COM_PORT, cmd + SERVER_OFFSET, ...value]));
  };

  // Commands are applied in order (a reset pulse is a sequence of SET-CONTROLs).
  let queue = Promise.resolve();
  sock.on('data', (chunk: Buffer) => {
    for (const e of parser.push(chunk)) {
      if (e.type === 'data') {
        const data = e.data;
        queue = queue.then(() => link.write(data)).catch(() => void sock.destroy());
      } else if (e.type === 'option') answer(e.verb, e.option);
      else {
        const body = e.body;
        queue = queue.then(() => command(body)).catch(() => void sock.destroy());
      }
    }
  });
}
