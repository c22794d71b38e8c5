# network as the ESP32 port has it (library/network.rst, library/network.WLAN.rst): WLAN(STA_IF) and
# WLAN(AP_IF) over the board's simulated radio, which lives on the host (emulator/net/wlan.ts) and keeps its
# state across soft resets, as ESP-IDF keeps the radio up.
import _net, json as _json
from micropython import const

STA_IF = const(0)
AP_IF = const(1)

STAT_IDLE = const(1000)
STAT_CONNECTING = const(1001)
STAT_GOT_IP = const(1010)
STAT_BEACON_TIMEOUT = const(200)
STAT_NO_AP_FOUND = const(201)
STAT_WRONG_PASSWORD = const(202)
STAT_ASSOC_FAIL = const(203)
STAT_HANDSHAKE_TIMEOUT = const(204)

AUTH_OPEN = const(0)
AUTH_WEP = const(1)
AUTH_WPA_PSK = const(2)
AUTH_WPA2_PSK = const(3)
AUTH_WPA_WPA2_PSK = const(4)
AUTH_WPA2_ENTERPRISE = const(5)
AUTH_WPA3_PSK = const(6)
AUTH_WPA2_WPA3_PSK = const(7)
AUTH_WAPI_PSK = const(8)
AUTH_OWE = const(9)
AUTH_MAX = const(10)

MODE_11B = const(1)
MODE_11G = const(2)
MODE_11N = const(4)
MODE_LR = const(8)


# config() queries: per interface (the station's or the soft AP's), the soft AP's only, and the radio's.
_IFACE = {'ssid': 'ssid', 'essid': 'ssid', 'channel': 'channel'}
_SOFT_AP = {'hidden': 'hidden', 'security': 'security', 'authmode': 'security', 'max_clients': 'maxClients'}
_RADIO = {'txpower': 'txpower', 'reconnects': 'reconnects', 'hostname': 'hostname', 'dhcp_hostname': 'hostname', 'pm': 'pm', 'protocol': 'protocol'}


def _ask(op, **args):
    args['op'] = op
    r = _net.wlan(_json.dumps(args))
    if r.startswith('!'):
        raise OSError(r[1:])
    return _json.loads(r)


def _state():
    return _json.loads(_net.wlan_state())


def _mac(text):
    return bytes(int(b, 16) for b in text.split(':'))


def hostname(name=None):
    if name is None:
        return _state()['hostname']
    if len(name) > 32:
        raise ValueError('hostname too long')
    _ask('system', hostname=name)


def country(code=None):
    if code is None:
        return _state()['country']
    if len(code) != 2:
        raise ValueError('country must be 2 letters')
    _ask('system', country=code)


def ipconfig(*names, **values):
    if values:
        return None  # dns / prefer: one resolver, the host's
    st = _state()
    if names == ('dns',):
        return st['dns']
    if names == ('prefer',):
        return 4
    raise ValueError('unknown config param')


class WLAN:
    PM_NONE = const(0)
    PM_PERFORMANCE = const(1)
    PM_POWERSAVE = const(2)

    IF_STA = const(0)
    IF_AP = const(1)
    SEC_OPEN = const(0)
    SEC_WEP = const(1)
    SEC_WPA = const(2)
    SEC_WPA2 = const(3)
    SEC_WPA_WPA2 = const(4)
    SEC_WPA2_ENT = const(5)
    SEC_WPA3 = const(6)
    SEC_WPA2_WPA3 = const(7)

    _ifaces = {}

    def __new__(cls, interface_id=STA_IF):
        if interface_id not in (STA_IF, AP_IF):
            raise ValueError('invalid WLAN interface identifier')
        w = cls._ifaces.get(interface_id)
        if w is None:
            w = object.__new__(cls)
            w._if = interface_id
            cls._ifaces[interface_id] = w
        return w

    def __init__(self, interface_id=STA_IF):
        pass

    def __repr__(self):
        return '<WLAN>'

    def active(self, is_active=None):
        if is_active is None:
            return _ask('active', iface=self._if)
        return _ask('active', iface=self._if, value=bool(is_active))

    def connect(self, ssid=None, key=None, *, bssid=None):
        if self._if != STA_IF:
            raise OSError('Wifi Invalid Mode')
        args = {}
        if ssid is not None:
            args['ssid'] = ssid
            args['key'] = key or ''
        if bssid is not None:
            args['bssid'] = ':'.join('%02x' % b for b in bssid)
        _ask('connect', **args)

    def disconnect(self):
        _ask('disconnect')

    def scan(self):
        if self._if != STA_IF:
            raise OSError('Wifi Invalid Mode')
        out = []
        for ap in _ask('scan'):
            out.append((ap['ssid'].encode(), _mac(ap['bssid']), ap['channel'], ap['rssi'], ap['authmode'], False))
        return out

    def isconnected(self):
        st = _state()
        return st['connected'] if self._if == STA_IF else st['ap']

    def status(self, param=None):
        st = _state()
        if param is None:
            return st['status'] if self._if == STA_IF else STAT_IDLE
        if param == 'rssi':
            if self._if != STA_IF or not st['connected']:
                raise OSError('STA must be connected')
            return st['rssi']
        if param == 'stations':
            if self._if != AP_IF:
                raise OSError('AP required')
            return []
        raise ValueError('unknown status param')

    def ifconfig(self, config=None):
        if config is None:
            st = _state()
            return tuple(st['staIp'] if self._if == STA_IF else st['apIp'])
        if config == 'dhcp':
            _ask('ifconfig', iface=self._if, set='dhcp')
        else:
            if len(config) != 4:
                raise ValueError('expected (ip, subnet, gateway, dns)')
            _ask('ifconfig', iface=self._if, set=list(config))

    def ipconfig(self, *names, **values):
        if values:
            if 'addr4' in values:
                a = values['addr4']
                ip, mask = a if isinstance(a, tuple) else (a.split('/')[0], '255.255.255.0')
                st = _state()['staIp']
                _ask('ifconfig', iface=self._if, set=[ip, mask, values.get('gw4', st[2]), st[3]])
            elif values.get('dhcp4'):
                _ask('ifconfig', iface=self._if, set='dhcp')
            return None
        if len(names) != 1:
            raise TypeError('one parameter to query')
        st = _state()
        ip = st['staIp'] if self._if == STA_IF else st['apIp']
        name = names[0]
        if name == 'addr4':
            return (ip[0], ip[1])
        if name == 'gw4':
            return ip[2]
        if name == 'dhcp4':
            return st['dhcp'] if self._if == STA_IF else False
        if name in ('addr6', 'autoconf6', 'dhcp6', 'has_dhcp4', 'has_autoconf6'):
            return [] if name == 'addr6' else False
        raise ValueError('unexpected key')

    def config(self, *args, **kwargs):
        if kwargs:
            if args:
                raise TypeError('either query or set')
            if 'mac' in kwargs:
                raise OSError('mac is read-only on the virtual board')
            _ask('config', iface=self._if, set=kwargs)
            return None
        if len(args) != 1:
            raise TypeError('can query only one param')
        st = _state()
        ap = st['apConfig']
        name = args[0]
        if name == 'mac':
            return _mac(st['staMac'] if self._if == STA_IF else st['apMac'])
        if name in _IFACE:
            key = _IFACE[name]
            return st[key] if self._if == STA_IF else ap[key]
        if name in _SOFT_AP:
            return ap[_SOFT_AP[name]]
        if name in _RADIO:
            return st[_RADIO[name]]
        raise ValueError('unknown config param')
