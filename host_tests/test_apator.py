"""Apator meters with manufacturer-specific payloads (drivers/apator.py and the declarations
apator08.py, apator172.py, apatoreitn.py, apatorna1.py), on telegrams built here with values
chosen for the tests."""

from wmbus import Decoder, build
from wmbus.drivers import apator
from wmbus.security import cbc_encrypt


def u16(v):
    return bytes((v & 0xFF, v >> 8))


def u32(v):
    return u16(v & 0xFFFF) + u16(v >> 16)


def decode(apl, manufacturer, version, device_type, ci=0xA0, meter_id="00123456"):
    return Decoder().decode(build.telegram(apl, manufacturer=manufacturer, meter_id=meter_id,
                                           version=version, device_type=device_type, ci=ci))


def test_apator08_counts_thirds_of_a_litre():
    r = decode(u32(3000 * 1234 + 1) + bytes(8), "APT", 0x03, 0x03)
    assert "decode_error" not in r
    assert r["meter"] == "apator08" and r["total_m3"] == 1234.000333
    r = decode(u32(30000), "APT", 0x0F, 0x0F)
    assert r["meter"] == "apator08" and r["total_m3"] == 10
    assert decode(u32(7)[:3], "APT", 0x03, 0x03)["decode_error"] == "truncated"


def test_apator172_counts_thirds_of_a_m3():
    r = decode(u32(3 * 512 + 2) + bytes(4), "APT", 0x04, 0x11)
    assert "decode_error" not in r
    assert r["meter"] == "apator172" and r["total_m3"] == 512.666667 and r["media"] == "water"


def eitn_date(year, month, day):
    return ((year - 2000) << 9) | (month << 5) | day


EITN = (bytes((0xA0, eitn_date(2016, 5, 1) & 0xFF, 0, 0)) + u16(1234) + u16(eitn_date(2023, 2, 14))
        + u16(56) + u16(eitn_date(2024, 11, 30)) + u16(20 * 256 + 128) + u16(22 * 256 + 64))


def test_apatoreitn_a0_frame():
    r = decode(EITN[1:], "APA", 0x04, 0x08)
    assert "decode_error" not in r
    assert r["meter"] == "apatoreitn" and r["media"] == "heat cost allocation"
    assert (r["current_hca"], r["previous_hca"]) == (56, 1234)
    assert r["current_date"] == "2024-11-30" and r["season_start_date"] == "2016-05-01"
    assert r["esb_date"] == "2023-02-14" and r["status"] == "SEAL_BROKEN"
    assert (r["temp_room_avg_c"], r["temp_room_prev_avg_c"]) == (22.25, 20.5)


def test_apatoreitn_b6_frame_without_seal_break():
    body = EITN[:6] + u16(0) + EITN[8:]
    r = decode(bytes((3, 0xFF, 0xFF, 0xF1)) + body, "APT", 0x04, 0x08, ci=0xB6)
    assert "decode_error" not in r
    assert r["current_hca"] == 56 and r["esb_date"] is None and r["status"] == "OK"
    r = decode(bytes((3, 0xFF, 0xFF, 0xF1)) + body[:10], "APT", 0x04, 0x08, ci=0xB6)
    assert r["decode_error"] == "truncated"


KEY = bytes.fromhex("00112233445566778899AABBCCDDEEFF")


def na1_payload(acc, frame_status, plain, meter_id="04913581"):
    ident = build.address("APA", meter_id, 0x14, 0x07)
    enc = cbc_encrypt(KEY, ident + bytes((acc,)) * 8, plain)
    return bytes((0xA0, acc, frame_status)) + enc


def test_apatorna1_with_its_key():
    # Total 123456 litres, exponent 0 (x1): bits 4-7 of the packed value are not digits.
    litres = 123456
    packed = ((litres >> 4) << 8) | (litres & 15)
    # 2024-03-15 13:37:05: 24 years of which 6 leap, then January, February and 14 days.
    seconds = (24 * 365 + 6 + 31 + 29 + 14) * 86400 + 13 * 3600 + 37 * 60 + 5
    age_h, delta = 700, 1456  # historic reading 700 h earlier, 1456 litres less
    meta = ((age_h >> 8) << 2) | (delta & 3)
    plain = (b"\x00" + u32(packed) + u32(seconds) + bytes((age_h & 0xFF, meta, (delta >> 2) & 0xFF,
             (delta >> 10) & 0xFF, delta >> 18)) + bytes((0x08, 0x81)))
    payload = na1_payload(0x42, 0x03, plain)
    r = {"manufacturer": "APA", "id": "04913581", "version": 0x14, "device_type": 0x07}
    assert apator.apatorna1(r, payload, KEY) is None
    assert r["total_m3"] == 123.456 and r["historic_m3"] == 122
    assert r["meter_datetime"] == "2024-03-15 13:37" and r["historic_age_h"] == 700
    assert r["historic_datetime"] == "2024-02-15 09:37"
    assert r["current_status"] == "LEAK"
    assert r["historic_status"] == "BATTERY_LIFETIME_THRESHOLD_EXCEEDED MINIMUM_FLOW"
    assert r["frame_status"] == "SUMMER_TIME HISTORICAL_INDICATION"


def test_apatorna1_packed_exponent_and_no_key():
    plain = b"\x00" + u32((0x1234 << 8) | (2 << 4) | 5) + bytes(11)  # (0x12345) x 100 litres
    r = {"manufacturer": "APA", "id": "04913581", "version": 0x14, "device_type": 0x07}
    assert apator.apatorna1(r, na1_payload(1, 0, plain), KEY) is None
    assert r["total_m3"] == 0x12345 * 100 / 1000 and r["frame_status"] == "OK"
    # Through the decoder: without the key the clear frame status is still shown; with it
    # (the decoder hands the meter's key to the driver) the reading is there.
    frame = build.telegram(na1_payload(1, 0x01, plain)[1:], manufacturer="APA",
                           meter_id="04913581", version=0x14, device_type=0x07, ci=0xA0)
    r = Decoder().decode(frame)
    assert r["meter"] == "apatorna1" and r["decode_error"] == "no_key"
    assert r["frame_status"] == "SUMMER_TIME"
    r = Decoder({"04913581": KEY}).decode(frame)
    assert "decode_error" not in r and r["total_m3"] == 0x12345 * 100 / 1000
    assert KEY.hex() not in str(r).lower()


def test_datetime_2000():
    assert apator.datetime_2000(0) == "2000-01-01 00:00"
    assert apator.datetime_2000(59 * 86400) == "2000-02-29 00:00"
    assert apator.datetime_2000(366 * 86400 + 59 * 86400 + 3599) == "2001-03-01 00:59"
