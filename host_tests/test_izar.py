"""Diehl IZAR PRIOS frames (drivers/izar.py).

Telegrams are built here: the payload is obfuscated by an LFSR written independently below,
straight from the description in izar.py (one 32-bit register, one bit per step), with values
chosen for the test.
"""

from support import be32, diehl_lfsr
from wmbus import Decoder, build
from wmbus.drivers import izar

KEY1 = 0x39BC8A10 ^ 0xE66D83F8  # wmbusmeters' PRIOS_DEFAULT_KEY1, folded
KEY2 = 0x51728910 ^ 0xE66D83F8


def obfuscate(frame_head, clear, plain, key):
    """frame_head: the 10 DLL bytes L C M A; clear: CI and the 4 bytes after it."""
    return diehl_lfsr(key ^ be32(frame_head, 2) ^ be32(frame_head, 6) ^ be32(clear, 0), plain)


def le32(v):
    return bytes((v & 0xFF, (v >> 8) & 0xFF, (v >> 16) & 0xFF, v >> 24))


def prios(manufacturer, meter_id, version, device_type, clear, plain, key=KEY1):
    """A PRIOS telegram: clear = CI + 4 bytes, plain = the bytes to obfuscate."""
    head = build.telegram(b"", manufacturer=manufacturer, meter_id=meter_id, version=version,
                          device_type=device_type, ci=clear[0])
    body = clear[1:] + obfuscate(head, clear, plain, key)
    return build.telegram(body, manufacturer=manufacturer, meter_id=meter_id, version=version,
                          device_type=device_type, ci=clear[0])


def decode(frame):
    """(decode_error, result): the decoder finds the izar driver by manufacturer alone, since
    Diehl fills the DLL's version and type with id bytes."""
    r = Decoder().decode(frame)
    return r.get("decode_error"), r


# 0x4B check, total 12.345 m3, last month 12.000 m3 on 2024-06-30:
# date bytes: year 24 = 0b0011000 -> high 4 bits (0b0011) in byte 2's high nibble, low 3 bits
# (0b000) in byte 1's top 3 bits; month 6 in byte 2's low nibble; day 30 in byte 1's low 5 bits.
PLAIN = bytes((0x4B,)) + le32(12345) + le32(12000) + bytes((30, 0x36))


def test_sap_prios_frame():
    # SAP: version 0x87 and type 0x01 are the 5th and 6th address bytes.
    clear = bytes((0xA2, 0x01, 0x15, 0x00, 0x13))
    frame = prios("SAP", "21145842", 0x87, 0x01, clear, PLAIN)
    err, r = decode(frame)
    assert err is None
    assert r["id"] == "21145842" and (r["version"], r["device_type"]) == (0, 7)
    assert r["media"] == "water"
    assert r["total_m3"] == 12.345 and r["last_month_total_m3"] == 12
    assert r["target_m3"] == 12 and r["last_month_measure_date"] == "2024-06-30"
    assert r["target_date"] == "2024-06-30"
    assert r["transmit_period_s"] == 8  # 1 << (1 + 2)
    assert r["remaining_battery_life_y"] == 10.5 and r["battery_y"] == 10.5  # 0x15 / 2
    assert r["current_alarms"] == "no_alarm" and r["previous_alarms"] == "no_alarm"
    assert r["status"] == "OK"
    # The id bytes as a number, its top 6 bits dropped, as 8 decimal digits: year, serial.
    digits = "%08d" % (0x21145842 & 0x3FFFFFF)
    assert r["manufacture_year"] == "20" + digits[:2]
    assert r["manufacture_y"] == r["manufacture_year"]
    assert r["serial_number"] == digits[2:]
    # Prefix: supplier ((type & 0xF) << 1 | version >> 7) = 3 'C', type (0x87 & 0x7C) >> 2 = 1
    # 'A', diameter ((0x87 & 3) << 3 | 0x21 >> 5) = 25 'Y'.
    assert r["prefix"] == "C" + digits[:2] + "AY"


def test_dme_address_is_swapped_and_second_key_works():
    # DME sends version 0x78, type 0x07 first, then the id 20481979: in DLL terms the "id" is
    # 19790778, "version" 0x48, "type" 0x20.
    clear = bytes((0xA1, 0x21, 0x17, 0x00, 0x13))
    frame = prios("DME", "19790778", 0x48, 0x20, clear, PLAIN[:5], key=KEY2)
    err, r = decode(frame)
    assert err is None
    assert r["id"] == "20481979" and (r["version"], r["device_type"]) == (0x78, 0x07)
    assert r["total_m3"] == 12.345
    assert "last_month_total_m3" not in r and "prefix" not in r
    assert r["transmit_period_s"] == 8 and r["battery_y"] == 11.5


def test_alarms():
    # byte 1 bit 7: general alarm; byte 2: leakage now (7) and before (6), blocked (5);
    # byte 3: underflow (6), mechanical fraud before (0).
    clear = bytes((0xA2, 0x83, 0xE4, 0x41, 0x00))
    frame = prios("HYD", "04860775", 0x35, 0x48, clear, PLAIN)
    err, r = decode(frame)
    assert err is None and r["id"] == "48350486" and r["version"] == 0x75
    assert r["transmit_period_s"] == 32 and r["battery_y"] == 2
    assert r["current_alarms"] == "general_alarm"
    assert r["previous_alarms"] == "leakage,mechanical_fraud"
    assert r["status"] == "LEAKAGE METER_BLOCKED UNDERFLOW PREV_LEAKAGE PREV_MECHANICAL_FRAUD"
    clear = bytes((0xA2, 0x03, 0x24, 0x41, 0x00))  # no general alarm bit: the list
    err, r = decode(prios("HYD", "04860775", 0x35, 0x48, clear, PLAIN))
    assert r["current_alarms"] == "meter_blocked,underflow"


def test_wrong_key_short_and_other_ci():
    clear = bytes((0xA2, 0x01, 0x15, 0x00, 0x13))
    frame = prios("SAP", "21145842", 0x87, 0x01, clear, PLAIN, key=0x12345678)
    assert decode(frame)[0] == "decrypt_failed"
    frame = prios("SAP", "21145842", 0x87, 0x01, clear, PLAIN[:3])
    assert decode(frame)[0] == "truncated"
    clear = bytes((0xB4, 0x01, 0x15, 0x00, 0x13))
    assert decode(prios("SAP", "21145842", 0x87, 0x01, clear, PLAIN))[0] == "unsupported_ci"


def test_through_the_decoder():
    # A Sappel meter whose prefix bytes happen to read as version 0x00, type 0x07: found by the
    # detection table (SAP 00 07) through the decoder's manufacturer-specific CI hook.
    clear = bytes((0xA0, 0x01, 0x15, 0x00, 0x13))
    r = Decoder().decode(prios("SAP", "21145842", 0x00, 0x07, clear, PLAIN))
    assert "decode_error" not in r
    assert r["meter"] == "izar" and r["total_m3"] == 12.345 and r["prefix"][0] == "N"


def test_lfsr_is_its_own_inverse():
    data = bytes(range(40))
    once = izar.lfsr_xor(0x1234, 0xABCD, data, 3)
    assert izar.lfsr_xor(0x1234, 0xABCD, once, 0) == data[3:]
