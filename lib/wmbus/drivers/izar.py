"""Diehl / Sappel IZAR water meters, PRIOS frames with CI 0xA0-0xA7 (wmbusmeters: izar and
izarv2; both field sets are given, the meter is named izar).

Facts from wmbusmeters (src/driver_izar.cc, src/manufacturer_specificities.cc,
drivers/src/izarv2.xmq); the code is our own. Offsets below count from the CI byte (payload[0],
frame byte 10):

    1-3   alarm and radio bytes, sent in clear     4   (unused)
    5...  obfuscated: 0x4B check, total (uint32 LE, litres), [last month total (uint32 LE),
          [its date (2 bytes)]]

The obfuscation is a 32-bit Fibonacci LFSR (taps at bits 1, 2, 11, 31), clocked 8 times per
byte; each byte is XORed with the low 8 bits of the register. The seed is a default key
(two known 8-byte keys, each folded to 32 bits by XOR of its halves) XORed with the frame bytes
2-5, 6-9 and 10-13 read big-endian. The register is kept as two 16-bit halves so that
MicroPython never needs a long integer.

Diehl codes the DLL address of PRIOS frames differently (manufacturer_specificities.cc,
transformDiehlAddress): DME and HYD send version and type first, then the 4 id bytes, so the
id is the DLL's bytes 6-9; Sappel (SAP) uses version and type as a 5th and 6th id byte (the
prefix letters and the year printed on the meter). The driver gives wmbusmeters' id and
identity (version, device type, media water).
"""

from . import Driver, register
from ..diehl import KEYS, lfsr_xor, seed  # noqa: F401 - lfsr_xor, seed: used and re-exported
from ..dll import manufacturer_code

_KEYS = KEYS  # the PRIOS default keys, folded (diehl.py)
_CHECK = 0x4B  # the first plaintext byte (wmbusmeters' HEADER_1_BYTE check)
_SAP = manufacturer_code("SAP")

# Current alarms: (byte offset from CI, bit, name), in wmbusmeters' order; then previous ones.
_CURRENT = ((2, 7, "leakage"), (2, 5, "meter_blocked"), (3, 7, "back_flow"), (3, 6, "underflow"),
            (3, 5, "overflow"), (3, 4, "submarine"), (3, 3, "sensor_fraud"),
            (3, 1, "mechanical_fraud"))
_PREVIOUS = ((2, 6, "leakage"), (3, 2, "sensor_fraud"), (3, 0, "mechanical_fraud"))
# izarv2's `status`: bits of the 24-bit value of bytes 1-3 (little endian), its lookup order.
_STATUS = ((0x8000, "LEAKAGE"), (0x2000, "METER_BLOCKED"), (0x800000, "BACK_FLOW"),
           (0x400000, "UNDERFLOW"), (0x200000, "OVERFLOW"), (0x100000, "SUBMARINE"),
           (0x080000, "SENSOR_FRAUD"), (0x020000, "MECHANICAL_FRAUD"), (0x004000, "PREV_LEAKAGE"),
           (0x040000, "PREV_SENSOR_FRAUD"), (0x010000, "PREV_MECHANICAL_FRAUD"))


def _date(lo, hi):
    """The 2-byte date after the billing value (driver_izar.cc): year in 7 bits split over both
    bytes, month in the low nibble of the second, day in the low 5 bits of the first."""
    year = ((hi & 0xF0) >> 1) + ((lo & 0xE0) >> 5)
    year += 1900 if year > 80 else 2000
    return "%d-%02d-%02d" % (year, (hi & 0x0F) % 99, (lo & 0x1F) % 99)


def _names(payload, table):
    out = [name for pos, bit, name in table if payload[pos] >> bit & 1]
    return ",".join(out) if out else "no_alarm"


def decode_prios(result, payload):
    ci = payload[0]
    if ci < 0xA0 or ci > 0xA7:
        return "unsupported_ci"
    if len(payload) < 10:  # check byte and total at least
        return "truncated"
    m = manufacturer_code(result["manufacturer"])
    n = int(result["id"], 16)
    address = bytes((n & 0xFF, (n >> 8) & 0xFF, (n >> 16) & 0xFF, n >> 24))
    version, device_type = result["version"], result["device_type"]
    plain = None
    for key in _KEYS:
        hi, lo = seed(key, m, address, version, device_type, payload)
        plain = lfsr_xor(hi, lo, payload, 5, _CHECK)
        if plain is not None:
            break
    if plain is None:
        return "decrypt_failed"
    if result.get("c_field") in (0x44, 0x46):
        if m == _SAP:
            # Year, serial and prefix letters from the 6 address bytes (SAP_PRIOS).
            digits = "%08d" % (((address[3] & 3) << 24) | (address[2] << 16) | (address[1] << 8)
                               | address[0])
            yy = int(digits[:2])
            year = "%d" % ((1900 if yy > 70 else 2000) + yy)
            result["manufacture_year"] = result["manufacture_y"] = year
            result["serial_number"] = "%06d" % int(digits[2:])
            result["prefix"] = "%c%02d%c%c" % (
                64 + (((device_type & 0x0F) << 1) | (version >> 7)), yy,
                64 + ((version & 0x7C) >> 2), 64 + (((version & 3) << 3) | (address[3] >> 5)))
            version, device_type = 0x00, 0x07
        else:  # version and type came first, the id after them
            result["id"] = "%02x%02x%02x%02x" % (device_type, version, address[3], address[2])
            version, device_type = address[0], address[1]
        result["version"], result["device_type"] = version, device_type
    result["media"] = "water"
    battery = payload[2] & 0x1F
    result["remaining_battery_life_y"] = result["battery_y"] = (
        battery / 2 if battery & 1 else battery >> 1)
    result["transmit_period_s"] = 1 << ((payload[1] & 0x0F) + 2)
    result["total_m3"] = _litres(plain, 1)
    if len(plain) > 8:
        result["last_month_total_m3"] = result["target_m3"] = _litres(plain, 5)
    if len(plain) > 10:
        result["last_month_measure_date"] = result["target_date"] = _date(plain[9], plain[10])
    current = _names(payload, _CURRENT)
    result["current_alarms"] = "general_alarm" if current != "no_alarm" and payload[1] >> 7 \
        else current
    result["previous_alarms"] = _names(payload, _PREVIOUS)
    bits = payload[1] | (payload[2] << 8) | (payload[3] << 16)
    status = [name for bit, name in _STATUS if bits & bit]
    result["status"] = " ".join(status) if status else "OK"
    return None


def _litres(b, p):
    v = b[p] | (b[p + 1] << 8) | (b[p + 2] << 16) | (b[p + 3] << 24)
    return v / 1000 if v % 1000 else v // 1000


# Detection as wmbusmeters lists it: the identity after the address transform above. The
# decoder looks drivers up by the DLL's version and type, which in PRIOS frames are id bytes, so
# it finds this driver only for meters whose id bytes happen to match, until it applies the
# transform itself or looks drivers up by manufacturer for manufacturer-specific CIs.
register(Driver("""
driver izar
detect HYD 85 07
detect HYD 86 07
detect SAP 00 07
detect DME 78 07
detect DME 78 06
detect SAP * *
detect DME * *
detect HYD * *
""", manufacturer_ci=decode_prios))
