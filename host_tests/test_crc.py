"""CRC-16/EN-13757 (EN 13757-4 §12.4.3; parameters as in the CRC RevEng catalogue)."""

from wmbus.crc import crc16


def test_check_value():
    # Catalogue check value: CRC of the ASCII digits "123456789".
    assert crc16(b"123456789") == 0xC2B7


def test_empty_input_is_final_xor():
    assert crc16(b"") == 0xFFFF


def test_residue():
    # A message followed by its CRC (MSB first, complemented) leaves the catalogue residue.
    msg = b"123456789"
    c = crc16(msg)
    assert crc16(msg + bytes((c >> 8, c & 0xFF))) ^ 0xFFFF == 0xA366


def test_range_arguments_do_not_copy_semantics():
    data = b"xx123456789yy"
    assert crc16(data, 2, 11) == 0xC2B7


def test_block_crc_of_oms_annex_n_2_1():
    # OMS Vol.2 Annex N.2.1, first block (L..A) of the frame-A telegram: CRC 0x3363.
    block = bytes.fromhex("2E449315785634123303")
    assert crc16(block) == 0x3363


def test_native_and_bytecode_loops_agree():
    from wmbus import crc

    data = bytes((i * 73 + 5) & 0xFF for i in range(300))
    for start, end in ((0, 0), (0, 1), (3, 300), (10, 43)):
        assert crc.crc16(data, start, end) == crc.crc16_bytecode(data, start, end)
    assert crc.crc16(memoryview(data), 1, 9) == crc.crc16_bytecode(data, 1, 9)
    assert crc.crc16(bytearray(data)) == crc.crc16_bytecode(data)


def test_native_loop_rejects_out_of_range():
    from wmbus import crc

    try:
        crc.crc16(b"abc", 0, 4)
        ok = False
    except IndexError:
        ok = True
    assert ok
