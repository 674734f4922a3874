"""Data link header: M-field letters, BCD id, device types (EN 13757-4 §12.5, EN 13757-7 Table 11)."""

from wmbus import dll


def test_manufacturer_letters():
    # M = (c1-64)<<10 | (c2-64)<<5 | (c3-64)
    assert dll.manufacturer(0x2C2D) == "KAM"
    assert dll.manufacturer(0x1593) == "ELS"
    assert dll.manufacturer(0x6A49) == "ZRI"
    assert dll.manufacturer_code("KAM") == 0x2C2D
    assert dll.manufacturer_code("TST") == 0x5274


def test_manufacturer_bit_15_is_masked():
    assert dll.manufacturer(0x8000 | 0x2C2D) == "KAM"


def test_meter_id_is_bcd_little_endian():
    assert dll.meter_id(bytes.fromhex("78563412"), 0) == "12345678"
    # Non-BCD nibbles print as hex rather than being rejected.
    assert dll.meter_id(bytes.fromhex("0A0B0C0D"), 0) == "0d0c0b0a"


def test_media_names():
    assert dll.media_name(0x07) == "water"
    assert dll.media_name(0x16) == "cold water"
    assert dll.media_name(0x37) == "radio converter (meter side)"
    assert dll.media_name(0x3F) == "reserved"
    assert dll.media_name(0x80) == "manufacturer specific"


def test_parse_header():
    result = {}
    dll.parse_header(bytes.fromhex("2E4493157856341233037A"), result)
    assert result["id"] == "12345678"
    assert result["manufacturer"] == "ELS"
    assert result["version"] == 0x33
    assert result["device_type"] == 3
    assert result["media"] == "gas"
    assert result["c_field"] == 0x44
