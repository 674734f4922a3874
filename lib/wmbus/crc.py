"""CRC-16/EN-13757 (EN 13757-4 §12.4.3 / protocol.md §7).

Polynomial 0x3D65, init 0, not reflected, final XOR 0xFFFF. Used for the data-link block CRCs
(sent big-endian), the ELL payload CRC and the compact-frame signatures (little-endian).
A 256-entry table turns the per-bit loop into one lookup per byte.
"""


def _make_table():
    table = []
    for byte in range(256):
        crc = byte << 8
        for _ in range(8):
            crc = ((crc << 1) ^ 0x3D65) if crc & 0x8000 else (crc << 1)
        table.append(crc & 0xFFFF)
    return tuple(table)


TABLE = _make_table()


def crc16(data, start=0, end=None):
    """CRC-16/EN-13757 over data[start:end] (no copy is made)."""
    if end is None:
        end = len(data)
    t = TABLE
    crc = 0
    for i in range(start, end):
        crc = ((crc << 8) & 0xFF00) ^ t[(crc >> 8) ^ data[i]]
    return crc ^ 0xFFFF
