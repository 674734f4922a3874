"""Application layer records (EN 13757-3:2018 §6): data types, DIFE chains, VIF tables."""

from wmbus import records


def decode(hexstr):
    buf = bytes.fromhex(hexstr)
    out = []
    err, mfct, more = records.parse(buf, 0, len(buf), out, {})
    return err, out, mfct, more


def one(hexstr):
    err, out, _, _ = decode(hexstr)
    assert err is None, err
    assert len(out) == 1, out
    return out[0]


def test_integer_sizes_are_signed_type_b():
    assert one("0113FF")["value"] == -0.001
    assert one("0213FEFF")["value"] == -0.002
    assert one("0313FFFF7F")["value"] == 8388.607
    assert one("041308190000")["value"] == 6.408
    assert one("0613010000000080")["value"] == -140737488355.327
    assert one("0713FFFFFFFFFFFFFFFF")["value"] == -0.001


def test_real32():
    rec = one("0513" + "0000803F")  # IEEE 754 single 1.0, little-endian
    assert rec["value"] == 0.001


def test_bcd_positive_and_negative():
    assert one("0C1427048502")["value"] == 28504.27  # OMS Annex N.2.1 volume
    assert one("0A5A1002")["value"] == 21.0
    # A top nibble of 0xF marks a negative BCD value (EN 13757-3 Annex B).
    assert one("0B5A4000F0")["value"] == -4.0
    assert one("0A5A40F0")["value"] == -4.0


def test_bcd_with_hex_digits_is_none():
    assert one("0A5AAB01")["value"] is None


def test_scaling_by_vif():
    assert one("0406E8030000")["value"] == 1000 and one("0406E8030000")["unit"] == "kWh"
    assert one("0403E8030000")["value"] == 1.0  # Wh -> kWh
    assert one("022B1027")["value"] == 10.0 and one("022B1027")["unit"] == "kW"
    assert one("023B0F00")["value"] == 0.015 and one("023B0F00")["unit"] == "m3/h"
    assert one("02590A0B")["value"] == 28.26 and one("02590A0B")["unit"] == "C"
    assert one("026B0100")["value"] == 1 and one("026B0100")["unit"] == "bar"


def test_time_units():
    rec = one("0422D9010000")
    assert (rec["quantity"], rec["unit"], rec["value"]) == ("on_time", "h", 473)
    rec = one("0227E803")
    assert (rec["quantity"], rec["unit"]) == ("operating_time", "d")


def test_function_field():
    assert one("0213FEFF")["function"] == "instantaneous"
    assert one("1213FEFF")["function"] == "maximum"
    assert one("2213FEFF")["function"] == "minimum"
    assert one("3213FEFF")["function"] == "error"


def test_dife_chain_storage_tariff_subunit():
    # protocol.md §4.1 examples (EN 13757-3 §6.3.3).
    assert one("82046C9421")["storage"] == 8
    assert one("8288016C9421")["storage"] == 48
    rec = one("84100600000000")
    assert (rec["tariff"], rec["storage"]) == (1, 0)
    rec = one("84C040FD5900000000")
    assert rec["subunit"] == 3
    assert one("4413" + "01000000")["storage"] == 1


def test_date_types():
    assert one("026C9421")["value"] == "2020-01-20"  # type G
    assert one("026CFE04")["value"] == "2007-04-30"
    assert one("026CFFFF")["value"] is None  # invalid date
    assert one("046D32371F15")["value"] == "2008-05-31 23:50"  # type F
    assert one("046DB2371F15")["value"] is None  # IV bit set
    assert one("036D1E2D11")["value"] == "17:45:30"  # type J


def test_date_type_i_fields():
    # 10 s, 30 min, 12 h, day 15, month 1, year 2008 (y=8: bits 2..0 in the day byte = 0, 6..3 = 1)
    v = one("066D0A1E0C0F1100")["value"]
    assert v == "2008-01-15 12:30:10"


def test_periodic_date():
    # Type G "every 1 January": year 127, day 1, month 1.
    assert one("426CE1F1")["value"] == "*-01-01"


def test_lvar_string_reversed_and_binary():
    rec = one("0DFD0C" + "03" + "434241")  # "ABC" sent last character first
    assert rec["value"] == "ABC"
    rec = one("0D13" + "C2" + "3412")  # LVAR 0xC2: positive BCD of 2 bytes
    assert rec["value"] == 1.234
    rec = one("0D13" + "D1" + "05")  # negative BCD
    assert rec["value"] == -0.005
    rec = one("0D13" + "E2" + "0102")  # binary: kept as hex
    assert rec["value"] == "0102"
    rec = one("0D13" + "02" + "0102")  # a 'string' that is not text stays hex
    assert rec["value"] == "0102"


def test_fd_and_fb_tables():
    rec = one("02FD170100")
    assert (rec["quantity"], rec["value"]) == ("error_flags", 1)
    rec = one("02FD17FFFF")  # bit fields are unsigned
    assert rec["value"] == 0xFFFF
    rec = one("02FD48E600")  # voltage 10^-1 V
    assert (rec["quantity"], rec["unit"], rec["value"]) == ("voltage", "V", 23.0)
    rec = one("02FB1A1302")  # relative humidity 10^-1 %
    assert (rec["quantity"], rec["unit"], rec["value"]) == ("relative_humidity", "%", 53.1)
    rec = one("04FB00" + "05000000")  # 10^-1 MWh
    assert (rec["unit"], rec["value"]) == ("kWh", 500)


def test_combinable_vifes():
    rec = one("04853C" + "CC0F0000")  # energy 10^2 Wh, accumulated backward (export)
    assert (rec["quantity"], rec["value"], rec["qualifier"]) == ("energy", 404.4, "backward")
    rec = one("04FB8275" + "CF0C0000")  # reactive energy kVARh x 10^-1
    assert (rec["quantity"], rec["unit"], rec["value"]) == ("reactive_energy", "kVARh", 327.9)
    assert "qualifier" not in rec
    rec = one("04FB82F53C" + "09000000")
    assert (rec["value"], rec["qualifier"]) == (0.9, "backward")
    rec = one("04937D" + "01000000")  # litre x 10^3
    assert rec["value"] == 1.0
    rec = one("04FDC8FC01" + "01000000")  # voltage, phase L1
    assert rec["qualifier"] == "phase_l1"


def test_plain_text_vif_both_orders():
    # EN 13757-3 Annex C.2 order (VIFE before the unit) and the ASCII-first order of devices.
    rec = one("02FC74" + "03" + "255248" + "1027")
    assert (rec["unit"], rec["value"]) == ("HR%", 100.0)
    rec = one("02FC" + "03" + "255248" + "74" + "1027")
    assert (rec["unit"], rec["value"]) == ("HR%", 100.0)
    rec = one("027C" + "03" + "255248" + "1027")
    assert (rec["unit"], rec["value"]) == ("HR%", 10000)


def test_manufacturer_specific_vif_is_unsigned_raw():
    rec = one("02FF207100")
    assert (rec["quantity"], rec["value"], rec["dif_vif"]) == ("manufacturer_specific", 0x71, "02ff20")
    rec = one("04FF23FFFFFFFF")
    assert rec["value"] == 0xFFFFFFFF


def test_idle_filler_and_manufacturer_data():
    err, out, mfct, more = decode("2F2F0413010000002F0F0102AB")
    assert err is None and len(out) == 1
    assert mfct == "0102ab" and more is False
    err, out, mfct, more = decode("1F01")
    assert mfct == "01" and more is True


def test_no_data_and_selection():
    assert one("0013")["value"] is None
    assert one("0813")["value"] is None


def test_errors_keep_earlier_records():
    err, out, _, _ = decode("041301000000041301")  # 3 bytes left: more than a short tail
    assert err == "truncated" and len(out) == 1
    err, out, _, _ = decode("041301000000" + "84808080")  # a DIFE chain cut by the end
    assert err == "truncated" and len(out) == 1
    err, out, _, _ = decode("041301000000" + "3F")  # reserved special DIF
    assert err == "bad_record" and len(out) == 1
    err, out, _, _ = decode("8080808080808080808080800413")  # more than 10 DIFEs
    assert err == "bad_record"
    err, out, _, _ = decode("0D13F7")  # reserved LVAR
    assert err == "bad_record"


def test_template_cache_is_used_and_bounded():
    cache = {}
    buf = bytes.fromhex("0413010000004413020000")
    out = []
    records.parse(buf, 0, len(buf), out, cache)
    assert len(cache) == 2
    out2 = []
    records.parse(buf, 0, len(buf), out2, cache)
    assert out == out2
    out[0]["value"] = 99  # records are copies, the cached template is untouched
    assert cache[0x0413][0].get("value") is None  # 2-byte headers are keyed by an integer
    buf = bytes.fromhex("8410060000000000")
    records.parse(buf, 0, 7, [], cache)
    assert bytes.fromhex("841006") in cache  # longer ones by their bytes
    for i in range(100):  # 100 distinct headers (storage numbers)
        one = bytes((0x81, 0x80 | (i & 0x7F), i >> 7, 0x13, 0))
        records.parse(one, 0, len(one), [], cache)
        assert len(cache) <= records.MAX_TEMPLATES


def test_signature_of_annex_g_example():
    # EN 13757-3:2018 Annex G.5.2: headers 0202 0215 022A -> format signature 0x3B31.
    tpls = [records.make_template(bytes.fromhex(h)) for h in ("0202", "0215", "022A")]
    assert records.signature(tpls) == 0x3B31


def test_short_tail_after_records_is_kept_as_trailing_data():
    # Qundis telegrams end in 2 bytes that are no record (wmbusmeters ignores them): a DIF with
    # its extension bit and one DIFE (DD2F, FED0), or a header without its data (5208).
    for tail in ("dd2f", "fed0", "5208", "04"):
        err, out, mfct, more = decode("046D1416B921" + tail)
        assert err == records.TRAILING and mfct == tail and not more, (tail, err)
        assert len(out) == 1 and out[0]["value"] == "2021-01-25 22:20"


def test_short_tail_rule_is_narrow():
    # No record before it: a cut record, not a tail.
    assert decode("dd2f")[0] == "truncated"
    assert decode("0413")[0] == "truncated"
    # Three bytes left: may be a real record cut short.
    assert decode("046D1416B921" + "0413aa")[0] == "truncated"
    # Two bytes that are a complete record are decoded, not kept as a tail.
    err, out, mfct, _ = decode("046D1416B921" + "0013")
    assert err is None and mfct is None and len(out) == 2 and out[1]["value"] is None
    # Idle fillers before the tail are skipped as always; a bad record stays an error.
    assert decode("046D1416B921" + "2F2F" + "fed0")[0] == records.TRAILING
    assert decode("046D1416B921" + "3F")[0] == "bad_record"
