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


def _ci_table():
    # CI -> header << 4 | application content, EN 13757-7:2018 Table 2 (meter to collector).
    # Built into 256 bytes once: a dict of tuples would cost kilobytes of heap on the device.
    t = bytearray(b"\xff" * 256)
    for ci, hdr, apl in (
        (0x66, HDR_NONE, APL_RECORDS), (0x67, HDR_SHORT, APL_RECORDS), (0x68, HDR_LONG, APL_RECORDS),
        (0x69, HDR_NONE, APL_FORMAT), (0x6A, HDR_SHORT, APL_FORMAT), (0x6B, HDR_LONG, APL_FORMAT),
        (0x6E, HDR_SHORT, APL_ERROR), (0x6F, HDR_LONG, APL_ERROR), (0x70, HDR_NONE, APL_ERROR),
        (0x71, HDR_NONE, APL_ALARM), (0x74, HDR_SHORT, APL_ALARM), (0x75, HDR_LONG, APL_ALARM),
        (0x72, HDR_LONG, APL_RECORDS), (0x73, HDR_LONG, APL_COMPACT),
        (0x78, HDR_NONE, APL_RECORDS), (0x79, HDR_NONE, APL_COMPACT),
        (0x7A, HDR_SHORT, APL_RECORDS), (0x7B, HDR_SHORT, APL_COMPACT),
        (0x7C, HDR_LONG, APL_OPAQUE), (0x7D, HDR_SHORT, APL_OPAQUE),  # DLMS
        (0x7E, HDR_LONG, APL_OPAQUE), (0x7F, HDR_SHORT, APL_OPAQUE),  # OBIS
        (0x8A, HDR_SHORT, APL_NONE), (0x8B, HDR_LONG, APL_NONE),
        (0x9E, HDR_SHORT, APL_OPAQUE), (0x9F, HDR_LONG, APL_OPAQUE),
        (0xC0, HDR_LONG, APL_OPAQUE), (0xC1, HDR_SHORT, APL_OPAQUE), (0xC2, HDR_LONG, APL_OPAQUE),
        (0xC3, HDR_LONG, APL_OPAQUE), (0xC4, HDR_SHORT, APL_OPAQUE), (0xC5, HDR_LONG, APL_OPAQUE),
    ):
        t[ci] = (hdr << 4) | apl
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
