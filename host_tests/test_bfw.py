"""BFW 240 radio (drivers/bfw240radio.py): its APL layout, on a telegram built here."""

from wmbus import Decoder, build
from wmbus.drivers import bfw240radio as bfw


def apl(prev, current, months, day, month, year):
    """months: HCA values 1 (newest) .. 18 months ago."""
    out = bytearray(b"\x2f\x2f\x01\x1f")
    out += bytes((prev >> 8, prev & 0xFF, current >> 8, current & 0xFF, 0x15, 0x2A))
    for k in range(9):
        older, newer = months[17 - 2 * k], months[16 - 2 * k]
        out += bytes((older & 0xFF, ((older >> 8) << 4) | (newer >> 8), newer & 0xFF))
    bcd = lambda v: ((v // 10) << 4) | (v % 10)
    return bytes(out + bytes((bcd(day), bcd(month), bcd(year))))


MONTHS = [1000 + 37 * i for i in range(18)]


def test_layout():
    r = {}
    assert bfw.decode_apl(r, apl(2748, 905, MONTHS, 28, 2, 21)) is None
    assert (r["prev_hca"], r["current_hca"]) == (2748, 905)
    assert [r["prev_%02d_hca" % i] for i in range(1, 19)] == MONTHS
    assert r["device_date"] == "2021-02-28"
    assert bfw.decode_apl({}, apl(1, 2, MONTHS, 1, 1, 1)[:39]) == "truncated"


def test_the_decoder_names_the_meter():
    frame = build.telegram(apl(1, 2, MONTHS, 1, 3, 21), manufacturer="BFW", meter_id="00707788",
                           version=0x02, device_type=0x08, ci=0x7A)
    r = Decoder().decode(frame)
    assert "decode_error" not in r and r["meter"] == "bfw240radio"
    assert (r["prev_hca"], r["current_hca"], r["device_date"]) == (1, 2, "2021-03-01")
