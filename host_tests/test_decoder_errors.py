"""The decoder on bad input: every error code, keys never shown, never an exception."""

import json

from support import KEY, KEY_HEX, OTHER
from support import mc21 as kamstrup
from support import mc21_apl as apl
from wmbus import Decoder, build


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
