"""Kamstrup water meters (MULTICAL 21, flowIQ) through the kamwater driver.

Telegrams are made with the builder and encrypted with a key chosen here; field names and values
are those wmbusmeters gives for such telegrams, which Kamstrup users' dashboards expect.
"""

from support import kam
from support import kam_decode as decode
from wmbus import build


def test_multical21_full_frame():
    # Info code 0x0071: DRY now, dry for 22-31 days.
    apl = build.records(("02FF20", 0x0071), ("0413", 6408), ("4413", 6408), ("615B", 127),
                        ("6167", 19))
    r = decode(kam(apl, "76348799", 0x1B, 0x16), "76348799")
    assert "decode_error" not in r
    assert r["meter"] == "kamwater" and r["media"] == "cold water"
    assert (r["total_m3"], r["target_m3"]) == (6.408, 6.408)
    assert (r["flow_temperature_c"], r["min_external_temperature_last_month_c"]) == (127, 19)
    assert r["external_temperature_c"] == 19  # the older name, kept beside the new one
    assert (r["status"], r["current_status"]) == ("DRY", "DRY")
    assert (r["time_dry"], r["time_reversed"], r["time_leaking"], r["time_bursting"]) == (
        "22-31 days", "", "", "")


def test_multical21_compact_frame_from_the_builtin_table():
    items = (("02FF20", 0x0000), ("0413", 20015), ("92013B", 317), ("A1015B", 2),
             ("8101E7FF0F", 3))
    r = decode(kam(build.compact(*items), "44556677", 0x1B, 0x16, ci=0x79), "44556677")
    assert "decode_error" not in r, r
    assert (r["total_m3"], r["max_flow_m3h"]) == (20.015, 0.317)
    assert (r["flow_temperature_c"], r["min_flow_temperature_c"]) == (2, 2)
    assert (r["status"], r["current_status"]) == ("OK", "")


def test_water_info_code_durations_and_several_flags():
    # LEAK and BURST active; leaking 2-3 days (3 << 10), bursting 1-8 hours (1 << 13).
    info = 0x4 | 0x8 | (3 << 10) | (1 << 13)
    r = decode(kam(build.records(("02FF20", info), ("0413", 1)), "11111111", 0x1B, 0x16),
               "11111111")
    assert r["status"] == "LEAK BURST" and r["current_status"] == "LEAK BURST"
    assert (r["time_leaking"], r["time_bursting"], r["time_dry"]) == ("2-3 days", "1-8 hours", "")


def test_flowiq_status_names_unknown_bits():
    apl = build.records(("04FF23", 0x800 | 0x20), ("0413", 3871), ("4413", 0), ("426C", 0x2BC1),
                        ("06FF1B", 0xFFF008009008), ("023B", 0))
    r = decode(kam(apl, "23813076", 0x3C, 0x16, manufacturer="KAW"), "23813076")
    assert r["meter"] == "kamwater"
    assert r["status"] == "LOW_BATTERY ERROR_FLAGS_800"
    assert (r["total_m3"], r["target_m3"], r["target_date"], r["flow_m3h"]) == (
        3.871, 0.0, "2022-11-01", 0.0)
    assert r["accoustic_noise"] == "08900008F0FF"  # the vendor bytes as sent
