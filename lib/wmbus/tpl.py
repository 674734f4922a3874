"""Transport layer: CI field, TPL headers and security modes (EN 13757-7:2018 §7-9,
protocol.md §2-3).

    none   (0x78, 0x79, ...)  records follow the CI
    short  (0x7A, 0x7B, ...)  ACC STS CFG(2) [CFG-EXT]
    long   (0x72, 0x73, ...)  ID(4) M(2) version type ACC STS CFG(2) [CFG-EXT]

Security modes handled: 0 (none), 5 (AES-CBC, IV from M/A/ACC, 2F2F check) and 7 (AES-CBC with
zero IV, keys from KDF-A, MAC in the AFL). Others are reported as unsupported.
"""

from .compat import const
from . import afl as _afl
from .security import cbc_decrypt, kdf_a, mode5_iv

HDR_NONE = const(0)
HDR_SHORT = const(1)
HDR_LONG = const(2)

# What the application layer after the header holds.
APL_RECORDS = const(0)
APL_COMPACT = const(1)
APL_FORMAT = const(2)
APL_NONE = const(3)
APL_ALARM = const(4)
APL_ERROR = const(5)
APL_OPAQUE = const(6)  # known header, content (DLMS, OBIS, image transfer...) not decoded here

NOT_TPL = const(0xFF)


# CI, header << 4 | application content: EN 13757-7:2018 Table 2 (meter to collector).
# 0x66-0x68 response of selected application, 0x69-0x6B format frames, 0x6E-0x70 application
# errors, 0x71/0x74/0x75 alarms, 0x72/0x78/0x7A full records, 0x73/0x79/0x7B compact frames,
# 0x7C-0x7F DLMS and OBIS, 0x8A/0x8B no application data, 0x9E/0x9F specific usage,
# 0xC0-0xC5 image and security information transfer. Bytes rather than a dict of tuples:
# a few hundred bytes of heap instead of kilobytes.
_CI_SPEC = (
    b"\x66\x00\x67\x10\x68\x20\x69\x02\x6a\x12\x6b\x22\x6e\x15\x6f\x25\x70\x05"
    b"\x71\x04\x74\x14\x75\x24\x72\x20\x73\x21\x78\x00\x79\x01\x7a\x10\x7b\x11"
    b"\x7c\x26\x7d\x16\x7e\x26\x7f\x16\x8a\x13\x8b\x23\x9e\x16\x9f\x26"
    b"\xc0\x26\xc1\x16\xc2\x26\xc3\x26\xc4\x16\xc5\x26"
)


def _ci_table():
    t = bytearray(b"\xff" * 256)
    for i in range(0, len(_CI_SPEC), 2):
        t[_CI_SPEC[i]] = _CI_SPEC[i + 1]
    return bytes(t)


CI = _ci_table()

HEADER_SIZE = (0, 4, 12)


def security_mode(cfg):
    return (cfg >> 8) & 0x1F


def decrypt(buf, p, end, cfg, key, ident, access_number, afl, tpdu_start):
    """Decrypt the encrypted part of a TPL payload in place.

    buf is a bytearray; p the first byte after CFG. ident = M(2) ID(4) version type of the meter
    (DLL order). Returns (error or None, position of the first plaintext byte).
    """
    mode = (cfg >> 8) & 0x1F
    if mode == 0:
        return None, p, 0
    if mode == 5:
        blocks = (cfg >> 4) & 0x0F
        n = blocks * 16 if blocks else (end - p) & ~15
        if p + n > end:
            return "truncated", p, 0
        if n == 0 or (buf[p] == 0x2F and buf[p + 1] == 0x2F):
            return None, p, 0  # already plaintext (a replay or a receiver that decrypted it)
        if key is None:
            return "no_key", p, 0
        plain = cbc_decrypt(key, mode5_iv(ident, access_number), buf[p : p + n])
        if plain[0] != 0x2F or plain[1] != 0x2F:
            return "decrypt_failed", p, 0
        buf[p : p + n] = plain
        return None, p, n
    if mode == 7:
        if p >= end:
            return "truncated", p, 0
        cfg_ext = buf[p]
        p += 1
        counter = None
        if cfg & 0x2000:  # Z: a TPL message counter follows the CFG-EXT
            counter = bytes(buf[p : p + 4])
            p += 4
        n = ((cfg >> 4) & 0x0F) * 16
        if p + n > end:
            return "truncated", p, 0
        if n == 0 or (buf[p] == 0x2F and buf[p + 1] == 0x2F):
            return None, p, 0
        if key is None:
            return "no_key", p, 0
        if (cfg_ext >> 4) & 3 != 1:  # only KDF-A is defined for meter-to-collector keys
            return "unsupported_security", p, 0
        if afl is None or "mac" not in afl:
            return "mac_failed", p, 0
        counter = afl.get("mcr", counter)
        if counter is None:
            return "mac_failed", p, 0
        meter_id = ident[2:6]
        if not _afl.mac_ok(kdf_a(key, 1, counter, meter_id), afl, buf[tpdu_start:end]):
            return "mac_failed", p, 0
        plain = cbc_decrypt(kdf_a(key, 0, counter, meter_id), bytes(16), buf[p : p + n])
        if plain[0] != 0x2F or plain[1] != 0x2F:
            return "decrypt_failed", p, 0
        buf[p : p + n] = plain
        return None, p, n
    return "unsupported_security", p, 0
