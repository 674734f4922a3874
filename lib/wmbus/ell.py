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
from .compat import aes_ecb_encrypt
from .security import xor

# CI -> (bytes after CI up to and including SN, offset of SN after CI or -1)
LAYOUT = {0x8C: (2, -1), 0x8D: (6, 2), 0x8E: (10, -1), 0x8F: (14, 12)}

_CC_MASK = const(0xED)  # clears H (0x10) and R (0x02)

ENC_NONE = const(0)
ENC_AES_CTR = const(1)


def payload_crc_ok(buf, crc_pos, end):
    return crc16(buf, crc_pos + 2, end) == buf[crc_pos] | (buf[crc_pos + 1] << 8)


def counter_blocks(frame, cc, sn_pos, n):
    """The CTR counter blocks for n payload bytes: M | A | CC' | SN | FN=0 | BC=0,1,2..."""
    block = bytearray(16)
    block[0:8] = frame[2:10]
    block[8] = cc & _CC_MASK
    block[9:13] = frame[sn_pos : sn_pos + 4]
    blocks = (n + 15) >> 4
    counters = bytearray(bytes(block) * blocks)
    for i in range(1, blocks):
        counters[16 * i + 15] = i
    return counters


def decrypt(key, frame, cc, sn_pos, crc_pos, end):
    """Payload (CRC field to end) decrypted with AES-CTR; check it with its payload CRC."""
    n = end - crc_pos
    keystream = aes_ecb_encrypt(key, counter_blocks(frame, cc, sn_pos, n))
    return xor(frame[crc_pos:end], keystream)
