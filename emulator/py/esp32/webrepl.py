# webrepl as the ESP32 firmware freezes it, written from docs.micropython.org "WebREPL" (esp32 quickref,
# esp8266 tutorial repl.rst): start() serves the REPL over a websocket, its password from the argument or from
# webrepl_cfg.PASS (written by webrepl_setup). The websocket handshake (SHA-1) and framing, the password prompt,
# the attach to the REPL (os.dupterm on the firmware) and the file-transfer records run on the host
# (emulator/net/webrepl-host.ts, webrepl-files.ts); the files themselves are opened here, with the VM's open(),
# as the firmware's _webrepl does. The board port is published on 127.0.0.1 as `sim serve` prints.
import _net, network, socket, sys
from micropython import const

_PUT = const(1)
_EINTR = const(4)  # what _net's waits return after a Ctrl-C
_BLOCK = const(16384)
_port = 0
static_host = 'https://micropython.org/webrepl/'


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
    # The firmware's setup_conn looks at AP_IF, then STA_IF, and prints nothing for inactive ones.
    return [network.WLAN(i).ifconfig()[0] for i in (network.AP_IF, network.STA_IF) if network.WLAN(i).active()]


class _Listener(socket.socket):
    # The listening socket an accept handler is called with; its connections wait on the host until the
    # board accepts one, as a plain socket here or as the WebREPL's client with accept_conn.
    def __init__(self):
        super().__init__(_id=-1)

    def accept(self):
        child, host, port = socket._call(_net.wr_accept, False).split(',')
        return socket.socket(socket.AF_INET, socket.SOCK_STREAM, 0, int(child)), (host, int(port))


listen_s = None


def accept_conn(listen_sock):
    # start()'s default accept handler, public as on the firmware (a handler of the user's may call it):
    # accepts the next connection and serves it; True once a websocket client is attached to the REPL, False
    # for a plain HTTP request (it got the page) or while another client is attached. The default one runs
    # on the host, without a call here.
    while True:
        r = _net.wr_accept(True)
        # A Ctrl-C in the wait: the VM raises the KeyboardInterrupt at this loop's branch, in accept_conn's
        # frame, as the firmware's C accept() leaves it.
        if r != -_EINTR:
            if r[1:]:
                print('\n' + r[1:])
            return r[0] == '1'


def _on_accept(handler):
    def call():
        # lwIP's event on the listening socket calls it protected: an exception is printed, nothing unwinds.
        try:
            handler(listen_s)
        except Exception as e:
            sys.print_exception(e)
    return call


def start(port=8266, password=None, accept_handler=accept_conn):
    global _port, static_host, listen_s
    stop()
    webrepl_pass = password
    if webrepl_pass is None:
        try:
            import webrepl_cfg
            webrepl_pass = webrepl_cfg.PASS
            if hasattr(webrepl_cfg, 'BASE'):
                static_host = webrepl_cfg.BASE
        except:
            print("WebREPL is not configured, run 'import webrepl_setup'")
    # As _webrepl.password(): str or bytes (mp_obj_str_get_data) that fit its 10-byte buffer; the firmware
    # gets here without a password too, and this is the TypeError it raises then.
    if isinstance(webrepl_pass, bytes):
        webrepl_pass = webrepl_pass.decode()
    if not isinstance(webrepl_pass, str):
        raise TypeError("can't convert '%s' object to str implicitly" % type(webrepl_pass).__name__)
    if len(webrepl_pass) > 9:
        raise ValueError
    _net.wr_handler(_transfer)
    # Connections wait for the board's accept unless the default handler serves them (on the host).
    held = accept_handler is not accept_conn
    # static_host: the page a plain HTTP request gets loads the WebREPL client from there.
    socket._call(_net.webrepl, port, webrepl_pass, held, static_host)
    _port = port
    listen_s = _Listener()
    if held and accept_handler:
        _net.wr_on_accept(_on_accept(accept_handler))
    for ip in _addresses():
        print('WebREPL server started on http://%s:%d/' % (ip, port))
    if accept_handler is None:
        print('Starting webrepl in foreground mode')
        # Serves plain HTTP requests until a websocket client is attached; nobody is accepted after it (no
        # accept handler in this mode), nor after a Ctrl-C here: they wait in the listening socket's backlog.
        while not accept_conn(listen_s):
            pass
    elif password is None:
        print('Started webrepl in normal mode')
    else:
        print('Started webrepl in manual override mode')


def start_foreground(port=8266, password=None):
    start(port, password, None)


def stop():
    global _port, listen_s
    if _port:
        socket._call(_net.webrepl, _port, '', False)
        _net.wr_handler(None)
        _net.wr_on_accept(None)
        _port = 0
        listen_s = None
