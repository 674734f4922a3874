"""Qundis telegrams that end in a short tail which is no record (records.py, MAX_TRAILING): kept
as `trailing_data`, as wmbusmeters ignores it (its dvparser stops at the end of the data)."""

from wmbus import Decoder, build


def test_qundis_tail_is_trailing_data():
    # A Qundis heat cost allocator's records, then 2 bytes that are no record (DD2F).
    apl = build.records(("0B6E", 304), ("046D", 0x21B91614)) + bytes.fromhex("DD2F")
    frame = build.telegram(apl, manufacturer="LSE", meter_id="91835132", version=0x34,
                           device_type=0x08, ci=0x7A)
    r = Decoder().decode(frame)
    assert "decode_error" not in r and r["trailing_data"] == "dd2f"
    assert [x["value"] for x in r["records"]] == [304, "2021-01-25 22:20"]
    # Three bytes: a record cut short, an error.
    frame = build.telegram(apl + b"\x00", manufacturer="LSE", meter_id="91835132",
                           version=0x34, device_type=0x08, ci=0x7A)
    r = Decoder().decode(frame)
    assert r["decode_error"] == "truncated" and "trailing_data" not in r
