"""The decoder: one telegram in, one JSON-ready dict out, never an exception.

Layer by layer (each module's docstring names its clause):
    phy (CRCs, frame A/B) -> dll (L C M A) -> ell (0x8C-0x8F, AES-CTR) -> afl (0x90, MAC)
    -> tpl (CI, header, security modes 5/7) -> records (DIF/VIF) or compact frame.

A Decoder keeps only state that outlives one telegram: the record templates (a cache) and the
compact-frame formats learnt from full frames. Keys are used, never stored in a result.
"""

from binascii import hexlify, unhexlify

from . import afl as _afl
from . import dll, drivers, ell, phy, records, tpl
from .crc import crc16

# Compact-frame formats learnt from full frames, and the longest layout worth learning: a
# Kamstrup compact format has 5 to 15 records. Bounded so that a stream of garbage that happens
# to parse cannot fill the heap (each layout keeps its templates alive).
MAX_FORMATS = 16
MAX_LAYOUT = 24
MAX_COMPACT_TEMPLATES = 8


def _key_bytes(meter_id, key):
    if isinstance(key, str):
        try:
            key = unhexlify(key.replace(" ", ""))
        except Exception:
            key = b""
    if not isinstance(key, (bytes, bytearray)) or len(key) != 16:
        # Name the meter, never the key.
        raise ValueError("key for meter %s must be 16 bytes (32 hex digits)" % meter_id)
    return bytes(key)


class Decoder:
    def __init__(self, keys=None):
        self.keys = {}
        for meter_id, key in (keys or {}).items():
            self.keys[str(meter_id).lower()] = _key_bytes(meter_id, key)
        self.templates = {}
        self.formats = {}  # (kind, signature) -> DIB+VIB bytes of the full frame
        self._format_order = []  # keys of self.formats, oldest first
        self._compact_templates = {}  # the formats in use, as templates (a small cache)

    def decode(self, frame, trace=None):
        """Decode a link-layer frame (bytes starting at L, with or without DLL CRCs, or a wired
        M-Bus long frame 68 L L 68). Returns a dict; `decode_error` is set only on a fault.

        trace: optional list; when given, (start, end, layer, field, meaning) tuples describing
        the bytes of the CRC-free frame are appended (used by `wmbus explain`). Entries of layer
        "frame" carry, instead of a meaning, the plaintext of a part that was decrypted.
        """
        # Every key a telegram usually fills, up front: the schema is stable for consumers, and
        # on MicroPython the dict is allocated once at its final size instead of growing.
        result = {"id": None, "manufacturer": None, "version": None, "device_type": None,
                  "media": None, "records": [], "c_field": None, "ci": None,
                  "access_number": None, "tpl_status": None, "security_mode": None}
        try:
            err = self._decode(frame, result, trace)
        except MemoryError:  # the heap, not the telegram: say so, the caller may retry
            err = "no_memory"
        except Exception:  # a bug must not stop the gateway; report it as a decode error
            err = "internal"
        if err:
            result["decode_error"] = err
        if result["records"] and "meter" not in result:
            try:
                drivers.apply(result)
            except MemoryError:
                result["decode_error"] = result.get("decode_error") or "no_memory"
            except Exception:  # a driver bug must not lose the decoded records
                result["decode_error"] = result.get("decode_error") or "driver"
        return result

    # -- layers ---------------------------------------------------------------------------------

    def _decode(self, frame, result, trace):
        n = len(frame)
        if n >= 6 and frame[0] == 0x68 and frame[3] == 0x68:
            return self._wired(frame, result, trace)
        status, f, fmt = phy.strip_crcs(frame)
        if f is None or len(f) < 10:
            if n >= 10:  # show whose frame it was, even if its CRC is wrong
                dll.parse_header(frame, result)
            return "crc" if status == phy.CRC else "truncated"
        dll.parse_header(f, result)
        if trace is not None:
            _explain().trace_dll(f, fmt, trace)
        if status == phy.CRC:
            return "crc"
        err = self._link(f, 10, len(f), result, trace)
        if status == phy.TRUNCATED:
            return "truncated"
        return err

    def _wired(self, frame, result, trace):
        """Wired M-Bus long frame (EN 13757-2 §5.3): 68 L L 68 C A CI ... CS 16."""
        ln = frame[1]
        end = 4 + ln
        if frame[2] != ln or len(frame) < end + 2 or ln < 3:
            return "truncated"
        if sum(frame[4:end]) & 0xFF != frame[end] or frame[end + 1] != 0x16:
            return "crc"
        result["c_field"] = frame[4]
        result["address"] = frame[5]
        if trace is not None:
            _explain().trace_wired(frame, end, trace)
        return self._transport(frame, 6, end, result, trace, None, None)

    def _link(self, f, pos, end, result, trace):
        if pos >= end:
            return None  # a bare link-layer frame (an ACK, an installation request)
        ci = f[pos]
        lay = ell.LAYOUT.get(ci)
        if lay is None:
            return self._transport(f, pos, end, result, trace, f[2:10], None)
        size, sn_off = lay
        if pos + 1 + size > end:
            return "truncated"
        cc = f[pos + 1]
        result["access_number"] = f[pos + 2]
        if trace is not None:
            _explain().trace_ell(f, pos, pos + 1 + size, sn_off, trace)
        pos += 1 + size
        if sn_off < 0:
            return self._transport(f, pos, end, result, trace, f[2:10], None)
        sn_pos = pos - 4
        enc = f[sn_pos + 3] >> 5
        if pos + 3 > end:
            return "truncated"
        # Decrypt first when we can: the usual case costs one CRC. A payload whose CRC already
        # checks over the raw bytes was decrypted by the receiver (ENC bits left set).
        key = self.keys.get(result["id"]) if enc == ell.ENC_AES_CTR else None
        if key is not None:
            f = bytearray(f)
            ell.crypt_in_place(key, f, cc, sn_pos, pos, end)
            if ell.payload_crc_ok(f, pos, end):
                if trace is not None:
                    _explain().trace_decrypted(f, pos, end, "ELL AES-CTR", trace)
            else:
                ell.crypt_in_place(key, f, cc, sn_pos, pos, end)  # back to the received bytes
                if not ell.payload_crc_ok(f, pos, end):
                    return "decrypt_failed"
                key = None  # the receiver had decrypted it already
        elif not ell.payload_crc_ok(f, pos, end):
            if enc == ell.ENC_NONE:
                return "crc"
            return "no_key" if enc == ell.ENC_AES_CTR else "unsupported_security"
        if trace is not None:
            _explain().trace_payload_crc(f, pos, enc, key is not None, trace)
        return self._transport(f, pos + 2, end, result, trace, f[2:10], None)

    def _transport(self, f, pos, end, result, trace, ident, afl):
        if pos >= end:
            return "truncated"
        ci = f[pos]
        if ci == 0x90:
            if afl is not None:
                return "bad_afl"
            err, afl, nxt = _afl.parse(f, pos, end)
            if trace is not None:
                _explain().trace_afl(pos, nxt, afl, trace)
            if err:
                return err
            return self._transport(f, nxt, end, result, trace, ident, afl)
        result["ci"] = ci
        kind = tpl.CI[ci]
        if kind == tpl.NOT_TPL:
            if 0xA0 <= ci <= 0xB7:  # manufacturer specific: only the meter's driver can read it
                result["manufacturer_data"] = hexlify(bytes(f[pos + 1 : end])).decode()
                if trace is not None:
                    _explain().trace_ci(pos, end, ci, -1, trace)
                return drivers.decode_manufacturer_ci(result, bytes(f[pos:end]),
                                                      self.keys.get(result["id"]))
            if trace is not None:
                _explain().trace_ci(pos, end, ci, -2, trace)
            return "unsupported_ci"
        hdr = kind >> 4
        apl = kind & 0x0F
        tpdu_start = pos
        p = pos + 1
        if trace is not None:
            _explain().trace_ci(pos, p, ci, hdr, trace)
        if hdr != tpl.HDR_NONE:
            hsize = tpl.HEADER_SIZE[hdr]
            if p + hsize > end:
                return "truncated"
            if hdr == tpl.HDR_LONG:
                # The meter behind a radio adapter: ID(4) M(2) version type (protocol.md §1.4).
                ident = bytes(f[p + 4 : p + 6]) + bytes(f[p : p + 4]) + bytes(f[p + 6 : p + 8])
                if result.get("id") is not None:
                    result["dll_id"] = result["id"]
                result["id"], result["manufacturer"], result["version"], result["device_type"], \
                    result["media"] = dll.identity(ident)
                if trace is not None:
                    _explain().trace_meter_address(p, ident, result, trace)
                p += 8
            acc = f[p]
            sts = f[p + 1]
            cfg = f[p + 2] | (f[p + 3] << 8)
            result["access_number"] = acc
            result["tpl_status"] = sts
            result["security_mode"] = tpl.security_mode(cfg)
            if trace is not None:
                _explain().trace_tpl_header(f, p, trace)
            p += 4
            if cfg & 0x1F00:
                if ident is None:
                    return "unsupported_security"
                if not isinstance(f, bytearray):
                    f = bytearray(f)
                # Diehl frames straight after the DLL (CI at byte 10) follow Diehl's rules
                # (diehl.py): "real data" (CFG bit 12) and a default key for OMS mode 5.
                diehl = _diehl() if tpdu_start == 10 and f[1] in (0x44, 0x46) else None
                if diehl is not None and diehl.is_real_data(f):
                    return self._diehl_real_data(diehl, f, p, end, result, trace)
                key = self.keys.get(result["id"])
                default_key = False
                if (key is None and diehl is not None and tpl.security_mode(cfg) == 5
                        and diehl.is_oms(f)):
                    key = diehl.DEFAULT_AES_KEY
                    default_key = True
                q = p
                err, p, n = tpl.decrypt(f, p, end, cfg, key, ident, acc, afl, tpdu_start)
                if trace is not None:
                    _explain().trace_security(f, q, p, n, trace)
                if err == "decrypt_failed" and default_key:
                    err = "no_key"  # the meter has a key of its own
                if err:
                    return err
                if (apl != tpl.APL_RECORDS and tpl.security_mode(cfg) in (5, 7) and p + 2 <= end
                        and f[p] == 0x2F and f[p + 1] == 0x2F):
                    # The 2F2F check bytes of modes 5 and 7 are no part of a compact frame
                    # (wmbusmeters skips them: src/wmbus.cc, potentiallyDecrypt, "decrypt check
                    # bytes"). Records read them as idle fillers, so they stay for those.
                    p += 2
        if apl == tpl.APL_RECORDS:
            return self._transport_records(f, p, end, result, trace, ident)
        if apl == tpl.APL_COMPACT:
            return self._compact(f, p, end, result, trace, ident)
        if apl == tpl.APL_FORMAT:
            return self._format(f, p, end, result, ident)
        if apl == tpl.APL_NONE:
            return None
        if p >= end:
            return "truncated"
        if apl == tpl.APL_ALARM:
            result["alarm"] = f[p]
            return None
        if apl == tpl.APL_ERROR:
            result["application_error"] = f[p]
            return None
        return "unsupported_ci"

    def _diehl_real_data(self, diehl, f, p, end, result, trace):
        """A Diehl "real data" frame (diehl.py): the DLL address is version, type, id; the
        payload after CFG (p == 15) is LFSR-obfuscated, checked by its byte sum."""
        ident = diehl.swapped_ident(f)
        result["id"], result["manufacturer"], result["version"], result["device_type"], \
            result["media"] = dll.identity(ident)
        key = self.keys.get(result["id"])
        plain = diehl.real_data(f, end, key)
        if plain is not None:
            f[p:end] = plain
            if trace is not None:
                _explain().trace_decrypted(f, p, end, "Diehl LFSR", trace)
        elif diehl.sum_ok(f, p, end, f[14]):
            # The payload as received already checks: a receiver or a replay decoded it. The
            # byte sum is a 7-bit check only, so it must also read as records to the end.
            err = self._transport_records(f, p, end, result, trace, ident)
            if err is not None:
                del result["records"][:]
                return "no_key" if key is None else "decrypt_failed"
            return None
        else:
            return "no_key" if key is None else "decrypt_failed"
        return self._transport_records(f, p, end, result, trace, ident)

    def _transport_records(self, f, p, end, result, trace, ident):
        driver = drivers.find_for(result)
        if driver is not None and driver.apl is not None:
            result["meter"] = driver.name
            return driver.apl(result, bytes(f[p:end]))
        return self._records(f, p, end, result, trace, ident)

    def _records(self, f, p, end, result, trace, ident):
        recs = result["records"]
        learn = [] if ident is not None else None
        err, mfct, more = records.parse(f, p, end, recs, self.templates, learn)
        if err == records.TRAILING:  # a short tail that is no record (records.py, MAX_TRAILING)
            result["trailing_data"] = mfct
            err = mfct = None
        if mfct is not None:
            result["manufacturer_data"] = mfct
        if more:
            result["more_records_follow"] = True
        if trace is not None:
            _explain().trace_records(f, p, end, self.templates, trace)
        if err is None and learn and len(learn) <= MAX_LAYOUT:
            self._learn(ident, learn)
        return err

    def _learn(self, ident, templates):
        """Remember the format of a full frame for the compact frames that refer to it
        (EN 13757-3 Annex G), per manufacturer, version and device type. A format is kept as
        its header bytes (tens of bytes), not as templates: a bounded table of it cannot hold
        on to much heap, whatever the radio brings."""
        key = (_kind(ident), records.signature(templates))
        if key not in self.formats:
            self.add_format(key, records.format_bytes(templates))

    def export_formats(self):
        """The learnt compact formats, oldest first, as text lines the firmware can keep in
        flash: `MMM vv tt <DIB+VIB hex>` (manufacturer, version, device type, format)."""
        lines = []
        for key in self._format_order:
            kind = key[0]
            lines.append("%s %02x %02x %s" % (
                dll.manufacturer(kind & 0xFFFF), (kind >> 16) & 0xFF, (kind >> 24) & 0xFF,
                hexlify(self.formats[key]).decode()))
        return lines

    def import_formats(self, lines):
        """Learn formats from export_formats() lines. A line that is not a valid format is
        skipped; returns how many were taken (the table stays bounded: the oldest go first)."""
        taken = 0
        for line in lines:
            try:
                m, version, device_type, fmt = line.split()
                fmt = unhexlify(fmt)
                records.format_templates(fmt, self.templates)  # must parse as DIB+VIB list
                kind = dll.manufacturer_code(m) | (int(version, 16) << 16) | (
                    int(device_type, 16) << 24)
            except Exception:
                continue
            key = (kind, crc16(fmt))
            if key not in self.formats:
                self.add_format(key, fmt)
                taken += 1
        return taken

    def add_format(self, key, fmt):
        if len(self._format_order) >= MAX_FORMATS:  # forget the oldest (MicroPython dicts
            del self.formats[self._format_order.pop(0)]  # do not keep insertion order)
        self._format_order.append(key)
        self.formats[key] = fmt

    def _compact(self, f, p, end, result, trace, ident):
        if p + 4 > end:
            return "truncated"
        sig = f[p] | (f[p + 1] << 8)
        full_crc = f[p + 2] | (f[p + 3] << 8)
        result["format_signature"] = "%04x" % sig
        if trace is not None:
            _explain().trace_compact_header(p, sig, full_crc, trace)
        if ident is None:
            return "unknown_format"
        key = (_kind(ident), sig)
        templates = self._compact_templates.get(key)
        if templates is None:
            fmt = self.formats.get(key)
            if fmt is None:  # a format that the drivers know before any full frame came
                fmt = drivers.builtin_format(ident[0] | (ident[1] << 8), ident[6], ident[7], sig)
            if fmt is None:
                return "unknown_format"
            try:
                templates = records.format_templates(fmt, self.templates)
            except records.RecordError:
                return "bad_record"
            if len(self._compact_templates) >= MAX_COMPACT_TEMPLATES:
                self._compact_templates.clear()
            self._compact_templates[key] = templates
        err = records.parse_compact(f, p + 4, end, templates, result["records"], full_crc)
        if trace is not None:
            _explain().trace_compact(f, p + 4, end, templates, trace)
        return err

    def _format(self, f, p, end, result, ident):
        """Format frame (Annex G): len | signature | DIB+VIB of every record. Learn it."""
        if p + 3 > end:
            return "truncated"
        sig = f[p + 1] | (f[p + 2] << 8)
        q = p + 3
        stop = p + 1 + f[p]  # the length byte counts the signature and the headers
        if stop > end:
            return "truncated"
        templates = []
        try:
            while q < stop:
                h = records.header_end(f, q, stop)
                templates.append(records.make_template(bytes(f[q:h])))
                q = h
        except records.RecordError as e:
            return e.args[0]
        result["format_signature"] = "%04x" % sig
        if records.signature(templates) != sig:
            return "bad_record"
        if ident is not None:
            self._learn(ident, templates)
        return None


def _kind(ident):
    """M, version and device type of an M-ID-version-type address, as one small integer."""
    return ident[0] | (ident[1] << 8) | (ident[6] << 16) | (ident[7] << 24)


def _diehl():
    """Diehl's frame rules (diehl.py), loaded when a Diehl-looking frame is first seen."""
    from . import diehl

    return diehl


def _explain():
    """The annotations of `wmbus explain`, loaded only when a trace is asked for."""
    from . import explain

    return explain
