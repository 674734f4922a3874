"""Annotations of a telegram's bytes for `wmbus explain`.

Only loaded when a trace is asked for: the gateway never imports it.
"""

from binascii import hexlify

from . import dll, phy, records, tpl


def status_text(sts):
    names = ("ok", "busy", "application error", "abnormal")
    flags = [names[sts & 3]]
    if sts & 4:
        flags.append("power low")
    if sts & 8:
        flags.append("permanent error")
    if sts & 16:
        flags.append("temporary error")
    if sts & 0xE0:
        flags.append("manufacturer bits 0x%02X" % (sts & 0xE0))
    return "status 0x%02X: %s" % (sts, ", ".join(flags))


def trace_dll(f, fmt, trace):
    trace.append((0, 1, "dll", "L", "%d bytes follow (%s)" % (f[0], {
        phy.FORMAT_NONE: "CRCs already removed", phy.FORMAT_A: "frame format A, CRCs checked and removed",
        phy.FORMAT_B: "frame format B, CRCs checked and removed"}[fmt])))
    trace.append((1, 2, "dll", "C", "0x%02X %s" % (f[1], dll.C_FIELD.get(f[1], ""))))
    m = f[2] | (f[3] << 8)
    trace.append((2, 4, "dll", "M", "manufacturer %s (0x%04X)" % (dll.manufacturer(m), m)))
    trace.append((4, 8, "dll", "ID", "meter id %s" % dll.meter_id(f, 4)))
    trace.append((8, 9, "dll", "version", "%d" % f[8]))
    trace.append((9, 10, "dll", "type", "0x%02X %s" % (f[9], dll.media_name(f[9]))))


def trace_records(f, p, end, cache, trace):
    """Re-walk the records for `explain` (slow path, never used by the gateway)."""
    decoded = False
    while p < end:
        dif = f[p]
        if dif == 0x2F:
            q = p
            while q < end and f[q] == 0x2F:
                q += 1
            trace.append((p, q, "apl", "filler", "idle filler (DIF 2F) x %d" % (q - p)))
            p = q
            continue
        if dif == 0x0F or dif == 0x1F:
            trace.append((p, end, "apl", "manufacturer data", "DIF 0x%02X: manufacturer specific data%s" % (
                dif, ", more records follow in the next telegram" if dif == 0x1F else "")))
            return
        if dif & 0x0F == 0x0F:
            trace.append((p, end, "apl", "record", "DIF 0x%02X is reserved: cannot decode" % dif))
            return
        try:
            h = records.header_end(f, p, end)
            tpl_ = cache.get(bytes(f[p:h])) or records.make_template(bytes(f[p:h]))
            value, q = records.read_value(f, h, end, tpl_)
        except records.RecordError as e:
            if e.args[0] == records.E_TRUNCATED and decoded and end - p <= records.MAX_TRAILING:
                trace.append((p, end, "apl", "trailing data",
                              "%d byte(s) that are no record, kept as trailing_data" % (end - p)))
            else:
                trace.append((p, end, "apl", "record", "cannot decode: %s" % e.args[0]))
            return
        trace.append((p, h, "apl", "DIB/VIB", _describe(tpl_[0])))
        trace.append((h, q, "apl", "data", "value %r" % (value,)))
        decoded = True
        p = q


def _describe(rec):
    what = rec["quantity"]
    if rec["unit"]:
        what += " [" + rec["unit"] + "]"
    if "qualifier" in rec:
        what += " " + rec["qualifier"]
    return "%s, storage %d, tariff %d, subunit %d, %s" % (
        what, rec["storage"], rec["tariff"], rec["subunit"], rec["function"])


def trace_compact(f, p, end, templates, trace):
    """The data of a compact frame, record by record, with the headers of its learnt format."""
    for tpl_ in templates:
        try:
            value, q = records.read_value(f, p, end, tpl_)
        except records.RecordError as e:
            trace.append((p, end, "apl", "data", "cannot decode: %s" % e.args[0]))
            return
        trace.append((p, q, "apl", "data", "%s: value %r (header %s from the full frame)" % (
            _describe(tpl_[0]), value, tpl_[0]["dif_vif"])))
        p = q


def trace_wired(frame, end, trace):
    trace.append((0, 4, "dll", "start", "wired M-Bus long frame, L=%d" % frame[1]))
    trace.append((4, 5, "dll", "C", "0x%02X" % frame[4]))
    trace.append((5, 6, "dll", "A", "primary address %d" % frame[5]))
    trace.append((end, end + 1, "dll", "checksum", "0x%02X, checks" % frame[end]))
    trace.append((end + 1, end + 2, "dll", "stop", "0x16"))


def trace_ell(f, pos, nxt, sn_off, trace):
    """The ELL header at f[pos:nxt] (CI, CC, ACC, receiver address, session number)."""
    ci = f[pos]
    trace.append((pos, pos + 1, "ell", "CI", "0x%02X extended link layer" % ci))
    trace.append((pos + 1, pos + 2, "ell", "CC", "communication control 0x%02X" % f[pos + 1]))
    trace.append((pos + 2, pos + 3, "ell", "ACC", "access number %d" % f[pos + 2]))
    if ci >= 0x8E:
        trace.append((pos + 3, pos + 11, "ell", "M2 A2", "receiver address"))
    if sn_off >= 0:
        enc = f[nxt - 1] >> 5
        trace.append((nxt - 4, nxt, "ell", "SN", "session number, ENC=%d%s" % (
            enc, " (AES-CTR)" if enc == 1 else "")))


def trace_payload_crc(f, pos, enc, decrypted, trace):
    trace.append((pos, pos + 2, "ell", "payload CRC", "0x%04X, checks%s" % (
        f[pos] | (f[pos + 1] << 8), " after AES-CTR decryption" if decrypted else
        " (payload not encrypted)" if enc == 0 else " (payload arrived decrypted)")))


def trace_decrypted(f, start, end, how, trace):
    """Layer "frame": the plaintext of a part that arrived encrypted, for explain to show."""
    trace.append((start, end, "frame", "decrypted " + how, bytes(f[start:end])))


def trace_afl(pos, nxt, afl, trace):
    if not afl:
        meaning = "bad"
    else:
        meaning = "authentication and fragmentation layer, " + ", ".join(
            "%s=%s" % (k, hexlify(v).decode() if isinstance(v, bytes) else "0x%X" % v)
            for k, v in afl.items())
    trace.append((pos, nxt, "afl", "AFL", meaning))


def trace_ci(pos, end, ci, hdr, trace):
    """hdr: the TPL header kind, or -1 for a manufacturer-specific CI, -2 for an unknown one."""
    if hdr == -1:
        meaning = "0x%02X manufacturer specific" % ci
    elif hdr == -2:
        meaning = "0x%02X not decodable" % ci
    else:
        meaning = "0x%02X %s header" % (ci, ("no", "short", "long")[hdr])
    trace.append((pos, end, "tpl", "CI", meaning))


def trace_meter_address(p, ident, result, trace):
    trace.append((p, p + 8, "tpl", "meter address", "id %s, %s, version %d, type 0x%02X %s" % (
        result["id"], result["manufacturer"], ident[6], ident[7], result["media"])))


def trace_tpl_header(f, p, trace):
    """ACC, STS and CFG at f[p:p+4]."""
    sts = f[p + 1]
    cfg = f[p + 2] | (f[p + 3] << 8)
    trace.append((p, p + 1, "tpl", "ACC", "access number %d" % f[p]))
    trace.append((p + 1, p + 2, "tpl", "STS", status_text(sts)))
    trace.append((p + 2, p + 4, "tpl", "CFG", "0x%04X: security mode %d, %d encrypted blocks" % (
        cfg, tpl.security_mode(cfg), (cfg >> 4) & 15)))


def trace_security(f, q, p, n, trace):
    """The CFG extension / counter at f[q:p], and the n bytes decrypted from p on."""
    if p > q:
        trace.append((q, p, "tpl", "CFG-EXT", "configuration extension / counter"))
    if n:
        trace_decrypted(f, p, p + n, "TPL AES-CBC", trace)


def trace_compact_header(p, sig, full_crc, trace):
    trace.append((p, p + 2, "apl", "signature", "format signature 0x%04X" % sig))
    trace.append((p + 2, p + 4, "apl", "full CRC", "full-frame CRC 0x%04X" % full_crc))
