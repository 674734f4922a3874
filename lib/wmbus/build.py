"""Telegram builder: the decoder's layers run backwards, for tests, simulators and `wmbus build`.

    frame = build.telegram(build.records(("0413", 6408), ("02FF20", 0x71)),
                           manufacturer="KAM", meter_id="12345678", version=0x1B,
                           device_type=0x16, ci=0x78, ell=0x8D, key=KEY)
    on_air = build.frame_a(frame)      # or frame_b(frame), t1(frame) for 3-of-6 chips

Frames come back without DLL CRCs and with L counting the bytes after it, the form the decoder
and the shared vectors use. Portable (CPython and MicroPython); not needed on the device.
"""

import struct

from . import phy
from .crc import crc16, crc_update
from .dll import manufacturer_code
from .records import header_end
from .security import cbc_encrypt, cmac, ctr_crypt, kdf_a, mode5_iv
from . import tpl as _tpl

_DATA_SIZE = (0, 1, 2, 3, 4, 4, 6, 8, 0, 1, 2, 3, 4, 0, 6, 0)


def _bytes(h):
    if isinstance(h, str):
        return bytes.fromhex(h.replace(" ", ""))
    return bytes(h)


def encode_value(data_field, value):
    """Raw value -> data bytes for a DIF data field (integers little-endian two's complement,
    BCD with 0xF top nibble for negatives, real32, LVAR for str/bytes)."""
    size = _DATA_SIZE[data_field]
    if data_field in (0x1, 0x2, 0x3, 0x4, 0x6, 0x7):
        return (value & ((1 << (8 * size)) - 1)).to_bytes(size, "little")
    if data_field == 0x5:
        return struct.pack("<f", value)
    if data_field in (0x9, 0xA, 0xB, 0xC, 0xE):
        digits = "%0*d" % (2 * size, abs(value))
        if len(digits) > 2 * size:
            raise ValueError("value too large for BCD%d" % (2 * size))
        raw = bytes(reversed(bytes.fromhex(digits)))
        if value < 0:
            raw = raw[:-1] + bytes((raw[-1] | 0xF0,))
        return raw
    if data_field == 0xD:
        if isinstance(value, str):
            text = bytes(reversed(value.encode()))
            if len(text) > 0xBF:
                raise ValueError("LVAR text is at most 191 bytes")
            return bytes((len(text),)) + text
        if len(value) > 15:
            raise ValueError("LVAR binary is at most 15 bytes here (LVAR 0xE0-0xEF)")
        return bytes((0xE0 + len(value),)) + bytes(value)
    return b""


def record(header, value=None):
    """One data record: header = DIB+VIB (hex or bytes), value = the raw (unscaled) value."""
    hdr = _bytes(header)
    return hdr + encode_value(hdr[0] & 0x0F, value)


def records(*items):
    """records(("0413", 6408), ("02FF20", 0x71), ...) -> APL bytes."""
    return b"".join(record(h, v) for h, v in items)


def format_signature(headers):
    """Annex G format signature of a list of DIB+VIB headers."""
    crc = 0
    for h in headers:
        crc = crc_update(crc, _bytes(h))
    return crc ^ 0xFFFF


def compact(*items):
    """Compact-frame APL (after CI 0x79/0x7B/0x73): signature | full-frame CRC | data."""
    headers = [_bytes(h) for h, _ in items]
    full = records(*items)
    data = b"".join(encode_value(h[0] & 0x0F, v) for h, (_, v) in zip(headers, items))
    sig = format_signature(headers)
    ffcrc = crc16(full)
    return bytes((sig & 0xFF, sig >> 8, ffcrc & 0xFF, ffcrc >> 8)) + data


def split_headers(apl):
    """The DIB+VIB headers of a plain APL (helper for tests of compact frames)."""
    out = []
    p = 0
    while p < len(apl):
        h = header_end(apl, p, len(apl))
        out.append(apl[p:h])
        p = h + _DATA_SIZE[apl[p] & 0x0F]
    return out


def address(manufacturer, meter_id, version, device_type):
    """M(2) ID(4) version type in DLL order."""
    m = manufacturer_code(manufacturer)
    return bytes((m & 0xFF, m >> 8)) + bytes(reversed(bytes.fromhex(meter_id))) + bytes((version, device_type))


def telegram(apl=b"", manufacturer="KAM", meter_id="12345678", version=1, device_type=7,
             c_field=0x44, ci=0x7A, access_number=0, status=0, mode=0, key=None,
             ell=None, ell_cc=0x20, ell_access_number=None, ell_session=0x123,
             ell_encrypt=None, afl_counter=1, long_address=None, plaintext_encrypted=False,
             blocks=None):
    """Build a link-layer frame (L first, no CRCs).

    ci: the TPL CI (0x7A short, 0x72 long, 0x78/0x79 none, ...); mode: TPL security mode
    0, 5 or 7 (key needed unless plaintext_encrypted, which sets the mode bits but leaves the
    payload plain, as some receivers deliver it). ell: None or 0x8C-0x8F; its AES-CTR is used
    when a key is given (ell_encrypt=False forces ENC = 0). long_address: (manufacturer, id,
    version, type) of the meter in a long TPL header (radio adapters); defaults to the DLL's.
    """
    dll_addr = address(manufacturer, meter_id, version, device_type)
    hdr = _tpl.CI[ci] >> 4 if _tpl.CI[ci] != _tpl.NOT_TPL else _tpl.HDR_NONE
    ident = dll_addr
    tpdu = bytearray((ci,))
    if hdr == _tpl.HDR_LONG:
        la = long_address or (manufacturer, meter_id, version, device_type)
        ident = address(*la)
        tpdu += ident[2:6] + ident[0:2] + ident[6:8]
    afl = b""
    payload = bytes(apl)
    if hdr != _tpl.HDR_NONE:
        if mode in (5, 7):
            body = b"\x2f\x2f" + payload
            body += b"\x2f" * (-len(body) % 16)
            n = len(body) // 16 if blocks is None else blocks
            cfg = (mode << 8) | (n << 4)
            ext = b""
            if mode == 7:
                ext = b"\x10"  # CFG-EXT: KDF-A, key id 0
            if plaintext_encrypted:
                enc = body
            elif mode == 5:
                enc = cbc_encrypt(key, mode5_iv(ident, access_number), body)
            else:
                counter = afl_counter.to_bytes(4, "little")
                enc = cbc_encrypt(kdf_a(key, 0, counter, ident[2:6]), bytes(16), body)
            tpdu += bytes((access_number, status, cfg & 0xFF, cfg >> 8)) + ext + enc
            if mode == 7:
                counter = afl_counter.to_bytes(4, "little")
                mcl = 0x25  # counter present, AES-CMAC truncated to 8 bytes
                mac = cmac(kdf_a(key, 1, counter, ident[2:6]), bytes((mcl,)) + counter + tpdu)[:8]
                fcl = 0x2C00  # MCLP | MCRP | MACP, unfragmented
                fields = bytes((fcl & 0xFF, fcl >> 8, mcl)) + counter + mac
                afl = bytes((0x90, len(fields))) + fields
        else:
            tpdu += bytes((access_number, status, 0, 0)) + payload
    else:
        tpdu += payload
    rest = afl + bytes(tpdu)
    if ell is not None:
        acc = access_number if ell_access_number is None else ell_access_number
        head = bytes((ell, ell_cc, acc))
        if ell >= 0x8E:
            head += dll_addr  # receiver address: any 8 bytes; the meter's own here
        if ell in (0x8D, 0x8F):
            encrypt = key is not None if ell_encrypt is None else ell_encrypt
            sn = (ell_session & 0x1FFFFFFF) | ((1 << 29) if encrypt else 0)
            snb = sn.to_bytes(4, "little")
            c = crc16(rest)
            plain = bytes((c & 0xFF, c >> 8)) + rest
            if encrypt:
                prefix = dll_addr + bytes((ell_cc & 0xED,)) + snb + b"\x00\x00"
                plain = ctr_crypt(key, prefix, plain)
            rest = head + snb + plain
        else:
            rest = head + rest
    body = bytes((c_field,)) + dll_addr + rest
    if len(body) > 255:
        raise ValueError("telegram too long: L would be %d" % len(body))
    return bytes((len(body),)) + body


def frame_a(frame):
    """Frame format A on air: the frame (L first, no CRCs) with its block CRCs."""
    out = bytearray(frame[:10])
    c = crc16(frame, 0, 10)
    out.append(c >> 8)
    out.append(c & 0xFF)
    for i in range(10, len(frame), 16):
        end = min(i + 16, len(frame))
        out += frame[i:end]
        c = crc16(frame, i, end)
        out.append(c >> 8)
        out.append(c & 0xFF)
    return bytes(out)


def frame_b(frame):
    """Frame format B on air: CRCs added, L rewritten to count them."""
    body = bytearray(frame)
    n = len(body)  # bytes including L, without CRCs
    if n <= 126:
        body[0] = n + 1  # n - 1 data bytes after L, plus 2 CRC bytes
        c = crc16(body)
        body.append(c >> 8)
        body.append(c & 0xFF)
        return bytes(body)
    body[0] = n + 3
    out = bytearray(body[:126])
    c = crc16(out)
    out.append(c >> 8)
    out.append(c & 0xFF)
    rest = body[126:]
    out += rest
    c = crc16(rest)
    out.append(c >> 8)
    out.append(c & 0xFF)
    return bytes(out)


def encode_3of6(data):
    """Encode bytes to 3-of-6 chips, with the postamble (0101 nibble or a 0x55 byte)."""
    e = phy.ENCODE_3OF6
    out = bytearray()
    acc = 0
    bits = 0
    for byte in data:
        acc = (acc << 12) | (e[byte >> 4] << 6) | e[byte & 15]
        bits += 12
        while bits >= 8:
            bits -= 8
            out.append((acc >> bits) & 0xFF)
        acc &= (1 << bits) - 1
    if bits:  # 4 chips left: pad with the 0101 postamble
        out.append(((acc << 4) | 0x5) & 0xFF)
    else:
        out.append(0x55)
    return bytes(out)


def t1(frame):
    """T1 on air: frame format A in 3-of-6 chips, with the postamble."""
    return encode_3of6(frame_a(frame))
