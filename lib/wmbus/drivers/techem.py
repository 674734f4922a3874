"""What the Techem drivers share: their payload layout, date packing and media names.

Techem meters send no records but a manufacturer-specific CI (0xA0-0xA2) followed by a fixed
layout of little-endian values: MK Radio 3/4 water meters (mkradio3.py, mkradio4.py), FHKV data III
heat cost allocators (fhkvdataiii.py), Vario 4 type 4.5.1 and Compact V heat meters (vario451.py,
compact5.py), TSD2 smoke detectors (tsd2.py), named as wmbusmeters' drivers. Offsets count from
the CI byte (0). Layouts, scales and the date packing are facts read from wmbusmeters'
drivers/src/<name>.xmq (2026 snapshot; vario451 also src/driver_vario451.cc). The driver files
hold only their detection; the layouts are here, read by one function (decode).
"""

# Media of Techem's manufacturer-specific device types, as wmbusmeters names them
# (src/wmbus.cc mediaTypeJSON, the MANUFACTURER_TCH branch).
_MEDIA = {0x62: "warm water", 0x72: "cold water", 0x80: "heat cost allocator", 0x43: "heat",
          0xC3: "heat", 0xF0: "smoke detector"}

_DAYS = b"\x1f\x1c\x1f\x1e\x1f\x1e\x1f\x1f\x1e\x1f\x1e\x1f"


def _le(p, pos, n, signed=False):
    v = int.from_bytes(p[pos : pos + n], "little")
    if signed and v >> (8 * n - 1):
        v -= 1 << (8 * n)
    return v


def _month_days(y, m):
    if m == 2 and y % 4 == 0 and (y % 100 != 0 or y % 400 == 0):
        return 29
    return _DAYS[m - 1]


def _date(year, month, day):
    """'2000-01-01' + (year * 12 + month - 1) months + (day - 1) days, as wmbusmeters computes
    it: a day 0 is the last day of the month before, a month 0 December of the year before."""
    months = year * 12 + month - 1
    y, m = 2000 + months // 12, months % 12 + 1
    if day < 1:  # day is 0..31: one step at most either way
        m -= 1
        if m == 0:
            y, m = y - 1, 12
        day += _month_days(y, m)
    elif day > _month_days(y, m):
        day -= _month_days(y, m)
        m += 1
        if m == 13:
            y, m = y + 1, 1
    return "%04d-%02d-%02d" % (y, m, day)


def _prev_date(prev):
    """The previous billing date: day in bits 0-4, month 5-8, year since 2000 in 9-15."""
    return _date(prev >> 9, (prev >> 5) & 15, prev & 31)


def _dates(prev, curr, no_zero=False):
    """(previous, current) billing dates from the two packed words Techem sends. Current: day in
    bits 4-8, month 9-12, no year: the previous date's year, or the next one when month/day are
    not after the previous date. no_zero: a current day 0 counts as 1 and a month 0 as 12
    (fhkvdataiii)."""
    pd, pm, py = prev & 31, (prev >> 5) & 15, prev >> 9
    cd, cm = (curr >> 4) & 31, (curr >> 9) & 15
    if no_zero:
        cd, cm = cd or 1, cm or 12
    cy = py + 1 if cm < pm or (cm == pm and cd <= pd) else py
    return _prev_date(prev), _date(cy, cm, cd)


# The layout most Techem meters share: the previous billing period's value at byte 4 and the
# current period's at byte 8. Per driver: value size, output names of (previous, current, total)
# ("" for one not given), then (unit suffix, divisor) pairs. Sizes and scales: <driver>.xmq
# (mkradio3/4: 0.1 m3, wmbusmeters' records 4215/0215; vario451: MJ, given in kWh, and in GJ as
# src/driver_vario451.cc gave them; compact5: kWh).
_PERIODS = {
    "mkradio3": (2, ("target_", "", "total_"), (("m3", 10),)),
    "mkradio4": (2, ("target_", "", "total_"), (("m3", 10),)),
    "vario451": (2, ("previous_", "current_", "total_"), (("kwh", 3.6), ("gj", 1000))),
    "compact5": (3, ("previous_", "current_", "total_"), (("kwh", 1),)),
}

_TSD2_STATUS = {0x00: "OK", 0x01: "SMOKE", 0x80: "DEFECT"}


def decode(result, payload):
    """The manufacturer_ci function of every Techem driver: result["meter"], which the caller
    sets to the detecting driver's name, picks the layout. Returns a decode_error or None."""
    media = _MEDIA.get(result["device_type"])
    if media is not None:
        result["media"] = media
    meter = result["meter"]
    if meter == "fhkvdataiii":
        return _fhkvdataiii(result, payload)
    if meter == "tsd2":
        return _tsd2(result, payload)
    size, names, units = _PERIODS[meter]
    if len(payload) < 8 + size:
        return "truncated"
    prev, curr = _le(payload, 4, size), _le(payload, 8, size)
    for suffix, divisor in units:
        for name, value in zip(names, (prev, curr, prev + curr)):
            if name:
                result[name + suffix] = value if divisor == 1 else round(value / divisor, 6)
    if meter == "mkradio3":  # mkradio3.xmq: a date word before each volume
        result["prev_date"], result["current_date"] = _dates(_le(payload, 2, 2),
                                                             _le(payload, 6, 2))
    return None


def _fhkvdataiii(result, payload):
    # fhkvdataiii.xmq: byte 1 is 0x01 or 0x11, then 2 bytes each: previous date, previous HCA,
    # current date, current HCA, room and radiator temperature (0.01 C, records 0265 and 025D);
    # after 0x0F one more byte comes before the temperatures.
    if len(payload) < 2:
        return "truncated"
    kind = payload[1]
    if kind not in (0x01, 0x11, 0x0F):
        return "unknown_format"
    t = 11 if kind == 0x0F else 10
    if len(payload) < t + 4:
        return "truncated"
    result["current_hca"] = _le(payload, 8, 2)
    result["previous_hca"] = _le(payload, 4, 2)
    result["previous_date"], result["current_date"] = _dates(_le(payload, 2, 2),
                                                             _le(payload, 6, 2), True)
    result["temp_room_c"] = _le(payload, t, 2, True) / 100
    result["temp_radiator_c"] = _le(payload, t + 2, 2, True) / 100
    return None


def _tsd2(result, payload):
    # tsd2.xmq: byte 1 the status (a value, not bits), bytes 2-3 the previous billing date.
    if len(payload) < 4:  # as wmbusmeters shows such a telegram, and a decode_error
        result["status"] = "DECODING_ERROR_payload"
        result["prev_date"] = None
        return "truncated"
    status = payload[1]
    result["status"] = _TSD2_STATUS.get(status) or "STATUS_%02X" % status
    result["prev_date"] = _prev_date(_le(payload, 2, 2))
    return None
