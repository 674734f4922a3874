"""Extended link layer, CI 0x8C-0x8F (EN 13757-4:2019 §13.2, protocol.md §3.5).

    8C  CC ACC
    8D  CC ACC SN(4) | PayloadCRC(2) ...   (the part after SN is AES-CTR encrypted when ENC = 1)
    8E  CC ACC M2(2) A2(6)
    8F  CC ACC M2(2) A2(6) SN(4) | PayloadCRC(2) ...

SN bits 31..29 = ENC (0 none, 1 AES-128-CTR). The counter block is
M | A (from the DLL) | CC without H and R | SN | FN = 0000 | BC, and the payload CRC
(little-endian, CRC-16/EN-13757 over every byte after it) is the only integrity check.
"""

from .compat import const
from .crc import crc16
from .security import ctr_crypt

# CI -> (bytes after CI up to and including SN, offset of SN after CI or -1)
LAYOUT = {0x8C: (2, -1), 0x8D: (6, 2), 0x8E: (10, -1), 0x8F: (14, 12)}

_CC_MASK = const(0xED)  # clears H (0x10) and R (0x02)

ENC_NONE = const(0)
ENC_AES_CTR = const(1)


def payload_crc_ok(buf, crc_pos, end):
    return crc16(buf, crc_pos + 2, end) == buf[crc_pos] | (buf[crc_pos + 1] << 8)


def counter_prefix(frame, cc, sn):
    """The first 15 bytes of the CTR counter block; the block counter BC is the 16th."""
    return bytes(frame[2:10]) + bytes((cc & _CC_MASK,)) + bytes(sn) + b"\x00\x00"


def decrypt(key, frame, cc, sn, crc_pos, end):
    """Payload (CRC field to end) decrypted; check it with payload_crc_ok."""
    return ctr_crypt(key, counter_prefix(frame, cc, sn), frame[crc_pos:end])
