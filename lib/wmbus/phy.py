"""Physical coding and data-link framing (EN 13757-4 §9 and §12).

* 3-of-6 coding of T-mode (radio.md §3.1): each nibble becomes a 6-chip code of weight 3.
* Frame format A (block 1 = L..A + CRC, then 16-byte blocks + CRC; L excludes CRCs) and
  frame format B (one CRC at the end of block 2, another after block 3 when L > 127;
  L includes CRCs). DLL CRCs are sent most significant byte first (protocol.md §1.1).

The encoders (adding CRCs, 3-of-6 coding) live in build.py: the device only receives.

`strip_crcs(frame)` takes a frame that may or may not still carry its DLL CRCs and returns
(status, frame_without_crcs, format) where status is OK, CRC (the CRCs are there and one is
wrong) or TRUNCATED. L in the returned frame counts the bytes after L without CRCs.
"""

from .compat import const
from .crc import crc16

OK = const(0)
CRC = const(1)
TRUNCATED = const(2)

FORMAT_NONE = "none"  # CRCs were already removed (by a dongle, or by our radio driver)
FORMAT_A = "A"
FORMAT_B = "B"

# Nibble -> 6-bit code (radio.md §3.1 table).
ENCODE_3OF6 = b"\x16\x0d\x0e\x0b\x1c\x19\x1a\x13\x2c\x25\x26\x23\x34\x31\x32\x29"


def _decode_table():
    t = bytearray(b"\xff" * 64)
    for nibble in range(16):
        t[ENCODE_3OF6[nibble]] = nibble
    return bytes(t)


# 6-bit code -> nibble, 0xFF for the 48 codes that are not valid.
DECODE_3OF6 = _decode_table()


def size_3of6(n):
    """Number of chip bytes that carry n decoded bytes (without the postamble)."""
    return (3 * n + 1) // 2


def decode_3of6(chips, n, out=None):
    """Decode n bytes from 3-of-6 chip bytes. Returns the bytearray, or None on a bad code.

    Works on 3 chip bytes (24 chips, 4 codes, 2 decoded bytes) at a time.
    """
    if len(chips) < size_3of6(n):
        return None
    if out is None:
        out = bytearray(n)
    t = DECODE_3OF6
    j = 0
    i = 0
    while i + 1 < n:
        w = (chips[j] << 16) | (chips[j + 1] << 8) | chips[j + 2]
        a = t[w >> 18]
        b = t[(w >> 12) & 0x3F]
        c = t[(w >> 6) & 0x3F]
        d = t[w & 0x3F]
        if (a | b | c | d) & 0xF0:
            return None
        out[i] = (a << 4) | b
        out[i + 1] = (c << 4) | d
        i += 2
        j += 3
    if i < n:  # odd count: the last byte sits in 12 chips, then the 0101 postamble nibble
        w = (chips[j] << 8) | chips[j + 1]
        a = t[w >> 10]
        b = t[(w >> 4) & 0x3F]
        if (a | b) & 0xF0:
            return None
        out[i] = (a << 4) | b
    return out


def size_format_a(l_field):
    """On-air bytes of a format-A frame (L included) for a given L (radio.md §3.4)."""
    return l_field + 1 + 2 * (1 + (l_field - 9 + 15) // 16)


def size_format_b(l_field):
    return l_field + 1


def _crc_ok(frame, start, end):
    c = crc16(frame, start, end)
    return frame[end] == c >> 8 and frame[end + 1] == c & 0xFF


def strip_crcs_a(frame):
    """Format A frame with CRCs -> (status, frame without CRCs). L is unchanged."""
    n = len(frame)
    if n < 12:
        return TRUNCATED, None
    if not _crc_ok(frame, 0, 10):
        return CRC, None
    out = bytearray(frame[:10])
    i = 12
    status = OK
    while i < n:
        end = min(i + 16, n - 2)
        if end <= i:
            status = TRUNCATED
            break
        if not _crc_ok(frame, i, end):
            return CRC, bytes(out)
        out += frame[i:end]
        i = end + 2
    if len(out) < frame[0] + 1:
        status = TRUNCATED
    return status, bytes(out)


def strip_crcs_b(frame):
    """Format B frame with CRCs -> (status, frame without CRCs, L rewritten)."""
    n = len(frame)
    if n < 12:
        return TRUNCATED, None
    if n <= 128:
        if not _crc_ok(frame, 0, n - 2):
            return CRC, None
        out = bytearray(frame[: n - 2])
    else:
        if not _crc_ok(frame, 0, 126):
            return CRC, None
        if not _crc_ok(frame, 128, n - 2):
            return CRC, bytes(frame[:126])
        out = bytearray(frame[:126])
        out += frame[128 : n - 2]
    out[0] = len(out) - 1
    return OK, bytes(out)


def strip_crcs(frame):
    """Detect whether `frame` (starting at L) still has DLL CRCs, check and remove them.

    Returns (status, frame, format). The rules, in order:
    * L + 1 == len: either CRCs already removed, or format B (whose L counts its CRCs). A valid
      format-B CRC decides it (a stripped frame passes by chance with p = 2^-16 per frame).
    * len == on-air size of format A for this L: format A; its CRCs must check.
    * L + 1 < len otherwise: trailing bytes (an RSSI byte some dongles append): cut to L + 1.
    * L + 1 > len: truncated.
    """
    n = len(frame)
    if n == 0:
        return TRUNCATED, frame, FORMAT_NONE
    l_field = frame[0]
    if l_field + 1 == n:
        if n >= 12 and (_crc_ok(frame, 0, n - 2) if n <= 128 else
                        (_crc_ok(frame, 0, 126) and _crc_ok(frame, 128, n - 2))):
            status, out = strip_crcs_b(frame)
            return status, out, FORMAT_B
        return OK, frame, FORMAT_NONE
    if l_field >= 9 and n == size_format_a(l_field):
        status, out = strip_crcs_a(frame)
        return status, out, FORMAT_A
    if l_field + 1 < n:
        return OK, frame[: l_field + 1], FORMAT_NONE
    # Shorter than L says. A format-A frame cut short still has a checkable first block.
    if n >= 12 and _crc_ok(frame, 0, 10):
        status, out = strip_crcs_a(frame)
        return TRUNCATED, out, FORMAT_A
    return TRUNCATED, frame, FORMAT_NONE
