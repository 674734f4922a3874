"""CRC-16/EN-13757 (EN 13757-4 §12.4.3 / protocol.md §7).

Polynomial 0x3D65, init 0, not reflected, final XOR 0xFFFF. Used for the data-link block CRCs
(sent big-endian), the ELL payload CRC and the compact-frame signatures (little-endian).
A 256-entry table turns the per-bit loop into one lookup per byte; on MicroPython the loop
itself runs as viper machine code where the port can compile it (compat.native).
"""

from .compat import native


def _make_table():
    table = []
    for byte in range(256):
        crc = byte << 8
        for _ in range(8):
            crc = ((crc << 1) ^ 0x3D65) if crc & 0x8000 else (crc << 1)
        table.append(crc & 0xFFFF)
    return tuple(table)


# 512 bytes, big-endian pairs: a tuple of ints would cost 2 KB of heap on a 64-bit port.
TABLE_BYTES = bytes(b for v in _make_table() for b in (v >> 8, v & 0xFF))

_native = native("crc_update")


def crc_update_bytecode(crc, data, start=0, end=None):
    """Running CRC over data[start:end] without the final XOR (start with crc = 0)."""
    if end is None:
        end = len(data)
    t = TABLE_BYTES
    for i in range(start, end):
        j = ((crc >> 8) ^ data[i]) << 1
        crc = ((crc << 8) & 0xFF00) ^ (t[j] << 8) ^ t[j + 1]
    return crc


def crc_update_native(crc, data, start=0, end=None):
    if end is None:
        end = len(data)
    if start < 0 or end > len(data) or start > end:  # the machine code does not check bounds
        raise IndexError("crc range")
    return _native(crc, data, start, end, TABLE_BYTES)


crc_update = crc_update_bytecode if _native is None else crc_update_native


def crc16(data, start=0, end=None):
    """CRC-16/EN-13757 over data[start:end] (no copy is made)."""
    return crc_update(0, data, start, end) ^ 0xFFFF


def crc16_bytecode(data, start=0, end=None):
    return crc_update_bytecode(0, data, start, end) ^ 0xFFFF
