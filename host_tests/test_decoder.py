"""The decoder end to end on telegrams made by the builder: every layer and framing, compact
frames and their formats. Error codes: test_decoder_errors.py."""

import json

from support import MC21, values, KEY
from support import mc21 as kamstrup
from support import mc21_apl as apl
from wmbus import Decoder, build, phy


def test_result_fields():
    r = Decoder({"76348799": KEY}).decode(kamstrup())
    assert "decode_error" not in r
    for k in ("id", "manufacturer", "version", "device_type", "media", "records"):
        assert k in r
    assert (r["id"], r["manufacturer"], r["version"], r["device_type"], r["media"]) == (
        "76348799", "KAM", 0x1B, 0x16, "cold water")
    assert values(r) == [0x71, 6.408, 6.1, 12, 21]
    rec = r["records"][1]
    assert rec == {"dif_vif": "0413", "quantity": "volume", "unit": "m3", "storage": 0,
                   "tariff": 0, "subunit": 0, "function": "instantaneous", "value": 6.408}
    json.dumps(r)


def test_every_security_layer_round_trips_in_every_frame_format():
    cases = (
        dict(ci=0x78, ell=0x8D),
        dict(ci=0x7A, mode=5),
        dict(ci=0x7A, mode=5, ell=0x8D),
        dict(ci=0x7A, mode=7),
        dict(ci=0x72, mode=5, long_address=("ABC", "76348799", 3, 7)),
        dict(ci=0x72, mode=7, ell=0x8E, long_address=("ABC", "76348799", 3, 7)),
        dict(ci=0x7A, mode=0, ell=0x8F),
        dict(ci=0x72, mode=0),
    )
    for kw in cases:
        frame = build.telegram(apl(), meter_id="76348799", key=KEY, **kw)
        d = Decoder({"76348799": KEY})
        for on_air in (frame, build.frame_a(frame), build.frame_b(frame)):
            r = d.decode(on_air)
            assert "decode_error" not in r, (kw, r)
            assert r["id"] == "76348799"
            assert values(r) == [0x71, 6.408, 6.1, 12, 21], kw
        chips = build.t1(frame)
        a = build.frame_a(frame)
        assert bytes(phy.decode_3of6(chips, len(a))) == a
        assert values(d.decode(a)) == [0x71, 6.408, 6.1, 12, 21]


def test_already_decrypted_payload_is_accepted():
    # ENC bits say AES-CTR but the payload CRC checks over the plain bytes (a receiver that
    # decrypted it), and a mode-5 TPL whose payload starts with 2F2F.
    frame = kamstrup(ell_encrypt=False)
    frame = bytearray(frame)
    frame[10 + 3 + 3] |= 0x20  # SN ENC = 001
    r = Decoder().decode(bytes(frame))
    assert "decode_error" not in r and values(r)[1] == 6.408
    frame = build.telegram(apl(), ci=0x7A, mode=5, plaintext_encrypted=True)
    r = Decoder().decode(frame)
    assert "decode_error" not in r and r["security_mode"] == 5 and values(r)[1] == 6.408


def test_compact_frame_after_full_frame():
    # A format no driver knows (MC21 records plus a flow record): learnt from the full frame.
    items = MC21 + (("023B", 17),)
    full = build.telegram(build.records(*items), manufacturer="KAM", meter_id="76348799",
                          version=0x1B, device_type=0x16, ci=0x78, ell=0x8D, key=KEY)
    changed = (("02FF20", 0x0071), ("0413", 6500)) + items[2:]
    compact = build.telegram(build.compact(*changed), manufacturer="KAM", meter_id="76348799",
                             version=0x1B, device_type=0x16, ci=0x79, ell=0x8D, key=KEY)
    d = Decoder({"76348799": KEY})
    r = d.decode(compact)
    assert r["decode_error"] == "unknown_format" and r["records"] == []
    assert r["format_signature"] == "%04x" % build.format_signature([h for h, _ in items])
    d.decode(full)
    r = d.decode(compact)
    assert "decode_error" not in r
    assert values(r) == [0x71, 6.5, 6.1, 12, 21, 0.017]
    # Formats are per manufacturer, version and device type: another type does not borrow it.
    other = build.telegram(build.compact(*changed), manufacturer="KAM", meter_id="76348799",
                           version=0x1B, device_type=0x07, ci=0x79, ell=0x8D, key=KEY)
    assert d.decode(other)["decode_error"] == "unknown_format"


def test_builtin_compact_formats_decode_the_first_compact_frame():
    # MULTICAL 21's usual format is in the Kamstrup driver's table (EN 13757-3 Annex G lets a
    # receiver ship the formats it knows): no full frame needed.
    compact = build.telegram(build.compact(*MC21), manufacturer="KAM", meter_id="76348799",
                             version=0x1B, device_type=0x16, ci=0x79, ell=0x8D, key=KEY)
    r = Decoder({"76348799": KEY}).decode(compact)
    assert "decode_error" not in r and r["format_signature"] == "a8ed"
    assert values(r) == [0x71, 6.408, 6.1, 12, 21]


def test_compact_frame_with_wrong_full_crc():
    d = Decoder({"76348799": KEY})
    d.decode(kamstrup())
    body = bytearray(build.compact(*MC21))
    body[2] ^= 0xFF  # full-frame CRC
    compact = build.telegram(bytes(body), manufacturer="KAM", meter_id="76348799", version=0x1B,
                             device_type=0x16, ci=0x79, ell=0x8D, key=KEY)
    assert d.decode(compact)["decode_error"] == "compact_crc"


def test_learnt_formats_are_bounded():
    d = Decoder()
    for i in range(100):
        d.decode(build.telegram(build.records(("0413", i), ("02FD17", i) if i % 2 else ("0213", i),
                                              ("01FF%02X" % (i & 0x7F), 0)), ci=0x78))
    assert 0 < len(d.formats) <= 64


def test_learnt_formats_export_and_import():
    # A gateway keeps what it learnt across reboots: the table goes to text and back.
    items = MC21 + (("023B", 17),)
    full = build.telegram(build.records(*items), manufacturer="KAM", meter_id="76348799",
                          version=0x1B, device_type=0x16, ci=0x78, ell=0x8D, key=KEY)
    compact = build.telegram(build.compact(*items), manufacturer="KAM", meter_id="76348799",
                             version=0x1B, device_type=0x16, ci=0x79, ell=0x8D, key=KEY)
    first = Decoder({"76348799": KEY})
    first.decode(full)
    lines = first.export_formats()
    assert lines == ["KAM 1b 16 02ff2004134413615b6167023b"]
    second = Decoder({"76348799": KEY})
    assert second.import_formats(lines + ["garbage", "KAM 1b 16 7b", "KAM zz 16 0413"]) == 1
    r = second.decode(compact)
    assert "decode_error" not in r and values(r)[-1] == 0.017
