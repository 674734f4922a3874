"""Diehl frames at the transport layer (diehl.py): "real data" (CFG bit 12, LFSR-obfuscated
payload, swapped DLL address) and the default AES key of OMS frames in security mode 5.

The obfuscation is written independently here (one 32-bit register, one bit per step) from the
description in diehl.py; telegrams and values are made up for the tests.
"""

from support import be32, diehl_lfsr
from wmbus import Decoder, build

DEFAULT1 = 0x39BC8A10 ^ 0xE66D83F8  # wmbusmeters' PRIOS_DEFAULT_KEY1, folded
METER_KEY = bytes.fromhex("00112233445566778899AABBCCDDEEFF")
DEFAULT_AES = bytes.fromhex("51728910E66D83F851728910E66D83F8")  # PRIOS_DEFAULT_KEY2 twice

# Total volume 49.373 m3, a date: the records of a Hydrus IZAR RS real data frame.
APL = build.records(("0413", 49373), ("426C", 0x23BF))


def fold(key):
    return be32(key, 0) ^ be32(key, 4)


def obfuscate(head, plain, key):
    """head: the 15 bytes L..CFG as sent; the register is seeded from bytes 2-13."""
    return diehl_lfsr(key ^ be32(head, 2) ^ be32(head, 6) ^ be32(head, 10), plain)


def real_data(plain=APL, key=DEFAULT1, meter_id="60904720", version=0x8B, device_type=0x06,
              manufacturer="HYD", obfuscated=True, c_field=0x44):
    """A real data frame: DLL address sent as version, type, id; CFG high byte with bit 12 set
    and the payload's byte sum in its other bits (0xEF mask)."""
    addr = build.address(manufacturer, meter_id, version, device_type)
    cfg_hi = (sum(plain) & 0xEF) | 0x10
    head = bytes((0, c_field)) + addr[0:2] + bytes((version, device_type)) + addr[2:6]
    head += bytes((0x7A, 0x2A, 0x00, 0x10, cfg_hi))
    body = obfuscate(head, plain, key) if obfuscated else plain
    frame = head + body
    return bytes((len(frame) - 1,)) + frame[1:]


def test_real_data_with_default_key():
    r = Decoder().decode(real_data())
    assert "decode_error" not in r, r
    # The address is version, type, then the id (wmbusmeters: transformDiehlAddress SWAPPING).
    assert (r["id"], r["manufacturer"], r["version"], r["device_type"], r["media"]) == (
        "60904720", "HYD", 0x8B, 0x06, "warm water")
    assert [x["value"] for x in r["records"]] == [49.373, "2021-03-31"]
    assert r["security_mode"] >= 16  # CFG bits 12..8, as wmbusmeters reads them: 16-31


def test_real_data_with_meter_key():
    frame = real_data(key=fold(METER_KEY))
    r = Decoder({"60904720": METER_KEY}).decode(frame)
    assert "decode_error" not in r and r["records"][0]["value"] == 49.373
    # Without its key: the default keys do not open it.
    assert Decoder().decode(frame)["decode_error"] == "no_key"
    # With a wrong key: only that key is tried.
    assert Decoder({"60904720": bytes(16)}).decode(frame)["decode_error"] == "decrypt_failed"


def test_real_data_already_plain():
    # A payload whose byte sum checks as received was decoded by the receiver.
    r = Decoder().decode(real_data(obfuscated=False))
    assert "decode_error" not in r and r["records"][0]["value"] == 49.373


def test_real_data_as_received_must_also_read_as_records():
    # The byte sum is a 7-bit check: a payload that passes it but is no list of records (here
    # a reserved DIF) is not taken as already decoded.
    r = Decoder().decode(real_data(plain=APL + b"\x3f\x00", obfuscated=False))
    assert r["decode_error"] == "no_key" and r["records"] == []


def test_real_data_rules_are_diehl_only():
    # Another manufacturer with the same CFG: a security mode we do not know.
    r = Decoder().decode(real_data(manufacturer="KAM"))
    assert r["decode_error"] == "unsupported_security"


def oms_mode5(key, manufacturer="HYD"):
    return build.telegram(APL, manufacturer=manufacturer, meter_id="64745666", version=0x70,
                          device_type=0x07, ci=0x7A, mode=5, key=key, access_number=0x1F)


def test_oms_mode5_default_key():
    r = Decoder().decode(oms_mode5(DEFAULT_AES))
    assert "decode_error" not in r and r["records"][0]["value"] == 49.373
    # A meter with a key of its own still needs it.
    frame = oms_mode5(METER_KEY)
    assert Decoder().decode(frame)["decode_error"] == "no_key"
    assert Decoder({"64745666": METER_KEY}).decode(frame)["records"][0]["value"] == 49.373
    # The default key is Diehl's only.
    assert Decoder().decode(oms_mode5(DEFAULT_AES, "KAM"))["decode_error"] == "no_key"


def test_diehl_lfsr_is_its_own_inverse():
    from wmbus import diehl

    data = bytes(range(40))
    once = diehl.lfsr_xor(0x1234, 0xABCD, data, 3)
    assert diehl.lfsr_xor(0x1234, 0xABCD, once, 0) == data[3:]
