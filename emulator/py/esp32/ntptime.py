# ntptime as the ESP32 firmware freezes it, written from its documented use (ntptime.host, ntptime.timeout,
# time(), settime()) and RFC 5905's packet: one SNTP request, the server's transmit timestamp, the RTC set in UTC.
# The board's network answers NTP itself at its gateway (10.0.2.2) from the host's clock.
import socket
import struct
import time as _time

host = 'pool.ntp.org'
timeout = 1

# Seconds from NTP's epoch (1900) to the port's (1970 or 2000, whichever its time module counts from).
_DELTA = 2208988800 + (946684800 if _time.gmtime(0)[0] == 2000 else 0)


def time():
    query = bytearray(48)
    query[0] = 0x1B  # LI 0, version 3, client mode
    addr = socket.getaddrinfo(host, 123)[0][-1]
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        s.settimeout(timeout)
        s.sendto(query, addr)
        msg = s.recv(48)
    finally:
        s.close()
    return struct.unpack('!I', msg[40:44])[0] - _DELTA


def settime():
    import machine
    t = time()
    tm = _time.gmtime(t)
    machine.RTC().datetime((tm[0], tm[1], tm[2], tm[6] + 1, tm[3], tm[4], tm[5], 0))
