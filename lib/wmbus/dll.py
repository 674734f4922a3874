"""Data link layer header (EN 13757-4 §12.5, protocol.md §1.2-1.4).

    L | C | M(2, LE) | ID(4, LE, BCD) | version | device type

The same identity block (M, ID, version, type) reappears in a long TPL header and in ELL-III/IV,
so the helpers here decode any of them.
"""

from .compat import const

HEADER_LEN = const(10)

# EN 13757-7:2018 Table 11 device types, named as wmbusmeters names them so that downstream
# dashboards see the same `media` strings (protocol.md §1.4). Text, not a dict: see vif.py.
_MEDIA = """\
00 other
01 oil
02 electricity
03 gas
04 heat
05 steam
06 warm water
07 water
08 heat cost allocation
09 compressed air
0A cooling load volume at outlet
0B cooling load volume at inlet
0C heat volume at inlet
0D heat/cooling load
0E bus/system component
0F unknown
14 calorific value
15 hot water
16 cold water
17 dual register (hot/cold) water
18 pressure
19 a/d converter
1A smoke detector
1B room sensor
1C gas detector
20 breaker (electricity)
21 valve (gas or water)
25 customer unit (display device)
28 waste water
29 garbage
31 communication controller
32 unidirectional repeater
33 bidirectional repeater
36 radio converter (system side)
37 radio converter (meter side)
38 wired adapter
"""

# C-field function names (protocol.md §1.2), for `explain` and the result's `c_field` name.
C_FIELD = {
    0x44: "SND_NR",
    0x46: "SND_IR",
    0x47: "ACC_NR",
    0x48: "ACC_DMD",
    0x08: "RSP_UD",
    0x18: "RSP_UD",
    0x28: "RSP_UD",
    0x38: "RSP_UD",
    0x40: "SND_NKE",
    0x43: "SND_UD",
    0x53: "SND_UD",
    0x73: "SND_UD",
    0x45: "SND_UD3",
    0x00: "ACK",
    0x01: "NACK",
    0x06: "CNF_IR",
}


def media_name(device_type):
    i = _MEDIA.find("%02X " % device_type)
    while i > 0 and _MEDIA[i - 1] != "\n":  # a match inside a name, not at a line start
        i = _MEDIA.find("%02X " % device_type, i + 1)
    if i < 0:
        return "reserved" if device_type < 0x40 else "manufacturer specific"
    return _MEDIA[i + 3 : _MEDIA.find("\n", i)]


def manufacturer(m):
    """M-field value -> three letters (bit 15 is masked: some meters set it)."""
    return "%c%c%c" % (((m >> 10) & 31) + 64, ((m >> 5) & 31) + 64, (m & 31) + 64)


def manufacturer_code(letters):
    """Three letters -> M-field value."""
    return ((ord(letters[0]) - 64) << 10) | ((ord(letters[1]) - 64) << 5) | (ord(letters[2]) - 64)


def meter_id(buf, pos):
    """4 little-endian BCD bytes -> the 8-character id. Non-BCD nibbles print as hex, as wmbusmeters does."""
    return "%02x%02x%02x%02x" % (buf[pos + 3], buf[pos + 2], buf[pos + 1], buf[pos])


_identities = {}


def identity(address):
    """M(2) ID(4) version type (bytes, DLL order) -> (id, manufacturer, version, type, media).

    Cached: a gateway hears the same few hundred meters all day, and formatting the strings
    anew for every telegram is most of the cost of this layer on the device.
    """
    ident = _identities.get(address)
    if ident is None:
        if len(_identities) >= 32:
            _identities.clear()
        ident = _identities[address] = (
            meter_id(address, 2), manufacturer(address[0] | (address[1] << 8)), address[6],
            address[7], media_name(address[7]))
    return ident


def parse_header(frame, result):
    """Fill `result` from the 10-byte DLL header. The caller has checked the length."""
    result["id"], result["manufacturer"], result["version"], result["device_type"], result[
        "media"] = identity(bytes(frame[2:10]))
    result["c_field"] = frame[1]
