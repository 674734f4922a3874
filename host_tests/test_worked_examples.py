"""Published worked examples of the standards, decoded end to end.

Bytes quoted from: OMS Specification Vol. 2 Annex N (N.2.1 profile A, N.2.2 wired, N.5.2/N.5.3
partial encryption, security profile B with integrated radio), CEN/TR 17167:2018 Annex F.3
(mode 7 behind a radio adapter) and EN 13757-3:2018 Annex G.5.2 (full/format/compact frames).
"""

from wmbus import Decoder
from wmbus.build import telegram

KEY_N21 = bytes.fromhex("0102030405060708090A0B0C0D0E0F11")
KEY_B = bytes(range(16))  # 000102...0F, the master key of the profile-B examples


def values(result):
    return [r["value"] for r in result["records"]]


def test_oms_annex_n_2_1_mode5():
    frame = bytes.fromhex(
        "2E4493157856341233037A2A0020255923C95AAA26D1B2E7493B013EC4A6F6D3529B520EDFF0EA6DEFC99D"
        "6D69EBF3")
    r = Decoder({"12345678": KEY_N21}).decode(frame)
    assert "decode_error" not in r
    assert (r["id"], r["manufacturer"], r["version"], r["media"]) == ("12345678", "ELS", 0x33, "gas")
    assert (r["access_number"], r["security_mode"]) == (0x2A, 5)
    assert values(r) == [28504.27, "2008-05-31 23:50", 0]
    assert r["records"][0]["unit"] == "m3"
    assert r["records"][2]["quantity"] == "error_flags"


def test_oms_annex_n_2_1_without_key_and_with_wrong_key():
    frame = bytes.fromhex(
        "2E4493157856341233037A2A0020255923C95AAA26D1B2E7493B013EC4A6F6D3529B520EDFF0EA6DEFC99D"
        "6D69EBF3")
    r = Decoder().decode(frame)
    assert r["decode_error"] == "no_key" and r["id"] == "12345678" and r["records"] == []
    r = Decoder({"12345678": bytes(16)}).decode(frame)
    assert r["decode_error"] == "decrypt_failed"


def test_oms_annex_n_2_2_wired_long_frame():
    frame = bytes.fromhex(
        "6820206808FD7278563412931533032A0000000C1427048502046D32371F1502FD1700008916")
    r = Decoder().decode(frame)
    assert "decode_error" not in r
    assert (r["id"], r["manufacturer"], r["media"]) == ("12345678", "ELS", "gas")
    assert values(r) == [28504.27, "2008-05-31 23:50", 0]


def test_oms_security_profile_b_mode7_integrated_radio():
    frame = bytes.fromhex(
        "434493157856341233038C2075900F002C25B30A000021924D4F2FB66E017A75002007109058475F4BC91D"
        "F878B80A1B0F98B629024AAC727942BFC549233C0140829B93")
    r = Decoder({"12345678": KEY_B}).decode(frame)
    assert "decode_error" not in r, r
    assert r["security_mode"] == 7
    assert values(r) == [28504.27, "2008-05-31 23:50", 0]
    # The AFL MAC is checked before decryption: a wrong key is a MAC failure.
    assert Decoder({"12345678": KEY_N21}).decode(frame)["decode_error"] == "mac_failed"
    # A flipped ciphertext bit is caught by the MAC too.
    bad = bytearray(frame)
    bad[-3] ^= 1
    assert Decoder({"12345678": KEY_B}).decode(bytes(bad))["decode_error"] == "mac_failed"


def test_cen_tr_17167_f3_mode7_radio_adapter():
    frame = bytes.fromhex(
        "530824484433221103378E80753A63665544330A31900F002C25B30A0000AF5D74DF73A600D97278563412"
        "9315330375002007109058475F4BC91DF878B80A1B0F98B629024AAC727942BFC549233C0140829B93")
    r = Decoder({"12345678": KEY_B}).decode(frame)
    assert "decode_error" not in r, r
    # The DLL carries the adapter (11223344), the long TPL header the meter it serves.
    assert (r["id"], r["dll_id"], r["manufacturer"]) == ("12345678", "11223344", "ELS")
    assert values(r)[:3] == [28504.27, "2008-05-31 23:50", 0]


def test_oms_annex_n_5_3_partial_encryption():
    # ELL ACC 0x75 differs from the TPL ACC 0x00 that feeds the IV; trailing records are plain.
    frame = bytes.fromhex(
        "304493444433221155378C00757288776655934455080004100500DFE2A782146D1513581CD2F83F39040C"
        "FD1078563412")
    r = Decoder({"55667788": KEY_B}).decode(frame)
    assert "decode_error" not in r, r
    assert r["access_number"] == 0
    assert values(r) == [1234, "2007-04-30", 23456, 12345678]
    assert r["records"][1]["storage"] == 1


def test_oms_annex_n_5_2_access_offer_without_application_data():
    frame = bytes.fromhex("194793444433221155378C20758B8877665593445508FF040000")
    r = Decoder().decode(frame)
    assert "decode_error" not in r
    assert (r["c_field"], r["ci"], r["records"]) == (0x47, 0x8B, [])


def test_en13757_3_annex_g_5_2_full_then_compact():
    # Full frame records (123.4 Wh, 567.8 m3, 901.2 W) 0202D204 02152E16 022A3423 (signature 0x3B31, full CRC 0xA642),
    # then the compact frame 79 313B 42A6 D204 2E16 3423, wrapped in a DLL header of our own.
    full = telegram(bytes.fromhex("0202D20402152E16022A3423"), ci=0x78)
    compact = telegram(bytes.fromhex("313B42A6D2042E163423"), ci=0x79)
    d = Decoder()
    assert d.decode(compact)["decode_error"] == "unknown_format"
    r = d.decode(full)
    assert values(r) == [0.1234, 567.8, 0.9012]
    r = d.decode(compact)
    assert "decode_error" not in r, r
    assert r["format_signature"] == "3b31"
    assert values(r) == [0.1234, 567.8, 0.9012]
    assert [x["unit"] for x in r["records"]] == ["kWh", "m3", "kW"]


def test_en13757_3_annex_g_5_3_format_frame_then_compact():
    # Format frame 6A ... 08 313B 0202 0215 022A (short header), then compact 7B ... 313B 42A6 ...
    fmt = telegram(bytes.fromhex("08313B02020215022A"), ci=0x6A, access_number=1)
    compact = telegram(bytes.fromhex("313B42A6D2042E163423"), ci=0x7B, access_number=1)
    d = Decoder()
    r = d.decode(fmt)
    assert "decode_error" not in r and r["format_signature"] == "3b31"
    r = d.decode(compact)
    assert "decode_error" not in r, r
    assert values(r) == [0.1234, 567.8, 0.9012]
