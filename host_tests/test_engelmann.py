"""Engelmann water meters (drivers/engelmann_faw.py): compact frames (CI 0x73) in security
mode 5, whose format the driver knows before any full frame."""

from wmbus import Decoder, build

KEY = bytes.fromhex("5CDB04C8EDFDC09EC49B5E76A24D4822")
FORMAT = ("426C 4413 01FD17 840113 C40113 840213 C40213 840313 C40313 840413 C40413 840513"
          " C40513 840613 C40613 840713 C40713 840813 046D 0413").split()
# Made-up values: a reporting date, its volume, no error, 15 monthly volumes, time and total.
VALUES = [0x3C3F, 228854, 0] + [250000 - 1000 * n for n in range(15)] + [0x35442B3A, 253409]


def compact_frame(values=VALUES, key=KEY):
    apl = build.compact(*zip(FORMAT, values))
    return build.telegram(apl, manufacturer="EFE", meter_id="22502855", version=0x02,
                          device_type=0x07, ci=0x73, mode=5, key=key, access_number=0x70,
                          long_address=("EFE", "22862420", 0x00, 0x07))


def test_compact_frame_with_builtin_format():
    r = Decoder({"22862420": KEY}).decode(compact_frame())
    assert "decode_error" not in r, r
    assert r["meter"] == "engelmann_faw" and r["id"] == "22862420"
    assert r["total_m3"] == 253.409 and r["consumption_at_reporting_date_m3"] == 228.854
    assert r["reporting_date"] == "2025-12-31" and r["meter_datetime"] == "2026-05-04 11:58"
    assert r["consumption_1_months_ago_m3"] == 250.0
    assert r["consumption_15_months_ago_m3"] == 236.0
    assert r["status"] == "OK"


def test_compact_frame_error_flags():
    values = list(VALUES)
    values[2] = 0x21
    r = Decoder({"22862420": KEY}).decode(compact_frame(values))
    assert r["status"] == "VOLUME_DETECTION_COILS_DEFECT LEAKAGE"


def test_compact_frame_without_key():
    assert Decoder().decode(compact_frame())["decode_error"] == "no_key"
