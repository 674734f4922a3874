"""Techem meters with manufacturer-specific CIs (0xA0-0xA2): mkradio3, mkradio4, fhkvdataiii,
vario451, compact5, tsd2.

Telegrams are made with the builder from values chosen here, packed as the drivers' docstrings
describe; field names are those wmbusmeters gives.
"""

from wmbus import Decoder, build


def tch(payload, meter_id, version, device_type, ci=0xA2):
    return build.telegram(bytes(payload), manufacturer="TCH", meter_id=meter_id,
                          version=version, device_type=device_type, ci=ci)


def decode(*args, **kw):
    return Decoder().decode(tch(*args, **kw))


def w(value, size=2):
    return value.to_bytes(size, "little")


def prev_word(year, month, day):
    return w(((year - 2000) << 9) | (month << 5) | day)


def curr_word(month, day):
    return w((month << 9) | (day << 4))


def mk3(prev, target, curr, current):
    return b"\x06" + prev_word(*prev) + w(target) + curr_word(*curr) + w(current) + bytes(20)


def test_mkradio3_volumes_and_billing_dates():
    r = decode(mk3((2023, 12, 31), 1234, (2, 15), 56), "12345678", 0x74, 0x62)
    assert "decode_error" not in r, r
    assert (r["meter"], r["media"], r["ci"]) == ("mkradio3", "warm water", 0xA2)
    assert (r["target_m3"], r["total_m3"]) == (123.4, 129.0)
    assert (r["prev_date"], r["current_date"]) == ("2023-12-31", "2024-02-15")
    assert "current_m3" not in r  # hidden in wmbusmeters too


def test_mkradio3_current_date_in_the_year_of_the_previous_one_or_the_next():
    r = decode(mk3((2022, 3, 31), 0, (4, 1), 0), "12345678", 0x74, 0x72)
    assert (r["media"], r["prev_date"], r["current_date"]) == ("cold water", "2022-03-31",
                                                               "2022-04-01")
    r = decode(mk3((2022, 3, 31), 0, (3, 31), 0), "12345678", 0x74, 0x72)
    assert r["current_date"] == "2023-03-31"  # the same day: a year later


def test_dates_are_normalised_as_wmbusmeters_does():
    # Day 0: the last day of the month before (a leap February); day 31 of April: May 1.
    r = decode(mk3((2024, 3, 0), 0, (4, 31), 0), "12345678", 0x74, 0x62)
    assert (r["prev_date"], r["current_date"]) == ("2024-02-29", "2024-05-01")
    # Month 0: December of the year before.
    r = decode(mk3((2021, 0, 15), 0, (6, 1), 0), "12345678", 0x74, 0x62)
    assert (r["prev_date"], r["current_date"]) == ("2020-12-15", "2021-06-01")


def test_mkradio4():
    payload = b"\x06\x70\x29" + w(75) + b"\x60\x17" + w(1002) + bytes(24)
    r = decode(payload, "20000001", 0x95, 0x72)
    assert "decode_error" not in r, r
    assert (r["meter"], r["media"]) == ("mkradio4", "cold water")
    assert (r["target_m3"], r["total_m3"]) == (7.5, 107.7)


def fhkv(kind, prev, prev_hca, curr, curr_hca, room, radiator):
    extra = b"\x11" if kind == 0x0F else b""
    return (bytes((kind,)) + prev_word(*prev) + w(prev_hca) + curr_word(*curr) + w(curr_hca)
            + extra + w(room & 0xFFFF) + w(radiator & 0xFFFF) + bytes(8))


def test_fhkvdataiii_layouts():
    for kind, ci, version in ((0x11, 0xA0, 0x69), (0x01, 0xA0, 0x69), (0x0F, 0xA2, 0x94)):
        r = decode(fhkv(kind, (2023, 12, 31), 1026, (2, 8), 131, 2244, 2551), "11776622",
                   version, 0x80, ci=ci)
        assert "decode_error" not in r, r
        assert (r["meter"], r["media"]) == ("fhkvdataiii", "heat cost allocator")
        assert (r["previous_hca"], r["current_hca"]) == (1026, 131)
        assert (r["previous_date"], r["current_date"]) == ("2023-12-31", "2024-02-08")
        assert (r["temp_room_c"], r["temp_radiator_c"]) == (22.44, 25.51)


def test_fhkvdataiii_zero_day_and_month_and_frost():
    # A current day 0 counts as 1 and a month 0 as 12; temperatures are signed.
    r = decode(fhkv(0x11, (2023, 12, 31), 0, (0, 0), 0, -150, 5), "11776622", 0x69, 0x80,
               ci=0xA0)
    assert r["current_date"] == "2024-12-01"
    assert (r["temp_room_c"], r["temp_radiator_c"]) == (-1.5, 0.05)


def test_fhkvdataiii_unknown_layout_and_short_payload():
    r = decode(fhkv(0x22, (2023, 12, 31), 1, (2, 8), 2, 3, 4), "11776622", 0x69, 0x80)
    assert r["decode_error"] == "unknown_format"
    assert r["meter"] == "fhkvdataiii" and "current_hca" not in r
    r = decode(fhkv(0x0F, (2023, 12, 31), 1, (2, 8), 2, 3, 4)[:13], "11776622", 0x94, 0x80)
    assert r["decode_error"] == "truncated"


def test_vario451_energy_in_kwh_and_gj():
    payload = b"\x12\x9f\x25" + w(3600) + b"\x00\xa8" + w(12345) + bytes(30)
    r = decode(payload, "58234965", 0x27, 0xC3)
    assert "decode_error" not in r, r
    assert (r["meter"], r["media"]) == ("vario451", "heat")
    assert (r["previous_kwh"], r["current_kwh"], r["total_kwh"]) == (1000.0, 3429.166667,
                                                                     4429.166667)
    assert (r["previous_gj"], r["current_gj"], r["total_gj"]) == (3.6, 12.345, 15.945)


def test_compact5_three_byte_kwh():
    payload = b"\x00\x9f\x27" + w(155712, 3) + b"\xc8" + w(205, 3) + bytes(30)
    for ci, version in ((0xA1, 0x45), (0xA2, 0x39)):
        r = decode(payload, "41711422", version, 0x43, ci=ci)
        assert "decode_error" not in r, r
        assert (r["meter"], r["media"]) == ("compact5", "heat")
        assert (r["previous_kwh"], r["current_kwh"], r["total_kwh"]) == (155712, 205, 155917)


def test_billing_period_payload_too_short():
    r = decode(b"\x10\x67\x2c\x86\x61\x00\x18\x1c\x01", "66336633", 0x39, 0x43)
    assert r["decode_error"] == "truncated"
    assert r["meter"] == "compact5" and "total_kwh" not in r


def test_tsd2_status_values():
    tail = prev_word(2019, 12, 31) + bytes(20)
    for status, text in ((0x00, "OK"), (0x01, "SMOKE"), (0x80, "DEFECT"), (0x71, "STATUS_71")):
        r = decode(bytes((status,)) + tail, "91633569", 0x76, 0xF0, ci=0xA0)
        assert "decode_error" not in r, r
        assert (r["meter"], r["media"]) == ("tsd2", "smoke detector")
        assert (r["status"], r["prev_date"]) == (text, "2019-12-31")


def test_tsd2_short_payload():
    r = decode(b"\x01\x9f", "91633569", 0x76, 0xF0, ci=0xA0)
    assert r["decode_error"] == "truncated"
    assert (r["status"], r["prev_date"]) == ("DECODING_ERROR_payload", None)


def test_other_techem_kinds_stay_unsupported():
    r = decode(mk3((2023, 12, 31), 1, (2, 15), 2), "12345678", 0x99, 0x62)
    assert r["decode_error"] == "unsupported_ci"
    assert "manufacturer_data" in r and "total_m3" not in r
