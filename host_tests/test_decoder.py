"""The decoder end to end on telegrams made by the builder: every layer, every error code."""

import json

from wmbus import Decoder, build, phy

KEY = bytes.fromhex("8A1F5C3E907B2D4461E0F3A9C7B58D12")
KEY_HEX = "8a1f5c3e907b2d4461e0f3a9c7b58d12"
OTHER = bytes(range(16))
MC21 = (("02FF20", 0x0071), ("0413", 6408), ("4413", 6100), ("615B", 12), ("6167", 21))


def apl():
    return build.records(*MC21)


def values(r):
    return [x["value"] for x in r["records"]]


def kamstrup(**kw):
    args = dict(manufacturer="KAM", meter_id="76348799", version=0x1B, device_type=0x16,
                ci=0x78, ell=0x8D, key=KEY)
    args.update(kw)
    return build.telegram(apl(), **args)


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


def test_missing_and_wrong_keys():
    cases = ((dict(ci=0x78, ell=0x8D), "decrypt_failed"), (dict(ci=0x7A, mode=5), "decrypt_failed"),
             (dict(ci=0x7A, mode=7), "mac_failed"))
    for kw, wrong in cases:
        frame = build.telegram(apl(), meter_id="76348799", key=KEY, **kw)
        r = Decoder().decode(frame)
        assert r["decode_error"] == "no_key" and r["id"] == "76348799" and r["records"] == []
        r = Decoder({"76348799": OTHER}).decode(frame)
        assert r["decode_error"] == wrong
        r = Decoder({"11111111": KEY}).decode(frame)  # a key for another meter does not help
        assert r["decode_error"] == "no_key"


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


def test_crc_errors():
    frame = build.frame_a(kamstrup())
    bad = bytearray(frame)
    bad[15] ^= 0x40
    r = Decoder({"76348799": KEY}).decode(bytes(bad))
    assert r["decode_error"] == "crc"
    assert r["id"] == "76348799"  # the header block was intact: say whose frame it was
    bad = bytearray(frame)
    bad[5] ^= 0x01  # header block
    assert Decoder().decode(bytes(bad))["decode_error"] == "crc"
    # An unencrypted ELL whose payload CRC does not match.
    plain = bytearray(kamstrup(ell_encrypt=False))
    plain[-1] ^= 1
    assert Decoder().decode(bytes(plain))["decode_error"] == "crc"


def test_truncated_frames_keep_what_decoded():
    frame = build.telegram(apl(), meter_id="76348799", ci=0x7A)
    for n in range(len(frame)):
        r = Decoder().decode(frame[:n])
        assert r["decode_error"] == "truncated", (n, r)
        if n >= 10:
            assert r["id"] == "76348799"
    # A plain frame cut after two records still reports those two.
    r = Decoder().decode(frame[: 11 + 4 + 5 + 6])
    assert r["decode_error"] == "truncated"


def test_unsupported_ci_and_security():
    frame = build.telegram(b"\x01\x02\x03", ci=0xA2)
    r = Decoder().decode(frame)
    assert r["decode_error"] == "unsupported_ci" and r["manufacturer_data"] == "010203"
    frame = bytearray(build.telegram(apl(), ci=0x7A))
    frame[14] = 0x0D  # CFG mode 13 (TLS)
    assert Decoder().decode(bytes(frame))["decode_error"] == "unsupported_security"
    assert Decoder().decode(build.telegram(b"", ci=0x20))["decode_error"] == "unsupported_ci"


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


def test_fragmented_afl_is_reported():
    frame = bytearray(build.telegram(apl(), ci=0x7A, mode=7, key=KEY))
    i = frame.index(0x90)
    frame[i + 3] |= 0x40  # FCL: more fragments follow
    assert Decoder({"12345678": KEY}).decode(bytes(frame))["decode_error"] == "fragmented"


def test_decode_never_raises_on_odd_input():
    d = Decoder({"76348799": KEY})
    for data in (b"", b"\x00", b"\xff" * 300, bytearray(20), memoryview(kamstrup()),
                 b"\x68\x03\x03\x68\x08\x01\x72\x7b\x16", b"\x0a\x44" + b"\x00" * 9):
        r = d.decode(data)
        assert isinstance(r, dict) and isinstance(r["records"], list)
        json.dumps(r)


def test_keys_never_appear_in_results():
    d = Decoder({"76348799": KEY})
    for frame in (kamstrup(), kamstrup(key=OTHER), build.telegram(apl(), meter_id="76348799",
                                                                  ci=0x7A, mode=7, key=OTHER)):
        text = json.dumps(d.decode(frame)).lower()
        assert KEY_HEX not in text


def test_bad_key_in_constructor_names_meter_not_key():
    try:
        Decoder({"76348799": KEY[:15]})
        assert False, "a 15-byte key was accepted"
    except ValueError as e:
        msg = str(e)
        assert "76348799" in msg and KEY_HEX[:30] not in msg.lower()
    # Hex strings are accepted too.
    assert Decoder({"76348799": KEY_HEX}).keys["76348799"] == KEY


def test_wired_frame_checksum():
    frame = bytearray(bytes.fromhex(
        "6820206808FD7278563412931533032A0000000C1427048502046D32371F1502FD1700008916"))
    frame[-2] ^= 1
    assert Decoder().decode(bytes(frame))["decode_error"] == "crc"


def test_afl_length_must_cover_its_fields():
    # Found by fuzzing: AFLL = 1 (shorter than the FCL) with MCL, MCR and MAC flagged.
    r = Decoder().decode(bytes.fromhex("1044BA1A5555555503038C20759001002C"))
    assert r["decode_error"] == "bad_afl"
    from wmbus import afl

    err, fields, nxt = afl.parse(bytes.fromhex("90052C002501000000"), 0, 9)  # MAC missing
    assert err == "bad_afl"
