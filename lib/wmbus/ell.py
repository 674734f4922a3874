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
from .compat import aes_ecb_encrypt, native
from .security import xor

# CI -> (bytes after CI up to and including SN, offset of SN after CI or -1)
LAYOUT = {0x8C: (2, -1), 0x8D: (6, 2), 0x8E: (10, -1), 0x8F: (14, 12)}

_CC_MASK = const(0xED)  # clears H (0x10) and R (0x02)

ENC_NONE = const(0)
ENC_AES_CTR = const(1)


def payload_crc_ok(buf, crc_pos, end):
    return crc16(buf, crc_pos + 2, end) == buf[crc_pos] | (buf[crc_pos + 1] << 8)


# Preallocated: counter blocks and keystream for the longest payload (L = 255: 16 blocks).
_COUNTERS = bytearray(256)
_KEYSTREAM = bytearray(256)
_xor_native = native("xor_into")


def xor_into(dst, off, src, n):
    """dst[off:off+n] ^= src[:n], in place."""
    if off < 0 or off + n > len(dst) or n > len(src):  # the machine code checks no bounds
        raise IndexError("xor range")
    if _xor_native is not None:
        _xor_native(dst, off, src, n)
    else:
        dst[off : off + n] = xor(dst[off : off + n], src)


def crypt_in_place(key, frame, cc, sn_pos, crc_pos, end):
    """AES-CTR over frame[crc_pos:end] (a bytearray), in place: it decrypts and, applied twice,
    restores. Counter block i = M | A | CC' | SN | FN = 0000 | BC = i; all blocks are
    encrypted in one ECB call into a preallocated keystream."""
    n = end - crc_pos
    blocks = (n + 15) >> 4
    c = _COUNTERS
    c[0:8] = frame[2:10]
    c[8] = cc & _CC_MASK
    c[9:13] = frame[sn_pos : sn_pos + 4]
    c[13] = c[14] = c[15] = 0
    mv = memoryview(c)
    for i in range(1, blocks):
        mv[16 * i : 16 * i + 15] = mv[0:15]
        c[16 * i + 15] = i
    size = 16 * blocks
    aes_ecb_encrypt(key, mv[:size], memoryview(_KEYSTREAM)[:size])
    xor_into(frame, crc_pos, _KEYSTREAM, n)
