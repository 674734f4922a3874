"""Host stand-in for micropython-lib's `ntptime` (0.2.0, frozen into ESP32_GENERIC).

Same interface: the `host` and `timeout` attributes, time() and settime(). Instead of a UDP
query, the server's answer is the host clock as an NTP timestamp (seconds since 1900, 32 bits),
or a fixed one set with _sim_set(server_time=...); it is then converted exactly as the library
does: the 2036 wrap (timestamps below 2024-01-01 are taken as after the wrap) and the epoch of
the running interpreter from gmtime(0) - 2000 on the ESP32, 1970 on CPython and the unix port,
so time() here is in the host's epoch and time.gmtime(time()) gives the right date.
settime() sets machine.RTC() to that UTC time, as the library does.

Failures as on the device: without an IP address getaddrinfo fails, OSError(-202) (lwIP's
EAI_FAIL, what the ESP32 port raises); with the server unreachable (_sim_set(reachable=False))
the socket times out after `timeout` seconds, OSError(110) ETIMEDOUT.
Everything named `_sim_*` is host-only.
"""

import sys
from time import gmtime
import time as _time

import machine
import network

_MICROPYTHON = sys.implementation.name == "micropython"

host = "pool.ntp.org"
timeout = 1

_NTP_TO_1970 = 2208988800  # (date(1970, 1, 1) - date(1900, 1, 1)).days * 86400
_MIN_NTP_TIMESTAMP = 3913056000  # 2024-01-01 00:00:00 as an NTP timestamp
_server_time = None
_reachable = True
queries = []  # host-only: (host, timeout) of every query the firmware made


def _ntp_now():
    if _server_time is not None:
        return _server_time & 0xFFFFFFFF
    return (int(_time.time()) + _NTP_TO_1970) & 0xFFFFFFFF


def time():
    queries.append((host, timeout))
    if not network._sim_link_up():
        raise OSError(-202)
    if not _reachable:
        machine._sim_advance(int(timeout * 1000))  # the socket waited that long
        raise OSError(110) if _MICROPYTHON else OSError(110, "ETIMEDOUT")
    val = _ntp_now()
    if val < _MIN_NTP_TIMESTAMP:  # after the 2036 wrap
        val += 0x100000000
    epoch_year = gmtime(0)[0]
    if epoch_year == 2000:
        delta = 3155673600  # (date(2000, 1, 1) - date(1900, 1, 1)).days * 86400
    elif epoch_year == 1970:
        delta = _NTP_TO_1970
    else:
        raise Exception("Unsupported epoch: {}".format(epoch_year))
    return val - delta


def settime():
    t = time()
    tm = gmtime(t)
    machine.RTC().datetime((tm[0], tm[1], tm[2], tm[6] + 1, tm[3], tm[4], tm[5], 0))


def _sim_set(server_time=None, reachable=True):
    """Host-only: what the NTP server answers (an NTP timestamp, seconds since 1900 modulo
    2**32; None: the host clock) and whether it answers at all."""
    global _server_time, _reachable
    _server_time = server_time
    _reachable = bool(reachable)


def _sim_reset():
    global host, timeout
    host = "pool.ntp.org"
    timeout = 1
    _sim_set()
    del queries[:]
