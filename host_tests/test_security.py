"""AES-CMAC (RFC 4493 §4 test vectors), KDF-A (CEN/TR 17167:2018 Annex F.3), AES-CTR."""

from wmbus import security

RFC4493_KEY = bytes.fromhex("2b7e151628aed2a6abf7158809cf4f3c")
RFC4493_MSG = bytes.fromhex(
    "6bc1bee22e409f96e93d7e117393172aae2d8a571e03ac9c9eb76fac45af8e51"
    "30c81c46a35ce411e5fbc1191a0a52eff69f2445df4f9b17ad2b417be66c3710")


def test_cmac_rfc4493_examples():
    cases = (
        (0, "bb1d6929e95937287fa37d129b756746"),
        (16, "070a16b46b4d4144f79bdd9dd04a287c"),
        (40, "dfa66747de9ae63030ca32611497c827"),
        (64, "51f0bebf7e3b9d92fc49741779363cfe"),
    )
    for length, tag in cases:
        assert security.cmac(RFC4493_KEY, RFC4493_MSG[:length]) == bytes.fromhex(tag)


def test_kdf_a_cen_tr_17167_f3():
    # Master key 00..0F, message counter B30A0000, meter id 12345678 (bytes 78563412).
    master = bytes(range(16))
    counter = bytes.fromhex("B30A0000")
    meter_id = bytes.fromhex("78563412")
    assert security.kdf_a(master, 0, counter, meter_id) == bytes.fromhex(
        "ECCF39D475D730B8284FDFDC1995D52F")
    assert security.kdf_a(master, 1, counter, meter_id) == bytes.fromhex(
        "C9CD19FF5A9AAD5A6BBDA13BD2C4C7AD")


def test_ctr_is_its_own_inverse_and_counts_blocks():
    key = bytes(range(16, 32))
    prefix = bytes(range(15))
    data = bytes(range(50))
    enc = security.ctr_crypt(key, prefix, data)
    assert enc != data and len(enc) == 50
    assert security.ctr_crypt(key, prefix, enc) == data
    # Block i uses counter byte i: the keystream of block 1 is E(prefix | 01).
    ks = security.xor(enc, data)
    from wmbus.compat import aes_ecb_encrypt
    assert ks[16:32] == aes_ecb_encrypt(key, prefix + b"\x01")


def test_xor():
    assert security.xor(b"\x00\xff\x0f", b"\xff\xff\xf0") == b"\xff\x00\xff"
    assert security.xor(b"", b"") == b""


def test_mode5_iv_layout():
    # OMS Vol.2 Annex N.2.1: IV = M | ID | version | type | ACC x 8.
    ident = bytes.fromhex("9315785634123303")
    assert security.mode5_iv(ident, 0x2A) == bytes.fromhex("93157856341233032A2A2A2A2A2A2A2A")


def test_xor_into_in_place_and_bounds():
    from wmbus import ell

    dst = bytearray(b"\x00\x01\x02\x03\x04")
    ell.xor_into(dst, 1, b"\xff\xff\xff", 3)
    assert dst == bytearray(b"\x00\xfe\xfd\xfc\x04")
    try:
        ell.xor_into(dst, 3, b"\xff\xff\xff", 3)
        ok = False
    except IndexError:
        ok = True
    assert ok


def test_ell_ctr_in_place_matches_the_reference_construction():
    from wmbus import ell

    key = bytes(range(16))
    frame = bytearray(bytes.fromhex("2A442D2C998734761B168D2091D37CAC21") + bytes(range(40)))
    plain = bytes(frame)
    ell.crypt_in_place(key, frame, 0x20, 13, 17, len(frame))
    prefix = plain[2:10] + b"\x20" + plain[13:17] + b"\x00\x00"
    assert bytes(frame[17:]) == security.ctr_crypt(key, prefix, plain[17:])
    ell.crypt_in_place(key, frame, 0x20, 13, 17, len(frame))
    assert bytes(frame) == plain
