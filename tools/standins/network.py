"""Host stand-in for MicroPython's `network` module as the ESP32 port (v1.28) has it:
WLAN (ports/esp32/network_wlan.c), hostname(), ipconfig(), country() and the constants.

Strict where the port is: connect() takes ssid and key *positionally only* (the C code gives
them no names, so connect(ssid=..., password=...) is a TypeError on the board), config() with
an unknown name is a ValueError, STAT_CONNECT_FAIL does not exist on the ESP32.

The access point is simulated: `_sim_set(ap_ssid=..., password=..., reachable=...,
connect_delay_ms=...)`. An attempt takes connect_delay_ms on the stand-ins' clock
(machine._sim_advance moves it without sleeping); after a failure the driver retries at once,
forever unless config(reconnects=n) limits it - as network_wlan.c does on every disconnect
event. status() follows network_wlan.c's order: GOT_IP; the last failure if it was
NO_AP_FOUND or WRONG_PASSWORD (even while still retrying); IDLE after disconnect();
CONNECTING while retries remain. `_sim_drop()` loses a working link (beacon timeout).
Everything named `_sim_*` is host-only.
"""

import machine as _machine

STA_IF = 0
AP_IF = 1

STAT_IDLE = 1000
STAT_CONNECTING = 1001
STAT_GOT_IP = 1010
# ESP-IDF disconnect reasons (wifi_err_reason_t), passed through by status()
STAT_BEACON_TIMEOUT = 200
STAT_NO_AP_FOUND = 201
STAT_WRONG_PASSWORD = 202  # WIFI_REASON_AUTH_FAIL
STAT_ASSOC_FAIL = 203
STAT_HANDSHAKE_TIMEOUT = 204
_REASON_ASSOC_LEAVE = 8  # after disconnect(): status() says IDLE

AUTH_OPEN = 0
AUTH_WEP = 1
AUTH_WPA_PSK = 2
AUTH_WPA2_PSK = 3
AUTH_WPA_WPA2_PSK = 4
AUTH_WPA2_ENTERPRISE = 5
AUTH_WPA3_PSK = 6
AUTH_WPA2_WPA3_PSK = 7
MODE_11B = 1
MODE_11G = 2
MODE_11N = 4

_UNSET = _machine._UNSET
_HOSTNAME_MAX_LEN = 32  # MICROPY_PY_NETWORK_HOSTNAME_MAX_LEN, including the terminating NUL
_hostname = "mpy-esp32"  # MICROPY_PY_NETWORK_HOSTNAME_DEFAULT of the esp32 port
_country = "XX"
_dns = "0.0.0.0"


class _AP:
    """The simulated access point and DHCP server (host-only knobs)."""

    def __init__(self):
        self.ssid = "gateway-test"
        self.password = "secret-password"
        self.reachable = True
        self.connect_delay_ms = 2000
        self.ip = "192.168.1.57"
        self.netmask = "255.255.255.0"
        self.gateway = "192.168.1.1"
        self.dns = "192.168.1.1"
        self.rssi = -61
        self.channel = 6
        self.bssid = b"\x9c\x53\x22\x0a\x0b\x0c"


_ap = _AP()


class _Iface:
    def __init__(self, if_id):
        self.if_id = if_id
        self.active = False
        self.requested = False  # wifi_sta_connect_requested
        self.connected = False
        self.reason = 0  # wifi_sta_disconn_reason
        self.ssid = ""
        self.key = ""
        self.bssid = None
        self.conf_reconnects = 0  # 0: forever; n + 1 after config(reconnects=n)
        self.reconnects = 0
        self.attempt_ms = 0
        self.static = None  # (ip, mask, gw, dns) from ifconfig(tuple), or None for DHCP
        self.mac = bytes(_machine._UNIQUE_ID[:5]) + bytes(((_machine._UNIQUE_ID[5] + if_id)
                                                           & 0xFF,))
        self.ap_essid = "ESP_%02X%02X%02X" % tuple(self.mac[3:6])
        self.ap_password = ""
        self.authmode = AUTH_OPEN
        self.hidden = False
        self.max_clients = 10
        self.channel = 1
        self.txpower = 20.0
        self.pm = 1  # PM_PERFORMANCE (WIFI_PS_MIN_MODEM), the IDF default
        self.protocol = 7  # 802.11 b/g/n
        self.attempts = 0  # host-only: finished attempts, retries included
        self.connects = 0  # host-only: how often the firmware called connect()


_ifaces = [_Iface(STA_IF), _Iface(AP_IF)]


def _now():
    return _machine._sim_now_ms()


def _retries_left(st):
    return st.conf_reconnects == 0 or st.reconnects < st.conf_reconnects


def _update(st):
    """Play the driver's events up to now: an attempt completes connect_delay_ms after it
    started; a failed one is retried at once while the reconnect budget lasts (network_wlan.c
    event handler). The AP does not change inside one call, so every attempt in the interval
    ends the same way and is counted, not looped over."""
    if st.if_id != STA_IF or not st.active or st.connected or not st.requested:
        return
    delay = max(1, _ap.connect_delay_ms)
    n = (_now() - st.attempt_ms) // delay
    if n <= 0 or not _retries_left(st):
        return
    if not _ap.reachable or st.ssid != _ap.ssid or (
            st.bssid is not None and st.bssid != _ap.bssid):
        reason = STAT_NO_AP_FOUND
    elif st.key != _ap.password:
        reason = STAT_WRONG_PASSWORD
    else:
        st.attempts += 1
        st.connected = True
        st.reason = 0
        return
    if st.conf_reconnects:
        n = min(n, st.conf_reconnects - st.reconnects)
        st.reconnects += n
    st.attempts += n
    st.reason = reason
    st.attempt_ms += n * delay


def _require(st, if_id):
    if st.if_id != if_id:
        raise OSError("STA required" if if_id == STA_IF else "AP required")


class WLAN:
    IF_STA = STA_IF
    IF_AP = AP_IF
    SEC_OPEN = AUTH_OPEN
    SEC_WEP = AUTH_WEP
    SEC_WPA = AUTH_WPA_PSK
    SEC_WPA2 = AUTH_WPA2_PSK
    SEC_WPA_WPA2 = AUTH_WPA_WPA2_PSK
    SEC_WPA2_ENT = AUTH_WPA2_ENTERPRISE
    SEC_WPA3 = AUTH_WPA3_PSK
    SEC_WPA2_WPA3 = AUTH_WPA2_WPA3_PSK
    PM_NONE = 0
    PM_PERFORMANCE = 1
    PM_POWERSAVE = 2

    def __init__(self, *args):
        if len(args) > 1:
            raise TypeError("function takes at most 1 positional argument")
        idx = args[0] if args else STA_IF
        if idx not in (STA_IF, AP_IF):
            raise ValueError("invalid WLAN interface identifier")
        self._st = _ifaces[idx]

    def active(self, *args):
        if len(args) > 1:
            raise TypeError("function takes at most 2 positional arguments")
        st = self._st
        if args:
            on = bool(args[0])
            if not on and st.active:
                st.connected = False
                st.requested = False
                st.reason = _REASON_ASSOC_LEAVE
            st.active = on
        return st.active

    def connect(self, *args, bssid=None):
        if len(args) > 2:
            raise TypeError("function takes at most 3 positional arguments")
        st = self._st
        if not st.active:
            raise OSError("Wifi Not Started")
        if args:
            if args[0] is not None:
                st.ssid = str(args[0])[:32]
            if len(args) > 1 and args[1] is not None:
                st.key = str(args[1])[:64]
            if bssid is not None:
                if len(bssid) != 6:
                    raise ValueError()
                st.bssid = bytes(bssid)
        st.connects += 1
        st.connected = False
        st.reason = 0
        st.reconnects = 0
        st.requested = True
        st.attempt_ms = _now()

    def disconnect(self):
        st = self._st
        if not st.active:
            raise OSError("Wifi Not Started")
        st.requested = False
        st.reason = _REASON_ASSOC_LEAVE
        st.connected = False

    def isconnected(self):
        st = self._st
        if st.if_id == AP_IF:
            return False  # no station ever joins the simulated soft-AP
        _update(st)
        return st.connected

    def status(self, *args):
        if len(args) > 1:
            raise TypeError("function takes at most 2 positional arguments")
        st = self._st
        if args:
            if args[0] == "rssi":
                _require(st, STA_IF)
                _update(st)
                if not st.connected:
                    raise OSError("Wifi Not Connected")
                return _ap.rssi
            if args[0] == "stations":
                _require(st, AP_IF)
                return []
            raise ValueError("unknown status param")
        if st.if_id != STA_IF:
            return None
        _update(st)
        if st.connected:
            return STAT_GOT_IP
        if st.reason in (STAT_NO_AP_FOUND, STAT_WRONG_PASSWORD):
            return st.reason
        if st.reason == _REASON_ASSOC_LEAVE:
            return STAT_IDLE
        if st.requested and _retries_left(st):
            return STAT_CONNECTING
        if st.reason == 0:
            return STAT_IDLE
        return st.reason

    def scan(self):
        if not _ifaces[STA_IF].active:
            raise OSError("STA must be active")
        if not _ap.reachable:
            return []
        return [(_ap.ssid.encode(), _ap.bssid, _ap.channel, _ap.rssi, AUTH_WPA2_PSK, False)]

    def config(self, *args, **kw):
        # The C function takes any keyword and rejects unknown ones itself (ValueError).
        if args and kw:
            raise TypeError("either pos or kw args are allowed")
        st = self._st
        if kw:
            for name in kw:
                _config_set(st, name, kw[name])
            return None
        if len(args) != 1:
            raise TypeError("can query only one param")
        return _config_get(st, args[0])

    def ifconfig(self, *args):
        if len(args) > 1:
            raise TypeError("function takes at most 2 positional arguments")
        st = self._st
        if args:
            cfg = args[0]
            if cfg == "dhcp":
                st.static = None
                return None
            if len(cfg) != 4:
                raise ValueError("requested length 4 but object has length %d" % len(cfg))
            st.static = tuple(str(x) for x in cfg)
            return None
        return _addresses(st)

    def ipconfig(self, *args, **kw):
        if args and kw:
            raise TypeError("either pos or kw args are allowed")
        st = self._st
        if kw:
            for name in kw:
                v = kw[name]
                if name == "dhcp4":
                    if v:
                        st.static = None
                elif name == "addr4":
                    ip, mask = _parse_addr4(v)
                    a = _addresses(st)
                    st.static = (ip, mask, a[2], a[3])
                elif name == "gw4":
                    a = _addresses(st)
                    st.static = (a[0], a[1], str(v), a[3])
                else:
                    raise ValueError("unexpected key")
            return None
        if len(args) != 1:
            raise TypeError("can query only one param")
        a = _addresses(st)
        key = args[0]
        if key == "dhcp4":
            return st.static is None
        if key == "has_dhcp4":
            return st.static is None and st.connected
        if key == "addr4":
            return (a[0], a[1])
        if key == "gw4":
            return a[2]
        if key in ("addr6", "has_autoconf6"):
            return [] if key == "addr6" else False
        raise ValueError("unexpected key")


def _parse_addr4(v):
    if isinstance(v, str):
        ip, _, prefix = v.partition("/")
        bits = int(prefix) if prefix else 24
        m = (0xFFFFFFFF << (32 - bits)) & 0xFFFFFFFF
        return ip, "%d.%d.%d.%d" % (m >> 24, (m >> 16) & 255, (m >> 8) & 255, m & 255)
    return str(v[0]), str(v[1])


def _addresses(st):
    if st.static is not None:
        return st.static
    if st.if_id == AP_IF:
        return ("192.168.4.1", "255.255.255.0", "192.168.4.1", "0.0.0.0") if st.active else \
            ("0.0.0.0", "0.0.0.0", "0.0.0.0", "0.0.0.0")
    _update(st)
    if st.connected:
        return (_ap.ip, _ap.netmask, _ap.gateway, _ap.dns)
    return ("0.0.0.0", "0.0.0.0", "0.0.0.0", "0.0.0.0")


def _config_get(st, name):
    if name == "mac":
        return st.mac
    if name in ("ssid", "essid"):
        return st.ssid if st.if_id == STA_IF else st.ap_essid
    if name == "hidden":
        _require(st, AP_IF)
        return st.hidden
    if name in ("security", "authmode"):
        _require(st, AP_IF)
        return st.authmode
    if name == "channel":
        return _ap.channel if st.if_id == STA_IF and st.connected else st.channel
    if name in ("hostname", "dhcp_hostname"):
        _require(st, STA_IF)
        return _hostname
    if name == "max_clients":
        return st.max_clients
    if name == "reconnects":
        _require(st, STA_IF)
        return st.conf_reconnects - 1
    if name == "txpower":
        return st.txpower
    if name == "protocol":
        return st.protocol
    if name == "pm":
        return st.pm
    if name == "ifname":
        return "sta" if st.if_id == STA_IF else "ap"
    raise ValueError("unknown config param")


def _config_set(st, name, v):
    if name == "mac":
        if len(v) != 6:
            raise ValueError("invalid buffer length")
        st.mac = bytes(v)
    elif name in ("ssid", "essid"):
        _require(st, AP_IF)
        st.ap_essid = str(v)[:32]
    elif name == "hidden":
        _require(st, AP_IF)
        st.hidden = bool(v)
    elif name in ("security", "authmode"):
        _require(st, AP_IF)
        st.authmode = int(v)
    elif name in ("key", "password"):
        _require(st, AP_IF)
        st.ap_password = str(v)[:63]
    elif name == "channel":
        st.channel = int(v)
    elif name in ("hostname", "dhcp_hostname"):
        hostname(v)
    elif name == "max_clients":
        _require(st, AP_IF)
        st.max_clients = int(v)
    elif name == "reconnects":
        _require(st, STA_IF)
        n = int(v)
        st.conf_reconnects = 0 if n == -1 else n + 1
    elif name == "txpower":
        st.txpower = int(float(v) * 4) * 0.25  # the IDF keeps quarter-dBm steps
    elif name == "protocol":
        st.protocol = int(v)
    elif name == "pm":
        st.pm = int(v)
    else:
        raise ValueError("unknown config param")


def hostname(*args):
    global _hostname
    if len(args) > 1:
        raise TypeError("function takes at most 1 positional argument")
    if not args:
        return _hostname
    name = args[0]
    if not isinstance(name, str):
        raise TypeError("can't convert to str implicitly")
    if len(name) >= _HOSTNAME_MAX_LEN:
        raise ValueError("hostname too long")
    _hostname = name
    return None


def country(*args):
    global _country
    if len(args) > 1:
        raise TypeError("function takes at most 1 positional argument")
    if not args:
        return _country
    if len(args[0]) != 2:
        raise ValueError()
    _country = args[0]
    return None


def ipconfig(*args, **kw):
    global _dns
    if args and kw:
        raise TypeError("either pos or kw args are allowed")
    if kw:
        for name in kw:
            if name == "dns":
                _dns = str(kw[name])
            elif name != "prefer":
                raise ValueError("unexpected key")
        return None
    if len(args) != 1:
        raise TypeError("can query only one param")
    if args[0] == "dns":
        sta = _ifaces[STA_IF]
        _update(sta)
        if _dns != "0.0.0.0" or not sta.connected:
            return _dns
        return _ap.dns
    if args[0] == "prefer":
        return 4
    raise ValueError("unexpected key")


# -- host-only ---------------------------------------------------------------------------------
def _sim_set(ap_ssid=_UNSET, password=_UNSET, reachable=_UNSET, connect_delay_ms=_UNSET,
             ip=_UNSET, gateway=_UNSET, dns=_UNSET, rssi=_UNSET):
    """Configure the simulated access point. Taking it down (reachable=False) does not drop
    a working link by itself: call _sim_drop() for that, as a beacon timeout would."""
    if ap_ssid is not _UNSET:
        _ap.ssid = ap_ssid
    if password is not _UNSET:
        _ap.password = password
    if reachable is not _UNSET:
        _ap.reachable = bool(reachable)
    if connect_delay_ms is not _UNSET:
        _ap.connect_delay_ms = int(connect_delay_ms)
    if ip is not _UNSET:
        _ap.ip = ip
    if gateway is not _UNSET:
        _ap.gateway = gateway
    if dns is not _UNSET:
        _ap.dns = dns
    if rssi is not _UNSET:
        _ap.rssi = rssi


def _sim_drop(reason=STAT_BEACON_TIMEOUT):
    """The link is lost now (AP rebooted, out of range). The driver starts retrying at once if
    the firmware had asked to connect; set reachable=False to keep the AP away."""
    st = _ifaces[STA_IF]
    _update(st)
    if st.connected:
        st.connected = False
        st.reason = reason
        st.reconnects = 0
        st.attempt_ms = _now()


def _sim_link_up():
    """Host-only: does the station have an IP address (the other stand-ins ask this)?"""
    st = _ifaces[STA_IF]
    _update(st)
    return st.connected


def _sim_sta():
    """Host-only: the station's recorded state (attempts, connects, ssid, key, reason...)."""
    st = _ifaces[STA_IF]
    _update(st)
    return st


def _sim_reboot():
    """Host-only (machine._sim_reboot calls it): the board restarted. WiFi is off and every
    setting made at run time is gone (MicroPython keeps WiFi config in RAM); the simulated
    access point is unchanged."""
    global _hostname, _country, _dns
    _ifaces[STA_IF] = _Iface(STA_IF)
    _ifaces[AP_IF] = _Iface(AP_IF)
    _hostname = "mpy-esp32"
    _country = "XX"
    _dns = "0.0.0.0"


def _sim_reset():
    """Host-only: as after _sim_reboot, and the default access point."""
    global _ap
    _ap = _AP()
    _sim_reboot()
