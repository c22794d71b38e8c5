# webrepl as the ESP32 firmware freezes it, written from docs.micropython.org "WebREPL" (esp32 quickref,
# esp8266 tutorial repl.rst): start() serves the REPL over a websocket, its password from the argument or from
# webrepl_cfg.PASS (written by webrepl_setup). The websocket handshake (SHA-1) and framing, the password prompt,
# the attach to the REPL (os.dupterm on the firmware) and the file-transfer records run on the host
# (emulator/net/webrepl-host.ts, webrepl-files.ts); the files themselves are opened here, with the VM's open(),
# as the firmware's _webrepl does. The board port is published on 127.0.0.1 as `sim serve` prints.
import _net, network, socket
from micropython import const

_PUT = const(1)
_BLOCK = const(16384)
_port = 0


def _transfer(op, name, size):
    # One put or get of the WebREPL's client, run to its end: status of the open, the bytes, status of the end.
    try:
        f = open(name, 'wb' if op == _PUT else 'rb')
    except OSError:
        _net.wr_status(1)
        return
    _net.wr_status(0)
    with f:
        if op == _PUT:
            while size > 0:
                data = socket._call(_net.wr_recv, min(size, _BLOCK))
                if not data:
                    return  # the client went away: what came is kept, as on the firmware
                f.write(bytes.fromhex(data))
                size -= len(data) // 2
        else:
            while True:
                data = f.read(_BLOCK)
                _net.wr_send(data.hex() if data else '')
                if not data:
                    break
    _net.wr_status(0)


def _addresses():
    out = []
    for iface in (network.STA_IF, network.AP_IF):
        w = network.WLAN(iface)
        if w.active():
            out.append(w.ifconfig()[0])
    return out or ['0.0.0.0']


def start(port=8266, password=None, accept_handler=None):
    global _port
    stop()
    given = password
    if password is None:
        try:
            import webrepl_cfg
            password = webrepl_cfg.PASS
        except ImportError:
            print("WebREPL is not configured, run 'import webrepl_setup'")
            return
    if len(password) > 9:
        raise ValueError  # _webrepl.password()'s buffer holds 9 characters
    _net.wr_handler(_transfer)
    socket._call(_net.webrepl, port, password)
    _port = port
    for ip in _addresses():
        print('WebREPL server started on http://%s:%d/' % (ip, port))
    print('Started webrepl in %s mode' % ('normal' if given is None else 'manual override'))


def start_foreground(port=8266, password=None):
    start(port, password)


def stop():
    global _port
    if _port:
        socket._call(_net.webrepl, _port, '')
        _net.wr_handler(None)
        _port = 0
