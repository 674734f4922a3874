"""Data link layer header (EN 13757-4 §12.5, protocol.md §1.2-1.4).

    L | C | M(2, LE) | ID(4, LE, BCD) | version | device type

The same identity block (M, ID, version, type) reappears in a long TPL header and in ELL-III/IV,
so the helpers here decode any of them.
"""

from .compat import const

HEADER_LEN = const(10)

# EN 13757-7:2018 device types, named as wmbusmeters names them so that downstream
# dashboards see the same `media` strings (protocol.md §1.4).
MEDIA = {
    0x00: "other",
    0x01: "oil",
    0x02: "electricity",
    0x03: "gas",
    0x04: "heat",
    0x05: "steam",
    0x06: "warm water",
    0x07: "water",
    0x08: "heat cost allocation",
    0x09: "compressed air",
    0x0A: "cooling load volume at outlet",
    0x0B: "cooling load volume at inlet",
    0x0C: "heat volume at inlet",
    0x0D: "heat/cooling load",
    0x0E: "bus/system component",
    0x0F: "unknown",
    0x14: "calorific value",
    0x15: "hot water",
    0x16: "cold water",
    0x17: "dual register (hot/cold) water",
    0x18: "pressure",
    0x19: "a/d converter",
    0x1A: "smoke detector",
    0x1B: "room sensor",
    0x1C: "gas detector",
    0x20: "breaker (electricity)",
    0x21: "valve (gas or water)",
    0x25: "customer unit (display device)",
    0x28: "waste water",
    0x29: "garbage",
    0x31: "communication controller",
    0x32: "unidirectional repeater",
    0x33: "bidirectional repeater",
    0x36: "radio converter (system side)",
    0x37: "radio converter (meter side)",
    0x38: "wired adapter",
}

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
    name = MEDIA.get(device_type)
    if name is None:
        return "reserved" if device_type < 0x40 else "manufacturer specific"
    return name


def manufacturer(m):
    """M-field value -> three letters (bit 15 is masked: some meters set it)."""
    return "%c%c%c" % (((m >> 10) & 31) + 64, ((m >> 5) & 31) + 64, (m & 31) + 64)


def manufacturer_code(letters):
    """Three letters -> M-field value."""
    return ((ord(letters[0]) - 64) << 10) | ((ord(letters[1]) - 64) << 5) | (ord(letters[2]) - 64)


def meter_id(buf, pos):
    """4 little-endian BCD bytes -> the 8-character id. Non-BCD nibbles print as hex, as wmbusmeters does."""
    return "%02x%02x%02x%02x" % (buf[pos + 3], buf[pos + 2], buf[pos + 1], buf[pos])


def parse_header(frame, result):
    """Fill `result` from the 10-byte DLL header. The caller has checked the length."""
    m = frame[2] | (frame[3] << 8)
    result["id"] = meter_id(frame, 4)
    result["manufacturer"] = manufacturer(m)
    result["version"] = frame[8]
    result["device_type"] = frame[9]
    result["media"] = media_name(frame[9])
    result["c_field"] = frame[1]
