# webrepl as the ESP32 firmware freezes it, written from docs.micropython.org "WebREPL" (esp32 quickref,
# esp8266 tutorial repl.rst): start() serves the REPL over a websocket, its password from the argument or from
# webrepl_cfg.PASS (written by webrepl_setup). The websocket handshake (SHA-1) and framing, the password prompt
# and the attach to the REPL (os.dupterm on the firmware) run on the host (emulator/net/webrepl-host.ts); the
# board port is published on 127.0.0.1 as `sim serve` prints.
import _net, network, socket

_port = 0


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
    if password is None:
        try:
            import webrepl_cfg
            password = webrepl_cfg.PASS
        except ImportError:
            print("WebREPL is not configured, run 'import webrepl_setup'")
            return
    socket._call(_net.webrepl, port, password)
    _port = port
    for ip in _addresses():
        print('WebREPL server started on http://%s:%d/' % (ip, port))
    print('Started webrepl in normal mode')


def start_foreground(port=8266, password=None):
    start(port, password)


def stop():
    global _port
    if _port:
        socket._call(_net.webrepl, _port, '')
        _port = 0
