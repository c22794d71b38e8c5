// An NTP server on the host's clock (RFC 5905's packet format), for boards whose network answers NTP itself:
// the gateway always does, and with board.json's "ntp": "host" every NTP query does, without any host socket.

/** Seconds from NTP's epoch (1900) to the Unix epoch (1970). */
const NTP_UNIX_DELTA = 2_208_988_800;

function writeTimestamp(buf: Buffer, offset: number, unixMs: number): void {
  const seconds = Math.floor(unixMs / 1000) + NTP_UNIX_DELTA;
  const fraction = Math.floor(((unixMs % 1000) / 1000) * 2 ** 32);
  buf.writeUInt32BE(seconds >>> 0, offset);
  buf.writeUInt32BE(fraction >>> 0, offset + 4);
}

/** The server's answer to a client request (mode 3), or undefined for anything that is not one. */
export function ntpAnswer(request: Uint8Array, nowMs = Date.now()): Buffer | undefined {
  if (request.length < 48 || (request[0]! & 0x07) !== 3) return undefined;
  const out = Buffer.alloc(48);
  const version = (request[0]! >> 3) & 0x07;
  out[0] = (0 << 6) | (version << 3) | 4; // no leap warning, the client's version, server mode
  out[1] = 1; // stratum 1: a reference clock (the host's)
  out[2] = request[2]!; // poll interval, echoed
  out[3] = 0xec; // precision 2^-20 s
  out.write('LOCL', 12, 'latin1'); // reference id: the local clock
  writeTimestamp(out, 16, nowMs); // reference time
  Buffer.from(request.subarray(40, 48)).copy(out, 24); // originate = the client's transmit time
  writeTimestamp(out, 32, nowMs); // receive
  writeTimestamp(out, 40, nowMs); // transmit
  return out;
}
