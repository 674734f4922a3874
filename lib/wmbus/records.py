"""Application layer data records (EN 13757-3:2018 §6, protocol.md §4.1-4.2).

    record = DIF [DIFE...] VIF [VIFE...] data

A record header (DIB + VIB) is parsed once into a *template*: the JSON fields of the record
(quantity, unit, storage, tariff, subunit, function) plus what is needed to read its data. Meters
send the same headers in every telegram, so templates are cached by their header bytes and a
telegram is decoded by walking the data with cached templates. Compact frames (Annex G) reuse
the templates learnt from a full frame.
"""

import struct
from binascii import hexlify

from .compat import const
from .crc import crc_update
from . import vif as _vif

# DIF data field -> data bytes (LVAR and specials are handled apart).
_SIZE = b"\x00\x01\x02\x03\x04\x04\x06\x08\x00\x01\x02\x03\x04\x00\x06\x00"
# DIF data field -> how to read it.
T_NONE = const(0)
T_INT = const(1)
T_REAL = const(2)
T_BCD = const(3)
T_LVAR = const(4)
_TYPE = bytes((T_NONE, T_INT, T_INT, T_INT, T_INT, T_REAL, T_INT, T_INT,
               T_NONE, T_BCD, T_BCD, T_BCD, T_BCD, T_LVAR, T_BCD, T_NONE))

FUNCTIONS = ("instantaneous", "maximum", "minimum", "error")

MAX_EXTENSIONS = const(10)  # DIFEs and VIFEs per record, §6.3.1 / §6.4.1
# Cached record templates: about 330 bytes each on the ESP32 (600 on the 64-bit unix port).
# A Kamstrup meter uses 5-10 headers; when the cache is full it starts again.
MAX_TEMPLATES = const(32)

# Errors, as the decoder's stable `decode_error` codes.
E_TRUNCATED = "truncated"
E_BAD_RECORD = "bad_record"
# Not an error: parse() found the records ending in a short tail that is no record (see below).
TRAILING = "trailing_data"
# The longest such tail: Qundis meters (qcaloric, qwater) end some telegrams in 2 bytes
# (..046D1416B921 DD2F, ..046D1E02DE21 FED0) and an AMX unismart sends 2 bytes in clear after
# its encrypted blocks (52 08): a header whose data, or whose header itself, is cut by the end.
# wmbusmeters stops at "unexpected end of data" and keeps the records before it (src/dvparser.cc,
# parseDV, "(dvparser) warning: unexpected end of data"); we keep the tail too, as hex.
MAX_TRAILING = const(2)


def _bcd_table():
    t = bytearray(256)
    for b in range(256):
        hi, lo = b >> 4, b & 15
        t[b] = hi * 10 + lo if hi < 10 and lo < 10 else 0xFF
    return bytes(t)


_BCD = _bcd_table()


_INF = float("inf")


class RecordError(Exception):
    pass


def header_end(buf, pos, end):
    """Index just after the DIB+VIB starting at buf[pos]. Raises RecordError."""
    p = pos
    n = 0
    while buf[p] & 0x80:  # DIF/DIFE extension bits
        p += 1
        n += 1
        if n > MAX_EXTENSIONS:
            raise RecordError(E_BAD_RECORD)
        if p >= end:
            raise RecordError(E_TRUNCATED)
    p += 1
    if p >= end:
        raise RecordError(E_TRUNCATED)
    v = buf[p]
    p += 1
    if v & 0x7F == 0x7C:  # plain-text VIF
        return _plain_text_end(buf, p, end, v & 0x80)
    if v == 0x7B or v == 0x7D:  # an extension-table escape must be followed by its table byte
        raise RecordError(E_BAD_RECORD)
    n = 0
    while v & 0x80:
        if p >= end:
            raise RecordError(E_TRUNCATED)
        v = buf[p]
        p += 1
        n += 1
        if n > MAX_EXTENSIONS:
            raise RecordError(E_BAD_RECORD)
    return p


def _plain_text_end(buf, p, end, more):
    # EN 13757-3 Annex C.2 puts VIFEs before the length+ASCII, but devices also send the ASCII
    # first (protocol.md §4.6). A length byte is < 0x10 in practice and a VIFE rarely is.
    if more and p < end and buf[p] >= 0x10:
        n = 0
        while True:
            if p >= end:
                raise RecordError(E_TRUNCATED)
            v = buf[p]
            p += 1
            n += 1
            if n > MAX_EXTENSIONS:
                raise RecordError(E_BAD_RECORD)
            if not v & 0x80:
                break
        more = 0
    if p >= end:
        raise RecordError(E_TRUNCATED)
    p += 1 + buf[p]
    if p > end:
        raise RecordError(E_TRUNCATED)
    while more:
        if p >= end:
            raise RecordError(E_TRUNCATED)
        more = buf[p] & 0x80
        p += 1
    return p


def _text(raw):
    """Reversed ASCII (plain-text units, LVAR strings are sent last character first)."""
    return "".join(chr(b) if 32 <= b < 127 else "?" for b in reversed(bytes(raw)))


def _is_text(raw):
    for b in raw:
        if b < 32 or b > 126:
            return False
    return True


def make_template(hdr):
    """Header bytes (DIB+VIB, already delimited by header_end) -> template tuple.

    (record_dict, data_type, size, kind, multiplier, divisor, header_bytes, int_size)

    int_size is the data size when the record is a plain signed integer (the common case that
    parse() reads inline), else 0.
    """
    dif = hdr[0]
    data_field = dif & 0x0F
    storage = (dif >> 6) & 1
    tariff = 0
    subunit = 0
    p = 1
    n = 0
    b = dif
    while b & 0x80:
        b = hdr[p]
        storage |= (b & 0x0F) << (1 + 4 * n)
        tariff |= ((b >> 4) & 3) << (2 * n)
        subunit |= ((b >> 6) & 1) << n
        p += 1
        n += 1
    v = hdr[p]
    p += 1
    qualifiers = []
    exp_adjust = 0
    code = v & 0x7F
    more = v & 0x80
    if code == 0x7B or code == 0x7D:  # first (FB) / second (FD) extension table
        e = hdr[p]
        p += 1
        more = e & 0x80
        entry = (_vif.ext_fb if code == 0x7B else _vif.ext_fd)(e & 0x7F)
    elif code == 0x7C:  # plain text unit
        if more and hdr[p] >= 0x10:
            while True:
                e = hdr[p]
                p += 1
                exp_adjust, _ = _combine(e & 0x7F, exp_adjust, qualifiers)
                if not e & 0x80:
                    break
            more = 0
        ln = hdr[p]
        entry = ("plain_text", _text(hdr[p + 1 : p + 1 + ln]), 0, _vif.NUMBER)
        p += 1 + ln
    elif code == 0x7F:  # manufacturer specific VIF: what follows are vendor codes
        entry = ("manufacturer_specific", "", 0, _vif.MANUFACTURER)
        more = 0
    else:
        entry = _vif.primary(code)
    while more:
        e = hdr[p]
        p += 1
        more = e & 0x80
        e &= 0x7F
        if e == 0x7F:  # the rest of the VIB and the data are manufacturer specific
            qualifiers.append("manufacturer_specific")
            break
        if e == 0x7C and more:  # combinable extension table
            e2 = hdr[p]
            p += 1
            more = e2 & 0x80
            qualifiers.append(_vif.combinable_ext(e2 & 0x7F))
            continue
        exp_adjust, _ = _combine(e, exp_adjust, qualifiers)
    quantity, unit, exp, kind = entry
    if data_field == 0x0D:
        dtype, size = T_LVAR, 0
    else:
        dtype, size = _TYPE[data_field], _SIZE[data_field]
    exp += exp_adjust
    mul = 10 ** exp if exp > 0 else 1
    div = 10 ** -exp if exp < 0 else 1
    rec = {
        "dif_vif": hexlify(bytes(hdr)).decode(),
        "quantity": quantity,
        "unit": unit,
        "storage": storage,
        "tariff": tariff,
        "subunit": subunit,
        "function": FUNCTIONS[(dif >> 4) & 3],
    }
    if qualifiers:
        rec["qualifier"] = "_".join(qualifiers)
    # The slot for the value exists in the template, so that a copy of it takes the value
    # without growing its table (no second allocation per record on MicroPython).
    rec["value"] = None
    fast = size if dtype == T_INT and kind == _vif.NUMBER else 0
    return (rec, dtype, size, kind, mul, div, bytes(hdr), fast)


def _combine(e, exp_adjust, qualifiers):
    if 0x70 <= e <= 0x77:  # multiplicative correction 10^(nnn-6)
        return exp_adjust + (e & 7) - 6, None
    if e == 0x7D:  # multiplicative correction 10^3
        return exp_adjust + 3, None
    qualifiers.append(_vif.combinable(e))
    return exp_adjust, None


def bcd(buf, p, size):
    """BCD little-endian -> int; a top nibble of 0xF in the last byte means negative (§6.3.3).
    None when a digit is not decimal."""
    t = _BCD
    v = 0
    i = p + size - 1
    top = buf[i]
    neg = False
    if top >> 4 == 0xF:
        neg = True
        top &= 0x0F
    d = t[top]
    if d == 0xFF:
        return None
    v = d
    while i > p:
        i -= 1
        d = t[buf[i]]
        if d == 0xFF:
            return None
        v = v * 100 + d
    return -v if neg else v


def _date_g(b0, b1):
    # Type G: b0 = YYYDDDDD, b1 = YYYYMMMM (§A.2).
    if b0 == 0xFF and b1 == 0xFF:
        return None
    day = b0 & 0x1F
    month = b1 & 0x0F
    year = ((b0 >> 5) & 7) | ((b1 >> 1) & 0x78)
    if month > 12 and month != 15:
        return None
    ys = "*" if year == 127 else "%04d" % (2000 + year if year <= 80 else 1900 + year)
    ms = "*" if month == 15 else "%02d" % month
    ds = "*" if day == 0 else "%02d" % day
    return "%s-%s-%s" % (ys, ms, ds)


def _datetime(buf, p, size):
    if size == 4:  # type F: minute, hour, day, month/year
        b0, b1, b2, b3 = buf[p], buf[p + 1], buf[p + 2], buf[p + 3]
        if b0 & 0x80:  # IV: invalid
            return None
        y = ((b2 >> 5) & 7) | ((b3 >> 1) & 0x78)
        hy = (b1 >> 5) & 3
        year = 1900 + 100 * hy + y
        if hy == 0 and y <= 80:
            year = 2000 + y
        return "%04d-%02d-%02d %02d:%02d" % (year, b3 & 0x0F, b2 & 0x1F, b1 & 0x1F, b0 & 0x3F)
    if size == 3:  # type J: time of day
        return "%02d:%02d:%02d" % (buf[p + 2] & 0x1F, buf[p + 1] & 0x3F, buf[p] & 0x3F)
    if size == 6:  # type I: second, minute, hour, day, month/year, week
        b0, b1, b2, b3, b4 = buf[p], buf[p + 1], buf[p + 2], buf[p + 3], buf[p + 4]
        if b1 & 0x80:
            return None
        y = ((b3 >> 5) & 7) | ((b4 >> 1) & 0x78)
        year = 2000 + y if y <= 80 else 1900 + y
        return "%04d-%02d-%02d %02d:%02d:%02d" % (
            year, b4 & 0x0F, b3 & 0x1F, b2 & 0x1F, b1 & 0x3F, b0 & 0x3F)
    if size == 2:
        return _date_g(buf[p], buf[p + 1])
    return None


def read_value(buf, p, end, tpl):
    """Read the data of one record at buf[p]. Returns (value, next_pos). Raises RecordError."""
    dtype = tpl[1]
    size = tpl[2]
    if dtype == T_LVAR:
        v, q = _read_lvar(buf, p, end)
        if not isinstance(v, int) or tpl[3] != _vif.NUMBER:
            return v, q
        return v * tpl[4] / tpl[5] if tpl[4] != 1 or tpl[5] != 1 else v, q
    q = p + size
    if q > end:
        raise RecordError(E_TRUNCATED)
    kind = tpl[3]
    if dtype == T_INT:
        if kind == _vif.DATE or kind == _vif.DATETIME:
            return _datetime(buf, p, size), q
        v = int.from_bytes(buf[p:q], "little")
        if kind != _vif.NUMBER:
            return v, q
        if v >> (8 * size - 1):  # type B: two's complement
            v -= 1 << (8 * size)
    elif dtype == T_BCD:
        v = bcd(buf, p, size)
        if v is None or kind != _vif.NUMBER:
            return v, q
    elif dtype == T_REAL:
        v = struct.unpack("<f", buf[p:q])[0]
        if v != v or v in (_INF, -_INF):  # NaN and infinities have no JSON form
            return None, q
    else:
        return None, q
    if tpl[4] != 1:
        v *= tpl[4]
    if tpl[5] != 1:
        v /= tpl[5]
    return v, q


def _read_lvar(buf, p, end):
    if p >= end:
        raise RecordError(E_TRUNCATED)
    lv = buf[p]
    p += 1
    if lv < 0xC0:
        n = lv
    elif lv < 0xE0:
        n = lv & 0x0F
        if n > 9:
            raise RecordError(E_BAD_RECORD)
    elif lv < 0xF0:
        n = lv - 0xE0
    elif lv < 0xF5:
        n = 4 * (lv - 0xEC)
    elif lv == 0xF5:
        n = 48
    elif lv == 0xF6:
        n = 64
    else:
        raise RecordError(E_BAD_RECORD)
    q = p + n
    if q > end:
        raise RecordError(E_TRUNCATED)
    if lv < 0xC0:
        # A string, sent last character first; binary content (compact profiles) stays hex.
        if _is_text(buf[p:q]):
            return _text(buf[p:q]), q
        return hexlify(bytes(buf[p:q])).decode(), q
    if lv < 0xE0:
        v = bcd(buf, p, n) if n else 0
        if v is not None and lv >= 0xD0:
            v = -v
        return v, q
    return hexlify(bytes(buf[p:q])).decode(), q


def parse(buf, pos, end, records, cache, layout=None):
    """Decode the records in buf[pos:end] into `records` (a list of dicts).

    cache: dict header -> template, shared across telegrams (bounded here). A 2-byte header
    (no DIFE, no VIFE: most records) is keyed by the integer DIF << 8 | VIF, which costs no
    allocation; longer ones by their bytes.
    layout: when a list, the template of each record is appended (to learn the compact format).
    Returns (error_code or None, manufacturer_data_hex or None, more_follows).

    A tail of at most MAX_TRAILING bytes that cannot hold a complete record (its header or its
    data would run past `end`), after at least one record of this call was decoded, is no
    error: then the result is (TRAILING, tail_hex, False). Any other cut record is E_TRUNCATED:
    a longer tail, or one alone, may be a real record cut short, and is not accepted.
    """
    append = records.append
    first = len(records)
    while pos < end:
        dif = buf[pos]
        if dif == 0x2F:  # idle filler
            pos += 1
            continue
        if dif & 0x0F == 0x0F:
            if dif == 0x0F or dif == 0x1F:  # manufacturer specific data to the end
                return None, hexlify(bytes(buf[pos + 1 : end])).decode(), dif == 0x1F
            return E_BAD_RECORD, None, False
        h = pos + 2
        v = buf[pos + 1] if h <= end else 0xFF
        if not (dif | v) & 0x80 and not 0x7B <= v <= 0x7D:  # DIF VIF, no escapes: 2 bytes
            key = (dif << 8) | v
        else:
            try:
                h = header_end(buf, pos, end)
            except RecordError as e:
                return _cut(buf, pos, end, e.args[0], len(records) > first)
            key = bytes(buf[pos:h])
        tpl = cache.get(key)
        if tpl is None:
            tpl = _new_template(buf, pos, h, key, cache)
        n = tpl[7]
        if n:  # plain signed integer, read inline (without a slice for the usual sizes)
            if h + n > end:
                return _cut(buf, pos, end, E_TRUNCATED, len(records) > first)
            pos = h + n
            if n == 4:
                value = buf[h] | (buf[h + 1] << 8) | (buf[h + 2] << 16) | (buf[h + 3] << 24)
            elif n == 2:
                value = buf[h] | (buf[h + 1] << 8)
            elif n == 1:
                value = buf[h]
            else:
                value = int.from_bytes(buf[h:pos], "little")
            if value >> (8 * n - 1):
                value -= 1 << (8 * n)
            if tpl[4] != 1:
                value *= tpl[4]
            if tpl[5] != 1:
                value /= tpl[5]
        else:
            try:
                value, pos = read_value(buf, h, end, tpl)
            except RecordError as e:
                return _cut(buf, pos, end, e.args[0], len(records) > first)
        rec = tpl[0].copy()
        rec["value"] = value
        append(rec)
        if layout is not None:
            layout.append(tpl)
    return None, None, False


def _cut(buf, pos, end, err, decoded):
    """parse()'s answer for a record at buf[pos] that cannot be decoded (error `err`)."""
    if err == E_TRUNCATED and decoded and end - pos <= MAX_TRAILING:
        return TRAILING, hexlify(bytes(buf[pos:end])).decode(), False
    return err, None, False


def signature(templates):
    """Compact-frame format signature: CRC over the concatenated DIB+VIB bytes (Annex G)."""
    crc = 0
    for tpl in templates:
        crc = crc_update(crc, tpl[6])
    return crc ^ 0xFFFF


def format_bytes(templates):
    """The format of a full frame as Annex G defines it: its DIB+VIB bytes, concatenated."""
    return b"".join([tpl[6] for tpl in templates])


def template_at(buf, pos, end, cache):
    """(template, end of header) of the record header at buf[pos]. Raises RecordError."""
    h = header_end(buf, pos, end)
    key = (buf[pos] << 8) | buf[pos + 1] if h == pos + 2 else bytes(buf[pos:h])
    tpl = cache.get(key)
    if tpl is None:
        tpl = _new_template(buf, pos, h, key, cache)
    return tpl, h


def _new_template(buf, pos, h, key, cache):
    """A template for the header at buf[pos:h], cached under `key` (the cache is bounded)."""
    tpl = make_template(bytes(buf[pos:h]))
    if len(cache) >= MAX_TEMPLATES:
        cache.clear()
    cache[key] = tpl
    return tpl


def format_templates(fmt, cache):
    """The templates of a format (DIB+VIB bytes), in order. Raises RecordError."""
    out = []
    q = 0
    n = len(fmt)
    while q < n:
        tpl, q = template_at(fmt, q, n, cache)
        out.append(tpl)
    return tuple(out)


def parse_compact(buf, pos, end, templates, records, full_crc):
    """Decode compact-frame data with the templates of its format.

    The full-frame CRC (headers and data interleaved) must match `full_crc`.
    Returns an error code or None.
    """
    crc = 0
    for tpl in templates:
        try:
            value, q = read_value(buf, pos, end, tpl)
        except RecordError as e:
            return e.args[0]
        crc = crc_update(crc_update(crc, tpl[6]), buf, pos, q)
        pos = q
        rec = tpl[0].copy()
        rec["value"] = value
        records.append(rec)
    if crc ^ 0xFFFF != full_crc:
        return "compact_crc"
    return None
