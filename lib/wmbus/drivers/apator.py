"""What the Apator drivers with manufacturer-specific payloads read (apator08.py, apator172.py,
apatoreitn.py, apatorna1.py declare them, one file a driver as for Kamstrup). Layouts from
wmbusmeters' drivers/src/<name>.xmq; the code is our own. Offsets count from the CI byte
(payload[0]).

apator08, apator172: CI 0xA0, then a uint32 LE counter: apator08 in thirds of a litre (the xmq's
force_scale 1/3 on a litre record), apator172 in thirds of a m3 (unrounded, as the public
vectors give it; wmbusmeters now rounds it to 0.1 m3). The bytes after it are not decoded.

apatoreitn (E-ITN heat cost allocators): CI 0xA0, or CI 0xB6, n, n bytes, 0xA0. After the 0xA0:
season start low byte (its high byte is 0xA0), 2 bytes pad, then uint16 LE each: previous HCA,
electronic-seal-break date (0: none), current HCA, current date, previous and current average
room temperature (8.8 fixed point, degrees C). Dates: day bits 0-4, month bits 5-8, year - 2000
bits 9-13.

apatorna1: CI 0xA0/0xA1, ACC, a frame status byte, then one AES-128-CBC block (mode 5 IV: M,
address, ACC x 8) holding: pad, packed total (uint32 LE: bits 4-5 a power of ten in litres, the
other bits the digits), meter time (uint32 LE, seconds since 2000-01-01), historic age (10 bits,
hours) and delta (26 bits, the total's scale) over 5 bytes, current and historic status. The
meter's key is needed: decode_manufacturer_ci would have to pass it as a third argument; without
it the result says no_key, with the frame status, which is sent in clear.
"""


def _total(result, payload, divisor):
    if payload[0] != 0xA0:
        return "unsupported_ci"
    if len(payload) < 5:
        return "truncated"
    v = round(_u32(payload, 1) / divisor, 6)
    result["total_m3"] = int(v) if v == int(v) else v
    return None


def apator08(result, payload):
    return _total(result, payload, 3000)


def apator172(result, payload):
    err = _total(result, payload, 3)
    if err is None:
        result["media"] = "water"  # type 0x11 is not water in EN 13757-7; the driver says it is
    return err


def _date(raw):
    return "%04d-%02d-%02d" % (2000 + ((raw >> 9) & 31), (raw >> 5) & 15, raw & 31)


def apatoreitn(result, payload):
    p = 0
    if payload[0] == 0xB6:  # a block of n bytes before the A0 frame
        if len(payload) < 2:
            return "truncated"
        p = 2 + payload[1]
    if p >= len(payload) or payload[p] != 0xA0:
        return "unsupported_ci"
    if len(payload) < p + 16:
        return "truncated"
    w = [payload[i] | (payload[i + 1] << 8) for i in range(p + 4, p + 16, 2)]
    result["season_start_date"] = _date(0xA000 | payload[p + 1])
    result["previous_hca"], esb, result["current_hca"] = w[0], w[1], w[2]
    result["esb_date"] = _date(esb) if esb else None
    result["status"] = "SEAL_BROKEN" if esb else "OK"
    result["current_date"] = _date(w[3])
    result["temp_room_prev_avg_c"] = w[4] / 256
    result["temp_room_avg_c"] = w[5] / 256
    return None


# apatorna1's status bits, bit 0 first.
_FRAME_STATUS = ("SUMMER_TIME", "HISTORICAL_INDICATION", "MAX_SPEED_EXCEEDED",
                 "DEVICE_ACCESS_ERROR", "TWO_WAY_COM_BLOCK", "INSTALL_FRAME", "WRONG_TEMPERATURE",
                 "SERVICE_EVENT")
_STATUS = ("BATTERY_LOW", "MAGNETIC_FIELD", "DEVICE_DISCONNECTED", "LEAK",
           "MEASUREMENT_UNCHANGED", "REVERSE_FLOW", "MAXIMUM_FLOW", "MINIMUM_FLOW")
_HISTORIC_BIT0 = "BATTERY_LIFETIME_THRESHOLD_EXCEEDED"  # instead of BATTERY_LOW
_MDAYS = b"\x1f\x1c\x1f\x1e\x1f\x1e\x1f\x1f\x1e\x1f\x1e\x1f"


def _bits(value, names, first=None):
    out = [names[i] if i or first is None else first for i in range(8) if value >> i & 1]
    return " ".join(out) if out else "OK"


def _u32(b, p):
    return b[p] | (b[p + 1] << 8) | (b[p + 2] << 16) | (b[p + 3] << 24)


def _m3(litres):
    return litres // 1000 if litres % 1000 == 0 else litres / 1000


def datetime_2000(seconds):
    """Seconds since 2000-01-01 00:00 -> 'YYYY-MM-DD HH:MM' (no time zone, as wmbusmeters)."""
    days, s = divmod(seconds, 86400)
    year = 2000
    while True:
        leap = 1 if year % 4 == 0 and (year % 100 or year % 400 == 0) else 0
        if days < 365 + leap:
            break
        days -= 365 + leap
        year += 1
    month = 0
    while True:
        n = _MDAYS[month] + (leap if month == 1 else 0)
        if days < n:
            break
        days -= n
        month += 1
    return "%04d-%02d-%02d %02d:%02d" % (year, month + 1, days + 1, s // 3600, s % 3600 // 60)


def apatorna1(result, payload, key=None):
    if payload[0] not in (0xA0, 0xA1):
        return "unsupported_ci"
    if len(payload) < 19:
        return "truncated"
    result["frame_status"] = _bits(payload[2], _FRAME_STATUS)
    if key is None:
        return "no_key"
    from ..dll import manufacturer_code
    from ..security import cbc_decrypt

    m = manufacturer_code(result["manufacturer"])
    n = int(result["id"], 16)
    iv = bytes((m & 0xFF, m >> 8, n & 0xFF, (n >> 8) & 0xFF, (n >> 16) & 0xFF, n >> 24,
                result["version"], result["device_type"])) + bytes((payload[1],)) * 8
    b = cbc_decrypt(key, iv, bytes(payload[3:19]))
    packed = _u32(b, 1)
    scale = (1, 10, 100, 1000)[(packed >> 4) & 3]
    litres = (((packed >> 8) << 4) | (packed & 15)) * scale
    seconds = _u32(b, 5)
    age_h = ((b[10] >> 2) << 8) | b[9]
    delta = ((b[13] << 18) | (b[12] << 10) | (b[11] << 2) | (b[10] & 3)) * scale
    result["total_m3"] = _m3(litres)
    result["meter_datetime"] = datetime_2000(seconds)
    result["historic_age_h"] = age_h
    result["historic_m3"] = _m3(litres - delta)
    result["historic_datetime"] = datetime_2000(seconds - age_h * 3600)
    result["current_status"] = _bits(b[14], _STATUS)
    result["historic_status"] = _bits(b[15], _STATUS, _HISTORIC_BIT0)
    return None
