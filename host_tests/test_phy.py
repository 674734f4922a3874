"""3-of-6 coding and frame formats A/B (EN 13757-4 §9.2.2, §12.5)."""

from wmbus import phy
from wmbus import build
from wmbus.build import telegram, records

# OMS Vol.2 Annex N.2.1 telegram, as sent in frame format A (block CRCs 3363, C2AD, 55B2, EC8A).
ANNEX_N21_A = bytes.fromhex(
    "2E44931578563412330333637A2A0020255923C95AAA26D1B2E7493BC2AD013EC4A6F6D3529B520EDFF0EA6DEF"
    "C955B29D6D69EBF3EC8A")
ANNEX_N21 = bytes.fromhex(
    "2E4493157856341233037A2A0020255923C95AAA26D1B2E7493B013EC4A6F6D3529B520EDFF0EA6DEFC99D6D69"
    "EBF3")


def _weight(x):
    n = 0
    while x:
        n += x & 1
        x >>= 1
    return n


def test_3of6_codes_have_weight_three_and_are_distinct():
    codes = phy.ENCODE_3OF6
    assert len(set(codes)) == 16
    for c in codes:
        assert _weight(c) == 3


def test_3of6_decodes_published_example():
    # radio.md §3.1: chips 37 47 1C carry L=0x1C, C=0x44.
    assert bytes(phy.decode_3of6(bytes.fromhex("37471C"), 2)) == b"\x1c\x44"


def test_3of6_round_trip_even_and_odd_lengths():
    for n in (1, 2, 3, 10, 11, 64, 255):
        data = bytes((i * 37 + 11) & 0xFF for i in range(n))
        chips = build.encode_3of6(data)
        assert len(chips) == phy.size_3of6(n) + (1 if n % 2 == 0 else 0)
        assert bytes(phy.decode_3of6(chips, n)) == data


def test_3of6_rejects_invalid_code():
    chips = bytearray(build.encode_3of6(b"\x12\x34"))
    chips[0] = 0xFF  # 111111 is not a 3-of-6 code
    assert phy.decode_3of6(chips, 2) is None
    assert phy.decode_3of6(b"\x37", 2) is None  # too short


def test_frame_a_crcs_checked_and_removed():
    status, frame, fmt = phy.strip_crcs(ANNEX_N21_A)
    assert (status, fmt) == (phy.OK, phy.FORMAT_A)
    assert frame == ANNEX_N21
    assert build.frame_a(ANNEX_N21) == ANNEX_N21_A


def test_frame_without_crcs_passes_through():
    status, frame, fmt = phy.strip_crcs(ANNEX_N21)
    assert (status, fmt) == (phy.OK, phy.FORMAT_NONE)
    assert frame == ANNEX_N21


def test_frame_b_short_and_long():
    for n_records in (1, 30):
        apl = records(*[("0413", i) for i in range(n_records)])
        plain = telegram(apl, ci=0x78)
        on_air = build.frame_b(plain)
        assert on_air[0] == len(on_air) - 1  # format B: L counts the CRCs
        status, frame, fmt = phy.strip_crcs(on_air)
        assert (status, fmt) == (phy.OK, phy.FORMAT_B)
        assert frame == plain


def test_corrupt_block_is_a_crc_error():
    bad = bytearray(ANNEX_N21_A)
    bad[20] ^= 0x01
    status, _, _ = phy.strip_crcs(bytes(bad))
    assert status == phy.CRC


def test_trailing_byte_is_cut():
    status, frame, fmt = phy.strip_crcs(ANNEX_N21 + b"\xC5")  # an RSSI byte some dongles append
    assert status == phy.OK and frame == ANNEX_N21


def test_short_frame_is_truncated():
    status, _, _ = phy.strip_crcs(ANNEX_N21[:20])
    assert status == phy.TRUNCATED
    assert phy.strip_crcs(b"")[0] == phy.TRUNCATED
